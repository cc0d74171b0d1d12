"""One replica's drain, seen from the wire: what a load balancer and a client get while it stops.

Each test starts a real ``naftiko serve`` (settings through ``NAFTIKO_*`` variables, as a container
gets them), sends SIGTERM, and talks to it with raw sockets, httpx and the ``mcp`` client.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.support.servers import ServerThread, port_is_open, wait_for_port_closed

from .cluster import Replica, echo_upstream, write_capability

MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    with echo_upstream() as server:
        yield server


@pytest.fixture
def replica_factory(tmp_path: Path, upstream: ServerThread) -> Iterator[object]:
    capability = write_capability(tmp_path, upstream.url)
    started: list[Replica] = []

    def start(**env: str) -> Replica:
        replica = Replica(f"r{len(started)}", capability, tmp_path, env).start()
        started.append(replica)
        return replica.wait_ready()

    yield start
    for replica in started:
        replica.kill()


def http_request(sock: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 GET on an open (kept-alive) connection, read to the end of its body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed with no answer (got {data!r})")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_readiness_turns_503_while_the_replica_still_accepts(replica_factory) -> None:
    replica = replica_factory(NAFTIKO_DRAIN_DELAY="1.5")
    rest = f"http://{replica.address('rest')}"
    assert httpx.get(f"{rest}/items/1", timeout=5).headers.get("connection") != "close"
    replica.terminate()
    deadline = time.monotonic() + 5
    while replica.readiness() != 503:
        assert time.monotonic() < deadline, "readiness never turned 503"
        time.sleep(0.01)
    unready_at = time.monotonic()
    ready = httpx.get(f"http://{replica.address('control')}/health/ready", timeout=5)
    assert ready.status_code == 503
    assert {a["state"] for a in ready.json()["adapters"]} == {"draining"}
    # Still accepting new connections, and answering; each answer closes its connection.
    answer = httpx.get(f"{rest}/items/2", timeout=5)
    assert (answer.status_code, answer.json()["id"]) == (200, "2")
    assert answer.headers["connection"] == "close"
    assert httpx.get(f"http://{replica.address('control')}/health/live", timeout=5).status_code == 200
    wait_for_port_closed("127.0.0.1", replica.ports["rest"], timeout=10)
    assert time.monotonic() - unready_at > 1.0  # the delay was kept
    assert replica.wait(15) == 0


def test_a_request_on_a_kept_alive_connection_during_the_drain_is_answered(replica_factory) -> None:
    """A proxy writes a request on its pooled connection just as the replica stops: answered, not reset."""
    replica = replica_factory(NAFTIKO_SHUTDOWN_TIMEOUT="10")
    host, port = "127.0.0.1", replica.ports["rest"]
    kept = socket.create_connection((host, port), timeout=10)
    slow = socket.create_connection((host, port), timeout=10)
    try:
        status, headers, _ = http_request(kept, "/items/before")
        assert status == 200 and headers.get("connection") != "close"
        slow.sendall(b"GET /slow/1500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # keeps the drain going
        time.sleep(0.3)
        replica.terminate()
        wait_for_port_closed(host, port, timeout=5)  # no longer accepting
        status, headers, body = http_request(kept, "/items/during")
        assert status == 200 and json.loads(body)["id"] == "during"
        assert headers["connection"] == "close"
        assert kept.recv(1) == b""  # then the replica closes it
        status, _, body = read_response(slow)
        assert status == 200 and json.loads(body) == {"waited_ms": 1500}
    finally:
        kept.close()
        slow.close()
    assert replica.wait(15) == 0


def test_requests_cut_off_by_the_shutdown_timeout_get_their_adapters_error(replica_factory) -> None:
    replica = replica_factory(NAFTIKO_SHUTDOWN_TIMEOUT="0.5")
    answers: dict[str, httpx.Response] = {}

    def call(name: str, method: str, url: str, **kwargs: object) -> None:
        answers[name] = httpx.request(method, url, timeout=15, **kwargs)  # type: ignore[arg-type]

    calls = [
        threading.Thread(target=call, args=("rest", "GET", f"http://{replica.address('rest')}/slow/5000")),
        threading.Thread(
            target=call,
            args=("mcp", "POST", f"http://{replica.address('mcp')}/mcp"),
            kwargs={
                "headers": MCP_HEADERS,
                "json": {
                    "jsonrpc": "2.0",
                    "id": 42,
                    "method": "tools/call",
                    "params": {"name": "wait", "arguments": {"ms": 5000}},
                },
            },
        ),
    ]
    for thread in calls:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    replica.terminate()
    for thread in calls:
        thread.join(15)
    assert time.monotonic() - started < 4

    rest = answers["rest"]
    assert rest.status_code == 503
    assert rest.headers["content-type"] == "application/problem+json"
    problem = rest.json()
    assert problem["status"] == 503 and problem["type"] == "urn:naftiko:problem:shutdown"
    assert problem["operation"] == "echo-rest.wait"
    assert "shutdown timeout 0.5 s" in problem["detail"]

    mcp = answers["mcp"]
    assert mcp.status_code == 503 and mcp.headers["content-type"] == "application/json"
    reply = mcp.json()
    assert reply["id"] == 42 and reply["error"]["code"] == -32603
    assert "shut down before this request finished" in reply["error"]["message"]
    assert replica.wait(15) == 0
    assert "Traceback" not in replica.log()


def test_the_mcp_client_sees_a_json_rpc_error_for_a_call_cut_off(replica_factory) -> None:
    replica = replica_factory(NAFTIKO_SHUTDOWN_TIMEOUT="0.3")

    async def scenario() -> BaseException | None:
        async with Client(f"http://{replica.address('mcp')}/mcp", mode="2026-07-28") as client:
            assert (await client.list_tools()).tools
            call = asyncio.create_task(client.call_tool("wait", {"ms": 5000}))
            await asyncio.sleep(0.4)
            replica.terminate()
            try:
                await asyncio.wait_for(call, 10)
            except MCPError as exc:
                return exc
            return None

    error = asyncio.run(scenario())
    assert isinstance(error, MCPError), error
    assert "shut down before this request finished" in str(error)
    assert replica.wait(15) == 0


def test_a_second_signal_cuts_the_drain_short(replica_factory) -> None:
    replica = replica_factory(NAFTIKO_DRAIN_DELAY="30", NAFTIKO_SHUTDOWN_TIMEOUT="30")
    result: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: result.append(httpx.get(f"http://{replica.address('rest')}/slow/20000", timeout=30))
    )
    worker.start()
    time.sleep(0.4)
    replica.terminate()
    time.sleep(0.3)
    assert port_is_open("127.0.0.1", replica.ports["rest"])  # within the 30 s delay
    started = time.monotonic()
    replica.terminate()
    worker.join(10)
    assert replica.wait(10) == 0
    assert time.monotonic() - started < 5
    assert result and result[0].status_code == 503
