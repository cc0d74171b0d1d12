"""An OAuth 2.1 authorization server on a loopback port, for the adapters' resource-server tests.

It publishes its metadata (``/.well-known/oauth-authorization-server`` by default, or
``openid-configuration``), the JWKS of one signing key (``kid`` ``integration-key``; RSA made with
``cryptography``, or EC for ``ES*``), and an RFC 7662 introspection endpoint answering from
``active``; it signs tokens with PyJWT and counts what it served:

.. code-block:: python

    with AuthorizationServer(audience="https://api.example.com/v1", scope="orders:read") as issuer:
        token = issuer.token()                          # valid: iss, aud, exp, scope
        expired = issuer.token(exp=int(time.time()) - 3600)
        ...                                             # authorizationServerUri: issuer.issuer
        assert issuer.hits == ["metadata", "jwks"]      # discovered once, keys fetched once
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .servers import ServerThread

KID = "integration-key"


def other_key() -> Any:
    """An RSA key the authorization server does not publish (a forged token's signer)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class AuthorizationServer:
    """An issuer publishing metadata and a JWKS; :meth:`token` defaults to ``audience``/``scope``."""

    audience: str | None = None
    scope: str | None = None
    metadata_path: str = "/.well-known/oauth-authorization-server"
    algorithm: str = "RS256"
    hits: list[str] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.algorithm.startswith("ES"):
            self.key: Any = ec.generate_private_key(ec.SECP256R1())
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwk = {**jwk, "kid": KID, "use": "sig", "alg": self.algorithm}
        self.active: dict[str, dict[str, Any]] = {}
        self.server = ServerThread(
            Starlette(
                routes=[
                    Route(self.metadata_path, self._metadata),
                    Route("/jwks", self._jwks),
                    Route("/introspect", self._introspect, methods=["POST"]),
                ]
            )
        )

    @property
    def issuer(self) -> str:
        return self.server.url

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.stop()

    async def _metadata(self, request: Request) -> JSONResponse:
        self.hits.append("metadata")
        return JSONResponse(
            {
                "issuer": self.issuer,
                "jwks_uri": self.issuer + "/jwks",
                "introspection_endpoint": self.issuer + "/introspect",
            }
        )

    async def _jwks(self, request: Request) -> JSONResponse:
        self.hits.append("jwks")
        return JSONResponse({"keys": [self.jwk]})

    async def _introspect(self, request: Request) -> JSONResponse:
        token = (await request.form())["token"]
        self.introspected.append(str(token))
        return JSONResponse(self.active.get(str(token), {"active": False}))

    def token(self, *, key: Any = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """A signed access token; a claim given as None is left out (``exp=None``: no expiry)."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "agent-1",
            "iat": now,
            "exp": now + 300,
            "scope": self.scope,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, key or self.key, algorithm=self.algorithm, headers={"kid": KID, **(headers or {})}
        )
