"""``naftiko serve`` as a user runs it: a real process, real sockets, signals, its output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import ServerThread, free_port

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}

CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {{label: Slow echo, description: serve tests}}
binds:
  - namespace: env
    keys: {{ECHO_TOKEN: ECHO_TOKEN, CONTROL_TOKEN: CONTROL_TOKEN}}
capability:
  consumes:
    - type: http
      namespace: echo
      baseUri: {upstream}
      authentication: {{type: bearer, token: "{{{{env.ECHO_TOKEN}}}}"}}
      resources:
        - name: items
          path: /items/{{id}}
          operations:
            - {{name: get-item, method: GET}}
  exposes:
    - type: rest
      namespace: echo-rest
      port: {rest_port}
      resources:
        - path: /items/{{id}}
          operations:
            - {{method: GET, name: get-item, call: echo.get-item, with: {{id: echo-rest.id}}}}
    - type: mcp
      namespace: echo-mcp
      port: {mcp_port}
      tools:
        - {{name: get-item, description: Get an item, call: echo.get-item, with: {{id: tools.id}}}}
    - type: skill
      namespace: echo-skills
      port: {skill_port}
      skills:
        - name: items
          description: Items
          tools:
            - name: get-item
              description: Get an item
              from: {{sourceNamespace: echo-mcp, action: get-item}}
    - type: control
      port: {control_port}
      authentication: {{type: bearer, token: "{{{{CONTROL_TOKEN}}}}"}}
      management: {{info: true}}
"""


class SlowUpstream:
    """Answers ``/items/{id}`` after ``delay`` seconds and remembers what it was sent."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.seen: list[tuple[str, str | None]] = []

        async def item(request: Request) -> JSONResponse:
            self.seen.append((request.url.path, request.headers.get("authorization")))
            if self.delay:
                import asyncio

                await asyncio.sleep(self.delay)
            return JSONResponse({"id": request.path_params["id"], "name": "widget"})

        self.server = ServerThread(Starlette(routes=[Route("/items/{id}", item)]))


@pytest.fixture(scope="module")
def upstream() -> Iterator[SlowUpstream]:
    slow = SlowUpstream()
    slow.server.start()
    yield slow
    slow.server.stop()


def write_capability(tmp_path: Path, upstream: SlowUpstream, **ports: int) -> tuple[Path, dict[str, int]]:
    chosen = {
        name: ports.get(name) or free_port()
        for name in ("rest_port", "mcp_port", "skill_port", "control_port")
    }
    path = tmp_path / "echo.yaml"
    path.write_text(CAPABILITY.format(upstream=upstream.server.url, **chosen), encoding="utf-8")
    return path, chosen


def start(args: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "ECHO_TOKEN": "echo-secret",
        "CONTROL_TOKEN": "control-secret",
        **(env or {}),
    }
    return subprocess.Popen(
        [NAFTIKO, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )


def wait_ready(process: subprocess.Popen[str], ready: Path, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return json.loads(ready.read_text())
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError("serve did not become ready")


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    return process.returncode, err


def test_every_adapter_starts_answers_and_shuts_down_cleanly(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, ports = write_capability(tmp_path, upstream)
    ready = tmp_path / "ready.json"
    process = start([str(capability), "--ready-file", str(ready), "--log-format", "json"])
    try:
        listeners = {item["type"]: item for item in wait_ready(process, ready)["listeners"]}
        assert set(listeners) == {"rest", "mcp", "skill", "control"}
        assert listeners["rest"]["port"] == ports["rest_port"]

        rest = httpx.get(f"http://127.0.0.1:{ports['rest_port']}/items/42", timeout=10)
        assert rest.status_code == 200 and rest.json() == {"id": "42", "name": "widget"}
        assert upstream.seen[-1] == ("/items/42", "Bearer echo-secret")

        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get-item", "arguments": {"id": "7"}},
        }
        mcp = httpx.post(
            f"http://127.0.0.1:{ports['mcp_port']}/mcp", json=call, headers=MCP_HEADERS, timeout=10
        )
        assert mcp.json()["result"]["structuredContent"] == {"id": "7", "name": "widget"}

        skills = httpx.get(f"http://127.0.0.1:{ports['skill_port']}/skills", timeout=10).json()
        assert [s["name"] for s in skills["skills"]] == ["items"]

        control = f"http://127.0.0.1:{ports['control_port']}"
        assert (
            httpx.get(f"{control}/health/ready", timeout=10).status_code == 401
        )  # the control port is guarded
        auth = {"Authorization": "Bearer control-secret"}
        readiness = httpx.get(f"{control}/health/ready", headers=auth, timeout=10).json()
        assert readiness["status"] == "UP"
        assert {a["type"] for a in readiness["adapters"]} == {"rest", "mcp", "skill"}
        metrics = httpx.get(f"{control}/metrics", headers=auth, timeout=10).text
        assert (
            'naftiko_requests_total{adapter="rest:echo-rest",unit="echo-rest.get-item",status="200"} 1'
            in metrics
        )
        assert "naftiko_upstream_duration_seconds_count" in metrics
        status = httpx.get(f"{control}/status", headers=auth, timeout=10).json()
        assert status["capability"]["label"] == "Slow echo"
    finally:
        code, err = stop(process)
    assert code == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [
        line for line in lines if line["logger"] == "naftiko.access" and line.get("path") == "/items/42"
    ]
    assert access and access[0]["status"] == 200 and access[0]["unit"] == "echo-rest.get-item"
    assert access[0]["upstream_ms"] is not None
    assert "echo-secret" not in err and "control-secret" not in err


def test_startup_summary_names_every_adapter(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, ports = write_capability(tmp_path, upstream)
    ready = tmp_path / "ready.json"
    process = start([str(capability), "--ready-file", str(ready)])
    try:
        wait_ready(process, ready)
    finally:
        code, err = stop(process)
    assert code == 0
    assert "serving 1 capability" in err
    for kind, port, summary in (
        ("rest", ports["rest_port"], "1 route"),
        ("mcp", ports["mcp_port"], "1 tool"),
        ("skill", ports["skill_port"], "1 skill"),
    ):
        line = next(line for line in err.splitlines() if line.strip().startswith(kind))
        assert f":{port}" in line and summary in line


def test_in_flight_requests_finish_on_sigterm(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, ports = write_capability(tmp_path, upstream)
    ready = tmp_path / "ready.json"
    process = start([str(capability), "--ready-file", str(ready)])
    results: list[httpx.Response] = []
    try:
        wait_ready(process, ready)
        upstream.delay = 1.0
        worker = threading.Thread(
            target=lambda: results.append(
                httpx.get(f"http://127.0.0.1:{ports['rest_port']}/items/slow", timeout=10)
            )
        )
        worker.start()
        time.sleep(0.4)  # the request is now waiting on the upstream
        process.send_signal(signal.SIGTERM)
        worker.join(10)
    finally:
        upstream.delay = 0.0
        code, _ = stop(process)
    assert code == 0
    assert results and results[0].status_code == 200 and results[0].json()["id"] == "slow"


def test_a_busy_port_is_a_clear_error(tmp_path: Path, upstream: SlowUpstream) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        capability, _ = write_capability(tmp_path, upstream, mcp_port=busy)
        result = subprocess.run(
            [NAFTIKO, "serve", str(capability)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "ECHO_TOKEN": "x", "CONTROL_TOKEN": "y"},
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{busy} for mcp adapter 'echo-mcp'" in result.stderr
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_capabilities_on_one_port_is_a_located_error_naming_both_files(
    tmp_path: Path, upstream: SlowUpstream
) -> None:
    first, ports = write_capability(tmp_path, upstream)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    second, _ = write_capability(other_dir, upstream, rest_port=ports["rest_port"])
    result = subprocess.run(
        [NAFTIKO, "serve", str(first), str(second)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "ECHO_TOKEN": "x", "CONTROL_TOKEN": "y"},
    )
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if "already used" in line]
    assert line.startswith(f"{second}:") and ": error: " in line
    assert f"port {ports['rest_port']} is already used by the adapter at" in line
    assert f"({first}:" in line
    assert "Traceback" not in result.stderr


def test_a_missing_bind_value_is_named_without_a_traceback(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, _ = write_capability(tmp_path, upstream)
    env = {k: v for k, v in os.environ.items() if k not in ("ECHO_TOKEN", "CONTROL_TOKEN")}
    result = subprocess.run(
        [NAFTIKO, "serve", str(capability)], capture_output=True, text=True, timeout=30, env=env
    )
    assert result.returncode == 2
    assert "ECHO_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_stdio_adapters_are_reported_as_skipped(tmp_path: Path) -> None:
    path = tmp_path / "stdio.yaml"
    rest_port = free_port()
    path.write_text(
        f"""
naftiko: 1.0.0-alpha2
info: {{label: Mixed, description: stdio and rest}}
capability:
  exposes:
    - type: mcp
      namespace: local-tools
      transport: stdio
      tools:
        - name: hello
          description: Say hello
          outputParameters: [{{type: string, value: hello}}]
    - type: rest
      namespace: hello-rest
      port: {rest_port}
      resources:
        - path: /hello
          operations:
            - method: GET
              name: hello
              outputParameters: [{{type: string, value: hello}}]
""",
        encoding="utf-8",
    )
    ready = tmp_path / "ready.json"
    process = start([str(path), "--ready-file", str(ready)])
    try:
        document = wait_ready(process, ready)
        assert document["skipped"][0]["namespace"] == "local-tools"
        assert httpx.get(f"http://127.0.0.1:{rest_port}/hello", timeout=10).json() == "hello"
    finally:
        code, err = stop(process)
    assert code == 0
    assert "skipped: transport stdio: run `naftiko serve --stdio" in err


def test_any_port_serves_the_same_file_twice(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, _ = write_capability(tmp_path, upstream)
    ready = tmp_path / "ready.json"
    process = start([str(capability), "--any-port", "--ready-file", str(ready)])
    try:
        listeners = wait_ready(process, ready)["listeners"]
        rest = next(item for item in listeners if item["type"] == "rest")
        assert httpx.get(f"{rest['url']}/items/9", timeout=10).json()["id"] == "9"
    finally:
        code, _ = stop(process)
    assert code == 0


def test_workers_share_the_listening_sockets(tmp_path: Path, upstream: SlowUpstream) -> None:
    capability, ports = write_capability(tmp_path, upstream)
    ready = tmp_path / "ready.json"
    process = start([str(capability), "--workers", "2", "--ready-file", str(ready)])
    try:
        wait_ready(process, ready)
        with httpx.Client(timeout=10) as client:  # one connection at a time: the kernel spreads them
            answers = [
                client.get(
                    f"http://127.0.0.1:{ports['rest_port']}/items/{i}", headers={"Connection": "close"}
                )
                for i in range(20)
            ]
        assert all(answer.status_code == 200 for answer in answers)
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 2
    finally:
        code, _ = stop(process)
    assert code == 0


def test_a_large_forwarded_answer_arrives_whole(tmp_path: Path) -> None:
    """Through the real server stack (coalesced writes, streaming forward): 3 MiB, byte for byte."""
    payload = bytes(range(256)) * (3 * 4096)

    async def blob(_: Request) -> Response:
        return Response(payload, media_type="application/octet-stream")

    origin = ServerThread(Starlette(routes=[Route("/files/{name}", blob)]))
    origin.start()
    try:
        rest_port = free_port()
        path = tmp_path / "forward.yaml"
        path.write_text(
            f"""
naftiko: 1.0.0-alpha2
info: {{label: Files, description: forward}}
capability:
  consumes:
    - type: http
      namespace: files
      baseUri: "{origin.url}"
      resources: [{{name: any, path: /, operations: [{{name: any}}]}}]
  exposes:
    - type: rest
      namespace: files-rest
      port: {rest_port}
      resources:
        - path: /files/{{path}}
          forward: {{targetNamespace: files, trustedHeaders: [Accept]}}
""",
            encoding="utf-8",
        )
        ready = tmp_path / "ready.json"
        process = start([str(path), "--ready-file", str(ready)])
        try:
            wait_ready(process, ready)
            answer = httpx.get(f"http://127.0.0.1:{rest_port}/files/files/big.bin", timeout=30)
        finally:
            code, _ = stop(process)
    finally:
        origin.stop()
    assert code == 0
    assert answer.status_code == 200
    assert answer.content == payload
