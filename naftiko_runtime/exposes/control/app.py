"""The control adapter: the management plane of the spec's ``ExposesControl``, for operators.

Each endpoint group is present only when the document turns it on (the schema's defaults: health
and metrics on, everything else off), and every one sits behind the adapter's ``authentication``:

| endpoint | when |
| --- | --- |
| ``GET /health/live``, ``GET /health/ready`` | ``management.health`` (default true) |
| ``GET /status``, ``GET /config`` | ``management.info`` |
| ``POST /config/validate`` | ``management.validate`` |
| ``POST /config/reload`` | ``management.reload`` |
| ``GET /logs``, ``PUT /logs/{logger}`` | ``management.logs`` (``true``, or ``level-control``) |
| ``GET /logs/stream`` | ``management.logs`` (``true``, or ``stream``) |
| ``GET``/``PUT /scripting`` | ``management.scripting`` declared |
| ``GET /metrics`` | ``observability.metrics.local.enabled`` (default true) |
| ``GET /traces``, ``GET /traces/{traceId}`` | ``observability.traces.local.enabled`` (default true) |

Health and metrics come from this process only (no shared store), so every replica behind a load
balancer answers for itself; a Prometheus server sums the replicas.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ...observability import Metrics
from ...spec.models import ControlExpose, ControlLogs
from ...version import runtime_version
from ..auth import GuardMiddleware, build_guard, close_at_shutdown
from ..origin import BrowserGuardMiddleware, BrowserPolicy
from .config import config_routes
from .logs import log_routes
from .plane import ControlPlane
from .scripting import scripting_routes
from .traces import trace_routes


def build_control_app(
    expose: ControlExpose,
    metrics: Metrics,
    *,
    label: str,
    spec_version: str | None,
    plane: ControlPlane,
    version: str | None = None,
    scripting: dict[str, Any] | None = None,
    binds: Any = None,
    browsers: BrowserPolicy | None = None,
    base_dir: Path | None = None,
) -> Starlette:
    management = expose.management
    observability = expose.observability
    routes: list[Route] = []

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
                "uptime": f"PT{int(time.time() - metrics.started)}S",
                "adapters": [_public(state) for state in metrics.adapters],
                "upstreams": metrics.upstreams(),
            }
        )

    async def prometheus(_: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    on = observability is None or observability.enabled
    if management.health:
        routes += [Route("/health/live", live), Route("/health/ready", ready)]
    if management.info:
        routes.append(Route("/status", status))
    routes += config_routes(
        plane,
        info=management.info,
        validate=management.validate_,
        reload=management.reload,
        base_dir=base_dir,
    )
    logs = management.logs
    if logs:
        options = logs if isinstance(logs, ControlLogs) else ControlLogs(stream=True)
        routes += log_routes(plane, options)
    if on and (observability is None or observability.metrics.local.enabled):
        routes.append(Route("/metrics", prometheus))
    if management.scripting is not None:
        routes += scripting_routes(plane, scripting or {})
    if on and observability is not None and observability.traces.local.enabled:
        routes += trace_routes(observability.traces.local.buffer_size)
    guard = build_guard(
        expose.authentication, binds if binds is not None else {}, expose.namespace, "control"
    )
    middleware = [Middleware(BrowserGuardMiddleware, policy=browsers or BrowserPolicy())]
    if guard is not None:
        middleware.append(Middleware(GuardMiddleware, guard=guard))
    app = Starlette(routes=routes, middleware=middleware)
    return close_at_shutdown(app, guard)


def endpoint_summary(expose: ControlExpose) -> str:
    """The groups a control adapter serves, for the startup banner."""
    management, observability = expose.management, expose.observability
    on = observability is None or observability.enabled
    groups = [
        ("health", management.health),
        ("status, config", management.info),
        ("validate", management.validate_),
        ("reload", management.reload),
        ("logs", bool(management.logs)),
        ("scripting", management.scripting is not None),
        ("metrics", on and (observability is None or observability.metrics.local.enabled)),
        ("traces", on and observability is not None and observability.traces.local.enabled),
    ]
    return ", ".join(name for name, enabled in groups if enabled) or "no endpoints"


def _public(state: dict[str, Any]) -> dict[str, Any]:
    """An adapter's record without the server-side file path of its capability."""
    return {key: value for key, value in state.items() if key != "source"}
