"""One access-log line per request, with the unit that answered and the time spent upstream.

The engine reports the unit and its upstream time through :mod:`.context`; this middleware
(outermost) measures the rest. Only the path is logged, never the query string: it can carry an
API key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .context import close_record, open_record
from .logs import ACCESS
from .metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AccessLog:
    """ASGI middleware: access line + metrics for every HTTP request of one adapter."""

    def __init__(self, app: ASGIApp, adapter: str, metrics: Metrics | None = None) -> None:
        self.app = app
        self.adapter = adapter
        self.metrics = metrics
        self.enabled = ACCESS.isEnabledFor(logging.INFO)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        token, record = open_record()

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            close_record(token)
            seconds = time.perf_counter() - started
            unit = record.get("unit", "-")
            upstream_ms = record.get("upstream_ms")
            if self.metrics is not None:
                self.metrics.record(
                    self.adapter, unit, status, seconds, None if upstream_ms is None else upstream_ms / 1000
                )
            if self.enabled:
                client = scope.get("client")
                ACCESS.info(
                    '%s "%s %s" %d %.1fms upstream=%s %s',
                    client[0] if client else "-",
                    scope["method"],
                    scope["path"],
                    status,
                    seconds * 1000,
                    "-" if upstream_ms is None else f"{upstream_ms:.1f}ms",
                    unit,
                    extra={
                        "fields": {
                            "adapter": self.adapter,
                            "client": client[0] if client else None,
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "latency_ms": round(seconds * 1000, 3),
                            "upstream_ms": None if upstream_ms is None else round(upstream_ms, 3),
                            "unit": unit,
                        }
                    },
                )
