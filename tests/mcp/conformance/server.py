"""Serve the conformance catalog for ``npx @modelcontextprotocol/conformance server --url ...``.

Usage: ``python -m tests.mcp.conformance.server [PORT]`` (default 3001), then
``npx @modelcontextprotocol/conformance server --url http://localhost:3001/mcp``.
"""

from __future__ import annotations

import sys

import uvicorn

from naftiko_runtime.exposes.mcp import build_mcp_app
from tests.mcp.fakes import conformance_catalog


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 3001
    uvicorn.run(build_mcp_app(conformance_catalog()), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
