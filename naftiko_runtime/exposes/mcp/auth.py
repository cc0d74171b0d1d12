"""Inbound checks of the HTTP transport: static credentials and OAuth 2 (the Host and Origin checks
are every adapter's, :mod:`naftiko_runtime.exposes.origin`).

Static credentials (bearer, API key, basic) are checked by the guards all HTTP adapters share,
built by the same pipeline (:func:`naftiko_runtime.exposes.auth.guard_of`: constant time, an empty
credential refused at construction), and OAuth 2 access tokens by the resource server they share
(:mod:`naftiko_runtime.exposes.oauth`); this module turns their refusals into the MCP endpoint's.
A refusal never echoes what the caller sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .. import auth as shared
from ..oauth import ResourceServer
from .catalog import ApiKeyAuth, BasicAuth, BearerAuth, OAuth2Auth

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True, slots=True)
class Denial:
    """An HTTP refusal: status, extra headers (``WWW-Authenticate``) and a small JSON body."""

    status: int
    error: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


class Guard(Protocol):
    """Decides whether a request may reach the MCP endpoint."""

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None: ...


_ERRORS = {"bearer": "invalid_token", "apikey": "invalid_api_key", "basic": "invalid_credentials"}


class StaticGuard:
    """Bearer, API key and basic credentials, checked by the guards every HTTP adapter shares
    (:mod:`naftiko_runtime.exposes.auth`: constant-time, both halves of basic always compared)."""

    def __init__(self, config: BearerAuth | ApiKeyAuth | BasicAuth) -> None:
        self._error = _ERRORS[config.kind]
        self._guard = shared.guard_of(config)

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        problem = await self._guard.check("POST", b"/mcp?" + query if query else b"/mcp", raw)
        if problem is None:
            return None
        challenge = {name.decode("latin-1"): value.decode("latin-1") for name, value in problem.headers}
        return Denial(problem.status, self._error, problem.detail, challenge)


class OAuth2Guard:
    """The endpoint as an OAuth 2.1 resource server (MCP authorization spec, RFC 9728, RFC 6750):
    the :class:`~naftiko_runtime.exposes.oauth.ResourceServer` every HTTP adapter shares."""

    def __init__(self, config: OAuth2Auth, client: httpx.AsyncClient | None = None) -> None:
        self.server = ResourceServer(config, client)

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        refusal = await self.server.authorize(headers.get("authorization"))
        if refusal is None:
            return None
        challenge = {"www-authenticate": refusal.challenge} if refusal.challenge else {}
        return Denial(refusal.status, refusal.error, refusal.description, challenge)

    async def aclose(self) -> None:
        await self.server.aclose()
