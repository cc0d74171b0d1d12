"""A REST adapter as an OAuth 2.1 resource server (``authentication: {type: oauth2}``).

An authorization server runs on a loopback port (metadata + JWKS, RS256 key, PyJWT tokens); the
adapter discovers it, checks each bearer JWT's signature, issuer, audience, expiry and scopes, and
only then calls the upstream. The checks are the MCP adapter's (one shared resource server).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from naftiko_runtime.errors import AdapterConfigError
from tests.support.oauth import AuthorizationServer, other_key
from tests.support.servers import free_port
from tests.support.upstream import RecordingUpstream

from .conftest import RestServer, serve_rest

RESOURCE = "https://api.example.com/v1"
METADATA_URL = "https://api.example.com/.well-known/oauth-protected-resource/v1"
SCOPE = "orders:read"

CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {label: REST OAuth 2 test}
capability:
  consumes:
    - type: http
      namespace: orders
      baseUri: UPSTREAM
      resources:
        - name: orders
          path: /orders/{id}
          operations:
            - {name: get-order, method: GET}
  exposes:
    - type: rest
      namespace: orders-api
      port: 8101
      authentication:
        type: oauth2
        authorizationServerUri: ISSUER
        resource: https://api.example.com/v1
        scopes: [orders:read]
      resources: &resources
        - path: /orders/{id}
          operations:
            - {method: GET, name: get-order, call: orders.get-order, with: {id: orders-api.id}}
    - type: rest
      namespace: audience-api
      port: 8102
      authentication:
        type: oauth2
        authorizationServerUri: ISSUER
        resource: https://api.example.com/v2
        audience: api://orders
      resources: *resources
    - type: rest
      namespace: unreachable-api
      port: 8103
      authentication: {type: oauth2, authorizationServerUri: "http://127.0.0.1:CLOSED", resource: "RESOURCE"}
      resources: *resources
    - type: rest
      namespace: misconfigured-api
      port: 8104
      authentication: {type: oauth2, authorizationServerUri: ISSUER, audience: api://orders}
      resources: *resources
"""
ORDERS, AUDIENCE, UNREACHABLE, MISCONFIGURED = range(4)


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthorizationServer]:
    with AuthorizationServer(audience=RESOURCE, scope=SCOPE) as authorization_server:
        yield authorization_server


@pytest.fixture(scope="module")
def capability(
    tmp_path_factory: pytest.TempPathFactory, issuer: AuthorizationServer, upstream_server: RecordingUpstream
) -> Path:
    text = (
        CAPABILITY.replace("UPSTREAM", upstream_server.url)
        .replace("ISSUER", issuer.issuer)
        .replace("CLOSED", str(free_port()))
        .replace('"RESOURCE"', RESOURCE)
    )
    path = tmp_path_factory.mktemp("oauth2") / "oauth2.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def servers(capability: Path) -> Iterator[dict[int, RestServer]]:
    with contextlib.ExitStack() as stack:
        yield {index: stack.enter_context(serve_rest(capability, expose=index)) for index in range(3)}


@pytest.fixture
def api(servers: dict[int, RestServer], upstream: RecordingUpstream) -> Iterator[httpx.Client]:
    upstream.route("GET", "/orders/{id}", json={"id": 7, "state": "shipped"})
    with servers[ORDERS].client() as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_challenged(answer: httpx.Response, status: int, error: str | None) -> str:
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{METADATA_URL}"' in challenge
    assert f'scope="{SCOPE}"' in challenge
    if error is None:
        assert "error=" not in challenge  # RFC 6750 §3.1: no error code without credentials
    else:
        assert f'error="{error}"' in challenge
        assert answer.json()["error"] == error
    return challenge


def test_no_token_is_401_with_resource_metadata(api: httpx.Client, upstream: RecordingUpstream) -> None:
    assert_challenged(api.get("/orders/7"), 401, None)
    assert_challenged(api.get("/orders/7", headers={"Authorization": "Basic YTpi"}), 401, None)
    assert_challenged(api.get("/nowhere"), 401, None)  # every path is guarded, unknown ones too
    assert_challenged(api.get("/openapi.json"), 401, None)
    assert upstream.requests == []


@pytest.mark.parametrize(
    "case",
    ["expired", "not yet valid", "wrong audience", "wrong issuer", "no expiry", "foreign key", "garbage"],
)
def test_an_invalid_token_is_401(
    api: httpx.Client, upstream: RecordingUpstream, issuer: AuthorizationServer, case: str
) -> None:
    now = int(time.time())
    token = {
        "expired": lambda: issuer.token(exp=now - 3600),
        "not yet valid": lambda: issuer.token(nbf=now + 3600),
        "wrong audience": lambda: issuer.token(aud="https://api.example.com/v2"),
        "wrong issuer": lambda: issuer.token(iss="https://evil.example.com"),
        "no expiry": lambda: issuer.token(exp=None),
        "foreign key": lambda: issuer.token(key=other_key()),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    answer = api.get("/orders/7", headers=bearer(token))
    assert_challenged(answer, 401, "invalid_token")
    assert token not in answer.text
    assert upstream.requests == []


def test_the_refusal_says_why_without_echoing_claims(api: httpx.Client, issuer: AuthorizationServer) -> None:
    expired = api.get("/orders/7", headers=bearer(issuer.token(exp=int(time.time()) - 3600)))
    assert expired.json()["detail"] == "the access token has expired"
    elsewhere = api.get("/orders/7", headers=bearer(issuer.token(aud="https://api.example.com/v2")))
    assert elsewhere.json()["detail"] == "the access token was not issued for this resource"
    assert "api.example.com/v2" not in elsewhere.text
    forged = api.get("/orders/7", headers=bearer(issuer.token(iss="https://evil.example.com")))
    assert "evil" not in forged.text


def test_a_missing_scope_is_403_insufficient_scope(
    api: httpx.Client, upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    answer = api.get("/orders/7", headers=bearer(issuer.token(scope="profile orders:write")))
    assert_challenged(answer, 403, "insufficient_scope")
    assert answer.json()["title"] == "Forbidden"
    assert_challenged(
        api.get("/orders/7", headers=bearer(issuer.token(scope=None))), 403, "insufficient_scope"
    )
    assert upstream.requests == []


def test_a_valid_token_reaches_the_upstream(
    api: httpx.Client, upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    token = issuer.token()
    answer = api.get("/orders/7", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.json() == {"id": 7, "state": "shipped"}
    assert upstream.last.raw_path == "/orders/7"
    assert "authorization" not in upstream.last.headers  # the caller's token stays here
    # Other spellings the resource server accepts: scp as a list, aud as a list, more scopes.
    for valid in (
        issuer.token(scope=None, scp=[SCOPE, "other"]),
        issuer.token(aud=["https://elsewhere.example.com", RESOURCE]),
        issuer.token(scope=f"profile {SCOPE}"),
    ):
        assert api.get("/orders/8", headers={"authorization": f"bearer {valid}"}).status_code == 200
    assert len(upstream.requests) == 4


def test_metadata_is_served_without_credentials(api: httpx.Client, issuer: AuthorizationServer) -> None:
    expected = {
        "resource": RESOURCE,
        "authorization_servers": [issuer.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": [SCOPE],
    }
    for path in ("/.well-known/oauth-protected-resource/v1", "/.well-known/oauth-protected-resource"):
        answer = api.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.json() == expected
        head = api.head(path)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(answer.content)
    # Only GET and HEAD of exactly those paths are public.
    assert_challenged(api.post("/.well-known/oauth-protected-resource/v1"), 401, None)
    assert_challenged(api.get("/.well-known/oauth-protected-resource/v2"), 401, None)


def test_keys_are_fetched_once_and_tokens_remembered(
    capability: Path, upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    upstream.route("GET", "/orders/{id}", json={})
    before = len(issuer.hits)
    with serve_rest(capability, expose=ORDERS) as server, server.client() as client:  # a new server
        tokens = [issuer.token(sub=f"agent-{i}") for i in range(4)]
        for token in tokens * 2:
            assert client.get("/orders/1", headers=bearer(token)).status_code == 200
    assert issuer.hits[before:] == ["metadata", "jwks"]


def test_audience_overrides_resource(
    servers: dict[int, RestServer], upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    upstream.route("GET", "/orders/{id}", json={})
    with servers[AUDIENCE].client() as client:
        assert client.get("/orders/1", headers=bearer(issuer.token(aud="api://orders"))).status_code == 200
        refused = client.get("/orders/1", headers=bearer(issuer.token(aud="https://api.example.com/v2")))
        assert refused.status_code == 401
        # No scopes declared: none required, none advertised; the document names this resource.
        assert "scope=" not in refused.headers["www-authenticate"]
        document = client.get("/.well-known/oauth-protected-resource/v2").json()
        assert document["resource"] == "https://api.example.com/v2"
        assert "scopes_supported" not in document


def test_an_unreachable_authorization_server_is_503(
    servers: dict[int, RestServer], upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    with servers[UNREACHABLE].client() as client:
        answer = client.get("/orders/1", headers=bearer(issuer.token()))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" not in answer.headers  # not the caller's fault: nothing to retry with
    assert upstream.requests == []


def test_oauth2_without_resource_does_not_start(capability: Path, issuer: AuthorizationServer) -> None:
    # The one inbound-credential policy of every adapter: what cannot be enforced is not served.
    with (
        pytest.raises(
            AdapterConfigError, match=r"REST adapter misconfigured-api: authentication .*`resource`"
        ),
        serve_rest(capability, expose=MISCONFIGURED),
    ):
        pass


def test_the_authorization_server_client_is_closed_at_shutdown(
    capability: Path, upstream: RecordingUpstream, issuer: AuthorizationServer
) -> None:
    upstream.route("GET", "/orders/{id}", json={})
    with serve_rest(capability, expose=ORDERS) as server:
        resource_server = server.server.app.adapter.guard.server
        with server.client() as client:
            assert client.get("/orders/1", headers=bearer(issuer.token())).status_code == 200
        http = resource_server._client
        assert http is not None and not http.is_closed
    assert http.is_closed and resource_server._client is None


def test_openapi_describes_the_oauth2_scheme(api: httpx.Client, issuer: AuthorizationServer) -> None:
    assert_challenged(api.get("/openapi.json"), 401, None)
    document = api.get("/openapi.json", headers=bearer(issuer.token())).json()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "oauth2Auth": {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": issuer.issuer, "scopes": {SCOPE: ""}}},
            "description": "No `tokenEndpoint` is declared: tokenUrl is the authorization server.",
        }
    }
    assert document["security"] == [{"oauth2Auth": [SCOPE]}]
