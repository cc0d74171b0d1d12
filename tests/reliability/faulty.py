"""An upstream that misbehaves on request: raw HTTP/1.1 on a loopback socket, one fault per path.

``GET /<fault>`` answers as named below. It is written on asyncio streams rather than a web framework
because the faults are below what a framework lets an app do: answer nothing, stop mid-body, send
fewer bytes than ``Content-Length`` promised, drip one byte at a time.

===============  =====================================================================================
``ok``           200, a small JSON object
``hang``         reads the request, never answers
``stall``        headers and 10 of the 100 promised body bytes, then silence
``drip``         headers, then one body byte every 0.2 s (for minutes)
``truncate``     ``Content-Length: 1000``, 20 bytes, connection closed
``invalid-json`` 200 ``application/json`` that is not JSON
``huge``         200, a JSON array of ``huge_bytes`` bytes, streamed (``Content-Length`` says so)
``huge-chunked`` the same array, chunked: no length to refuse it by, only the bytes read
``5xx``          500 with a JSON error body
``429``          429 with ``Retry-After: 7`` and a JSON error body
``redirect``     302 to another host, with a small HTML body
``gzip``         200, gzip-encoded JSON (``Content-Encoding: gzip``)
``204``          204 No Content
===============  =====================================================================================

A connection refused is not this server's job: point a namespace at :func:`dead_port`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from types import TracebackType
from typing import Self

FAULTS = (
    "hang",
    "stall",
    "drip",
    "truncate",
    "invalid-json",
    "huge",
    "huge-chunked",
    "5xx",
    "429",
    "redirect",
    "gzip",
    "204",
)
OK_BODY = {"ok": True, "items": [1, 2, 3]}
GZIPPED = {"compressed": True, "items": list(range(50))}


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released: a connect is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _whole(status: str, body: bytes, content_type: str = "application/json", **extra: str) -> bytes:
    """A complete answer: head (with the body's length) and body."""
    headers = {"content-type": content_type, "content-length": str(len(body)), **extra}
    return _head(status, headers) + body


def _json(status: str, value: object, **extra: str) -> bytes:
    return _whole(status, json.dumps(value).encode(), **extra)


class FaultyUpstream:
    """The server, on its own thread and event loop; ``url`` is its base URI."""

    def __init__(self, huge_bytes: int = 48 * 1024 * 1024) -> None:
        self.huge_bytes = huge_bytes
        self.port = 0
        self.served = 0
        self.huge_sent: list[int] = []  # body bytes written per huge answer before it ended or was dropped
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="faulty-upstream", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the faulty upstream did not start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._connection(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(accepted, "127.0.0.1", 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: one request after another on the connection
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            path = request_line.split(" ")[1] if " " in request_line else "/"
            fault = path.strip("/").split("?", 1)[0]
            self.served += 1
            if not await self._answer(fault, reader, writer):
                return

    async def _answer(self, fault: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; ``False`` when the connection is done with."""
        if fault == "hang":
            await reader.read()  # until the client gives up
            return False
        if fault == "stall":
            head = _head("200 OK", {"content-type": "application/json", "content-length": "100"})
            writer.write(head + b'{"items": [')
            await writer.drain()
            await reader.read()
            return False
        if fault == "drip":
            writer.write(_head("200 OK", {"content-type": "application/json", "content-length": "100000"}))
            writer.write(b"[")
            for _ in range(100_000):
                await asyncio.sleep(0.2)
                writer.write(b" ")
                await writer.drain()
            return False
        if fault == "truncate":
            head = _head("200 OK", {"content-type": "application/json", "content-length": "1000"})
            writer.write(head + b'{"items": [1, 2, 3, 4')
            await writer.drain()
            return False
        if fault in ("huge", "huge-chunked"):
            return await self._huge(writer, chunked=fault == "huge-chunked")
        if fault == "gzip":
            compressed = gzip.compress(json.dumps(GZIPPED).encode())
            writer.write(_whole("200 OK", compressed, **{"content-encoding": "gzip"}))
        elif fault == "invalid-json":
            writer.write(_whole("200 OK", b'{"items": [1, 2,, oops'))
        elif fault == "5xx":
            writer.write(_json("500 Internal Server Error", {"error": "boom", "detail": "database down"}))
        elif fault == "429":
            writer.write(_json("429 Too Many Requests", {"error": "slow down"}, **{"retry-after": "7"}))
        elif fault == "redirect":
            moved = _whole(
                "302 Found", b"<html>moved</html>", "text/html", location="http://elsewhere.invalid/login"
            )
            writer.write(moved)
        elif fault == "204":
            writer.write(_head("204 No Content", {}))
        else:
            writer.write(_json("200 OK", OK_BODY))
        await writer.drain()
        return True

    async def _huge(self, writer: asyncio.StreamWriter, *, chunked: bool) -> bool:
        """`[0,0,...,0]` of exactly huge_bytes bytes, in 1 MiB pieces; records how much of it was
        written before the client dropped the connection (then ``False``: the connection is gone)."""
        count = (self.huge_bytes - 1) // 2
        size = 1 + 2 * count
        framing = {"transfer-encoding": "chunked"} if chunked else {"content-length": str(size)}
        writer.write(_head("200 OK", {"content-type": "application/json", **framing}))
        piece = b"0," * (512 * 1024)
        sent, left, first = 0, count, True
        try:
            while left > 0 or first:
                n = min(left, len(piece) // 2)
                chunk = (b"[" if first else b"") + piece[: 2 * n]
                left -= n
                if left == 0:
                    chunk = (chunk[:-1] if n else chunk) + b"]"
                first = False
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                await writer.drain()
                sent += len(chunk)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            return False
        finally:
            self.huge_sent.append(sent)
        return True
