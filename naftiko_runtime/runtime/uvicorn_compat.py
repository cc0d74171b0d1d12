"""Every use of uvicorn's internals, in one place.

uvicorn's public API runs one server that binds its own socket and owns the event loop; we bind
every socket first (a busy port is an error naming the adapter, before anything starts), run many
servers on one loop, drain them in phases and write each response with one ``send``. That needs the
internals below. tests/runtime/test_compat.py fails as soon as an upgrade removes one of them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine, Sequence
from typing import Any

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
