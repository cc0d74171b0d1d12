"""The control adapter (health, status, metrics) as an OAuth 2.1 resource server: operators' tools
present a token from the same authorization server; the metadata document needs none."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httpx
import pytest

from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.oauth import AuthorizationServer
from tests.support.servers import ServerThread

RESOURCE = "https://ops.example.com"
CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {label: Control OAuth 2 test}
capability:
  exposes:
    - type: control
      port: 9391
      management: {health: true, info: true}
      authentication:
        type: oauth2
        authorizationServerUri: ISSUER
        resource: https://ops.example.com
        audience: naftiko-control
        scopes: [ops]
"""


@pytest.fixture(scope="module")
def issuer() -> Iterator[AuthorizationServer]:
    with AuthorizationServer(audience="naftiko-control", scope="ops") as authorization_server:
        yield authorization_server


@pytest.fixture
def control(tmp_path_factory: pytest.TempPathFactory, issuer: AuthorizationServer) -> Iterator[ServerThread]:
    path = tmp_path_factory.mktemp("control-oauth2") / "control.yaml"
    path.write_text(CAPABILITY.replace("ISSUER", issuer.issuer))
    runtime = Runtime.build(load(str(path)), RuntimeOptions(environ={}))
    server = ServerThread(runtime.asgi_app("control")).start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runtime.aclose(), server.loop).result(5)
        server.stop()


def test_control_with_oauth2(control: ServerThread, issuer: AuthorizationServer) -> None:
    with httpx.Client(base_url=control.url, timeout=10.0) as client:
        missing = client.get("/health/live")
        assert missing.status_code == 401
        challenge = missing.headers["www-authenticate"]
        assert 'resource_metadata="https://ops.example.com/.well-known/oauth-protected-resource"' in challenge
        assert client.get("/metrics").status_code == 401

        document = client.get("/.well-known/oauth-protected-resource")
        assert document.status_code == 200
        assert document.json()["resource"] == RESOURCE
        assert document.json()["authorization_servers"] == [issuer.issuer]

        wrong = client.get("/status", headers={"Authorization": f"Bearer {issuer.token(aud=RESOURCE)}"})
        assert wrong.status_code == 401  # `audience` is what tokens must name, not `resource`
        scopeless = client.get("/status", headers={"Authorization": f"Bearer {issuer.token(scope='x')}"})
        assert scopeless.status_code == 403
        assert 'error="insufficient_scope"' in scopeless.headers["www-authenticate"]

        token = {"Authorization": f"Bearer {issuer.token()}"}
        assert client.get("/health/live", headers=token).json() == {"status": "UP"}
        assert client.get("/status", headers=token).json()["engine"]["name"] == "naftiko-runtime"
        assert "naftiko_" in client.get("/metrics", headers=token).text
