"""stdio transport: newline-delimited JSON-RPC on stdin/stdout, for clients that launch the server.

Framing is done here rather than with ``mcp.server.stdio``: the SDK's reader validates each line into
pydantic models first, which loses the ``id`` of a malformed request (its error could not name it)
and turns a request with ``"id": null`` into a notification; this reader hands raw messages to the
same dispatcher the HTTP transport uses, so both transports answer identically.

While serving, file descriptor 1 points at stderr and 0 at ``/dev/null``: a stray ``print``, a C
extension or a child process cannot write into (or read from) the protocol stream. Only this module
writes to the real stdout, one complete line per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from .catalog import McpCatalog
from .jsonrpc import PARSE_ERROR, RpcError, encode, error_message
from .news import Channel, Session
from .protocol import McpProtocol

logger = logging.getLogger("naftiko.mcp")

_EOF = object()


class StdioSession:
    """The catalog a stdio server answers from, replaceable while it serves (a reload)."""

    def __init__(self, catalog: McpCatalog, *, list_changed: bool = False) -> None:
        self.protocol = McpProtocol(catalog, list_changed=list_changed)
        self.list_changed = list_changed
        self.outbox: queue.SimpleQueue[bytes | None] | None = None

    def replace(self, catalog: McpCatalog) -> list[str]:
        """Answer from ``catalog`` from now on (a request in flight finishes on the old one) and
        send ``notifications/{tools,resources,prompts}/list_changed`` for each list that changed."""
        old, new = self.protocol, McpProtocol(catalog, list_changed=self.list_changed)
        self.protocol = new
        before, after = old.lists(), new.lists()
        changed = [kind for kind in before if before[kind] != after[kind]]
        if self.outbox is not None and self.list_changed:
            for kind in changed:
                notice = {"jsonrpc": "2.0", "method": f"notifications/{kind}/list_changed"}
                self.outbox.put(encode(notice) + b"\n")
        return changed


async def serve_stdio(
    catalog: McpCatalog | StdioSession, *, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> None:
    """Serve ``catalog`` over stdio until stdin closes; requests run concurrently.

    ``stdin``/``stdout`` default to the process's own streams (claimed as described above); tests
    may pass binary file objects instead. A :class:`StdioSession` can be replaced while serving.
    """
    session = catalog if isinstance(catalog, StdioSession) else StdioSession(catalog)
    with _wire(stdin, stdout) as (reader, writer):
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[object] = asyncio.Queue()
        outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        session.outbox = outbox
        threading.Thread(
            target=_read_lines, args=(reader, loop, inbox), name="mcp-stdin", daemon=True
        ).start()
        writer_thread = threading.Thread(
            target=_write_lines, args=(writer, outbox), name="mcp-stdout", daemon=True
        )
        writer_thread.start()
        pending: set[asyncio.Task[None]] = set()
        # One client per process: its log level (``logging/setLevel``) holds for the session, and
        # a call's notifications are written between the lines of other answers.
        channel = Channel(lambda note: outbox.put(encode(note) + b"\n"), Session())
        try:
            while (line := await inbox.get()) is not _EOF:
                assert isinstance(line, bytes)
                task = asyncio.create_task(_answer(session.protocol, line, outbox, channel))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.gather(*pending)
        finally:
            for task in pending:
                task.cancel()
            outbox.put(None)
            await asyncio.to_thread(writer_thread.join, 5.0)


async def _answer(
    protocol: McpProtocol, line: bytes, outbox: queue.SimpleQueue[bytes | None], channel: Channel
) -> None:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        error = RpcError(PARSE_ERROR, "Parse error: the line is not valid JSON")
        outbox.put(encode(error_message(None, error)) + b"\n")
        return
    try:
        reply = await protocol.handle(message, None, channel)
    except Exception:
        logger.exception("MCP request failed unexpectedly")
        request_id = message.get("id") if isinstance(message, dict) else None
        reply_message = error_message(request_id, RpcError(-32603, "Internal error"))
    else:
        if reply.message is None:
            return
        reply_message = reply.message
    outbox.put(encode(reply_message) + b"\n")


def _read_lines(reader: BinaryIO, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[object]) -> None:
    # A daemon thread: a blocking read must never keep the process (or the event loop) alive.
    try:
        for raw in iter(reader.readline, b""):
            line = raw.strip()
            if line:
                loop.call_soon_threadsafe(inbox.put_nowait, line)
    except (OSError, ValueError) as exc:
        logger.debug("stdin closed: %s", exc)
    finally:
        with contextlib.suppress(RuntimeError):  # the loop may already be gone at shutdown
            loop.call_soon_threadsafe(inbox.put_nowait, _EOF)


def _write_lines(writer: BinaryIO, outbox: queue.SimpleQueue[bytes | None]) -> None:
    while (data := outbox.get()) is not None:
        try:
            writer.write(data)
            writer.flush()
        except (OSError, ValueError) as exc:  # the client went away; keep draining quietly
            logger.debug("stdout closed: %s", exc)


@contextlib.contextmanager
def _wire(stdin: BinaryIO | None, stdout: BinaryIO | None) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    if stdin is not None and stdout is not None:
        yield stdin, stdout
        return
    sys.stdout.flush()
    wire_in, wire_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    try:
        # closefd=False: the reader thread may still sit in read() on shutdown.
        yield (
            stdin or os.fdopen(wire_in, "rb", closefd=False),
            stdout or os.fdopen(wire_out, "wb", closefd=False),
        )
    finally:
        sys.stdout.flush()
        os.dup2(wire_out, 1)
        os.dup2(wire_in, 0)
