"""``GET /logs``, ``PUT /logs/{logger}`` (live log levels) and ``GET /logs/stream`` (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...observability.log_stream import STREAMED_LOGGERS, Full, LogHub, Subscriber
from ...spec.models import ControlLogs
from .plane import ControlPlane
from .problems import problem, read_limited

LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
SEND_TIMEOUT_S = 5.0  # a subscriber whose connection takes no bytes this long is dropped


def log_routes(plane: ControlPlane, options: ControlLogs) -> list[Route]:
    routes: list[Route] = []
    if options.stream:
        routes.append(Route("/logs/stream", LogStream(LogHub(options.max_subscribers, plane.secrets()))))
    if options.level_control:
        routes += [
            Route("/logs", list_loggers, methods=["GET"]),
            Route("/logs/{logger:path}", set_level, methods=["PUT"]),
        ]
    return routes


def _loggers() -> dict[str, logging.Logger]:
    found = {name: logging.getLogger(name) for name in STREAMED_LOGGERS}
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name.split(".", 1)[0] in STREAMED_LOGGERS:
            found[name] = logger
    return dict(sorted(found.items()))


def _describe(logger: logging.Logger) -> dict[str, Any]:
    return {
        "name": logger.name,
        "level": logging.getLevelName(logger.level) if logger.level else None,
        "effectiveLevel": logging.getLevelName(logger.getEffectiveLevel()),
    }


async def list_loggers(_: Request) -> Response:
    return JSONResponse(
        {
            "loggers": [_describe(logger) for logger in _loggers().values()],
            "levels": ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        }
    )


async def set_level(request: Request) -> Response:
    name = request.path_params["logger"]
    if name.split(".", 1)[0] not in STREAMED_LOGGERS:
        return problem(
            404, "Not Found", f"no logger {name!r} here: levels are set under {', '.join(STREAMED_LOGGERS)}"
        )
    body = await read_limited(request, 4096)
    if isinstance(body, Response):
        return body
    try:
        payload = orjson.loads(body) if body.strip().startswith(b"{") else {"level": body.decode().strip()}
        level = str(payload.get("level", "")).strip().upper()
    except (orjson.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return problem(400, "Bad Request", 'the body must be {"level": "DEBUG|INFO|WARNING|ERROR|CRITICAL"}')
    if level not in LEVELS:
        return problem(
            400,
            "Bad Request",
            f"unknown level {payload.get('level')!r}: one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
            parameter="level",
        )
    logger = logging.getLogger(name)
    logger.setLevel(LEVELS[level])
    logging.getLogger("naftiko.control").info("log level of %s set to %s", name, level)
    return JSONResponse(_describe(logger))


class LogStream:
    """The SSE stream of log records: one JSON object per ``data:`` event."""

    def __init__(self, hub: LogHub) -> None:
        self.hub = hub

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await problem(405, "Method Not Allowed", "GET /logs/stream")(scope, receive, send)
            return
        try:
            subscriber = self.hub.subscribe()
        except Full as exc:
            await problem(503, "Service Unavailable", str(exc), reason="max-subscribers")(
                scope, receive, send
            )
            return
        streaming = asyncio.ensure_future(self._stream(subscriber, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait([streaming, gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hub.unsubscribe(subscriber)
            for task in (streaming, gone):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await streaming

    async def _stream(self, subscriber: Subscriber, send: Any) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b": naftiko log stream\n\n", "more_body": True})
        while True:
            if subscriber.dropped and subscriber.queue.empty():
                note = (
                    b'event: dropped\ndata: {"reason": "this subscriber did not keep up and was dropped"}\n\n'
                )
                await asyncio.wait_for(send({"type": "http.response.body", "body": note}), SEND_TIMEOUT_S)
                return
            try:
                line = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                chunk = b": keep-alive\n\n"
            else:
                chunk = b"data: " + line.encode() + b"\n\n"
            try:
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": chunk, "more_body": True}), SEND_TIMEOUT_S
                )
            except TimeoutError:  # the client stopped reading: let go of it (and its buffers)
                self.hub.drop(subscriber)
                return


async def _disconnected(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
