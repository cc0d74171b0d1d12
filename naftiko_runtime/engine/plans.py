"""What an adapter receives from the runtime: a plan of :class:`~.contract.Invocable` units, and a
small :class:`AdapterContext`.

The runtime builds the units and these plans once; an adapter (``exposes/``) translates its protocol
onto them and never reaches back into the runtime. That keeps the arrows one way (runtime → exposes
→ engine) and lets a reload hand an adapter a whole new plan at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..binds import BindValues
from ..consumes.forward import Forwarder
from ..spec.models import (
    ExposedOperation,
    ExposedResource,
    ForwardConfig,
    McpExpose,
    McpPrompt,
    McpResource,
    RestExpose,
    SkillExpose,
)
from .contract import Invocable
from .inference import ParamLocation

Role = Literal["user", "assistant"]
ForwarderFactory = Callable[[str, ForwardConfig, str], Forwarder]
"""``(operation name, forward config, base URI) → Forwarder`` over the runtime's upstream clients."""


@dataclass(frozen=True)
class AdapterContext:
    """What every adapter of one document shares, besides its units: nothing here is per request."""

    binds: BindValues
    base_dir: Path  # where relative locations (skill directories, prompt files) resolve
    title: str
    forwarder: ForwarderFactory  # a ``forward`` resource's way upstream, over the runtime's clients
    description: str | None = None  # the document's info.description
    version: str | None = None  # the document's info.version
    spec_version: str | None = None
    # The browsers every HTTP adapter admits (exposes/origin.py); None: the default policy.
    allowed_origins: tuple[str, ...] | None = None
    allowed_hosts: tuple[str, ...] | None = None
    mcp_result_chars: int | None = None  # an MCP tool result's budget (exposes/mcp/budget.py)


@dataclass(frozen=True, slots=True)
class RestInput:
    """Where a REST request carries one input of its operation's unit (:mod:`.rest_inputs`)."""

    name: str  # the unit's input
    location: ParamLocation
    wire: str  # its name in the request: a path input's is the route placeholder's spelling
    whole_body: bool = False  # the entire JSON request body
    extract: str | None = None  # a JSONPath selecting it from the JSON request body


@dataclass(frozen=True)
class RestRoute:
    path: str
    method: str
    unit: Invocable
    resource: ExposedResource
    operation: ExposedOperation | None = None
    binary_media_type: str | None = None  # the media type a binary answer is advertised with
    answers_nothing: bool = False  # a mock with no outputs: 204, no content
    # Where the request carries each of the unit's inputs (given by name: every route has them).
    inputs: tuple[RestInput, ...] = field(kw_only=True)


@dataclass(frozen=True)
class RestForward:
    path: str
    forward: ForwardConfig
    base_uri: str


@dataclass
class RestPlan:
    expose: RestExpose
    routes: list[RestRoute] = field(default_factory=list)
    forwards: list[RestForward] = field(default_factory=list)


@dataclass(frozen=True)
class DynamicResource:
    spec: McpResource
    unit: Invocable


@dataclass(frozen=True)
class PromptPlan:
    spec: McpPrompt
    messages: tuple[tuple[Role, str | Invocable], ...]  # (role, static text or a unit producing the text)


@dataclass
class McpPlan:
    expose: McpExpose
    tools: list[Invocable] = field(default_factory=list)
    static_resources: list[McpResource] = field(default_factory=list)
    dynamic_resources: list[DynamicResource] = field(default_factory=list)
    prompts: list[PromptPlan] = field(default_factory=list)


@dataclass(frozen=True)
class SkillPlan:
    """A skill expose and the sibling REST and MCP adapters its derived tools point at."""

    expose: SkillExpose
    rest: Sequence[RestPlan] = ()
    mcp: Sequence[McpPlan] = ()
