"""Hand-written baseline: the seed's REST list route as a minimal Starlette + aiohttp proxy.

What naftiko-runtime does for ``GET /v1/api/prompts/{prompt-id}/versions/{version-id}/inference-runs``
written by hand, to measure the runtime against: forward the query string, add
``Authorization: Token <LABEL_STUDIO_API_KEY>``, decode the upstream JSON and answer it with the
upstream's status. JSON is decoded and re-encoded (orjson) because the runtime shapes the body
(``outputParameters``), so both do the same work. Transport errors answer 502.

One pooled ``aiohttp.ClientSession`` with the settings bench/transport.py recommends; one
uvicorn worker (uvloop, httptools, no access log).

Usage: ``LABEL_STUDIO_API_KEY=… python bench/baselines/starlette_aiohttp_proxy.py --port 8081
--upstream http://127.0.0.1:18080``
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROUTE = "/v1/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
UPSTREAM_PATH = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"


def json_response(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def make_app(upstream: str, api_key: str) -> Starlette:
    """The proxy app; ``upstream`` is a base URL such as ``http://127.0.0.1:18080``."""
    upstream = upstream.rstrip("/")
    headers = {"Authorization": f"Token {api_key}", "Accept": "application/json"}
    session: aiohttp.ClientSession | None = None

    async def inference_runs(request: Request) -> Response:
        assert session is not None
        url = upstream + UPSTREAM_PATH.format(**request.path_params)
        if request.url.query:
            url += "?" + request.url.query
        try:
            async with session.get(url, headers=headers) as upstream_response:
                body = await upstream_response.read()
                status = upstream_response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            return json_response({"error": f"upstream call failed: {type(err).__name__}"}, 502)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return json_response({"error": f"upstream answered {status} with a non-JSON body"}, 502)
        return json_response(data, status)

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

    return Starlette(routes=[Route(ROUTE, inference_runs, methods=["GET"])], lifespan=lifespan)


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
