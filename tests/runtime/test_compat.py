"""The private uvicorn and aiohttp internals we use (runtime/uvicorn_compat.py,
consumes/aiohttp_compat.py) are still there: an upgrade that removes one fails here, by name,
rather than in a drain or a retry count."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import httpx
import uvicorn

from naftiko_runtime.consumes.aiohttp_compat import without_hidden_retry
from naftiko_runtime.runtime.uvicorn_compat import (
    PARSER_EVENTS,
    PROTOCOL_STATE,
    READING_BODY,
    READING_HEADERS,
    WatchedConnection,
    httptools_protocol,
    in_flight,
    listening,
    serve_on,
    watched_protocol,
)


def test_uvicorn_serves_on_bound_sockets_and_shows_its_listeners_and_requests() -> None:
    async def scenario() -> tuple[int, int, int]:
        release = asyncio.Event()
        seen: list[int] = []

        async def app(scope, receive, send):  # a request that waits until the test has looked
            if scope["type"] != "http":
                return
            await release.wait()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
        task = asyncio.create_task(serve_on(server, [sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        accepting = len(listening(server))
        async with httpx.AsyncClient() as client:
            request = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/"))
            while not in_flight(server):
                await asyncio.sleep(0.01)
            seen.append(len(in_flight(server)))
            release.set()
            status = (await request).status_code
        server.should_exit = True
        await task
        return accepting, seen[0], status

    assert asyncio.run(asyncio.wait_for(scenario(), 20)) == (1, 1, 204)


def test_uvicorn_has_its_httptools_protocol() -> None:
    protocol = httptools_protocol()
    assert protocol is not None and hasattr(protocol, "connection_made")


def test_uvicorn_httptools_protocol_has_every_method_connection_hygiene_overrides() -> None:
    protocol = httptools_protocol()
    assert protocol is not None
    for name in PARSER_EVENTS:
        assert callable(getattr(protocol, name, None)), f"uvicorn dropped HttpToolsProtocol.{name}"


class _Watcher:
    """A :class:`~naftiko_runtime.runtime.uvicorn_compat.ConnectionWatcher` that keeps what it is told."""

    def __init__(self) -> None:
        self.admitted: list[WatchedConnection] = []
        self.released: list[WatchedConnection] = []

    def admit(self, connection: WatchedConnection) -> bool:
        self.admitted.append(connection)
        return True

    def release(self, connection: WatchedConnection) -> None:
        self.released.append(connection)


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_a_watched_connection_follows_its_request_and_answers_only_before_a_response() -> None:
    """Through a real uvicorn server: each private hook is called (the phase and its time move as
    the request arrives), the protocol's transport and cycle are there, and a connection whose
    response has started is closed without the answer (it would corrupt the response)."""

    async def scenario() -> None:
        watcher = _Watcher()
        in_app: list[int] = []
        release = asyncio.Event()

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            while (await receive()).get("more_body"):
                pass
            in_app.append(watcher.admitted[0].naftiko_phase)
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"8")]})
            await send({"type": "http.response.body", "body": b"0123", "more_body": True})
            await release.wait()

        base = httptools_protocol()
        assert base is not None
        config = uvicorn.Config(app, http=watched_protocol(base, watcher), lifespan="off", log_config=None)
        server = uvicorn.Server(config)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        task = asyncio.create_task(serve_on(server, [sock]))
        await _until(lambda: server.started, "the server started")

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _until(lambda: len(watcher.admitted) == 1, "the connection was admitted")
        connection = watcher.admitted[0]
        for name in PROTOCOL_STATE:
            assert hasattr(connection, name), f"uvicorn dropped HttpToolsProtocol().{name}"
        assert connection.naftiko_phase == READING_HEADERS
        opened = connection.naftiko_since

        await asyncio.sleep(0.02)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\n")  # on_message_begin
        await _until(lambda: connection.naftiko_since > opened, "the request's first byte was stamped")
        assert connection.naftiko_phase == READING_HEADERS

        writer.write(b"Content-Length: 8\r\n\r\nabcd")  # on_headers_complete, on_body
        await _until(lambda: connection.naftiko_phase == READING_BODY, "the headers were complete")
        headers_done = connection.naftiko_since

        await asyncio.sleep(0.02)
        writer.write(b"efgh")  # on_body, on_message_complete
        head = await asyncio.wait_for(reader.readuntil(b"0123"), 10)
        assert head.startswith(b"HTTP/1.1 200")
        assert in_app == [0]  # the whole request was read: no deadline while the app works
        assert connection.naftiko_since > headers_done
        assert hasattr(connection.cycle, "response_started"), (
            "uvicorn dropped RequestResponseCycle.response_started"
        )

        connection.naftiko_answer_and_close(b"NOT AN ANSWER")
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, nothing written after
        await _until(lambda: connection in watcher.released, "the closed connection was released")
        release.set()
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _until(lambda: len(watcher.admitted) == 2, "the second connection was admitted")
        watcher.admitted[1].naftiko_answer_and_close(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n")
        assert await asyncio.wait_for(reader.read(), 10) == b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n"
        writer.close()

        server.should_exit = True
        await task

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_aiohttp_session_has_the_hidden_retry_switch() -> None:
    async def scenario() -> bool:
        async with aiohttp.ClientSession() as session:
            assert hasattr(session, "_retry_connection"), "aiohttp dropped ClientSession._retry_connection"
            without_hidden_retry(session)
            return session._retry_connection

    assert asyncio.run(scenario()) is False
