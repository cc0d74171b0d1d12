"""An adapter's own ``authentication``: who may call this REST, MCP, skill or control adapter.

One pipeline for every adapter: :func:`inbound_auth` renders an expose's ``authentication`` into
the credentials it checks (:class:`BearerAuth`, :class:`ApiKeyAuth`, :class:`BasicAuth`,
:class:`DigestAuth`, or the OAuth 2 resource-server settings), and :func:`guard_of` turns those into
the :class:`Guard` that checks each request. REST, skill and control mount the guard with
:class:`GuardMiddleware` (:func:`build_guard`); the MCP endpoint runs the same guards and the same
OAuth 2 resource server, answering in its own error shape (:mod:`.mcp.auth`).

The expected credentials are templates over binds (``token: "{{REST_TOKEN}}"``), rendered once when
the app is built and held as :class:`~naftiko_runtime.binds.Secret` values. Every comparison is
constant-time (:meth:`Secret.matches`), and basic/digest check user and password both, always, so
the time taken says nothing about which half was wrong. One policy for unusable credentials,
:func:`adapter_credential`: a credential that is absent, uses a variable no bind declares, or
renders empty stops the adapter from starting, with the adapter and the field named (an empty
expected token would otherwise match ``Authorization: Bearer ``). The guards hold to it by
construction: each refuses an empty credential however it is built (:func:`usable`), so an embedder
handing ``BearerAuth("")`` to an app gets the same refusal, not an open door.

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
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from ..binds import Secret
from ..errors import AdapterConfigError
from ..expressions import MissingVariable
from ..spec.models import (
    AuthApiKey,
    AuthBasic,
    AuthBearer,
    AuthDigest,
    Authentication,
    AuthOAuth2,
    AuthUnsupported,
)
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


class SecretLike(Protocol):
    """A resolved bind value whose ``repr`` is masked; ``reveal()`` is the only way to the text."""

    def reveal(self) -> str: ...


Credential = SecretLike | str
"""A secret object, or (in tests and embedding code) the plain text."""


@dataclass(frozen=True, slots=True)
class BearerAuth:
    token: Credential
    kind: Literal["bearer"] = "bearer"


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    key: str
    value: Credential
    placement: Literal["header", "query"] = "header"
    kind: Literal["apikey"] = "apikey"


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: Credential
    password: Credential
    kind: Literal["basic"] = "basic"


@dataclass(frozen=True, slots=True)
class DigestAuth:
    username: Credential
    password: Credential
    kind: Literal["digest"] = "digest"


StaticAuth = BearerAuth | ApiKeyAuth | BasicAuth | DigestAuth
"""Credentials compared with what the request carries (OAuth 2 asks the authorization server)."""

InboundAuth = StaticAuth | OAuth2Auth


def build_guard(
    spec: Authentication | None, binds: BindNames, namespace: str, kind: str = "REST"
) -> Guard | None:
    """The guard of an expose's ``authentication`` (None: the adapter is open); a type this runtime
    cannot check gets a guard that refuses every request (fail closed).

    Raises :class:`~naftiko_runtime.errors.AdapterConfigError` when a credential cannot be enforced.
    """
    if spec is None:
        return None
    if isinstance(spec, AuthUnsupported):
        log.error(
            "%s adapter %s: authentication type %r is not supported; every request gets 501",
            kind,
            namespace,
            spec.declared,
        )
        return UnsupportedGuard(spec.declared, kind)
    return guard_of(inbound_auth(spec, binds, f"{kind} adapter {namespace}"))


def inbound_auth(spec: Authentication, binds: BindNames, where: str) -> InboundAuth:
    """The credentials an adapter checks, rendered from binds once by :func:`adapter_credential`
    (``where`` names the adapter in its refusals: ``"MCP adapter tools"``).

    Raises :class:`~naftiko_runtime.errors.AdapterConfigError` when a credential cannot be enforced,
    and for a type this runtime does not implement.
    """
    if isinstance(spec, AuthBearer):
        return BearerAuth(adapter_credential(spec.token, binds, where, "token"))
    if isinstance(spec, AuthApiKey):
        value = adapter_credential(spec.value, binds, where, "value")
        return ApiKeyAuth(spec.key or "X-API-Key", value, spec.placement)
    if isinstance(spec, (AuthBasic, AuthDigest)):
        username = adapter_credential(spec.username, binds, where, "username")
        password = adapter_credential(spec.password, binds, where, "password")
        return (BasicAuth if isinstance(spec, AuthBasic) else DigestAuth)(username, password)
    if isinstance(spec, AuthOAuth2):
        try:
            return oauth2_config(spec, binds)
        except ValueError as exc:
            raise AdapterConfigError(f"{where}: authentication {exc}") from None
    raise AdapterConfigError(f"{where}: authentication type {spec.declared!r} is not supported")


def guard_of(auth: InboundAuth) -> Guard:
    """The guard that checks requests against ``auth``."""
    if isinstance(auth, BearerAuth):
        return BearerGuard(auth.token)
    if isinstance(auth, ApiKeyAuth):
        return ApiKeyGuard(auth.key, auth.placement, auth.value)
    if isinstance(auth, BasicAuth):
        return BasicGuard(auth.username, auth.password)
    if isinstance(auth, DigestAuth):
        return DigestGuard(auth.username, auth.password)
    return OAuth2Guard(auth)


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
    return usable(value, field, where, "renders empty (its bind value is empty)")


def usable(value: Credential, field: str, where: str = "adapter", empty: str = "is empty") -> Secret:
    """``value`` as a :class:`Secret`, or :class:`~naftiko_runtime.errors.AdapterConfigError` when it
    is blank: an empty expected credential would match an empty one sent (``Bearer ``)."""
    if not isinstance(value, Secret):
        value = Secret(value if isinstance(value, str) else value.reveal())
    secret = value
    if not secret.reveal().strip():
        raise AdapterConfigError(f"{where}: authentication {field} {empty}; the adapter cannot start")
    return secret


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


class BearerGuard(Guard):
    def __init__(self, token: Credential) -> None:
        self.token = usable(token, "token")
        self._challenge = f'Bearer realm="{REALM}"'

    async def check(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> Problem | None:
        value = _header(headers, b"authorization")
        if value is None:
            return _unauthorized(self._challenge, "a bearer token is required")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not self.token.matches(token.strip()):
            return _unauthorized(f'{self._challenge}, error="invalid_token"', "the bearer token is not valid")
        return None


class ApiKeyGuard(Guard):
    def __init__(self, key: str, placement: str, value: Credential) -> None:
        self.key = key
        self.placement = placement
        self.value = usable(value, "value")
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
        if not self.value.matches(given):
            return _unauthorized(self._challenge, f"the API key in '{self.key}' is not valid")
        return None


class BasicGuard(Guard):
    def __init__(self, username: Credential, password: Credential) -> None:
        self.username = usable(username, "username")
        self.password = usable(password, "password")
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
        user_ok = self.username.matches(user)
        password_ok = self.password.matches(password)
        if ok and user_ok and password_ok:
            return None
        return _unauthorized(self._challenge, "the basic credentials are not valid")


_DIGEST_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": "md5", "MD5-SESS": "md5", "SHA-256": "sha256", "SHA-256-SESS": "sha256"}


class DigestGuard(Guard):
    def __init__(self, username: Credential, password: Credential) -> None:
        self.username = usable(username, "username")
        self.password = usable(password, "password")
        material = self.username.reveal().encode() + b"\0" + self.password.reveal().encode()
        self._key = hashlib.sha256(b"naftiko digest nonce\0" + material).digest()
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
        user_ok = self.username.matches(fields.get("username", ""))
        if hash_name is None:
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
