"""The resilience capability served on the real engine: REST, MCP and control on one loopback port.

``serve(upstream, **limits)`` builds the runtime as ``naftiko serve`` does, with the given
:class:`~naftiko_runtime.consumes.limits.Limits` for the consumed namespace ``up``, and serves its
three adapters from one server (``/mcp`` → MCP, ``/health``, ``/status``, ``/metrics`` → control,
the rest → REST), so that they share the runtime's upstream clients, circuits and metrics, as they
do in one ``naftiko serve`` process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from naftiko_runtime.consumes.limits import Limits
from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.observability import Metrics
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.fixtures import anyio_backend, upstream, upstream_server
from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

__all__ = ["anyio_backend", "upstream", "upstream_server"]

CAPABILITY = Path(__file__).with_name("capability.yaml")
TOKEN = "capability-secret-4242"
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@dataclass
class Served:
    server: ServerThread
    runtime: Runtime

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0)

    def rpc(self, method: str, params: dict[str, Any], client: httpx.Client | None = None) -> httpx.Response:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        with contextlib.ExitStack() as stack:
            http = client or stack.enter_context(self.client())
            return http.post("/mcp", json=message, headers=MCP_HEADERS)

    def tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        answer = self.rpc("tools/call", {"name": name, "arguments": arguments})
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]  # type: ignore[no-any-return]


class _ByPath:
    """One ASGI app over the three adapters of the capability, by path."""

    def __init__(self, rest: Any, mcp: Any, control: Any) -> None:
        self.rest, self.mcp, self.control = rest, mcp, control

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.rest(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/mcp"):
            await self.mcp(scope, receive, send)
        elif path.startswith(("/health", "/status", "/metrics")):
            await self.control(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


@contextlib.contextmanager
def serve(upstream: RecordingUpstream, *, budget: int | None = 100_000, **limits: Any) -> Iterator[Served]:
    settings = TransportSettings(read_timeout=1.0, retries=0)
    settings = replace(settings, namespace_limits={"up": Limits(**limits)})
    options = RuntimeOptions(
        base_uris={"up": upstream.url},
        environ={"UP_TOKEN": TOKEN},
        transport=settings,
        unit_deadline_s=5.0,
        mcp_result_chars=budget,
    )
    runtime = Runtime.build(load(str(CAPABILITY)), options)
    metrics = Metrics()
    app = _ByPath(
        runtime.asgi_app("api", metrics),
        runtime.asgi_app("tools", metrics),
        runtime.asgi_app("control", metrics),
    )
    server = ServerThread(app).start()
    try:
        yield Served(server, runtime)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runtime.aclose(), server.loop).result(5)
        server.stop()
