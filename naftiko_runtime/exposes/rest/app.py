"""The REST adapter: one ASGI app per ``type: rest`` expose, translating HTTP onto the invocation core.

``build_rest_app(plan, context)`` compiles the plan's routes once (see :mod:`.routing`), builds a
:class:`~.arguments.RequestReader` per operation and a :class:`~naftiko_runtime.consumes.forward.Forwarder`
per ``forward`` resource, and returns a Starlette application. A request then goes:

    Host and Origin checks (:mod:`naftiko_runtime.exposes.origin`: a foreign page gets 403)
      → authentication (if the expose declares one; ``oauth2`` also answers its RFC 9728 metadata
      document, without credentials, at ``/.well-known/oauth-protected-resource[/<resource path>]``)
      → route match on the raw path
      → operation: arguments from path, query, headers, cookies, body → ``unit.invoke`` → JSON
      → forward: streamed to the target namespace and back
      → ``GET /openapi.json`` / ``/openapi.yaml``: the adapter's OpenAPI 3.1 description; ``GET /docs``:
        Swagger UI over it, its files served here too (:mod:`.docs`)
      → otherwise 404, or 405 with ``Allow`` on a known path

Nothing here builds an upstream request. The hot path is raw ASGI on purpose (no ``Request``
object, no router scan, no per-request middleware): on the seed's list route the adapter's own work
is about 4 µs of CPU a request, the rest being the invocation core and the upstream client.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from starlette.responses import StreamingResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from ...consumes.forward import ENTITY_HEADERS, Forwarder, PathEscape
from ...engine.contract import Result
from ...engine.plans import AdapterContext, RestForward, RestPlan, RestRoute
from ...errors import InputProblem, InvocationError, UpstreamError
from ...errors.classify import classify
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
from .arguments import ClientGone, Reject, RequestReader
from .docs import docs_answer
from .problems import (
    Problem,
    for_error,
    from_failure,
    internal_error,
    invalid_input,
    method_not_allowed,
    not_found,
    payload_too_large,
    upstream_passthrough,
)
from .routing import PathTemplate, Router, parse_template, sort_methods

log = logging.getLogger("naftiko.rest")

_JSON_HEADERS = (b"content-type", b"application/json")
_NO_BODY = frozenset({204, 205, 304})
_FORWARD_TAIL = "path"
_PREFLIGHT_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


@dataclass(frozen=True)
class RestOptions:
    """How the adapter treats requests; nothing here is in the capability document."""

    max_body_bytes: int = 1 << 20
    """Largest JSON or form body an operation accepts (413 above it)."""
    max_forward_body_bytes: int | None = None
    """Largest body a ``forward`` resource streams upstream (None: no limit, except for targets whose
    credentials need a round trip, digest or OAuth2, whose bodies are buffered: ``max_body_bytes``)."""
    openapi_path: str | None = "/openapi.json"
    """Where the adapter serves its OpenAPI description as JSON (None: not served)."""
    openapi_yaml_path: str | None = "/openapi.yaml"
    """Where it serves the same description as YAML (None: not served)."""
    docs_path: str | None = "/docs"
    """Where it serves the interactive documentation page over ``openapi_path`` (None: not served)."""


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, head: bool
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _problem(send: Send, problem: Problem, head: bool = False) -> None:
    status, headers, body = problem.encode()
    await _answer(send, status, headers, body, head)


class OperationEndpoint:
    """One exposed operation: request → arguments → ``unit.invoke`` → JSON answer."""

    __slots__ = ("invoke", "operation", "reader", "route", "unit")

    def __init__(
        self, route: RestRoute, template: PathTemplate, options: RestOptions, ignored_query: frozenset[str]
    ) -> None:
        self.route = route
        self.unit = route.unit
        self.invoke = route.unit.invoke
        self.operation = route.unit.qualified
        self.reader = RequestReader(
            route.unit.inputs,
            route.inputs,
            template.names,
            operation=self.operation,
            max_body=options.max_body_bytes,
            ignored_query=ignored_query,
        )

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, values: tuple[str, ...], head: bool
    ) -> None:
        try:
            arguments = await self.reader.read(scope, receive, values)
            result = await self.invoke(arguments)
        except Reject as reject:
            await _problem(send, reject.problem, head)
            return
        except ClientGone:
            return
        except InvocationError as exc:
            await self._failed(send, exc, head)
            return
        except Exception as exc:
            log.error("%s: unexpected failure", self.operation, exc_info=exc)
            await _problem(send, internal_error(self.operation), head)
            return
        await _answer(send, *_encode(result, self.unit.media_type), head)

    async def _failed(self, send: Send, exc: InvocationError, head: bool) -> None:
        failure = classify(exc, self.operation)
        if failure.passthrough and isinstance(exc, UpstreamError):
            await _answer(send, *upstream_passthrough(exc, failure.headers), head)
            return
        reader = self.reader
        await _problem(send, from_failure(failure, reader.wire_names, reader.locations), head)


def _encode(result: Result, media_type: str | None = None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer of an operation: JSON, or the bytes of a binary answer with their media type
    (``media_type``, what the document declares, wins over the upstream's)."""
    status = result.status
    if status in _NO_BODY:
        headers: list[tuple[bytes, bytes]] = []
        body = b""
    elif type(result.value) is bytes:
        body = result.value
        kind = media_type or result.content_type or "application/octet-stream"
        headers = [(b"content-type", kind.encode("latin-1")), (b"content-length", str(len(body)).encode())]
    else:
        try:  # plain JSON data, the usual case, encodes ≈ 35 % faster without options
            body = orjson.dumps(result.value)
        except TypeError:  # non-string keys, or values JSON has no type for
            body = orjson.dumps(result.value, default=str, option=orjson.OPT_NON_STR_KEYS)
        headers = [_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if result.headers:
        headers += [
            (k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in result.headers.items()
        ]
    return status, headers, body


class ForwardEndpoint:
    """A ``forward`` resource: everything under its path, streamed to the target namespace."""

    def __init__(self, forward: RestForward, forwarder: Forwarder, tail: int, options: RestOptions) -> None:
        self.forward = forward
        self.forwarder = forwarder
        self.operation = forwarder.operation
        self.tail = tail
        self.limit = options.max_forward_body_bytes
        if self.limit is None and forwarder.round_trip:
            self.limit = options.max_body_bytes  # the body is held in memory: never without a bound

    async def __call__(self, scope: Scope, receive: Receive, send: Send, values: tuple[str, ...]) -> None:
        remaining = values[self.tail] if self.tail < len(values) else ""
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        chunked = any(k.lower() == "transfer-encoding" for k, _ in headers)
        declared = int(length) if length is not None and length.strip().isdigit() else None
        if self.limit is not None and declared is not None and declared > self.limit:
            await _problem(send, payload_too_large(self.limit, self.operation))
            return
        has_body = chunked or bool(declared)
        state = _BodyState()
        body = _stream_body(receive, self.limit, state) if has_body else None
        if not has_body:
            headers = [(k, v) for k, v in headers if k.lower() not in ENTITY_HEADERS]
        try:
            response = await self.forwarder.send(scope["method"], remaining, query, headers, body)
        except PathEscape:
            problem = InputProblem("path", "the path may not contain '.' or '..' segments", "path")
            await _problem(send, invalid_input([problem], self.operation))
            return
        except InvocationError as exc:
            if state.too_large and self.limit is not None:
                await _problem(send, payload_too_large(self.limit, self.operation))
            elif not state.gone:
                await _problem(send, for_error(exc, self.operation))
            return
        except Exception as exc:
            if state.too_large and self.limit is not None:
                await _problem(send, payload_too_large(self.limit, self.operation))
                return
            if state.gone:
                return
            log.error("%s: forwarding failed", self.operation, exc_info=exc)
            await _problem(send, internal_error(self.operation))
            return
        streaming = StreamingResponse(response.chunks, status_code=response.status)
        streaming.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
        ]
        try:
            await streaming(scope, receive, send)
        finally:
            response.close()


class _BodyState:
    __slots__ = ("gone", "too_large")

    def __init__(self) -> None:
        self.too_large = False
        self.gone = False


async def _stream_body(receive: Receive, limit: int | None, state: _BodyState) -> AsyncIterator[bytes]:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            state.gone = True
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if limit is not None and size > limit:
                state.too_large = True
                raise ClientGone
            yield chunk
        if not message.get("more_body", False):
            return


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
                    ForwardEndpoint(forward, _forwarder(forward, context, self.namespace), tail, options),
                )
            )
        self.forwards = [endpoint for _, endpoint in forwards]
        self.forward_router: Router[ForwardEndpoint] = Router.build(forwards, tail=_FORWARD_TAIL)
        self._openapi: dict[str, Any] | None = None

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
                await _problem(send, internal_error(None))

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal, origin = self.browsers.admit(scope)  # before anything else: a foreign page gets nothing
        if refusal is not None:
            await send_refusal(send, refusal)
            return
        if origin is not None:
            if is_preflight(scope):
                headers = preflight_headers(scope, origin, _PREFLIGHT_METHODS)
                await _answer(send, 204, headers, b"", False)
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
                await _problem(send, denied, method == "HEAD")
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
        elif await self._serve_description(path, scope, send, method):
            return
        forward = self.forward_router.match(path)
        if forward is not None:
            await forward.target(scope, receive, send, forward.values)
            return
        if match is not None:
            await _problem(send, method_not_allowed(method, match.target.allow), method == "HEAD")
            return
        await _problem(send, not_found(), method == "HEAD")

    async def _serve_description(self, path: str, scope: Scope, send: Send, method: str) -> bool:
        """The OpenAPI description (JSON, YAML) and the docs page; False for any other path."""
        options = self.options
        answer = None
        if options.openapi_path is not None and options.docs_path is not None:
            answer = docs_answer(path, options.docs_path, options.openapi_path)
        if answer is None and path not in (options.openapi_path, options.openapi_yaml_path):
            return False
        if method not in ("GET", "HEAD"):
            await _problem(send, method_not_allowed(method, "GET, HEAD"))
            return True
        if answer is None:
            answer = self._openapi_answer(scope, yaml=path == options.openapi_yaml_path)
        await _answer(send, *answer, method == "HEAD")
        return True

    def _openapi_answer(self, scope: Scope, *, yaml: bool) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _forwarder(forward: RestForward, context: AdapterContext, namespace: str) -> Forwarder:
    return context.forwarder(f"{namespace}.forward {forward.path}", forward.forward, forward.base_uri)


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
