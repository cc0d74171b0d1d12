"""Inbound checks of the HTTP transport: the Origin allow-list and static credentials.

Credentials are compared with :func:`hmac.compare_digest` on bytes so that the time taken does not
reveal how much of a guess was right. A refusal never echoes what the caller sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from .catalog import ApiKeyAuth, BasicAuth, BearerAuth, Credential

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


def reveal(value: Credential) -> str:
    return value if isinstance(value, str) else value.reveal()


def _same(given: str, expected: bytes) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header (scheme case-insensitive), else ``None``."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class BearerGuard:
    def __init__(self, config: BearerAuth) -> None:
        self._token = reveal(config.token).encode()
        self._challenge = {"www-authenticate": 'Bearer realm="mcp"'}

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        token = bearer_token(headers)
        if token is None:
            return Denial(401, "invalid_request", "a bearer token is required", self._challenge)
        if not _same(token, self._token):
            challenge = {"www-authenticate": 'Bearer realm="mcp", error="invalid_token"'}
            return Denial(401, "invalid_token", "the bearer token is not valid", challenge)
        return None


class ApiKeyGuard:
    def __init__(self, config: ApiKeyAuth) -> None:
        self._key = config.key
        self._header = config.key.lower()
        self._placement = config.placement
        self._value = reveal(config.value).encode()
        where = "header" if config.placement == "header" else "query parameter"
        self._challenge = {"www-authenticate": f'ApiKey realm="mcp", {where}="{config.key}"'}

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        if self._placement == "header":
            given = headers.get(self._header)
        else:
            given = next((v for k, v in parse_qsl(query.decode("latin-1")) if k == self._key), None)
        if given is None or not _same(given, self._value):
            return Denial(
                401, "invalid_api_key", f"a valid API key is required in '{self._key}'", self._challenge
            )
        return None


class BasicGuard:
    def __init__(self, config: BasicAuth) -> None:
        self._username = reveal(config.username).encode()
        self._password = reveal(config.password).encode()
        self._challenge = {"www-authenticate": 'Basic realm="mcp", charset="UTF-8"'}

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        value = headers.get("authorization", "")
        scheme, _, encoded = value.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                username, sep, password = (
                    base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                sep = ""
            if sep:
                # Both compared every time: no early exit telling which half was wrong.
                ok_user = _same(username, self._username)
                ok_password = _same(password, self._password)
                if ok_user and ok_password:
                    return None
        return Denial(401, "invalid_credentials", "valid basic credentials are required", self._challenge)


# --- Origin (DNS rebinding) ----------------------------------------------------------------------


class OriginPolicy:
    """Which browser origins may call the endpoint.

    Default (``allowed=None``): loopback origins only, whatever address the server is bound to. A
    page from another site (including one whose DNS was rebound to this host) is refused; a web
    client served from elsewhere must be listed explicitly. Requests without ``Origin`` come from
    non-browser clients and are allowed.
    """

    def __init__(self, allowed: Sequence[str] | None) -> None:
        self._any = allowed is not None and "*" in allowed
        self._exact = frozenset(o.rstrip("/").lower() for o in allowed or () if not o.endswith(":*"))
        self._any_port = frozenset(o[:-2].lower() for o in allowed or () if o.endswith(":*"))
        self._default = allowed is None

    def allows(self, origin: str | None) -> bool:
        if origin is None or self._any:
            return True
        normalized = origin.strip().rstrip("/").lower()
        if self._default:
            return is_loopback_origin(normalized)
        if normalized in self._exact:
            return True
        scheme_host = normalized.rsplit(":", 1)[0] if normalized.count(":") >= 2 else normalized
        return scheme_host in self._any_port


def is_loopback_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
