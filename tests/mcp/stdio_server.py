"""Launched by the stdio tests: the seed's MCP adapter on the real engine, over stdin/stdout, with a
stray ``print`` once serving has started.

Usage: ``python tests/mcp/stdio_server.py UPSTREAM_URL`` (``LABEL_STUDIO_API_KEY`` from the
environment, as for ``naftiko serve --stdio``). The ``print`` proves that nothing but protocol
messages reaches stdout: the transport points file descriptor 1 at stderr while it serves, which
the real command cannot be made to show (it prints nothing itself).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from naftiko_runtime.runtime.mcp import serve_stdio
from tests.mcp.engine import seed_runtime


async def main(upstream_url: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("naftiko.mcp").info("serving the seed over stdio (upstream %s)", upstream_url)
    runtime = seed_runtime(upstream_url, os.environ["LABEL_STUDIO_API_KEY"])
    serving = asyncio.create_task(serve_stdio(runtime, runtime.mcp[0]))
    await asyncio.sleep(0)
    print("a stray print must not corrupt the protocol stream")
    await serving


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
