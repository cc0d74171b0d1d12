"""The REST adapter: one ASGI app per ``type: rest`` expose, translating HTTP onto the invocation core.

``build_rest_app(plan, context)`` compiles the plan's routes once (see :mod:`.routing`), builds an
endpoint per operation (:mod:`.operations`) and per ``forward`` resource (:mod:`.forwarding`), and
returns a Starlette application. This module is the dispatch between them; a request goes:

    Host and Origin checks (:mod:`naftiko_runtime.exposes.origin`: a foreign page gets 403)
      → authentication (if the expose declares one; ``oauth2`` also answers its RFC 9728 metadata
      document, without credentials, at ``/.well-known/oauth-protected-resource[/<resource path>]``)
      → route match on the raw path
      → operation: arguments from path, query, headers, cookies, body → ``unit.invoke`` → JSON
      → forward: streamed to the target namespace and back
      → ``GET /openapi.json`` / ``/openapi.yaml``: the adapter's OpenAPI 3.1 description; ``GET /docs``:
        Swagger UI over it, its files served here too (:mod:`.description`)
      → otherwise 404, or 405 with ``Allow`` on a known path

Nothing here builds an upstream request. The hot path is raw ASGI on purpose (no ``Request``
object, no router scan, no per-request middleware): on the seed's list route the adapter's own work
is about 4 µs of CPU a request, the rest being the invocation core and the upstream client.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from ...engine.plans import AdapterContext, RestPlan
from ...spec.models import AuthApiKey
from ...urichars import LITERAL_PATH
from ..asgi import FastPathApp, every_request
from ..auth import Guard, answer_public, build_guard, close_at_shutdown
from ..origin import (
    BrowserPolicy,
    cors_headers,
    is_preflight,
    preflight_headers,
    send_refusal,
    with_cors,
)
from .answers import answer, send_problem
from .description import SelfDescription
from .forwarding import ForwardEndpoint, forwarder_for
from .operations import OperationEndpoint
from .options import RestOptions
from .problems import internal_error, method_not_allowed, not_found
from .routing import PathTemplate, Router, parse_template, sort_methods

log = logging.getLogger("naftiko.rest")

_FORWARD_TAIL = "path"
_PREFLIGHT_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


@dataclass
class _PathEntry:
    """Every operation declared on one path, by method."""

    template: PathTemplate
    methods: dict[str, OperationEndpoint]
    allow: str = ""


class RestAdapter:
    """The raw ASGI application of one REST expose (wrapped by :func:`build_rest_app`)."""

    def __init__(self, plan: RestPlan, context: AdapterContext, options: RestOptions | None = None) -> None:
        self.plan = plan
        self.context = context
        self.options = options = options or RestOptions()
        self.namespace = plan.expose.namespace
        self.browsers = BrowserPolicy(context.allowed_origins, context.allowed_hosts)
        self.guard: Guard | None = build_guard(plan.expose.authentication, context.binds, self.namespace)
        self._public = self.guard.public if self.guard is not None else {}
        auth = plan.expose.authentication
        # The API key of a query-placed adapter credential is the guard's, not an unknown argument.
        ignored_query = frozenset(
            {auth.key or "X-API-Key"} if isinstance(auth, AuthApiKey) and auth.placement == "query" else ()
        )
        entries: dict[str, _PathEntry] = {}
        for route in plan.routes:
            template = parse_template(route.path)
            # Keyed by shape: /ships/{imo} and /ships/{id} are one path; each operation reads its own names.
            entry = entries.setdefault(template.shape, _PathEntry(template, {}))
            if route.method in entry.methods:
                log.warning(
                    "%s: %s %s is declared twice; the first wins", self.namespace, route.method, route.path
                )
                continue
            entry.methods[route.method] = OperationEndpoint(route, template, options, ignored_query)
        for entry in entries.values():
            methods = list(entry.methods)
            if "GET" in entry.methods and "HEAD" not in entry.methods:
                methods.append("HEAD")
            entry.allow = sort_methods(methods)
        self.entries = list(entries.values())
        self.router: Router[_PathEntry] = Router.build((e.template, e) for e in self.entries)
        forwards: list[tuple[PathTemplate, ForwardEndpoint]] = []
        for forward in plan.forwards:
            template = parse_template(forward.path)
            names = template.names
            tail = names.index(_FORWARD_TAIL) if _FORWARD_TAIL in names else len(names)
            forwards.append(
                (
                    template,
                    ForwardEndpoint(forward, forwarder_for(forward, context, self.namespace), tail, options),
                )
            )
        self.forwards = [endpoint for _, endpoint in forwards]
        self.forward_router: Router[ForwardEndpoint] = Router.build(forwards, tail=_FORWARD_TAIL)
        self.description = SelfDescription(plan, context, options)

    # -- ASGI ----------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await _lifespan(receive, send)
                if self.guard is not None:
                    await self.guard.aclose()
            return
        try:
            await self._dispatch(scope, receive, send)
        except Exception as exc:  # the last line of defence: never a traceback on the wire
            log.error("%s: request failed", self.namespace, exc_info=exc)
            with contextlib.suppress(Exception):  # the response may have started already
                await send_problem(send, internal_error(None))

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal, origin = self.browsers.admit(scope)  # before anything else: a foreign page gets nothing
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        if origin is not None:
            if is_preflight(scope):
                headers = preflight_headers(scope, origin, _PREFLIGHT_METHODS)
                await answer(send, 204, headers, b"", False)
                return
            send = with_cors(send, cors_headers(origin))
        raw = scope.get("raw_path") or quote(scope["path"], safe=LITERAL_PATH).encode()
        path = raw.decode("latin-1")
        root = scope.get("root_path")
        if root and path.startswith(root):
            path = path[len(root) :]
        method = scope["method"]
        if self.guard is not None:
            if self._public and path in self._public and method in ("GET", "HEAD"):
                await answer_public(send, self._public[path], method == "HEAD")
                return
            query = scope.get("query_string")
            target = raw + b"?" + query if query else raw  # as the client wrote it (digest signs it)
            denied = await self.guard.check(method, target, scope["headers"])
            if denied is not None:
                await send_problem(send, denied, method == "HEAD")
                return
        match = self.router.match(path)
        if match is not None:
            entry = match.target
            scope["route"] = entry.template.text  # the matched template, named by the trace span
            endpoint = entry.methods.get(method)
            if endpoint is not None:
                await endpoint(scope, receive, send, match.values, False)
                return
            if method == "HEAD" and "GET" in entry.methods:
                await entry.methods["GET"](scope, receive, send, match.values, True)
                return
        elif await self.description.serve(path, scope, send, method):
            return
        forward = self.forward_router.match(path)
        if forward is not None:
            await forward.target(scope, receive, send, forward.values)
            return
        if match is not None:
            await send_problem(send, method_not_allowed(method, match.target.allow), method == "HEAD")
            return
        await send_problem(send, not_found(), method == "HEAD")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class RestApplication(FastPathApp):
    """The Starlette application of one REST expose: requests go straight to the
    :class:`RestAdapter` unless middleware was added (:mod:`naftiko_runtime.exposes.asgi`)."""

    def __init__(self, adapter: RestAdapter, **options: Any) -> None:
        super().__init__(adapter, every_request, routes=[Mount("", app=adapter)], **options)
        self.adapter = adapter
        self.state.adapter = adapter


def build_rest_app(
    plan: RestPlan, context: AdapterContext, options: RestOptions | None = None, **starlette_options: Any
) -> RestApplication:
    """The Starlette application serving one REST expose.

    ``plan`` is one of ``runtime.rest`` and ``context`` is ``runtime.context``; ``starlette_options``
    go to :class:`Starlette` (``lifespan``, ``debug``...). The app does not own the runtime: whoever
    serves it closes ``runtime`` (its upstream connection pools) at shutdown; the app's lifespan
    closes what its own guard holds (the OAuth 2 guard's HTTP client). ``app.adapter`` is the
    :class:`RestAdapter` (routes, guard, OpenAPI document).
    """
    adapter = RestAdapter(plan, context, options)
    return close_at_shutdown(RestApplication(adapter, **starlette_options), adapter.guard)
