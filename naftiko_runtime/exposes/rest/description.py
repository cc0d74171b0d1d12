"""What a REST adapter says about itself: its OpenAPI description (``/openapi.json``, ``/openapi.yaml``)
and the docs page over it (:mod:`.docs`), at the paths :class:`~.options.RestOptions` names.

The description is built from the plan on first request and kept; only ``servers`` is filled per
request, from the ``Host`` the client used (behind a proxy, the URL it knows).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope, Send

from ...engine.plans import AdapterContext, RestPlan
from .answers import answer, send_problem
from .docs import Answer, docs_answer
from .options import RestOptions
from .problems import method_not_allowed


class SelfDescription:
    """Answers the description paths of one adapter (see the module docstring)."""

    def __init__(self, plan: RestPlan, context: AdapterContext, options: RestOptions) -> None:
        self.plan = plan
        self.context = context
        self.options = options
        self._openapi: dict[str, Any] | None = None

    async def serve(self, path: str, scope: Scope, send: Send, method: str) -> bool:
        """The OpenAPI description (JSON, YAML) and the docs page; False for any other path."""
        options = self.options
        found = None
        if options.openapi_path is not None and options.docs_path is not None:
            found = docs_answer(path, options.docs_path, options.openapi_path)
        if found is None and path not in (options.openapi_path, options.openapi_yaml_path):
            return False
        if method not in ("GET", "HEAD"):
            await send_problem(send, method_not_allowed(method, "GET, HEAD"))
            return True
        if found is None:
            found = self._openapi_answer(scope, yaml=path == options.openapi_yaml_path)
        await answer(send, *found, method == "HEAD")
        return True

    def _openapi_answer(self, scope: Scope, *, yaml: bool) -> Answer:
        from .openapi import build_openapi, to_yaml

        if self._openapi is None:
            self._openapi = build_openapi(self.plan, self.context)
        document = {**self._openapi, "servers": [{"url": _origin(scope)}]}
        if yaml:
            body, kind = to_yaml(document).encode(), b"application/yaml"
        else:
            body, kind = orjson.dumps(document), b"application/json"
        return 200, [(b"content-type", kind), (b"content-length", str(len(body)).encode())], body


def _origin(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
