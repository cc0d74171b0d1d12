"""Which upstream HTTP client should naftiko-runtime use? Measure it.

A minimal Starlette proxy (one route, the seed's REST list route) calls the fast stand-in
upstream (bench/upstream.py) and returns its JSON. Only the client inside changes:

==================  =========================================================================
``httpx``           ``httpx.AsyncClient`` with its own pool (httpcore over anyio)
``httpx2``          ``httpx2.AsyncClient`` (the fork mcp and fastmcp 4 depend on), same settings
``httpx-aiohttp``   ``httpx.AsyncClient`` over :class:`AiohttpTransport` (written here)
``aiohttp``         ``aiohttp.ClientSession`` with a tuned ``TCPConnector``; stdlib ``json``
``aiohttp-orjson``  the same session; ``orjson`` decodes the upstream and encodes the answer
==================  =========================================================================

Plus the upstream measured directly, as the ceiling, in both of its implementations (this is
also the measurement that picked the raw-protocol upstream). Every proxy is one uvicorn worker
(uvloop + httptools, no access log). Each variant is smoke-checked (200 and the upstream's JSON)
before it is measured.

Run everything: ``.venv/bin/python bench/transport.py`` (``--help`` for knobs; a quick look:
``--repeats 1 --duration 3``). One proxy by hand:
``python bench/transport.py serve --client aiohttp --port 8081 --upstream http://127.0.0.1:18080``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
import httpx
from _harness import (
    Load,
    Server,
    add_load_arguments,
    check,
    interleave,
    markdown_table,
    write_results,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

UPSTREAM_PATH = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
PROXY_PATH = "/v1/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
SAMPLE_PATH = "/v1/api/prompts/1/versions/1/inference-runs?project=1"
API_KEY = os.environ.get("LABEL_STUDIO_API_KEY", "bench-token")

# One set of pool settings for every client, so only the client differs.
MAX_CONNECTIONS = 100  # per client; the runtime keeps one client per consumed namespace
KEEPALIVE_S = 30.0  # idle keep-alive; upstreams usually allow 60 s or more
CONNECT_TIMEOUT_S = 5.0
TOTAL_TIMEOUT_S = 30.0

CLIENTS = ("httpx", "httpx2", "httpx-aiohttp", "aiohttp", "aiohttp-orjson")


# ---------------------------------------------------------------------------------------------
# httpx over aiohttp


class _AiohttpStream(httpx.AsyncByteStream):
    """The body of an aiohttp response as an httpx stream; closing it frees the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_chunked(65_536):
            yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through an ``aiohttp.ClientSession``.

    httpx keeps its API (request building, auth, events, ``Response``); aiohttp does the I/O and
    pooling. aiohttp must not decompress (``auto_decompress=False``): httpx decodes the body from
    its ``Content-Encoding`` itself. httpx timeouts map to ``aiohttp.ClientTimeout``; aiohttp
    errors map to the httpx exceptions callers already catch.
    """

    def __init__(self, session: aiohttp.ClientSession) -> None:
        if session.auto_decompress:
            raise ValueError("AiohttpTransport needs a ClientSession(auto_decompress=False)")
        self._session = session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("pool"),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        try:
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=timeout,
            )
        except TimeoutError as err:
            raise httpx.TimeoutException(str(err) or "timed out", request=request) from err
        except aiohttp.ClientConnectorError as err:
            raise httpx.ConnectError(str(err), request=request) from err
        except aiohttp.ClientError as err:
            raise httpx.TransportError(str(err), request=request) from err
        return httpx.Response(
            status_code=response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_AiohttpStream(response),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        await self._session.close()


# ---------------------------------------------------------------------------------------------
# The clients under test, behind one small interface


class Fetcher(Protocol):
    async def get_json(self, url: str, params: str, headers: dict[str, str]) -> tuple[int, Any]: ...
    def respond(self, status: int, data: Any) -> Response: ...
    async def aclose(self) -> None: ...


def tuned_connector() -> aiohttp.TCPConnector:
    """The aiohttp pool we would ship: bounded, keep-alive, cached DNS."""
    return aiohttp.TCPConnector(
        limit=MAX_CONNECTIONS,
        limit_per_host=0,
        keepalive_timeout=KEEPALIVE_S,
        ttl_dns_cache=300,
        enable_cleanup_closed=False,
    )


def tuned_timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=TOTAL_TIMEOUT_S, sock_connect=CONNECT_TIMEOUT_S)


def tuned_session(*, auto_decompress: bool = True) -> aiohttp.ClientSession:
    """One pooled session per consumed namespace; no cookie jar (callers must not share cookies)."""
    return aiohttp.ClientSession(
        connector=tuned_connector(),
        timeout=tuned_timeout(),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=auto_decompress,
    )


class HttpxFetcher:
    def __init__(self, client: Any) -> None:  # httpx.AsyncClient or httpx2.AsyncClient
        self._client = client

    async def get_json(self, url: str, params: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = await self._client.get(f"{url}?{params}" if params else url, headers=headers)
        return response.status_code, response.json()

    def respond(self, status: int, data: Any) -> Response:
        return JSONResponse(data, status_code=status)

    async def aclose(self) -> None:
        await self._client.aclose()


class AiohttpFetcher:
    def __init__(self, session: aiohttp.ClientSession, use_orjson: bool) -> None:
        self._session = session
        if use_orjson:
            import orjson

            self._loads: Any = orjson.loads
            self._dumps: Any = orjson.dumps
        else:
            self._loads = json.loads
            self._dumps = None

    async def get_json(self, url: str, params: str, headers: dict[str, str]) -> tuple[int, Any]:
        async with self._session.get(f"{url}?{params}" if params else url, headers=headers) as response:
            return response.status, self._loads(await response.read())

    def respond(self, status: int, data: Any) -> Response:
        if self._dumps is None:
            return JSONResponse(data, status_code=status)
        return Response(self._dumps(data), status_code=status, media_type="application/json")

    async def aclose(self) -> None:
        await self._session.close()


def make_fetcher(client: str) -> Fetcher:
    """Build one client variant, pool settings aligned across variants."""
    if client in ("httpx", "httpx2"):
        lib: Any = httpx
        if client == "httpx2":
            import httpx2 as lib
        limits = lib.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_S,
        )
        timeout = lib.Timeout(TOTAL_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        return HttpxFetcher(lib.AsyncClient(limits=limits, timeout=timeout, trust_env=False))
    if client == "httpx-aiohttp":
        transport = AiohttpTransport(tuned_session(auto_decompress=False))
        timeout = httpx.Timeout(TOTAL_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        return HttpxFetcher(httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False))
    if client in ("aiohttp", "aiohttp-orjson"):
        return AiohttpFetcher(tuned_session(), use_orjson=client == "aiohttp-orjson")
    raise ValueError(f"unknown client {client!r}; one of {', '.join(CLIENTS)}")


def make_app(client: str, upstream: str) -> Starlette:
    """The proxy: one route, forwards the query string and the Authorization header."""
    fetcher: Fetcher | None = None
    headers = {"Authorization": f"Token {API_KEY}", "Accept": "application/json"}

    async def inference_runs(request: Request) -> Response:
        assert fetcher is not None
        url = upstream + UPSTREAM_PATH.format(**request.path_params)
        status, data = await fetcher.get_json(url, request.url.query, headers)
        return fetcher.respond(status, data)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal fetcher
        fetcher = make_fetcher(client)  # inside the running loop: aiohttp binds to it
        try:
            yield
        finally:
            await fetcher.aclose()

    return Starlette(routes=[Route(PROXY_PATH, inference_runs)], lifespan=lifespan)


def serve(client: str, port: int, upstream: str) -> None:
    import uvicorn

    uvicorn.run(
        make_app(client, upstream.rstrip("/")),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        workers=1,
        log_level="warning",
        access_log=False,
    )


# ---------------------------------------------------------------------------------------------
# The measurement


def sniffio_missing() -> bool:
    """httpcore 1.x imports sniffio on every lock set-up; absent, each failed import scans sys.path."""
    import importlib.util

    return importlib.util.find_spec("sniffio") is None


def measure(args: argparse.Namespace) -> None:
    from upstream import MODEL_RUNS

    if "httpx" in args.clients and sniffio_missing():
        print(
            "warning: sniffio is not installed, so httpx (httpcore 1.x) pays a failed import on "
            "every pooled request; `pip install sniffio` to measure httpx at its best",
            file=sys.stderr,
        )

    under_test_cpus = [0] if args.pin else None
    helper_cpus = [1] if args.pin else None
    upstream = Server.python("upstream-raw", "upstream.py", cpus=helper_cpus)
    upstream_asgi = Server.python("upstream-asgi", "upstream.py", "--impl", "asgi", cpus=under_test_cpus)
    proxies = {
        c: Server.python(
            f"transport-{c}",
            "transport.py",
            "serve",
            "--client",
            c,
            "--upstream",
            upstream.url,
            cpus=under_test_cpus,
        )
        for c in args.clients
    }
    auth = {"Authorization": f"Token {API_KEY}"}
    loads = {
        "upstream raw (ceiling)": Load(upstream.url + SAMPLE_PATH.removeprefix("/v1"), headers=auth),
        "upstream asgi (ceiling)": Load(upstream_asgi.url + SAMPLE_PATH.removeprefix("/v1"), headers=auth),
    }
    if args.no_ceiling:
        loads.clear()
    loads |= {c: Load(proxy.url + SAMPLE_PATH) for c, proxy in proxies.items()}

    with contextlib.ExitStack() as stack:
        for server in (upstream, upstream_asgi, *proxies.values()):
            stack.enter_context(server)
        for name, load in loads.items():
            body = check(load)
            if body != MODEL_RUNS:
                raise AssertionError(f"{name} answered {body!r:.200}, not the upstream's runs")
        print(
            f"all {len(loads)} variants answer 200 with the upstream's JSON; measuring "
            f"{args.repeats}×{args.duration:g}s at {args.connections} connections",
            file=sys.stderr,
        )
        under_test = {"upstream raw (ceiling)": upstream, "upstream asgi (ceiling)": upstream_asgi, **proxies}
        runs = interleave(
            loads,
            repeats=args.repeats,
            connections=args.connections,
            duration_s=args.duration,
            threads=args.threads,
            tool=args.tool,
            warmup_s=args.warmup,
            cpus=helper_cpus,
            under_test=under_test,
            watch={"upstream": upstream},
        )
        for load in loads.values():  # still healthy after the load?
            check(load)

    baseline = args.baseline if args.baseline in runs else next(iter(runs))
    table = markdown_table(runs, baseline=baseline)
    settings = {k: v for k, v in vars(args).items() if k != "command"}
    path = write_results(
        "transport",
        runs,
        baseline=baseline,
        settings=settings,
        notes={
            "sniffio_missing": sniffio_missing(),
            "pool": {
                "max_connections": MAX_CONNECTIONS,
                "keepalive_s": KEEPALIVE_S,
                "connect_timeout_s": CONNECT_TIMEOUT_S,
                "total_timeout_s": TOTAL_TIMEOUT_S,
            },
        },
    )
    print(table)
    print(f"\nresults: {path.relative_to(path.parents[2])}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="run one proxy variant (used by the bench itself)")
    srv.add_argument("--client", choices=CLIENTS, required=True)
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--upstream", required=True, help="base URL of the upstream")
    add_load_arguments(parser, connections=16)
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--baseline", default="httpx", help="variant the ratios are relative to")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the direct upstream runs")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.client, args.port, args.upstream)
    else:
        measure(args)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
