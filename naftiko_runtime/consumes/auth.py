"""Credentials a capability sends upstream: apikey, bearer, basic, digest, OAuth2 client credentials.

Credentials belong to the capability: when authentication supplies a header or query key, a value a
caller passed for the same key is dropped. Values come from binds only (resolved once, held as
:class:`~naftiko_runtime.binds.Secret`): a credential template is rendered when the runtime is built,
and no request value can ever fill one of its placeholders.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..binds import Secret
from ..errors import NaftikoError, UpstreamError
from ..expressions import MissingVariable
from ..spec.models import (
    AuthApiKey,
    AuthBasic,
    AuthBearer,
    AuthDigest,
    Authentication,
    AuthOAuth2,
)
from ..spec.variables import BindNames, bind_text
from .encoding import encode_query
from .transport import HttpClient, UpstreamResponse

ValueFn = Callable[[Mapping[str, Any]], str]


@dataclass(slots=True)
class PreparedRequest:
    """A request ready to send; authenticators may still add headers or query pairs."""

    operation: str
    method: str
    url: str  # without query string, already percent-encoded
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def full_url(self) -> str:
        return f"{self.url}?{encode_query(self.query)}" if self.query else self.url

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any spelling of the same name."""
        headers = self.headers
        lowered = name.lower()
        for existing in headers:
            if existing.lower() == lowered:
                for stale in [k for k in headers if k.lower() == lowered]:
                    del headers[stale]
                break
        headers[name] = value

    def set_query(self, name: str, value: str) -> None:
        self.query = [(k, v) for k, v in self.query if k != name]
        self.query.append((name, value))


def compile_value(text: str | None, binds: BindNames) -> ValueFn:
    """A credential value, from bind variables only (else :class:`MissingVariable`, which validation
    reports first); the same value for every request."""
    reveal = Secret(bind_text(text, binds)).reveal
    return lambda _context: reveal()


async def _send(client: HttpClient, request: PreparedRequest, time_left: float | None) -> UpstreamResponse:
    return await client.send(
        request.operation,
        request.method,
        request.full_url(),
        request.headers,
        request.body,
        time_left=time_left,
    )


class Authenticator:
    """No credentials. Subclasses add them; ``send`` may run a challenge/response."""

    supplied_headers: frozenset[str] = frozenset()
    supplied_query: frozenset[str] = frozenset()

    def apply(self, request: PreparedRequest, context: Mapping[str, Any]) -> None:
        return None

    async def send(
        self,
        client: HttpClient,
        request: PreparedRequest,
        context: Mapping[str, Any],
        time_left: float | None,
    ) -> UpstreamResponse:
        self.apply(request, context)
        return await _send(client, request, time_left)


class ApiKeyAuth(Authenticator):
    def __init__(self, spec: AuthApiKey, binds: BindNames) -> None:
        self.key = spec.key or "X-API-Key"
        self.placement = spec.placement
        self.value = compile_value(spec.value, binds)
        self._query = self.placement == "query"
        self._lowered = self.key.lower()
        if self._query:
            self.supplied_query = frozenset({self.key})
        else:
            self.supplied_headers = frozenset({self._lowered})

    def apply(self, request: PreparedRequest, context: Mapping[str, Any]) -> None:
        value = self.value(context)
        if self._query:
            request.set_query(self.key, value)
            return
        headers = request.headers
        for existing in headers:
            if existing.lower() == self._lowered:
                request.set_header(self.key, value)  # replace every spelling of it
                return
        headers[self.key] = value


class BearerAuth(Authenticator):
    supplied_headers = frozenset({"authorization"})

    def __init__(self, spec: AuthBearer, binds: BindNames) -> None:
        self.token = compile_value(spec.token, binds)

    def apply(self, request: PreparedRequest, context: Mapping[str, Any]) -> None:
        request.set_header("Authorization", f"Bearer {self.token(context)}")


class BasicAuth(Authenticator):
    supplied_headers = frozenset({"authorization"})

    def __init__(self, spec: AuthBasic, binds: BindNames) -> None:
        self.username = compile_value(spec.username, binds)
        self.password = compile_value(spec.password, binds)

    def apply(self, request: PreparedRequest, context: Mapping[str, Any]) -> None:
        pair = f"{self.username(context)}:{self.password(context)}".encode()
        request.set_header("Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))


_DIGEST_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class DigestAuth(Authenticator):
    """RFC 7616 digest: answer the server's challenge, then keep answering it with a growing ``nc``."""

    supplied_headers = frozenset({"authorization"})

    def __init__(self, spec: AuthDigest, binds: BindNames) -> None:
        self.username = compile_value(spec.username, binds)
        self.password = compile_value(spec.password, binds)
        self._challenge: dict[str, str] | None = None
        self._count = 0

    async def send(
        self,
        client: HttpClient,
        request: PreparedRequest,
        context: Mapping[str, Any],
        time_left: float | None,
    ) -> UpstreamResponse:
        started = time.perf_counter()
        if self._challenge is not None:
            request.set_header("Authorization", self._answer(request, context))
        response = await _send(client, request, time_left)
        challenge = _digest_challenge(response)
        if response.status != 401 or challenge is None:
            return response
        self._challenge, self._count = challenge, 0
        request.set_header("Authorization", self._answer(request, context))
        left = None if time_left is None else time_left - (time.perf_counter() - started)
        return await _send(client, request, left)

    def _answer(self, request: PreparedRequest, context: Mapping[str, Any]) -> str:
        challenge = self._challenge or {}
        self._count += 1
        algorithm = challenge.get("algorithm", "MD5")
        hash_name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"

        def digest(text: str) -> str:
            return hashlib.new(hash_name, text.encode()).hexdigest()

        realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
        user, password = self.username(context), self.password(context)
        uri = request.full_url().split("://", 1)[-1]
        uri = uri[uri.find("/") :] if "/" in uri else "/"
        ha1 = digest(f"{user}:{realm}:{password}")
        cnonce = os.urandom(8).hex()
        if algorithm.upper().endswith("-SESS"):
            ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
        ha2 = digest(f"{request.method}:{uri}")
        nc = f"{self._count:08x}"
        qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri, "algorithm": algorithm}
        if "auth" in qops:
            fields.update(
                qop="auth", nc=nc, cnonce=cnonce, response=digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            )
        else:
            fields["response"] = digest(f"{ha1}:{nonce}:{ha2}")
        if "opaque" in challenge:
            fields["opaque"] = challenge["opaque"]
        unquoted = {"algorithm", "qop", "nc"}
        return "Digest " + ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in fields.items())


def _digest_challenge(response: UpstreamResponse) -> dict[str, str] | None:
    for header in response.headers.getall("WWW-Authenticate", []):
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "digest":
            return {
                m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                for m in _DIGEST_PARAM.finditer(rest)
            }
    return None


class OAuth2ClientCredentials(Authenticator):
    """Fetch a token from the token endpoint, cache it until shortly before expiry, refresh on 401."""

    supplied_headers = frozenset({"authorization"})
    _EARLY_REFRESH_S = 30.0

    def __init__(self, spec: AuthOAuth2, binds: BindNames, operation_prefix: str) -> None:
        endpoint = spec.token_endpoint or (
            (spec.authorization_server_uri or "").rstrip("/") + "/token"
            if spec.authorization_server_uri
            else ""
        )
        self.token_url = compile_value(endpoint, binds)
        self.client_id = compile_value(spec.client_id, binds)
        self.client_secret = compile_value(spec.client_secret, binds)
        self.scopes = " ".join(spec.scopes)
        self.audience = spec.audience or spec.resource
        self.operation = f"{operation_prefix} token endpoint"
        self._token: Secret | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def send(
        self,
        client: HttpClient,
        request: PreparedRequest,
        context: Mapping[str, Any],
        time_left: float | None,
    ) -> UpstreamResponse:
        token = await self._current(client, context, time_left)
        request.set_header("Authorization", f"Bearer {token.reveal()}")
        response = await _send(client, request, time_left)
        if response.status != 401:
            return response
        token = await self._current(client, context, time_left, stale=token)
        request.set_header("Authorization", f"Bearer {token.reveal()}")
        return await _send(client, request, time_left)

    async def _current(
        self,
        client: HttpClient,
        context: Mapping[str, Any],
        time_left: float | None,
        stale: Secret | None = None,
    ) -> Secret:
        async with self._lock:
            fresh = self._token is not None and time.monotonic() < self._expires_at
            if fresh and (stale is None or self._token is not stale):
                return self._token  # type: ignore[return-value]
            form = {
                "grant_type": "client_credentials",
                "client_id": self.client_id(context),
                "client_secret": self.client_secret(context),
            }
            if self.scopes:
                form["scope"] = self.scopes
            if self.audience:
                form["audience"] = self.audience
            body = encode_query(form.items()).encode()
            reply = await client.send(
                self.operation,
                "POST",
                self.token_url(context),
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                body,
                time_left=time_left,
            )
            payload = _json_or_none(reply.body)
            if reply.status >= 400 or not isinstance(payload, dict) or "access_token" not in payload:
                detail = payload if isinstance(payload, dict) else None
                raise UpstreamError(
                    self.operation,
                    reply.status if reply.status >= 400 else 502,
                    {"error": (detail or {}).get("error", "no access_token in the answer")},
                )
            self._token = Secret(str(payload["access_token"]))
            lifetime = float(payload.get("expires_in") or 3600)
            self._expires_at = time.monotonic() + max(lifetime - self._EARLY_REFRESH_S, lifetime / 2)
            return self._token


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def build_authenticator(spec: Authentication | None, binds: BindNames, namespace: str) -> Authenticator:
    """The authenticator for a consumed namespace (unsupported schemes send no credentials)."""
    try:
        return _authenticator(spec, binds, namespace)
    except MissingVariable as exc:
        # Validation reports this first for a capability; a shared consumes file served or called on
        # its own has no binds of its own to check against.
        raise NaftikoError(
            f"consumed namespace '{namespace}': its authentication uses {', '.join(exc.names)}, "
            "which no bind declares"
        ) from None


def _authenticator(spec: Authentication | None, binds: BindNames, namespace: str) -> Authenticator:
    if isinstance(spec, AuthApiKey):
        return ApiKeyAuth(spec, binds)
    if isinstance(spec, AuthBearer):
        return BearerAuth(spec, binds)
    if isinstance(spec, AuthBasic):
        return BasicAuth(spec, binds)
    if isinstance(spec, AuthDigest):
        return DigestAuth(spec, binds)
    if isinstance(spec, AuthOAuth2):
        return OAuth2ClientCredentials(spec, binds, namespace)
    return Authenticator()
