"""The MCP endpoint as an OAuth 2.1 resource server (MCP authorization spec, RFC 9728, RFC 6750).

Access tokens are JWTs signed by the authorization server. Its metadata is discovered once
(RFC 8414 ``oauth-authorization-server``, then OpenID ``openid-configuration``), its JWKS is cached
and refetched when a token names an unknown key (at most every ``_MIN_REFRESH_SECONDS``). Verified
tokens are remembered until they expire, so a busy agent costs one signature check per token, not
one per call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

from .auth import Denial, bearer_token
from .catalog import OAuth2Auth

logger = logging.getLogger("naftiko.mcp")

_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})
_MIN_REFRESH_SECONDS = 30.0
_TOKEN_CACHE_SIZE = 4096
WELL_KNOWN_PREFIX = "/.well-known/oauth-protected-resource"


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


def _scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(str(s) for s in raw)
    return frozenset()


class OAuth2Guard:
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

    def _challenge(self, error: str | None = None, description: str | None = None) -> dict[str, str]:
        params = []
        if error:
            params.append(f'error="{error}"')
        if description:
            params.append(f'error_description="{description}"')
        if self.config.scopes:
            params.append(f'scope="{" ".join(self.config.scopes)}"')
        params.append(f'resource_metadata="{self.metadata_url}"')
        return {"www-authenticate": "Bearer " + ", ".join(params)}

    # --- the check -------------------------------------------------------------------------------

    async def check(self, headers: Mapping[str, str], query: bytes) -> Denial | None:
        token = bearer_token(headers)
        if token is None:
            return Denial(401, "invalid_request", "an access token is required", self._challenge())
        try:
            scopes = await self._verify(token)
        except TokenUnverifiable as exc:
            logger.warning("oauth2: cannot verify tokens: %s", exc)
            return Denial(503, "temporarily_unavailable", "the authorization server cannot be reached")
        except (jwt.InvalidTokenError, ValueError) as exc:
            description = _describe(exc)
            return Denial(401, "invalid_token", description, self._challenge("invalid_token", description))
        missing = self.required_scopes - scopes
        if missing:
            description = "the access token lacks a required scope"
            return Denial(
                403, "insufficient_scope", description, self._challenge("insufficient_scope", description)
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
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

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
