"""An adapter as an OAuth 2.1 resource server (RFC 9728, RFC 6750, MCP authorization): one
implementation for every HTTP adapter.

The MCP endpoint (:mod:`.mcp.auth`) and the REST, skill and control adapters (:mod:`.auth`) wrap
:class:`ResourceServer` and turn its :class:`Refusal` into their own error shape; the checks, the
challenges and the protected-resource metadata document are the same everywhere.

Access tokens are JWTs signed by the authorization server. Its metadata is discovered once
(RFC 8414 ``oauth-authorization-server``, then OpenID ``openid-configuration``), its JWKS is cached
and refetched when a token names an unknown key (at most every ``_MIN_REFRESH_SECONDS``). Verified
tokens are remembered until they expire, so a busy client costs one signature check per token, not
one per call. ``tokenValidation: introspection`` asks the authorization server instead (RFC 7662).

The HTTP client that talks to the authorization server belongs to the :class:`ResourceServer`
(made on first use, on the serving loop); whoever serves the adapter calls :meth:`aclose` at
shutdown (the adapters' lifespans do).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

from ..expressions import MissingVariable
from ..spec.models import AuthOAuth2
from ..spec.variables import BindNames, bind_text

logger = logging.getLogger("naftiko.oauth")

_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})
_MIN_REFRESH_SECONDS = 30.0
_TOKEN_CACHE_SIZE = 4096
WELL_KNOWN_PREFIX = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True, slots=True)
class OAuth2Auth:
    """The adapter as an OAuth 2.1 resource server (MCP authorization, RFC 9728).

    Tokens are JWTs checked against the authorization server's JWKS: signature (RS*/ES*/PS*),
    issuer, audience (``audience`` or else ``resource``), expiry, and every scope in ``scopes``.
    """

    authorization_server_uri: str
    resource: str
    audience: str | None = None
    scopes: Sequence[str] = ()
    token_validation: Literal["jwks", "introspection"] = "jwks"
    jwks_cache_seconds: float = 600.0
    leeway_seconds: float = 30.0
    kind: Literal["oauth2"] = "oauth2"


def oauth2_config(spec: AuthOAuth2, binds: BindNames | None = None) -> OAuth2Auth:
    """The resource-server settings of an expose's ``authentication: {type: oauth2}``, with
    ``{{VAR}}`` placeholders filled from ``binds``.

    ``ValueError`` (naming the missing fields) when ``authorizationServerUri`` or ``resource`` is
    absent: without them no token can be checked and no metadata document written.
    """

    def filled(text: str | None) -> str | None:
        if not text or binds is None:
            return text
        try:
            return bind_text(text, binds)
        except MissingVariable as exc:
            raise ValueError(f"uses {', '.join(exc.names)}, which no bind declares") from None

    spec = spec.model_copy(
        update={
            "authorization_server_uri": filled(spec.authorization_server_uri),
            "resource": filled(spec.resource),
            "audience": filled(spec.audience),
        }
    )
    fields = (("authorizationServerUri", spec.authorization_server_uri), ("resource", spec.resource))
    missing = [name for name, value in fields if not value]
    if missing:
        raise ValueError("oauth2 needs " + " and ".join(f"`{name}`" for name in missing))
    validation: Literal["jwks", "introspection"] = (
        "introspection" if spec.token_validation == "introspection" else "jwks"
    )
    return OAuth2Auth(
        spec.authorization_server_uri,  # type: ignore[arg-type]
        spec.resource,  # type: ignore[arg-type]
        spec.audience,
        tuple(spec.scopes),
        validation,
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: status, OAuth error code, a caller-safe description, and the
    ``WWW-Authenticate`` value to send (None: no challenge, the refusal is not the caller's fault)."""

    status: int
    error: str
    description: str
    challenge: str | None = None


class TokenUnverifiable(Exception):
    """The authorization server could not be reached or answered nonsense: not the caller's fault."""


def _well_known(issuer: str, suffix: str, *, insert: bool) -> str:
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    new_path = f"/.well-known/{suffix}{path}" if insert else f"{path}/.well-known/{suffix}"
    return urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))


def metadata_candidates(issuer: str) -> list[str]:
    """Where an issuer's metadata may live, in the order MCP clients and servers try them."""
    candidates = [
        _well_known(issuer, "oauth-authorization-server", insert=True),
        _well_known(issuer, "openid-configuration", insert=True),
        _well_known(issuer, "openid-configuration", insert=False),
    ]
    return list(dict.fromkeys(candidates))


def resource_metadata_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known segment goes between the host and the resource's path."""
    parts = urlsplit(resource)
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN_PREFIX + parts.path.rstrip("/"), "", ""))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` value (scheme case-insensitive), else ``None``."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(str(s) for s in raw)
    return frozenset()


class ResourceServer:
    """Checks access tokens for one adapter, and describes it (RFC 9728) to clients."""

    def __init__(self, config: OAuth2Auth, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.audience = config.audience or config.resource
        self.required_scopes = frozenset(config.scopes)
        self.metadata_url = resource_metadata_url(config.resource)
        self._client = client
        self._owns_client = client is None
        self._lock = asyncio.Lock()
        self._as_metadata: dict[str, Any] | None = None
        self._keys: dict[str | None, list[tuple[str | None, str, Any]]] = {}
        self._keys_at = 0.0
        self._verified: dict[str, tuple[float, frozenset[str]]] = {}

    # --- metadata served to clients --------------------------------------------------------------

    def protected_resource_metadata(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "resource": self.config.resource,
            "authorization_servers": [self.config.authorization_server_uri],
            "bearer_methods_supported": ["header"],
        }
        if self.config.scopes:
            document["scopes_supported"] = list(self.config.scopes)
        return document

    def metadata_paths(self) -> list[str]:
        """Where the adapter serves :meth:`protected_resource_metadata`, unauthenticated: the
        well-known path of ``resource`` (the one challenges point at) and the bare well-known path."""
        resource_path = self.metadata_url.split(WELL_KNOWN_PREFIX, 1)[1]
        return list(dict.fromkeys([WELL_KNOWN_PREFIX, WELL_KNOWN_PREFIX + resource_path]))

    def challenge(self, error: str | None = None, description: str | None = None) -> str:
        params = []
        if error:
            params.append(f'error="{error}"')
        if description:
            params.append(f'error_description="{description}"')
        if self.config.scopes:
            params.append(f'scope="{" ".join(self.config.scopes)}"')
        params.append(f'resource_metadata="{self.metadata_url}"')
        return "Bearer " + ", ".join(params)

    # --- the check -------------------------------------------------------------------------------

    async def authorize(self, authorization: str | None) -> Refusal | None:
        """None when the ``Authorization`` header value carries a valid token with every scope."""
        token = bearer_token(authorization)
        if token is None:
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            return Refusal(401, "invalid_request", "an access token is required", self.challenge())
        try:
            scopes = await self._verify(token)
        except TokenUnverifiable as exc:
            logger.warning("oauth2: cannot verify tokens: %s", exc)
            return Refusal(503, "temporarily_unavailable", "the authorization server cannot be reached")
        except (jwt.InvalidTokenError, ValueError) as exc:
            description = _describe(exc)
            return Refusal(401, "invalid_token", description, self.challenge("invalid_token", description))
        if self.required_scopes - scopes:
            description = "the access token lacks a required scope"
            return Refusal(
                403, "insufficient_scope", description, self.challenge("insufficient_scope", description)
            )
        return None

    async def _verify(self, token: str) -> frozenset[str]:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self.config.token_validation == "introspection":
            expires, scopes = await self._introspect(token, now)
        else:
            expires, scopes = await self._verify_jwt(token)
        if len(self._verified) >= _TOKEN_CACHE_SIZE:
            self._verified = {t: v for t, v in self._verified.items() if v[0] > now}
            if len(self._verified) >= _TOKEN_CACHE_SIZE:
                self._verified.clear()
        self._verified[token] = (expires, scopes)
        return scopes

    async def _verify_jwt(self, token: str) -> tuple[float, frozenset[str]]:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in _ALGORITHMS:
            raise jwt.InvalidAlgorithmError("the token's signing algorithm is not accepted")
        key = await self._key_for(header.get("kid"), algorithm)
        metadata = await self._metadata()
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=metadata.get("issuer") or self.config.authorization_server_uri,
            leeway=self.config.leeway_seconds,
            options={"require": ["exp", "iss", "aud"]},
        )
        return float(claims["exp"]), _scopes_of(claims)

    async def _introspect(self, token: str, now: float) -> tuple[float, frozenset[str]]:
        """RFC 7662, for authorization servers that issue opaque tokens (no client authentication:
        the document has no field for resource-server credentials)."""
        endpoint = (await self._metadata()).get("introspection_endpoint")
        if not endpoint:
            raise TokenUnverifiable("the authorization server publishes no introspection_endpoint")
        try:
            response = await self._http().post(endpoint, data={"token": token})
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenUnverifiable(f"introspection failed: {exc}") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise jwt.InvalidTokenError("the access token is not active")
        audiences = answer.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        if audiences and self.audience not in audiences:
            raise jwt.InvalidAudienceError("Audience doesn't match")
        expires = float(answer.get("exp") or now + 60)
        if expires + self.config.leeway_seconds < now:
            raise jwt.ExpiredSignatureError("Signature has expired")
        return min(expires, now + 60), _scopes_of(answer)

    # --- authorization server --------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0, follow_redirects=True)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client this resource server made (a client it was given is the giver's)."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def _get_json(self, url: str) -> Any:
        response = await self._http().get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        return response.json()

    async def _metadata(self) -> dict[str, Any]:
        if self._as_metadata is not None:
            return self._as_metadata
        async with self._lock:
            if self._as_metadata is None:
                self._as_metadata = await self._discover()
        return self._as_metadata

    async def _discover(self) -> dict[str, Any]:
        problems = []
        for url in metadata_candidates(self.config.authorization_server_uri):
            try:
                document = await self._get_json(url)
            except (httpx.HTTPError, ValueError) as exc:
                problems.append(f"{url}: {type(exc).__name__}")
                continue
            if isinstance(document, dict) and (
                document.get("jwks_uri") or document.get("introspection_endpoint")
            ):
                return document
            problems.append(f"{url}: no jwks_uri")
        raise TokenUnverifiable("no authorization server metadata (" + "; ".join(problems) + ")")

    async def _key_for(self, kid: str | None, algorithm: str) -> Any:
        stale = time.monotonic() - self._keys_at > self.config.jwks_cache_seconds
        key = None if stale else self._pick(kid, algorithm)
        if key is None and (stale or time.monotonic() - self._keys_at > _MIN_REFRESH_SECONDS):
            await self._refresh_keys()
            key = self._pick(kid, algorithm)
        if key is None:
            raise jwt.InvalidKeyError("the token's signing key is unknown to the authorization server")
        return key

    def _pick(self, kid: str | None, algorithm: str) -> Any:
        candidates = self._keys.get(kid) if kid is not None else [k for ks in self._keys.values() for k in ks]
        family = "EC" if algorithm.startswith("ES") else "RSA"
        for declared, key_type, key in candidates or ():
            # A JWK without "alg" serves every algorithm of its key type (RS256/PS384 on one RSA key).
            if declared == algorithm or (declared is None and key_type == family):
                return key
        return None

    async def _refresh_keys(self) -> None:
        async with self._lock:
            if time.monotonic() - self._keys_at < 1.0:
                return  # another task refreshed while this one waited
            uri = (await self._metadata_unlocked()).get("jwks_uri")
            if not uri:
                raise TokenUnverifiable("the authorization server publishes no jwks_uri")
            try:
                document = await self._get_json(uri)
            except (httpx.HTTPError, ValueError) as exc:
                raise TokenUnverifiable(f"JWKS could not be fetched: {type(exc).__name__}") from None
            keys: dict[str | None, list[tuple[str | None, str, Any]]] = {}
            for item in document.get("keys", []) if isinstance(document, dict) else []:
                if not isinstance(item, dict) or item.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(item).key
                except jwt.PyJWTError:
                    continue  # a key type this server cannot use; others may still do
                keys.setdefault(item.get("kid"), []).append((item.get("alg"), item.get("kty", ""), key))
            self._keys = keys
            self._keys_at = time.monotonic()

    async def _metadata_unlocked(self) -> dict[str, Any]:
        if self._as_metadata is None:
            self._as_metadata = await self._discover()
        return self._as_metadata


def _describe(exc: Exception) -> str:
    """A fixed, caller-safe reason (no token content, no claim values)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the access token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the access token is not valid yet"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the access token was not issued for this resource"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the access token was not issued by the expected authorization server"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return "the access token lacks a required claim"
    if isinstance(exc, jwt.InvalidKeyError | jwt.InvalidSignatureError | jwt.InvalidAlgorithmError):
        return "the access token's signature cannot be verified"
    return "the access token is malformed or invalid"
