"""The control adapter: health, readiness, status and Prometheus metrics for operators.

Health and metrics come from this process only (no shared store), so every replica behind a load
balancer answers for itself; a Prometheus server sums the replicas.
"""

from __future__ import annotations

import platform
import time
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ...observability import Metrics
from ...spec.models import ControlExpose
from ...version import runtime_version
from ..auth import GuardMiddleware, build_guard, close_at_shutdown
from ..origin import BrowserGuardMiddleware, BrowserPolicy


def build_control_app(
    expose: ControlExpose,
    metrics: Metrics,
    *,
    label: str,
    spec_version: str | None,
    version: str | None = None,
    scripting: dict[str, Any] | None = None,
    binds: Any = None,
    browsers: BrowserPolicy | None = None,
) -> Starlette:
    management = expose.management
    observability = expose.observability
    routes: list[Route] = []
    started = time.time()

    async def live(_: Request) -> Response:
        return JSONResponse({"status": "UP"})

    async def ready(_: Request) -> Response:
        adapters = [_public(state) for state in metrics.adapters if state["type"] != "control"]
        up = all(a["state"] == "started" for a in adapters)
        # An upstream whose circuit is open is no reason to take this replica out (every replica
        # sees the same upstream), but it is said: DEGRADED, still 200.
        upstreams = metrics.upstreams()
        degraded = any(u["circuit"] != "closed" for u in upstreams)
        body: dict[str, Any] = {"status": "UP" if up and not degraded else "DEGRADED", "adapters": adapters}
        if upstreams:
            body["upstreams"] = upstreams
        return JSONResponse(body, status_code=200 if up else 503)

    async def status(_: Request) -> Response:
        return JSONResponse(
            {
                "capability": {
                    "label": label,
                    "specVersion": spec_version,
                    **({"version": version} if version else {}),
                },
                "engine": {
                    "name": "naftiko-runtime",
                    "version": runtime_version(),
                    "python": platform.python_version(),
                },
                "uptime": f"PT{int(time.time() - started)}S",
                "adapters": [_public(state) for state in metrics.adapters],
                "upstreams": metrics.upstreams(),
            }
        )

    async def prometheus(_: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    async def scripting_config(_: Request) -> Response:
        return JSONResponse(scripting or {})

    if management.health:
        routes += [Route("/health/live", live), Route("/health/ready", ready)]
    if management.info:
        routes.append(Route("/status", status))
    metrics_enabled = observability is None or (observability.enabled and observability.metrics.local.enabled)
    if metrics_enabled:
        routes.append(Route("/metrics", prometheus))
    if management.scripting is not None:
        routes.append(Route("/scripting", scripting_config))
    guard = build_guard(
        expose.authentication, binds if binds is not None else {}, expose.namespace, "control"
    )
    middleware = [Middleware(BrowserGuardMiddleware, policy=browsers or BrowserPolicy())]
    if guard is not None:
        middleware.append(Middleware(GuardMiddleware, guard=guard))
    app = Starlette(routes=routes, middleware=middleware)
    return close_at_shutdown(app, guard)


def _public(state: dict[str, Any]) -> dict[str, Any]:
    """An adapter's record without the server-side file path of its capability."""
    return {key: value for key, value in state.items() if key != "source"}
