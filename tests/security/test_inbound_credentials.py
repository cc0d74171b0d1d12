"""#15 item 3, #16 item 2: one inbound-credential pipeline and policy. An adapter credential that
renders empty (bearer token, API key, basic or digest user or password) stops that adapter from
starting, named, on every adapter alike; a guard built by embedding code refuses an empty credential
too; ``naftiko validate`` warns when a credential is not there at all (and, in
tests/cli/test_validate_credentials.py, when it would render empty where validation runs)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from naftiko_runtime.errors import AdapterConfigError
from naftiko_runtime.exposes.auth import ApiKeyGuard, BasicGuard, BearerGuard, DigestGuard
from naftiko_runtime.exposes.mcp import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    McpCatalog,
    McpSecurity,
    build_mcp_app,
)

from .conftest import run_naftiko, serve, write

API = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys: {{INBOUND_TOKEN: INBOUND_TOKEN, INBOUND_USER: INBOUND_USER}}
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: http://127.0.0.1:9
      resources:
        - {{name: ping, path: /ping, operations: [{{name: ping}}]}}
  exposes:
{expose}
"""

ADAPTERS = {
    "rest": "    - type: rest\n      namespace: guarded\n      port: 8080\n      authentication: {auth}\n"
    "      resources:\n"
    "        - {{path: /ping, operations: [{{method: GET, name: ping, call: api.ping}}]}}\n",
    "mcp": "    - type: mcp\n      namespace: guarded\n      port: 9090\n      authentication: {auth}\n"
    "      tools:\n        - {{name: ping, description: Ping, call: api.ping}}\n",
    "skill": "    - type: skill\n      namespace: guarded\n      port: 9091\n      authentication: {auth}\n"
    "      skills:\n"
    "        - {{name: s, description: S, tools: [{{name: t, description: T, instruction: t.md}}]}}\n",
    "control": "    - type: control\n      port: 9092\n      authentication: {auth}\n",
}
CREDENTIALS = {
    "token": '{type: bearer, token: "{{INBOUND_TOKEN}}"}',
    "value": '{type: apikey, key: X-API-Key, value: "{{INBOUND_TOKEN}}"}',
    "password": '{type: basic, username: "{{INBOUND_USER}}", password: "{{INBOUND_TOKEN}}"}',
}


def capability(tmp_path: Path, kind: str, auth: str) -> Path:
    expose = ADAPTERS[kind].format(auth=auth)
    return write(tmp_path, API.format(expose=expose))


@pytest.mark.parametrize("kind", list(ADAPTERS))
@pytest.mark.parametrize("field", list(CREDENTIALS))
def test_an_empty_credential_stops_the_adapter_from_starting(tmp_path: Path, kind: str, field: str) -> None:
    path = capability(tmp_path, kind, CREDENTIALS[field])
    done = run_naftiko("serve", str(path), "--any-port", env={"INBOUND_TOKEN": "", "INBOUND_USER": "ana"})
    assert done.returncode == 2, done.stderr
    name = "control" if kind == "control" else "guarded"
    kind_text = {"rest": "REST", "mcp": "MCP", "skill": "skill", "control": "control"}[kind]
    assert f"{kind_text} adapter {name}: authentication {field} renders empty" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_mcp_adapter_never_accepts_an_empty_bearer(tmp_path: Path) -> None:
    """The reported case: ``Authorization: Bearer `` let anyone in. Now nothing listens at all, and
    with a token the empty bearer is refused like any wrong one."""
    path = capability(tmp_path, "mcp", CREDENTIALS["token"])
    done = run_naftiko("serve", str(path), "--any-port", env={"INBOUND_TOKEN": "", "INBOUND_USER": "ana"})
    assert done.returncode == 2
    import httpx

    from .conftest import MCP_HEADERS

    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with serve(path, env={"INBOUND_TOKEN": "t0ken-6d2e", "INBOUND_USER": "ana"}) as served:
        url = served.url("guarded") + "/mcp"
        host, port = url.split("//")[1].split("/")[0].split(":")
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
        raw = (
            b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Accept: application/json\r\nAuthorization: Bearer \r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        with socket.create_connection((host, int(port)), timeout=20) as client:  # httpx refuses to send it
            client.sendall(raw)
            answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401")
        good = httpx.post(
            url, json=ping, headers={**MCP_HEADERS, "Authorization": "Bearer t0ken-6d2e"}, timeout=20
        )
        assert good.status_code == 200


def test_validate_warns_when_a_credential_is_missing(tmp_path: Path) -> None:
    path = capability(tmp_path, "rest", "{type: bearer}")
    done = run_naftiko("validate", str(path))
    assert done.returncode == 0
    assert (
        "warning: capability.exposes[0].authentication: bearer authentication has no `token`" in done.stdout
    )
    assert "the adapter will refuse to start" in done.stdout


def test_nothing_listens_for_a_refused_adapter(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = write(
        tmp_path,
        API.format(expose=ADAPTERS["rest"].replace("8080", str(port)).format(auth=CREDENTIALS["token"])),
    )
    done = run_naftiko("serve", str(path), env={"INBOUND_TOKEN": " ", "INBOUND_USER": "ana"})
    assert done.returncode == 2
    with socket.socket() as client:
        assert client.connect_ex(("127.0.0.1", port)) != 0


def test_an_empty_digest_credential_stops_a_rest_adapter_from_starting(tmp_path: Path) -> None:
    auth = '{type: digest, username: "{{INBOUND_USER}}", password: "{{INBOUND_TOKEN}}"}'
    path = capability(tmp_path, "rest", auth)
    done = run_naftiko("serve", str(path), "--any-port", env={"INBOUND_TOKEN": "t0ken", "INBOUND_USER": ""})
    assert done.returncode == 2, done.stderr
    assert "REST adapter guarded: authentication username renders empty" in done.stderr
    assert "Traceback" not in done.stderr


def test_digest_on_an_mcp_adapter_refuses_to_start_named(tmp_path: Path) -> None:
    auth = '{type: digest, username: "{{INBOUND_USER}}", password: "{{INBOUND_TOKEN}}"}'
    path = capability(tmp_path, "mcp", auth)
    done = run_naftiko(
        "serve", str(path), "--any-port", env={"INBOUND_TOKEN": "t0ken", "INBOUND_USER": "ana"}
    )
    assert done.returncode == 2, done.stderr
    assert "MCP adapter guarded: digest authentication is not supported on MCP adapters" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        (BearerAuth(""), "token"),
        (ApiKeyAuth("X-Key", "  "), "value"),
        (BasicAuth("ana", ""), "password"),
        (BasicAuth("", "pa55"), "username"),
    ],
)
def test_an_embedded_mcp_app_refuses_an_empty_credential(auth: object, field: str) -> None:
    """Embedding code hands the MCP adapter its credentials directly, past the spec; the guard the
    pipeline builds from them refuses an empty one, so ``Bearer `` can never be let in."""
    with pytest.raises(
        AdapterConfigError, match=f"authentication {field} is empty; the adapter cannot start"
    ):
        build_mcp_app(McpCatalog(server_name="embedded", server_version="1"), McpSecurity(auth=auth))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: BearerGuard(""),
        lambda: ApiKeyGuard("X-Key", "header", " "),
        lambda: BasicGuard("ana", ""),
        lambda: DigestGuard("", "pa55"),
    ],
)
def test_no_guard_can_be_built_with_an_empty_credential(build: object) -> None:
    with pytest.raises(AdapterConfigError, match="is empty; the adapter cannot start"):
        build()  # type: ignore[operator]
