"""What the runtime hands the MCP adapter: plain, immutable descriptions of one ``type: mcp`` expose.

The runtime fills these from the spec (names, labels, descriptions, hints) and binds each executable
unit to an :class:`~naftiko_runtime.engine.contract.Invocable`. The adapter never reads the spec
itself, so anything reachable here is already resolved: schemas are built, auth-supplied
parameters are removed, binds are resolved into secret objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from naftiko_runtime.engine.contract import Hints, Invocable

# The credentials every adapter checks (one pipeline, one policy: :mod:`..auth`).
from ..auth import ApiKeyAuth as ApiKeyAuth
from ..auth import BasicAuth as BasicAuth
from ..auth import BearerAuth as BearerAuth
from ..auth import SecretLike as SecretLike
from ..oauth import OAuth2Auth as OAuth2Auth  # the resource-server settings every HTTP adapter shares
from .budget import DEFAULT_RESULT_CHARS

# --- tools ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolEntry:
    """One MCP tool. Schemas come from the invocable; missing texts fall back to the invocable's."""

    name: str
    title: str | None
    description: str | None
    invocable: Invocable
    annotations: Hints | None = None  # None: use ``invocable.hints``
    tags: Sequence[str] = ()  # published in the tool's ``_meta``


# --- resources -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaticResourceEntry:
    """A ``location: file:///dir`` resource: every file below ``directory`` is one MCP resource.

    A file's URI is ``uri`` + ``/`` + its path relative to ``directory``; its MIME type is
    ``mime_type`` when set, else guessed from the extension.
    """

    name: str
    uri: str
    directory: Path
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class DynamicResourceEntry:
    """A resource backed by an invocable. ``uri`` may be a template (``data://users/{id}``); the
    template parameters become the invocable's arguments."""

    name: str
    uri: str
    invocable: Invocable
    title: str | None = None
    description: str | None = None
    mime_type: str | None = "application/json"  # None: the answer's own (a binary one)
    binary: bool = False  # read as a base64 blob whatever the media type


ResourceEntry = StaticResourceEntry | DynamicResourceEntry


# --- prompts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    title: str | None = None
    description: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class PromptMessageEntry:
    """One message: a static ``text`` template (``{arg}`` / ``{{arg}}``) or an invocable whose result
    becomes the text. Exactly one of the two is set."""

    role: Literal["user", "assistant"]
    text: str | None = None
    invocable: Invocable | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.invocable is None):
            raise ValueError("a prompt message has either text or an invocable, not both or neither")


@dataclass(frozen=True, slots=True)
class PromptEntry:
    name: str
    messages: Sequence[PromptMessageEntry]
    title: str | None = None
    description: str | None = None
    arguments: Sequence[PromptArgument] = ()


# --- the server ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class McpCatalog:
    """Everything one MCP server exposes. Capabilities are advertised only for non-empty groups."""

    server_name: str
    server_version: str = "1.0.0"
    title: str | None = None
    instructions: str | None = None
    # Freshness hints of cacheable results (2026-07-28): how long a client may reuse one, and
    # whether shared caches may (None: only when the adapter takes no credentials).
    ttl_ms: int = 0
    cache_scope: Literal["public", "private"] | None = None
    result_budget: int | None = DEFAULT_RESULT_CHARS  # characters of a tool result (None: no cut)
    tools: Sequence[ToolEntry] = ()
    resources: Sequence[ResourceEntry] = ()
    prompts: Sequence[PromptEntry] = ()


# --- security (HTTP transport only) --------------------------------------------------------------


AuthConfig = BearerAuth | ApiKeyAuth | BasicAuth | OAuth2Auth


@dataclass(frozen=True, slots=True)
class McpSecurity:
    """Inbound protection of the HTTP transport.

    ``allowed_origins`` / ``allowed_hosts``: the Host and Origin checks every HTTP adapter shares
    (:class:`~naftiko_runtime.exposes.origin.BrowserPolicy`); ``None`` is its default policy.
    """

    auth: AuthConfig | None = None
    allowed_origins: Sequence[str] | None = None
    allowed_hosts: Sequence[str] | None = None
    max_body_bytes: int = 4 * 1024 * 1024
