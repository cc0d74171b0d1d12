"""One access-log line per request, with the unit that answered and the time spent upstream.

The engine reports the unit and its upstream time through :mod:`.context`; this middleware
(outermost) measures the rest. Only the path is logged, never the query string: it can carry an
API key.

The line is on every request's path, so under ``naftiko serve`` (after
:func:`~naftiko_runtime.observability.logs.configure`) it skips ``logging`` altogether: no
``LogRecord``, no ``%`` formatting, no ``extra`` dict, no filter walking the record. It is formatted
here, only when the ``naftiko.access`` logger is enabled for INFO, and handed to the log writer,
which writes from a background thread (a request never waits on the terminal). Elsewhere (the
middleware embedded without ``configure``, or handlers attached to ``naftiko.access`` itself) it
is an ordinary ``logging`` record with structured ``fields``, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .context import close_record, open_record
from .logs import ACCESS, access_format
from .metrics import AdapterMetrics, Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INFO = logging.INFO


class AccessLog:
    """ASGI middleware: access line + metrics for every HTTP request of one adapter."""

    def __init__(self, app: ASGIApp, adapter: str, metrics: Metrics | None = None) -> None:
        self.app = app
        self.adapter = adapter
        self.recorder: AdapterMetrics | None = metrics.for_adapter(adapter) if metrics is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        token, record = open_record(self.recorder)

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
            unit = record.unit or "-"
            upstream_ms = record.upstream_ms
            if self.recorder is not None:
                self.recorder.record(
                    unit,
                    status,
                    seconds,
                    None if upstream_ms is None else upstream_ms / 1000,
                    record.upstream_wall,
                )
            if ACCESS.isEnabledFor(_INFO):
                self._log(scope, status, seconds * 1000, upstream_ms, unit)

    def _log(
        self, scope: Scope, status: int, latency_ms: float, upstream_ms: float | None, unit: str
    ) -> None:
        client = scope.get("client")
        host = client[0] if client else None
        path = scope["path"]
        direct = access_format()
        if direct is None or ACCESS.handlers or ACCESS.filters:
            _log_record(self.adapter, host, scope["method"], path, status, latency_ms, upstream_ms, unit)
            return
        # Redaction, decided field by field instead of the general filter's walk over the record:
        # method (a token httptools validated), status, timings, unit and adapter names are ours or
        # numbers and never hold a bind value. The path and the client address come from the client
        # (the address via X-Forwarded-For from a trusted proxy), and the runtime never writes a bind
        # value into them; but a client can put one there itself (an exposed adapter's own API key
        # pasted into a URL, a credential in a forwarded path), and a log reader is not necessarily
        # entitled to it. So those two are scanned, in their raw, URL-encoded and JSON spellings,
        # which costs one regex search over a short string (well under a microsecond).
        redactor = direct.redactor
        if redactor is not None:
            if redactor.contains_secret(path):
                path = redactor.redact(path)
            if host and redactor.contains_secret(host):
                host = redactor.redact(host)
        direct.writer.write(
            direct.line(self.adapter, host, scope["method"], path, status, latency_ms, upstream_ms, unit)
        )


def _log_record(
    adapter: str,
    host: str | None,
    method: str,
    path: str,
    status: int,
    latency_ms: float,
    upstream_ms: float | None,
    unit: str,
) -> None:
    """The access line as a ``logging`` record (message and structured ``fields``)."""
    ACCESS.info(
        '%s "%s %s" %d %.1fms upstream=%s %s',
        host or "-",
        method,
        path,
        status,
        latency_ms,
        "-" if upstream_ms is None else f"{upstream_ms:.1f}ms",
        unit,
        extra={
            "fields": {
                "adapter": adapter,
                "client": host,
                "method": method,
                "path": path,
                "status": status,
                "latency_ms": round(latency_ms, 3),
                "upstream_ms": None if upstream_ms is None else round(upstream_ms, 3),
                "unit": unit,
            }
        },
    )
