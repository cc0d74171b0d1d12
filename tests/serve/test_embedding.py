"""The README's embedding promise: adapters mounted in the embedder's own Starlette app, with the
embedder's middleware added to an adapter app running for every request, MCP's ``/mcp`` included.

The adapters skip Starlette's router on their hot path (naftiko_runtime/exposes/asgi.py); these
tests pin that the skip never skips the embedder's middleware.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.mcp.engine import CONSUMED, INITIALIZE, MCP_NAMESPACE, EngineServer, seed_runtime
from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

REST_NAMESPACE = CONSUMED + "-rest"


class Stamp:
    """The embedder's middleware: records each path it saw and stamps the answer."""

    seen: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app = app
        self.label = label.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        Stamp.seen.append(scope["path"])

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-embedder", self.label)]
            await send(message)

        await self.app(scope, receive, stamped)


def _served(upstream: RecordingUpstream, mounted: bool) -> tuple[EngineServer, str, str]:
    """The seed's MCP and REST apps, each with the embedder's middleware added; mounted in the
    embedder's app under /agents and /api, or (``mounted=False``) the MCP app served on its own."""
    runtime = seed_runtime(upstream.url)
    mcp: Any = runtime.asgi_app(MCP_NAMESPACE)
    rest: Any = runtime.asgi_app(REST_NAMESPACE)
    mcp.add_middleware(Stamp, label="mcp")
    rest.add_middleware(Stamp, label="rest")
    Stamp.seen = []
    if not mounted:
        return EngineServer(runtime, mcp), "", ""
    parent = Starlette(routes=[Mount("/agents", app=mcp), Mount("/api", app=rest)])
    return EngineServer(runtime, parent), "/agents", "/api"


@pytest.mark.parametrize("mounted", [True, False], ids=["mounted", "served-alone"])
def test_middleware_added_to_an_mcp_app_runs_for_mcp(upstream: RecordingUpstream, mounted: bool) -> None:
    server, prefix, _ = _served(upstream, mounted)
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.post(
            prefix + "/mcp", json=INITIALIZE, headers={"accept": "application/json, text/event-stream"}
        )

    assert answer.status_code == 200
    assert answer.headers["x-embedder"] == "mcp"
    assert Stamp.seen == [prefix + "/mcp"]


def test_middleware_added_to_a_mounted_rest_app_runs_for_its_routes(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/api/prompts/1/versions/1/inference-runs", json=[])
    server, _, prefix = _served(upstream, mounted=True)
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.get(prefix + "/v1/api/prompts/1/versions/1/inference-runs", params={"project": "1"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["x-embedder"] == "rest"
    assert upstream.last.path == "/api/prompts/1/versions/1/inference-runs"
