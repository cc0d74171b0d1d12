"""The private uvicorn and aiohttp internals we use (runtime/uvicorn_compat.py,
consumes/aiohttp_compat.py) are still there: an upgrade that removes one fails here, by name,
rather than in a drain or a retry count."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import httpx
import uvicorn

from naftiko_runtime.consumes.aiohttp_compat import without_hidden_retry
from naftiko_runtime.runtime.uvicorn_compat import httptools_protocol, in_flight, listening, serve_on


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


def test_aiohttp_session_has_the_hidden_retry_switch() -> None:
    async def scenario() -> bool:
        async with aiohttp.ClientSession() as session:
            assert hasattr(session, "_retry_connection"), "aiohttp dropped ClientSession._retry_connection"
            without_hidden_retry(session)
            return session._retry_connection

    assert asyncio.run(scenario()) is False
