"""Hand-written baseline: a stateless JSON-RPC MCP endpoint for ``get-inference-run-info``.

The ceiling for naftiko-runtime's MCP adapter: the least a Streamable HTTP server in JSON mode
can do for one tool and stay correct. Every POST is self-contained (no session, no SSE):
``initialize``, ``ping``, ``tools/list`` and ``tools/call`` answer ``application/json``;
notifications answer 202. ``tools/call`` calls the upstream through one pooled aiohttp session
(the settings bench/transport.py recommends) and answers as the Naftiko engine does: the upstream
JSON as one compact text content item, ``isError`` when the upstream status is 400 or more.

Served on ``/mcp`` and ``/`` (the Java engine answers on every path). One uvicorn worker.

Usage: ``LABEL_STUDIO_API_KEY=… python bench/baselines/jsonrpc_stateless.py --port 9091
--upstream http://127.0.0.1:18080``
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PROTOCOL_VERSION = "2025-11-25"
TOOL_NAME = "get-inference-run-info"
UPSTREAM_PATH = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
QUERY_PARAMS = ("ordering", "parent_model", "project", "project_subset")

TOOL = {
    "name": TOOL_NAME,
    "description": "✨ Get inference run info",
    "inputSchema": {
        "type": "object",
        "properties": {
            "prompt_id": {"type": "integer"},
            "version_id": {"type": "integer"},
            "ordering": {"type": "string", "description": "Which field to use when ordering the results."},
            "parent_model": {"type": "integer"},
            "project": {"type": "integer"},
            "project_subset": {"type": "string"},
        },
        "required": ["prompt_id", "version_id"],
    },
    "annotations": {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True},
}


def rpc_result(request_id: Any, result: Any) -> Response:
    return Response(
        orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}), media_type="application/json"
    )


def rpc_error(request_id: Any, code: int, message: str) -> Response:
    payload = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return Response(orjson.dumps(payload), media_type="application/json")


def text_result(text: str, is_error: bool) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def make_app(upstream: str, api_key: str) -> Starlette:
    """The endpoint app; ``upstream`` is a base URL such as ``http://127.0.0.1:18080``."""
    upstream = upstream.rstrip("/")
    headers = {"Authorization": f"Token {api_key}", "Accept": "application/json"}
    session: aiohttp.ClientSession | None = None

    async def call_tool(arguments: dict[str, Any]) -> dict[str, Any]:
        assert session is not None
        url = upstream + UPSTREAM_PATH.format(
            prompt_id=arguments["prompt_id"], version_id=arguments["version_id"]
        )
        query = {k: arguments[k] for k in QUERY_PARAMS if arguments.get(k) is not None}
        if query:
            url += "?" + urlencode(query)
        try:
            async with session.get(url, headers=headers) as response:
                body, status = await response.read(), response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            return text_result(f"Error during HTTP client call: {type(err).__name__}", True)
        try:
            text = orjson.dumps(orjson.loads(body)).decode()  # compact, as the engine answers
        except orjson.JSONDecodeError:
            text = body.decode(errors="replace")
        return text_result(text, status >= 400)

    async def endpoint(request: Request) -> Response:
        try:
            message = orjson.loads(await request.body())
        except orjson.JSONDecodeError as err:
            return rpc_error(None, -32700, f"Parse error: {err}")
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return rpc_error(None, -32600, "Invalid Request: jsonrpc must be '2.0'")
        method, request_id = message.get("method"), message.get("id")
        if "id" not in message:  # a notification: nothing to answer
            return Response(status_code=202)
        params = message.get("params") or {}
        if method == "tools/call":
            if params.get("name") != TOOL_NAME:
                return rpc_error(request_id, -32602, f"Invalid params: Unknown tool: {params.get('name')}")
            arguments = params.get("arguments") or {}
            if "prompt_id" not in arguments or "version_id" not in arguments:
                return rpc_error(request_id, -32602, "Invalid params: prompt_id and version_id are required")
            return rpc_result(request_id, await call_tool(arguments))
        if method == "tools/list":
            return rpc_result(request_id, {"tools": [TOOL]})
        if method == "initialize":
            return rpc_result(
                request_id,
                {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "jsonrpc-stateless-baseline", "version": "1.0.0"},
                },
            )
        if method == "ping":
            return rpc_result(request_id, {})
        return rpc_error(request_id, -32601, f"Method not found: {method}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal session
        connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=30, sock_connect=5)
        session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        )
        try:
            yield
        finally:
            await session.close()

    routes = [Route(path, endpoint, methods=["POST"]) for path in ("/mcp", "/")]
    return Starlette(routes=routes, lifespan=lifespan)


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
