"""The pooled HTTP client: retries only what is safe to retry, timeouts, errors without secrets.

A counting server accepts each connection, reads one request, counts it and hangs up without an
answer, so "how many times was this request attempted?" has an exact answer.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator
from types import TracebackType

import pytest

from naftiko_runtime.consumes.transport import HttpClient, TransportSettings
from naftiko_runtime.errors import UpstreamTimeout, UpstreamUnavailable
from tests.engine.helpers import doc, failure
from tests.support.fixtures import upstream, upstream_server
from tests.support.servers import free_port
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

SETTINGS = TransportSettings(connect_timeout=1.0, read_timeout=1.0, retries=2, retry_backoff=0.01)


class DroppingServer:
    """Reads one request per connection, counts it, then closes (``reset=True``: with an RST)."""

    def __init__(self, *, reset: bool = False) -> None:
        self.reset = reset
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2.0)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                if data:
                    with self._lock:
                        self.requests.append(data.split(b"\r\n", 1)[0])
                if self.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def __enter__(self) -> DroppingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


@pytest.fixture
def dropping() -> Iterator[DroppingServer]:
    with DroppingServer() as server:
        yield server


def send(url: str, method: str, body: bytes | None = None, settings: TransportSettings = SETTINGS) -> None:
    async def go() -> None:
        client = HttpClient("up", settings)
        try:
            await client.send("up.op", method, url, {"Content-Type": "application/json"}, body)
        finally:
            await client.aclose()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("method", "attempts"), [("GET", 3), ("PUT", 3), ("DELETE", 3), ("POST", 1), ("PATCH", 1)]
)
def test_only_idempotent_methods_are_retried_on_a_dropped_connection(
    dropping: DroppingServer, method: str, attempts: int
) -> None:
    with pytest.raises(UpstreamUnavailable) as caught:
        send(dropping.url + "/things", method, b"{}" if method != "GET" else None)
    assert dropping.count == attempts
    assert {line.split(b" ")[0] for line in dropping.requests} == {method.encode()}
    assert caught.value.operation == "up.op"
    assert "up.op" in str(caught.value)


def test_a_connection_reset_is_retried_for_get_only() -> None:
    with DroppingServer(reset=True) as server:
        with pytest.raises(UpstreamUnavailable):
            send(server.url + "/things", "GET")
        assert server.count == 3
        with pytest.raises(UpstreamUnavailable):
            send(server.url + "/things", "POST", b"{}")
        assert server.count == 4


def test_retries_zero_means_one_attempt(dropping: DroppingServer) -> None:
    settings = TransportSettings(connect_timeout=1.0, read_timeout=1.0, retries=0)
    with pytest.raises(UpstreamUnavailable):
        send(dropping.url, "GET", settings=settings)
    assert dropping.count == 1


def test_refused_connection_is_retried_with_backoff_then_reported() -> None:
    port = free_port()
    settings = TransportSettings(connect_timeout=1.0, read_timeout=1.0, retries=2, retry_backoff=0.05)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        send(f"http://127.0.0.1:{port}/x", "GET", settings=settings)
    elapsed = time.monotonic() - started
    assert 0.14 <= elapsed < 1.0  # 0.05 + 0.10 of backoff between three attempts
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_post_to_a_dead_port_through_a_unit_is_attempted_once(dropping: DroppingServer) -> None:
    text = doc(
        """
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            resources:
            - name: runs
              path: /runs
              operations:
              - name: create
                method: POST
                body: {type: json, data: {a: 1}}
              - name: list
        """
    )
    failure(UpstreamUnavailable, text, dropping.url, "up.create")
    assert dropping.count == 1
    failure(UpstreamUnavailable, text, dropping.url, "up.list")
    assert dropping.count == 1 + 3


def test_read_timeout_is_not_retried(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/slow", json={}, delay=1.0)
    settings = TransportSettings(connect_timeout=1.0, read_timeout=0.2, retries=2)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        send(upstream.url + "/slow", "GET", settings=settings)
    assert time.monotonic() - started < 0.8
    assert caught.value.phase == "read"
    assert len(upstream.requests) == 1


def test_time_left_bounds_a_request(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/slow", json={}, delay=1.0)

    async def go() -> None:
        client = HttpClient("up", SETTINGS)
        try:
            await client.send("up.op", "GET", upstream.url + "/slow", {}, time_left=0.2)
        finally:
            await client.aclose()

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        asyncio.run(go())
    assert time.monotonic() - started < 0.8


def test_connections_are_reused(upstream: RecordingUpstream) -> None:
    async def go() -> None:
        client = HttpClient("up", SETTINGS)
        try:
            for _ in range(5):
                await client.send("up.op", "GET", upstream.url + "/ping", {})
        finally:
            await client.aclose()

    asyncio.run(go())
    assert len({r.client for r in upstream.requests}) == 1  # one keep-alive connection


def test_upstream_cookies_do_not_travel_between_callers(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/login", json={}, headers={"Set-Cookie": "session=abc; Path=/"})

    async def go() -> None:
        client = HttpClient("up", SETTINGS)
        try:
            await client.send("up.op", "GET", upstream.url + "/login", {})
            await client.send("up.op", "GET", upstream.url + "/next", {})
        finally:
            await client.aclose()

    asyncio.run(go())
    assert "cookie" not in upstream.last.headers


def test_deadlines_of_concurrent_requests_fire_each_in_time(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/slow", json={}, delay=1.0)
    upstream.route("GET", "/fast", json={"ok": True})

    async def go() -> list[object]:
        client = HttpClient("up", SETTINGS)

        async def one(path: str, time_left: float) -> object:
            started = time.monotonic()
            try:
                await client.send("up.op", "GET", upstream.url + path, {}, time_left=time_left)
            except UpstreamTimeout as exc:
                return (exc.phase, time.monotonic() - started)
            return "ok"

        try:
            # a long deadline armed first, then a shorter one: the watchdog must move its timer
            return await asyncio.gather(one("/slow", 0.7), one("/slow", 0.2), one("/fast", 0.5))
        finally:
            await client.aclose()

    long, short, fast = asyncio.run(go())
    assert isinstance(short, tuple) and isinstance(long, tuple)
    assert short[0] == long[0] == "deadline"
    assert 0.18 <= short[1] < 0.5
    assert 0.68 <= long[1] < 0.95  # before the upstream's answer at 1 s
    assert fast == "ok"


def test_a_caller_cancelling_a_request_is_not_a_timeout(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/slow", json={}, delay=1.0)

    async def go() -> None:
        client = HttpClient("up", SETTINGS)
        try:
            task = asyncio.create_task(client.send("up.op", "GET", upstream.url + "/slow", {}, time_left=5.0))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the client still works, and its deadline bookkeeping holds nothing stale
            upstream.route("GET", "/slow", json={"again": True})
            reply = await client.send("up.op", "GET", upstream.url + "/slow", {}, time_left=1.0)
            assert reply.status == 200
        finally:
            await client.aclose()

    asyncio.run(go())
