"""Inbound authentication of the HTTP transport: static credentials and OAuth 2.1 resource server."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client

from naftiko_runtime.binds import Secret
from naftiko_runtime.exposes.mcp import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    McpSecurity,
    OAuth2Auth,
)
from tests.support.oauth import AuthorizationServer, other_key
from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

from .conftest import program_seed
from .engine import serve_seed
from .test_http_protocol import rpc

RESOURCE = "https://mcp.example.com/mcp"


def serve(upstream: RecordingUpstream, security: McpSecurity) -> ServerThread:
    """The seed on the real engine behind ``security`` (the seed itself declares none)."""
    program_seed(upstream)
    return serve_seed(upstream.url, security, api_key="Token seed-secret-123")


def ping(url: str, headers: dict[str, str] | None = None, query: str = "") -> httpx.Response:
    return rpc(url + "/mcp" + query, "ping", headers=headers)


# --- static credentials --------------------------------------------------------------------------


def test_bearer(upstream: RecordingUpstream) -> None:
    with serve(upstream, McpSecurity(auth=BearerAuth(Secret("mcp-secret-token-123")))) as server:
        missing = ping(server.url)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = ping(server.url, {"authorization": "Bearer mcp-secret-token-124"})
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        assert "mcp-secret" not in wrong.text
        assert ping(server.url, {"authorization": "bearer mcp-secret-token-123"}).status_code == 200
        # Every method and path of the endpoint is behind the check.
        assert httpx.get(server.url + "/mcp").status_code == 401
        assert httpx.delete(server.url + "/").status_code == 401
        assert (
            httpx.get(
                server.url + "/mcp", headers={"authorization": "Bearer mcp-secret-token-123"}
            ).status_code
            == 405
        )


def test_bearer_token_is_not_forwarded(upstream: RecordingUpstream) -> None:
    with serve(upstream, McpSecurity(auth=BearerAuth("agent-facing-token"))) as server:
        params = {"name": "get-inference-run-info", "arguments": {"prompt_id": 1, "version_id": 1}}
        response = rpc(
            server.url + "/mcp", "tools/call", params, headers={"authorization": "Bearer agent-facing-token"}
        )
        assert response.json()["result"]["isError"] is False
        assert upstream.last.headers["authorization"] == "Token seed-secret-123"


def test_apikey_in_header(upstream: RecordingUpstream) -> None:
    with serve(upstream, McpSecurity(auth=ApiKeyAuth("X-MCP-Key", Secret("abc-key-456")))) as server:
        assert ping(server.url).status_code == 401
        assert "ApiKey" in ping(server.url).headers["www-authenticate"]
        assert ping(server.url, {"x-mcp-key": "abc-key-457"}).status_code == 401
        assert ping(server.url, {"x-mcp-key": "abc-key-456"}).status_code == 200


def test_apikey_in_query(upstream: RecordingUpstream) -> None:
    with serve(
        upstream, McpSecurity(auth=ApiKeyAuth("api_key", Secret("q-789"), placement="query"))
    ) as server:
        assert ping(server.url).status_code == 401
        assert ping(server.url, query="?api_key=wrong").status_code == 401
        assert ping(server.url, query="?api_key=q-789").status_code == 200


def test_basic(upstream: RecordingUpstream) -> None:
    def basic(user: str, password: str) -> dict[str, str]:
        return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    with serve(upstream, McpSecurity(auth=BasicAuth("admin", Secret("pa:ss")))) as server:
        missing = ping(server.url)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Basic realm=")
        assert ping(server.url, basic("admin", "wrong")).status_code == 401
        assert ping(server.url, basic("root", "pa:ss")).status_code == 401
        assert ping(server.url, {"authorization": "Basic !!!"}).status_code == 401
        assert ping(server.url, basic("admin", "pa:ss")).status_code == 200


@pytest.mark.anyio
async def test_sdk_client_with_bearer(upstream: RecordingUpstream) -> None:
    from mcp.client.streamable_http import streamable_http_client

    with serve(upstream, McpSecurity(auth=BearerAuth("tok"))) as server:
        async with httpx.AsyncClient(headers={"authorization": "Bearer tok"}) as http:
            transport = streamable_http_client(server.url + "/mcp", http_client=http)
            async with Client(transport, mode="legacy") as client:
                assert len((await client.list_tools()).tools) == 3


# --- OAuth 2.1 resource server -------------------------------------------------------------------


@pytest.fixture
def issuer() -> Iterator[AuthorizationServer]:
    with AuthorizationServer(audience=RESOURCE, scope="mcp:tools") as authorization_server:
        yield authorization_server


def oauth(issuer: AuthorizationServer, **options: Any) -> McpSecurity:
    return McpSecurity(
        auth=OAuth2Auth(
            authorization_server_uri=issuer.issuer, resource=RESOURCE, scopes=["mcp:tools"], **options
        )
    )


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_protected_resource_metadata(upstream: RecordingUpstream, issuer: AuthorizationServer) -> None:
    with serve(upstream, oauth(issuer)) as server:
        for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
            document = httpx.get(server.url + path)
            assert document.status_code == 200
            assert document.json() == {
                "resource": RESOURCE,
                "authorization_servers": [issuer.issuer],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["mcp:tools"],
            }


def test_oauth2_challenges(upstream: RecordingUpstream, issuer: AuthorizationServer) -> None:
    metadata = 'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
    with serve(upstream, oauth(issuer)) as server:
        missing = ping(server.url)
        assert missing.status_code == 401
        challenge = missing.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and metadata in challenge and 'scope="mcp:tools"' in challenge
        assert "error=" not in challenge  # RFC 6750 §3.1: no error code without credentials

        refused = {
            "expired": issuer.token(exp=int(time.time()) - 3600),
            "not yet valid": issuer.token(nbf=int(time.time()) + 3600),
            "wrong audience": issuer.token(aud="https://other.example.com/mcp"),
            "wrong issuer": issuer.token(iss="https://evil.example.com"),
            "no expiry": issuer.token(exp=None),
            "foreign key": issuer.token(key=other_key()),
            "garbage": "not.a.jwt",
        }
        for case, token in refused.items():
            response = ping(server.url, bearer(token))
            assert response.status_code == 401, case
            challenge = response.headers["www-authenticate"]
            assert 'error="invalid_token"' in challenge and metadata in challenge, case
            assert token not in response.text

        scopeless = ping(server.url, bearer(issuer.token(scope="profile")))
        assert scopeless.status_code == 403
        assert 'error="insufficient_scope"' in scopeless.headers["www-authenticate"]
        assert metadata in scopeless.headers["www-authenticate"]

        assert ping(server.url, bearer(issuer.token())).status_code == 200
        assert ping(server.url, bearer(issuer.token(scope=None, scp=["mcp:tools", "x"]))).status_code == 200
        assert ping(server.url, bearer(issuer.token(aud=["other", RESOURCE]))).status_code == 200


def _hand_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token keyed with the issuer's public key (PyJWT refuses to make one)."""
    import hashlib
    import hmac
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(json.dumps(header).encode()) + "." + part(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


def test_oauth2_algorithm_confusion_is_refused(
    upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": issuer.issuer, "aud": RESOURCE, "exp": now + 60, "scope": "mcp:tools"}
    forged_hs = _hand_signed({"alg": "HS256", "kid": "integration-key", "typ": "JWT"}, claims, public_pem)
    unsigned = jwt.encode(claims, None, algorithm="none")
    with serve(upstream, oauth(issuer)) as server:
        assert ping(server.url, bearer(forged_hs)).status_code == 401
        assert ping(server.url, bearer(unsigned)).status_code == 401


def test_oauth2_keys_are_cached_and_tokens_remembered(
    upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    with serve(upstream, oauth(issuer)) as server:
        tokens = [issuer.token(sub=f"agent-{i}") for i in range(5)]
        for token in tokens * 3:
            assert ping(server.url, bearer(token)).status_code == 200
    assert issuer.hits == ["metadata", "jwks"]


def test_oauth2_openid_configuration_and_es256(upstream: RecordingUpstream) -> None:
    authorization_server = AuthorizationServer(
        RESOURCE, "mcp:tools", metadata_path="/.well-known/openid-configuration", algorithm="ES256"
    )
    with authorization_server, serve(upstream, oauth(authorization_server)) as server:
        assert ping(server.url, bearer(authorization_server.token())).status_code == 200


def test_oauth2_unreachable_authorization_server(upstream: RecordingUpstream) -> None:
    security = McpSecurity(auth=OAuth2Auth(authorization_server_uri="http://127.0.0.1:9", resource=RESOURCE))
    with serve(upstream, security) as server:
        response = ping(server.url, bearer("a.b.c"))
        assert response.status_code in (401, 503)  # a malformed token is refused before any fetch
        token = jwt.encode(
            {"iss": "x"}, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"
        )
        assert ping(server.url, bearer(token)).status_code == 503


def test_oauth2_introspection(upstream: RecordingUpstream, issuer: AuthorizationServer) -> None:
    now = int(time.time())
    issuer.active["opaque-good"] = {"active": True, "aud": RESOURCE, "scope": "mcp:tools", "exp": now + 300}
    issuer.active["opaque-scopeless"] = {"active": True, "aud": RESOURCE, "scope": "other", "exp": now + 300}
    issuer.active["opaque-elsewhere"] = {"active": True, "aud": "https://other", "scope": "mcp:tools"}
    with serve(upstream, oauth(issuer, token_validation="introspection")) as server:
        assert ping(server.url, bearer("opaque-good")).status_code == 200
        assert ping(server.url, bearer("opaque-scopeless")).status_code == 403
        assert ping(server.url, bearer("opaque-elsewhere")).status_code == 401
        assert ping(server.url, bearer("opaque-unknown")).status_code == 401


@pytest.mark.anyio
async def test_sdk_client_with_oauth2_token(upstream: RecordingUpstream, issuer: AuthorizationServer) -> None:
    from mcp.client.streamable_http import streamable_http_client

    with serve(upstream, oauth(issuer)) as server:
        async with httpx.AsyncClient(headers=bearer(issuer.token())) as http:
            for mode in ("legacy", "2026-07-28"):
                transport = streamable_http_client(server.url + "/mcp", http_client=http)
                async with Client(transport, mode=mode) as client:
                    listed = await client.list_tools()
                    assert len(listed.tools) == 3
                    called = await client.call_tool(
                        "get-inference-run-info", {"prompt_id": 1, "version_id": 2}
                    )
                    assert called.is_error is False
        assert upstream.last.headers["authorization"] == "Token seed-secret-123"
