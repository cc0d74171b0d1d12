"""Every use of uvicorn's internals, in one place.

uvicorn's public API runs one server that binds its own socket and owns the event loop; we bind
every socket first (a busy port is an error naming the adapter, before anything starts), run many
servers on one loop, drain them in phases, write each response with one ``send`` and hold slow
clients to deadlines. That needs the internals below. tests/runtime/test_compat.py fails as soon as
an upgrade removes one of them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

import uvicorn


def serve_on(server: uvicorn.Server, sockets: Sequence[socket.socket]) -> Coroutine[Any, Any, None]:
    """``server`` on sockets bound already, on the running loop, without installing signal handlers
    (``Server._serve``: ``serve`` would capture SIGINT/SIGTERM, which the drain owns)."""
    return server._serve(sockets=list(sockets))


def listening(server: uvicorn.Server) -> list[asyncio.Server]:
    """The asyncio servers accepting for ``server`` (``Server.servers``, set once it started)."""
    return list(getattr(server, "servers", ()))


def in_flight(server: uvicorn.Server) -> set[asyncio.Task[None]]:
    """The request tasks ``server`` is running (``ServerState.tasks``)."""
    tasks: set[asyncio.Task[None]] = server.server_state.tasks
    return tasks


def httptools_protocol() -> type[asyncio.Protocol] | None:
    """uvicorn's httptools protocol class (C parser), to subclass; None without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] installs httptools
        return None
    return HttpToolsProtocol


# -- the httptools protocol's request events (connection hygiene, runtime/connections.py) -----------

READING_HEADERS, READING_BODY = 1, 2
"""A watched connection's ``naftiko_phase`` while a request arrives; 0 otherwise (the
app has the request, or the connection is idle between requests)."""

PARSER_EVENTS = ("on_message_begin", "on_headers_complete", "on_body", "on_message_complete")
"""httptools parser callbacks uvicorn's protocol implements, which a watched protocol extends: the
private methods of ``HttpToolsProtocol`` it overrides."""

PROTOCOL_STATE = ("transport", "cycle")
"""Instance attributes of ``HttpToolsProtocol`` read here: the transport uvicorn writes to, and the
current request's ``RequestResponseCycle`` (its ``response_started``)."""


class WatchedConnection(Protocol):
    """What a :class:`ConnectionWatcher` sees of one connection."""

    naftiko_phase: int
    naftiko_since: float

    def naftiko_answer_and_close(self, answer: bytes) -> None:
        """Write ``answer`` unless a response has started, then close the connection."""


class ConnectionWatcher(Protocol):
    """Told when connections open and close; reads their phases on its own schedule."""

    def admit(self, connection: WatchedConnection) -> bool:
        """Whether ``connection`` may stay open (False: it was answered and closed already)."""

    def release(self, connection: WatchedConnection) -> None:
        """``connection`` closed."""


def watched_protocol(base: type[asyncio.Protocol], watcher: ConnectionWatcher) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's httptools protocol) stamping each connection with the phase of the request
    arriving on it and the loop time it began or last moved (:class:`WatchedConnection`), and telling
    ``watcher`` when connections open and close. A stamp is two attribute writes per event: the hot
    path pays no timer per request."""

    begin, headers_complete, body_part, message_complete = (getattr(base, name) for name in PARSER_EVENTS)

    class WatchedProtocol(base):  # type: ignore[valid-type,misc]
        naftiko_phase = 0
        naftiko_since = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._naftiko_clock = asyncio.get_running_loop().time
            if watcher.admit(self):
                self.naftiko_phase, self.naftiko_since = READING_HEADERS, self._naftiko_clock()

        def connection_lost(self, exc: Exception | None) -> None:
            watcher.release(self)
            super().connection_lost(exc)

        # The parser events run on every request: the base methods are called directly rather
        # than through ``super()``, which would build a proxy object each time.
        def on_message_begin(self) -> None:
            begin(self)
            self.naftiko_phase, self.naftiko_since = READING_HEADERS, self._naftiko_clock()

        def on_headers_complete(self) -> None:
            headers_complete(self)
            self.naftiko_phase, self.naftiko_since = READING_BODY, self._naftiko_clock()

        def on_body(self, body: bytes) -> None:
            body_part(self, body)
            self.naftiko_since = self._naftiko_clock()

        def on_message_complete(self) -> None:
            message_complete(self)
            # The app has the request; then the connection idles under uvicorn's keep-alive
            # timeout. A response sent before the body ended leaves the phase at READING_BODY:
            # the rest of that body is still held to its deadline.
            self.naftiko_phase = 0

        def naftiko_answer_and_close(self, answer: bytes) -> None:
            transport: asyncio.Transport = self.transport
            if transport.is_closing():
                return
            cycle = self.cycle
            if cycle is None or not cycle.response_started:
                transport.write(answer)
            transport.close()

    return WatchedProtocol
