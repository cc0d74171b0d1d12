"""Connection hygiene through ``naftiko serve``: slow headers and bodies time out with 408, and
connections beyond the process's cap are refused at once with 503, while others are served."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import LOOPBACK
from tests.support.upstream import RecordingUpstream

from .conftest import CAPABILITY, TOKEN

HEADER_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def ports(upstream_server: RecordingUpstream) -> Iterator[dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix="naftiko-conn-") as tmp:
        ready = Path(tmp) / "ready.json"
        script = Path(sys.executable).with_name("naftiko")
        argv = [str(script), "serve", str(CAPABILITY), "--any-port", "--ready-file", str(ready)]
        argv += ["--base-uri", f"up={upstream_server.url}", "--max-connections", "4"]
        argv += ["--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(HEADER_TIMEOUT)]
        log = Path(tmp) / "serve.log"
        env = {**os.environ, "UP_TOKEN": TOKEN}
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 20
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"naftiko serve did not start:\n{log.read_text()}")
                time.sleep(0.05)
            listeners = json.loads(ready.read_text())["listeners"]
            yield {item["type"]: item["port"] for item in listeners}
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.fixture(scope="module")
def rest_port(ports: dict[str, int]) -> int:
    return ports["rest"]


def test_serve_reports_each_consumed_namespace_in_readiness_and_metrics(ports: dict[str, int]) -> None:
    control = f"http://{LOOPBACK}:{ports['control']}"
    ready = httpx.get(control + "/health/ready").json()
    assert ready["status"] == "UP"
    assert ready["upstreams"] == [
        {
            "namespace": "up",
            "circuit": "closed",
            "consecutiveFailures": 0,
            "circuitOpened": 0,
            "shared": 0,
            "cacheHits": 0,
        }
    ]
    assert 'naftiko_upstream_circuit_state{namespace="up"} 0' in httpx.get(control + "/metrics").text


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection((LOOPBACK, port), timeout=5)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_connections_beyond_the_cap_are_refused_at_once(rest_port: int, upstream: RecordingUpstream) -> None:
    held = [_connect(rest_port) for _ in range(4)]
    try:
        time.sleep(0.2)
        extra = _connect(rest_port)
        started = time.monotonic()
        answer = _read_all(extra)
        extra.close()
        assert time.monotonic() - started < 1.0
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"retry-after: 1\r\n" in answer
        assert b"4 connections open, its limit" in answer
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    upstream.route("GET", "/items/{id}", json={"id": 1})
    assert httpx.get(f"http://{LOOPBACK}:{rest_port}/items/1").json() == {"id": 1}


def test_headers_sent_too_slowly_get_408_and_the_connection_closes(rest_port: int) -> None:
    sock = _connect(rest_port)
    sock.sendall(b"GET /items/1 HTTP/1.1\r\nHost: localhost\r\n")  # and never the end of the headers
    started = time.monotonic()
    answer = _read_all(sock)
    took = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"application/problem+json" in answer
    assert HEADER_TIMEOUT - 0.1 <= took < HEADER_TIMEOUT + 2


def test_an_idle_new_connection_is_closed_after_the_header_timeout(rest_port: int) -> None:
    sock = _connect(rest_port)
    started = time.monotonic()
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_a_stalled_body_gets_408(rest_port: int, upstream: RecordingUpstream) -> None:
    sock = _connect(rest_port)
    sock.sendall(
        b"POST /items HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n"
        b'content-length: 100\r\n\r\n{"na'
    )
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert upstream.requests == []
