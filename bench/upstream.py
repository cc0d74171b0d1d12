"""A fast stand-in for Label Studio's inference-runs list route, for benchmarks only.

It answers ``GET /api/prompts/{prompt_id}/versions/{version_id}/inference-runs`` with a small
fixed JSON array of ModelRun objects, so a benchmark measures the server under test and not
the upstream. Requests without an ``Authorization`` header get Label Studio's 401, which lets a
smoke test prove that a proxy really forwards the credential. Anything else is 404 (or 405).

Two implementations answer byte-for-byte the same, chosen with ``--impl``:

* ``raw`` (default): an asyncio ``Protocol`` on uvloop that parses HTTP/1.1 with httptools and
  writes a prebuilt response. It does almost no work per request, so it stays far from being
  the bottleneck (see bench/README.md for the figures that chose it).
* ``asgi``: a minimal raw ASGI app served by uvicorn with httptools and uvloop; kept as the
  obviously-correct reference the raw server is checked against.

``--delay-ms N`` holds every response for N milliseconds without blocking the loop, to stand
in for a slow upstream (the orchestration bench uses it).

Usage: ``python bench/upstream.py --port 18080 [--delay-ms 50] [--impl raw|asgi]``
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import signal
from collections.abc import Awaitable, Callable
from typing import Any, cast

#: Three ModelRun objects as Label Studio returns them (fields of its ModelRun serializer).
MODEL_RUNS: list[dict[str, Any]] = [
    {
        "id": run_id,
        "parent_model": 1,
        "project": 1,
        "created_by": 1,
        "organization": 1,
        "project_subset": subset,
        "status": status,
        "job_id": f"job-{run_id:04d}",
        "total_predictions": predictions,
        "total_correct_predictions": correct,
        "total_tasks": 100,
        "created_at": "2026-05-19T10:00:00.000000Z",
        "triggered_at": "2026-05-19T10:00:01.000000Z",
        "predictions_updated_at": "2026-05-19T10:05:00.000000Z",
        "completed_at": completed,
    }
    for run_id, subset, status, predictions, correct, completed in (
        (1, "All", "Completed", 100, 87, "2026-05-19T10:05:00.000000Z"),
        (2, "HasGT", "Completed", 40, 35, "2026-05-19T11:05:00.000000Z"),
        (3, "Sample", "InProgress", 12, 0, None),
    )
]

BODY: bytes = json.dumps(MODEL_RUNS, separators=(",", ":")).encode()
UNAUTHORIZED_BODY: bytes = b'{"detail":"Authentication credentials were not provided."}'
NOT_FOUND_BODY: bytes = b'{"detail":"Not found."}'
METHOD_NOT_ALLOWED_BODY: bytes = b'{"detail":"Method not allowed."}'

ROUTE = re.compile(rb"^/api/prompts/[^/]+/versions/[^/]+/inference-runs/?$")


def route(method: bytes, path: bytes, has_auth: bool) -> tuple[int, bytes]:
    """Decide status and body for one request; shared by both implementations."""
    if not ROUTE.match(path):
        return 404, NOT_FOUND_BODY
    if method != b"GET":
        return 405, METHOD_NOT_ALLOWED_BODY
    if not has_auth:
        return 401, UNAUTHORIZED_BODY
    return 200, BODY


REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 405: b"Method Not Allowed"}


def _raw_response(status: int, body: bytes, keep_alive: bool) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
        status,
        REASONS[status],
        len(body),
    )
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


# Prebuilt responses: the raw server only picks one per request.
RAW_RESPONSES: dict[tuple[int, bool], bytes] = {}
for _status, _body in (
    (200, BODY),
    (401, UNAUTHORIZED_BODY),
    (404, NOT_FOUND_BODY),
    (405, METHOD_NOT_ALLOWED_BODY),
):
    for _keep in (True, False):
        RAW_RESPONSES[(_status, _keep)] = _raw_response(_status, _body, _keep)


class RawUpstream(asyncio.Protocol):
    """One HTTP/1.1 connection, parsed with httptools; responses keep request order."""

    def __init__(self, delay_s: float) -> None:
        import httptools

        self._delay_s = delay_s
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._has_auth = False
        self._pending: collections.deque[tuple[bytes, bool]] = collections.deque()
        self._loop = asyncio.get_running_loop()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        import httptools

        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.write(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                self._transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._has_auth = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"authorization":
            self._has_auth = True

    def on_message_complete(self) -> None:
        path = self._url.split(b"?", 1)[0]
        status, _ = route(self._parser.get_method(), path, self._has_auth)
        keep_alive = self._parser.should_keep_alive()
        self._pending.append((RAW_RESPONSES[(status, keep_alive)], keep_alive))
        if self._delay_s > 0:
            self._loop.call_later(self._delay_s, self._flush_one)
        else:
            self._flush_one()

    def _flush_one(self) -> None:
        # Every delay is the same, so when a timer fires the oldest pending response is due.
        response, keep_alive = self._pending.popleft()
        if self._transport is None:
            return
        self._transport.write(response)
        if not keep_alive:
            self._transport.close()


async def serve_raw(host: str, port: int, delay_s: float) -> None:
    """Serve the raw-protocol upstream until SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: RawUpstream(delay_s), host, port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def make_asgi_app(delay_s: float) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A raw ASGI app (no framework) giving the same answers as the raw server."""
    headers = {
        status: [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        for status, body in (
            (200, BODY),
            (401, UNAUTHORIZED_BODY),
            (404, NOT_FOUND_BODY),
            (405, METHOD_NOT_ALLOWED_BODY),
        )
    }

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        has_auth = any(name == b"authorization" for name, _ in scope["headers"])
        status, body = route(scope["method"].encode(), scope["raw_path"].split(b"?", 1)[0], has_auth)
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        await send({"type": "http.response.start", "status": status, "headers": headers[status]})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="hold every response this long")
    parser.add_argument("--impl", choices=("raw", "asgi"), default="raw")
    args = parser.parse_args(argv)
    delay_s = args.delay_ms / 1000.0

    if args.impl == "asgi":
        import uvicorn

        uvicorn.run(
            make_asgi_app(delay_s),
            host=args.host,
            port=args.port,
            loop="uvloop",
            http="httptools",
            lifespan="off",
            log_level="warning",
            access_log=False,
            backlog=4096,
        )
        return

    import uvloop

    uvloop.run(serve_raw(args.host, args.port, delay_s))


if __name__ == "__main__":
    main()
