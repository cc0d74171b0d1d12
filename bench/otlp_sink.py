"""An OTLP/HTTP collector stand-in for benchmarks: answers every request 200, keeps nothing.

The traced ``naftiko serve`` variants of ``bench/rest.py`` export their spans here, so the figures
include encoding and sending every batch (the exporter's real work) while the receiving end costs
next to nothing: an asyncio protocol that reads each request's ``Content-Length`` bytes and writes a
prebuilt answer, on keep-alive connections.

Usage: ``python bench/otlp_sink.py --port 4318``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = _LENGTH.search(self.buffer, 0, end + 2)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            assert self.transport is not None
            self.transport.write(ANSWER)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):  # the bench stops it with SIGINT
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
