"""An adapter's own ``authentication``: who may call this REST, skill or control adapter.

(The MCP endpoint wraps these guards, and the same OAuth 2 resource server, in its own error shape:
see :mod:`.mcp.auth`.)

The expected credentials are templates over binds (``token: "{{REST_TOKEN}}"``), rendered once when
the app is built and held as :class:`~naftiko_runtime.binds.Secret` values. Every comparison is
constant-time (:meth:`Secret.matches`), and basic/digest check user and password both, always, so
the time taken says nothing about which half was wrong. One policy for every adapter (REST, MCP,
skill, control), :func:`adapter_credential`: a credential that is absent, uses a variable no bind
declares, or renders empty stops the adapter from starting, with the adapter and the field named
(an empty expected token would otherwise match ``Authorization: Bearer ``).

Digest (RFC 7616) is stateless, so any replica can verify any request: the nonce is a timestamp and
an HMAC of it under a key derived from the expected credentials, which every replica serving the
same capability with the same binds shares (a per-process key would make replicas reject each
other's nonces behind a load balancer). A nonce older than :data:`NONCE_TTL_S` gets a fresh
challenge with ``stale=true``. There is no ``nc`` replay tracking (it would need shared state); the
``uri`` of the answer must be the request's own target.

OAuth 2 (``type: oauth2``) makes the adapter a resource server (:mod:`.oauth`, shared with MCP):
bearer JWTs checked against the authorization server's JWKS, and the RFC 9728 metadata document
served without credentials at the well-known path of ``resource`` (:attr:`Guard.public`). Its
guard talks to the authorization server, which is why :meth:`Guard.check` is a coroutine; the
others never wait (awaiting them costs a fraction of a microsecond), and :meth:`Guard.aclose`
releases the HTTP client at shutdown (:func:`close_at_shutdown`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from ..binds import Secret
from ..errors import AdapterConfigError
from ..expressions import MissingVariable
from ..spec.models import AuthApiKey, AuthBasic, AuthBearer, AuthDigest, Authentication, AuthOAuth2
from ..spec.variables import BindNames, bind_text
from .oauth import OAuth2Auth, ResourceServer, oauth2_config
from .problem import Problem

log = logging.getLogger("naftiko.auth")

REALM = "naftiko"
NONCE_TTL_S = 300.0


PUBLIC_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"application/json"),
    (b"access-control-allow-origin", b"*"),
    (b"cache-control", b"max-age=300"),
]
"""Headers of a :attr:`Guard.public` document (clients in browsers read it from any origin)."""


class Guard:
    """Decides whether a request may proceed; ``check`` returns None to let it through."""

    public: Mapping[str, bytes] = MappingProxyType({})
    """Documents served to GET and HEAD without credentials, by path (JSON bodies, encoded)."""

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release what the guard holds (the OAuth 2 guard's HTTP client); called at shutdown."""


def build_guard(
    spec: Authentication | None, binds: BindNames, namespace: str, kind: str = "REST"
) -> Guard | None:
    """The guard of an expose's ``authentication`` (None: the adapter is open).

    Raises :class:`~naftiko_runtime.errors.AdapterConfigError` when a credential cannot be enforced.
    """
    where = f"{kind} adapter {namespace}"
    if spec is None:
        return None
    if isinstance(spec, AuthBearer):
        return BearerGuard(adapter_credential(spec.token, binds, where, "token"))
    if isinstance(spec, AuthApiKey):
        key = spec.key or "X-API-Key"
        return ApiKeyGuard(key, spec.placement, adapter_credential(spec.value, binds, where, "value"))
    if isinstance(spec, AuthBasic):
        return BasicGuard(
            adapter_credential(spec.username, binds, where, "username"),
            adapter_credential(spec.password, binds, where, "password"),
        )
    if isinstance(spec, AuthDigest):
        return DigestGuard(
            adapter_credential(spec.username, binds, where, "username"),
            adapter_credential(spec.password, binds, where, "password"),
        )
    if isinstance(spec, AuthOAuth2):
        try:
            return OAuth2Guard(oauth2_config(spec, binds))
        except ValueError as exc:
            raise AdapterConfigError(f"{where}: authentication {exc}") from None
    declared = getattr(spec, "declared", None) or getattr(spec, "type", "?")
    log.error("%s: authentication type %r is not supported; every request gets 501", where, declared)
    return UnsupportedGuard(str(declared), kind)


def adapter_credential(template: str | None, binds: BindNames, where: str, field: str) -> Secret:
    """An inbound credential an adapter checks, rendered from binds once.

    The one policy of every adapter: absent, undeclared or empty stops the adapter from starting
    (:class:`~naftiko_runtime.errors.AdapterConfigError` naming ``where`` and ``field``). Never the value.
    """
    if not template or not template.strip():
        raise AdapterConfigError(f"{where}: authentication {field} is not set; the adapter cannot start")
    try:
        value = bind_text(template, binds)
    except MissingVariable as exc:
        names = ", ".join(exc.names)
        raise AdapterConfigError(
            f"{where}: authentication {field} uses {names}, which no bind declares; the adapter cannot start"
        ) from None
    if not value.strip():
        raise AdapterConfigError(
            f"{where}: authentication {field} renders empty (its bind value is empty); "
            "the adapter cannot start"
        )
    return Secret(value)


def _unauthorized(challenge: str, detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        headers=[(b"www-authenticate", challenge.encode())],
    )


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _matches(expected: Secret | None, given: str) -> bool:
    if expected is None:
        # Still spend a comparison, so a misconfigured adapter is not distinguishable by timing.
        hmac.compare_digest(b"-", b"+")
        return False
    return expected.matches(given)


class BearerGuard(Guard):
    def __init__(self, token: Secret | None) -> None:
        self.token = token
        self._challenge = f'Bearer realm="{REALM}"'

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        value = _header(headers, b"authorization")
        if value is None:
            return _unauthorized(self._challenge, "a bearer token is required")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not _matches(self.token, token.strip()):
            return _unauthorized(f'{self._challenge}, error="invalid_token"', "the bearer token is not valid")
        return None


class ApiKeyGuard(Guard):
    def __init__(self, key: str, placement: str, value: Secret | None) -> None:
        self.key = key
        self.placement = placement
        self.value = value
        self._header = key.lower().encode("latin-1")
        where = "header" if placement != "query" else "query"
        self._challenge = f'ApiKey realm="{REALM}", in="{where}", name="{key}"'

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        if self.placement == "query":
            _, _, query = target.partition(b"?")
            given = next(
                (v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == self.key),
                None,
            )
        else:
            given = _header(headers, self._header)
        if given is None:
            return _unauthorized(self._challenge, f"an API key is required in '{self.key}'")
        if not _matches(self.value, given):
            return _unauthorized(self._challenge, f"the API key in '{self.key}' is not valid")
        return None


class BasicGuard(Guard):
    def __init__(self, username: Secret | None, password: Secret | None) -> None:
        self.username = username
        self.password = password
        self._challenge = f'Basic realm="{REALM}", charset="UTF-8"'

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        value = _header(headers, b"authorization")
        if value is None:
            return _unauthorized(self._challenge, "basic credentials are required")
        scheme, _, encoded = value.strip().partition(" ")
        user = password = ""
        ok = scheme.lower() == "basic"
        if ok:
            try:
                user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
                ok = bool(sep)
            except (binascii.Error, UnicodeDecodeError):
                ok = False
        user_ok = _matches(self.username, user)
        password_ok = _matches(self.password, password)
        if ok and user_ok and password_ok:
            return None
        return _unauthorized(self._challenge, "the basic credentials are not valid")


_DIGEST_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": "md5", "MD5-SESS": "md5", "SHA-256": "sha256", "SHA-256-SESS": "sha256"}


class DigestGuard(Guard):
    def __init__(self, username: Secret | None, password: Secret | None) -> None:
        self.username = username
        self.password = password
        material = b"\0".join(s.reveal().encode() for s in (username, password) if s is not None)
        self._key = (
            hashlib.sha256(b"naftiko digest nonce\0" + material).digest() if material else os.urandom(32)
        )
        self._opaque = hashlib.sha256(self._key + b"opaque").hexdigest()[:32]

    def make_nonce(self, now: float | None = None) -> str:
        stamp = f"{int(now if now is not None else time.time()):x}"
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def nonce_age(self, nonce: str, now: float | None = None) -> float | None:
        """Seconds since ``nonce`` was issued, or None if no replica of this adapter issued it."""
        stamp, _, mac = nonce.partition(".")
        expected = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            issued = int(stamp, 16)
        except ValueError:
            return None
        return (now if now is not None else time.time()) - issued

    def challenge(self, *, stale: bool = False) -> str:
        text = (
            f'Digest realm="{REALM}", qop="auth", algorithm=SHA-256, nonce="{self.make_nonce()}", '
            f'opaque="{self._opaque}"'
        )
        return text + ", stale=true" if stale else text

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        value = _header(headers, b"authorization")
        scheme, _, rest = (value or "").strip().partition(" ")
        if value is None or scheme.lower() != "digest":
            return _unauthorized(self.challenge(), "digest credentials are required")
        fields = {
            m.group(1).lower(): m.group(2).replace('\\"', '"') if m.group(2) is not None else m.group(3)
            for m in _DIGEST_PARAM.finditer(rest)
        }
        age = self.nonce_age(fields.get("nonce", ""))
        if age is None or age < -5:
            return _unauthorized(self.challenge(), "the digest nonce is not valid")
        if self._verify(method, target, fields):
            if age > NONCE_TTL_S:
                return _unauthorized(self.challenge(stale=True), "the digest nonce has expired")
            return None
        return _unauthorized(self.challenge(), "the digest credentials are not valid")

    def _verify(self, method: str, target: bytes, fields: dict[str, str]) -> bool:
        algorithm = fields.get("algorithm", "MD5").upper()
        hash_name = _HASHES.get(algorithm)
        uri = fields.get("uri", "")
        realm_ok = hmac.compare_digest(fields.get("realm", "").encode(), REALM.encode())
        uri_ok = hmac.compare_digest(uri.encode("latin-1", "replace"), target)
        user_ok = _matches(self.username, fields.get("username", ""))
        if hash_name is None or self.username is None or self.password is None:
            return False

        def digest(text: str) -> str:
            return hashlib.new(hash_name, text.encode()).hexdigest()

        nonce, qop = fields.get("nonce", ""), fields.get("qop")
        cnonce, nc = fields.get("cnonce", ""), fields.get("nc", "")
        ha1 = digest(f"{self.username.reveal()}:{REALM}:{self.password.reveal()}")
        if algorithm.endswith("-SESS"):
            ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
        ha2 = digest(f"{method}:{uri}")
        if qop == "auth":
            expected = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        elif qop is None:
            expected = digest(f"{ha1}:{nonce}:{ha2}")
        else:
            return False
        response_ok = hmac.compare_digest(fields.get("response", "").lower().encode(), expected.encode())
        return realm_ok and uri_ok and user_ok and response_ok


_TITLES = {401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


class OAuth2Guard(Guard):
    """The adapter as an OAuth 2.1 resource server (:class:`~.oauth.ResourceServer`, as MCP's).

    401 with a ``Bearer`` challenge naming the metadata document (``resource_metadata``), 403
    ``insufficient_scope``, 503 when the authorization server cannot be reached; the metadata
    document itself is :attr:`public`.
    """

    def __init__(self, config: OAuth2Auth, client: Any = None) -> None:
        self.server = ResourceServer(config, client)
        document = orjson.dumps(self.server.protected_resource_metadata())
        self.public = MappingProxyType(dict.fromkeys(self.server.metadata_paths(), document))

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        refusal = await self.server.authorize(_header(headers, b"authorization"))
        if refusal is None:
            return None
        challenge = [(b"www-authenticate", refusal.challenge.encode())] if refusal.challenge else []
        return Problem(
            refusal.status,
            _TITLES.get(refusal.status, "Unauthorized"),
            refusal.description,
            extra={"error": refusal.error},
            headers=challenge,
        )

    async def aclose(self) -> None:
        await self.server.aclose()


class UnsupportedGuard(Guard):
    """An authentication type this adapter cannot check: refuse everything (fail closed)."""

    def __init__(self, declared: str, kind: str = "REST") -> None:
        self.declared = declared
        self.kind = kind

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        return Problem(
            501,
            "Not Implemented",
            f"the {self.kind} adapter does not support authentication type '{self.declared[:40]}'",
        )


async def answer_public(send: Send, body: bytes, head: bool) -> None:
    """Send a :attr:`Guard.public` document (``head``: its headers only)."""
    headers = [*PUBLIC_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class GuardMiddleware:
    """Checks credentials before routing, so unknown paths and methods are guarded too; the
    guard's :attr:`~Guard.public` documents are answered here, before the check."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            public = self.guard.public
            if public and method in ("GET", "HEAD"):
                document = public.get(scope["path"])
                if document is not None:
                    await answer_public(send, document, method == "HEAD")
                    return
            raw = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string")
            target = raw + b"?" + query if query else raw  # as the client wrote it (digest signs it)
            denied = await self.guard.check(method, target, scope["headers"])
            if denied is not None:
                status, headers, body = denied.encode()
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


_App = TypeVar("_App", bound=Starlette)


def close_at_shutdown(app: _App, guard: Guard | None) -> _App:
    """Have the Starlette ``app``'s lifespan close ``guard`` when it ends, after the app's own
    lifespan (``lifespan=`` or the default) has run; returns ``app``."""
    if guard is None:
        return app
    router = app.router
    inner = router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        try:
            async with inner(app) as state:
                yield state
        finally:
            await guard.aclose()

    router.lifespan_context = lifespan
    return app
