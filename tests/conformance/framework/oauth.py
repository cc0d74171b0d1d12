"""An OAuth 2.1 authorization server stand-in: metadata and a JWKS, and the tokens it would issue.

It publishes ``/.well-known/oauth-authorization-server`` (``issuer``, ``jwks_uri``) and the JWKS of
one RSA key (``kid`` ``integration-key``), as the Java ``McpOAuth2IntegrationTest`` mock does, and
signs RS256 tokens with that key; the runtime's MCP adapter fetches the metadata and keys itself.
"""

from __future__ import annotations

import json
import time
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import ServerThread

KID = "integration-key"


class AuthorizationServer:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.hits: list[str] = []
        self.server = ServerThread(
            Starlette(
                routes=[
                    Route("/.well-known/oauth-authorization-server", self._metadata),
                    Route("/jwks", self._jwks),
                ]
            )
        )

    @property
    def issuer(self) -> str:
        return self.server.url

    async def _metadata(self, request: Request) -> JSONResponse:
        self.hits.append(request.url.path)
        return JSONResponse({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

    async def _jwks(self, request: Request) -> JSONResponse:
        self.hits.append(request.url.path)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]})

    def token(self, *, audience: str, scope: str, expires_in: int = 300, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": audience,
            "sub": "conformance-client",
            "scope": scope,
            "iat": now,
            "nbf": now - 5,
            "exp": now + expires_in,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": KID})

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
