"""The one way an adapter's hot requests skip Starlette's router, shared by REST and MCP.

Measured on the seed's list route and on a trivial ``tools/call``, Starlette's router and its error
middlewares cost 15 to 25 % of the throughput, and the adapters' endpoints answer every failure
themselves. So an HTTP request the endpoint owns goes straight to it, unless the embedder added
middleware with ``app.add_middleware(...)``: then every request takes Starlette's normal path, and
the middleware runs for it, as an embedder expects. Lifespan events always take the normal path.

Access logging (:class:`~naftiko_runtime.observability.AccessLog`) is raw ASGI too and wraps the
whole app, so it sees both paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send


class FastPathApp(Starlette):
    """A Starlette app whose HTTP requests for ``owns(scope)`` go straight to ``endpoint``."""

    def __init__(self, endpoint: ASGIApp, owns: Callable[[Scope], bool], **options: Any) -> None:
        super().__init__(**options)
        self.endpoint = endpoint
        self._owns = owns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.user_middleware and self._owns(scope):
            scope["app"] = self
            await self.endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def every_request(scope: Scope) -> bool:
    """For an endpoint that answers every path itself (404 and 405 included)."""
    return True
