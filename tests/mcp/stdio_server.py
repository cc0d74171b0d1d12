"""Launched by the stdio interop tests: the seed's MCP expose over stdin/stdout.

Usage: ``python tests/mcp/stdio_server.py UPSTREAM_URL``. Logs go to stderr; a stray ``print``
below proves that nothing but protocol messages reaches stdout.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from naftiko_runtime.exposes.mcp import serve_stdio
from tests.mcp.fakes import seed_catalog


async def main(upstream_url: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("naftiko.mcp").info("serving the seed over stdio (upstream %s)", upstream_url)
    serving = asyncio.create_task(serve_stdio(seed_catalog(upstream_url)))
    await asyncio.sleep(0)
    print("a stray print must not corrupt the protocol stream")
    await serving


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
