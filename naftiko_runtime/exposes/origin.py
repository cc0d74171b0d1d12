"""Which browsers may call an adapter: one policy for every HTTP adapter (REST, MCP, skill, control).

A capability's adapters act with its stored credentials, so a web page must not be able to make a
visitor's browser call them. Two checks, before authentication and before anything is routed:

* **Host** (DNS rebinding): a page on ``evil.example`` whose name was re-pointed at this machine
  talks to us with ``Host: evil.example``. A request that reached a loopback address must name a
  loopback host (``localhost``, ``127.0.0.1``, ``[::1]``…) or an IP address; with ``allowed_hosts``
  configured, every request must name one of them (or a loopback host or an IP address).
* **Origin** (cross-site requests, including the "simple" ones a browser sends without a
  preflight): no ``Origin`` (any non-browser client) is allowed; otherwise the origin must be the
  request's own (same scheme-less host and port as a trusted ``Host``), or, by default, a loopback
  origin (a local web client, an MCP inspector); a configured ``allowed_origins`` list replaces that
  default (``"*"`` allows every origin, ``"http://intranet:*"`` any port of a host).

An allowed browser origin gets CORS headers on every answer and its preflight ``OPTIONS`` answered,
so a web client that is meant to call the adapter can. Configured with ``naftiko serve
--allow-origin`` / ``--allow-host`` (``RuntimeOptions.allowed_origins`` / ``allowed_hosts``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_CACHE_LIMIT = 256  # Host and Origin values come from clients: remember a bounded number of verdicts


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is not admitted: a short error code and a sentence (never the caller's values)."""

    error: str
    description: str


FORBIDDEN_HOST = Refusal("forbidden_host", "this server does not answer for that Host")
FORBIDDEN_ORIGIN = Refusal("forbidden_origin", "this Origin is not allowed")


class BrowserPolicy:
    """The Host and Origin checks of the module docstring, compiled once per adapter."""

    def __init__(
        self, allowed_origins: Sequence[str] | None = None, allowed_hosts: Sequence[str] | None = None
    ) -> None:
        self._any = allowed_origins is not None and "*" in allowed_origins
        origins = [o.strip().rstrip("/").lower() for o in allowed_origins or ()]
        self._exact = frozenset(o for o in origins if not o.endswith(":*"))
        self._any_port = frozenset(o[:-2] for o in origins if o.endswith(":*"))
        self._default_origins = allowed_origins is None
        self._hosts = frozenset(h.strip().lower() for h in allowed_hosts or ())
        self._host_verdicts: dict[tuple[bytes, bool], bool] = {}
        self._loopback_servers: dict[str, bool] = {}

    def admit(self, scope: Scope) -> tuple[Refusal | None, str | None]:
        """``(refusal, origin)``: why the request is refused (None: admitted), and the browser origin
        to answer with CORS headers (None: not a browser request)."""
        host: bytes | None = None
        origin: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value
            elif key == b"origin":
                origin = value
        if host is not None and not self._host_ok(host, scope):
            return FORBIDDEN_HOST, None
        if origin is None:
            return None, None
        text = origin.decode("latin-1")
        if self.allows_origin(text, host.decode("latin-1") if host is not None else None):
            return None, text
        return FORBIDDEN_ORIGIN, None

    def allows_origin(self, origin: str, host: str | None = None) -> bool:
        """Whether a browser page of ``origin`` may call an adapter reached as ``host``."""
        normalized = origin.strip().rstrip("/").lower()
        if self._any:
            return True
        if normalized in self._exact:
            return True
        if normalized.count(":") >= 2 and normalized.rsplit(":", 1)[0] in self._any_port:
            return True
        if host is not None and _authority(normalized) == host.strip().lower() and self._trusted_host(host):
            return True  # same origin
        return self._default_origins and is_loopback_origin(normalized)

    def _host_ok(self, host: bytes, scope: Scope) -> bool:
        server = scope.get("server")
        local = _loopback_address(server[0], self._loopback_servers) if server else False
        key = (host, local)
        verdict = self._host_verdicts.get(key)
        if verdict is None:
            name = host.decode("latin-1")
            verdict = self._trusted_host(name) or (not local and not self._hosts)
            if len(self._host_verdicts) < _CACHE_LIMIT:
                self._host_verdicts[key] = verdict
        return verdict

    def _trusted_host(self, host: str) -> bool:
        name = _hostname(host)
        if name is None:
            return False
        if name in self._hosts or host.strip().lower() in self._hosts:
            return True
        return _is_loopback_name(name) or _is_ip(name)


def is_loopback_origin(origin: str) -> bool:
    """``http(s)://localhost…`` or a loopback IP address, any port."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return _is_loopback_name(host) or _is_loopback_ip(host)


# -- CORS for an admitted browser origin ------------------------------------------------------------


def cors_headers(origin: str, expose: bytes = b"www-authenticate") -> list[tuple[bytes, bytes]]:
    """What lets a page of an allowed ``origin`` read the answer (and the auth challenge)."""
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", expose),
        (b"vary", b"origin"),
    ]


def preflight_headers(
    scope: Scope, origin: str, methods: bytes, expose: bytes = b"www-authenticate"
) -> list[tuple[bytes, bytes]]:
    """The answer to an allowed origin's preflight: the methods, and the headers it asked to send."""
    asked = next((v for k, v in scope["headers"] if k == b"access-control-request-headers"), None)
    headers = [
        *cors_headers(origin, expose),
        (b"access-control-allow-methods", methods),
        (b"access-control-max-age", b"600"),
    ]
    if asked:
        headers.append((b"access-control-allow-headers", asked))
    return headers


def is_preflight(scope: Scope) -> bool:
    return scope["method"] == "OPTIONS" and any(
        k == b"access-control-request-method" for k, _ in scope["headers"]
    )


def with_cors(send: Callable[[Any], Any], headers: list[tuple[bytes, bytes]]) -> Callable[[Any], Any]:
    """``send`` that adds ``headers`` to the response start (only browser requests pay for it)."""

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return sending


class BrowserGuardMiddleware:
    """The policy in front of an ASGI app (skill and control adapters): refusals are problem+json."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy, methods: bytes = b"GET, HEAD, OPTIONS") -> None:
        self.app = app
        self.policy = policy
        self.methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal, origin = self.policy.admit(scope)
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        if origin is None:
            await self.app(scope, receive, send)
            return
        if is_preflight(scope):
            headers = preflight_headers(scope, origin, self.methods)
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, with_cors(send, cors_headers(origin)))


async def send_refusal(send: Send, refusal: Refusal) -> None:
    """403 ``application/problem+json`` naming what was refused (the REST, skill and control form)."""
    import orjson

    body = orjson.dumps(
        {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": refusal.description}
    )
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- helpers ----------------------------------------------------------------------------------------


def _hostname(host: str) -> str | None:
    """The name in a ``Host`` value, without the port (``[::1]:8080`` → ``::1``)."""
    text = host.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else None
    name, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if port and not port.isdigit():
        return None
    return name or None


def _authority(origin: str) -> str | None:
    """``http://host:port`` → ``host:port`` (what a same-origin request's ``Host`` holds)."""
    scheme, sep, rest = origin.partition("://")
    return rest if sep and scheme in ("http", "https") and "/" not in rest else None


def _is_loopback_name(name: str) -> bool:
    return name in _LOOPBACK_NAMES or name.endswith(".localhost") or _is_loopback_ip(name)


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _loopback_address(address: str, cache: dict[str, bool]) -> bool:
    found = cache.get(address)
    if found is None:
        found = _is_loopback_ip(address) or address in _LOOPBACK_NAMES
        if len(cache) < _CACHE_LIMIT:
            cache[address] = found
    return found
