"""Reference baseline: FastMCP built from the OpenAPI description of the same list operation.

``FastMCP.from_openapi`` over ``label-studio-runs.openapi.json`` turns the operation (operationId
``get-inference-run-info``) into a tool that calls the upstream through an ``httpx2.AsyncClient``
(the client FastMCP 4 takes; plain ``httpx`` clients are only accepted with a deprecation
warning) carrying ``Authorization: Token <LABEL_STUDIO_API_KEY>``. Served over Streamable HTTP
at ``/mcp`` in stateless JSON mode (``stateless_http=True, json_response=True``): each POST is
answered with one ``application/json`` body, no session, no SSE. FastMCP's defaults otherwise
(output validation against the OpenAPI response schema included); one uvicorn worker with
uvloop and httptools, like every other server in these benches.

Usage: ``LABEL_STUDIO_API_KEY=… python bench/baselines/fastmcp_openapi.py --port 9092
--upstream http://127.0.0.1:18080``
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

OPENAPI = Path(__file__).with_name("label-studio-runs.openapi.json")


def keep_operation_id_as_name(route: Any, component: Any) -> None:
    """FastMCP slugifies names to ``[A-Za-z0-9_]``; the seed's tool name has hyphens."""
    if route.operation_id:
        component.name = route.operation_id


def make_app(upstream: str, api_key: str) -> Any:
    """The ASGI app (a Starlette app with FastMCP's lifespan); imports are local for a fast ``--help``."""
    import httpx2
    from fastmcp import FastMCP

    client = httpx2.AsyncClient(
        base_url=upstream.rstrip("/"),
        headers={"Authorization": f"Token {api_key}", "Accept": "application/json"},
        timeout=httpx2.Timeout(30.0, connect=5.0),
        limits=httpx2.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0),
    )
    server = FastMCP.from_openapi(
        json.loads(OPENAPI.read_text()),
        client=client,
        name="label-studio-runs",
        mcp_component_fn=keep_operation_id_as_name,
    )
    return server.http_app(path="/mcp", stateless_http=True, json_response=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="upstream base URL")
    args = parser.parse_args(argv)

    import uvicorn

    app = make_app(args.upstream, os.environ.get("LABEL_STUDIO_API_KEY", ""))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
