"""Connection hygiene: slow or idle clients cannot hold the server's connections.

uvicorn waits for a request's headers and body as long as the client likes, and accepts every
connection the system gives it: 1,100 connections that each send a header line now and then leave
a process under a 1,024-descriptor limit unable to accept anyone else. Here, for every HTTP adapter
of the process:

* a request's headers must be complete within ``header_timeout`` seconds of their first byte (or of
  the connection opening), and its body may pause no longer than ``body_timeout`` between chunks;
  past that the client gets ``408`` (problem+json) and the connection is closed;
* at most ``max_connections`` are open at once across the process; one more is answered ``503``
  with ``Retry-After`` and closed at once, so that its descriptor is free again.

One timer per process sweeps the connections (a request only stamps a time on its connection), so
the hot path pays no timer per request. How a connection learns of its request's progress is
uvicorn's internals, fenced in :mod:`.uvicorn_compat` (:func:`~.uvicorn_compat.watched_protocol`);
this module holds the policy.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass

import orjson

from .uvicorn_compat import READING_HEADERS, WatchedConnection, watched_protocol


def default_max_connections() -> int:
    """Half the descriptors this process may open (the rest: upstream pools, files, logs)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, soft // 2)


@dataclass
class ConnectionLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int | None = None  # None: default_max_connections()


def _raw_answer(status: int, reason: str, detail: str, extra: bytes = b"") -> bytes:
    body = orjson.dumps({"type": "about:blank", "title": reason, "status": status, "detail": detail})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n"
    ).encode()
    return head + extra + b"\r\n" + body


class ConnectionGuard:
    """The open connections of one process, their count and their deadlines."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.header_timeout = limits.header_timeout
        self.body_timeout = limits.body_timeout
        self.max_connections = limits.max_connections or default_max_connections()
        self.open: set[WatchedConnection] = set()
        self.refused = 0
        self.timed_out = 0
        self._sweeper: asyncio.TimerHandle | None = None
        self._every = max(0.05, min(1.0, self.header_timeout / 4, self.body_timeout / 4))
        self._busy = _raw_answer(
            503,
            "Service Unavailable",
            f"this server has {self.max_connections} connections open, its limit; retry shortly",
            b"retry-after: 1\r\n",
        )
        self._slow = _raw_answer(
            408, "Request Timeout", "the request was not received in time; the connection is closed"
        )

    def admit(self, connection: WatchedConnection) -> bool:
        if len(self.open) >= self.max_connections:
            self.refused += 1
            connection.naftiko_answer_and_close(self._busy)
            return False
        self.open.add(connection)
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(self._every, self._sweep, loop)
        return True

    def release(self, connection: WatchedConnection) -> None:
        self.open.discard(connection)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for connection in list(self.open):
            phase = connection.naftiko_phase
            if not phase:
                continue
            limit = self.header_timeout if phase == READING_HEADERS else self.body_timeout
            if now - connection.naftiko_since > limit:
                self.timed_out += 1
                connection.naftiko_phase = 0
                connection.naftiko_answer_and_close(self._slow)
        self._sweeper = loop.call_later(self._every, self._sweep, loop) if self.open else None


def guarded(base: type[asyncio.Protocol], guard: ConnectionGuard) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's httptools protocol) with ``guard``'s deadlines and connection cap."""
    return watched_protocol(base, guard)
