"""A real HTTP upstream for tests: records every request, answers as programmed.

The runtime's job is to turn a capability document into upstream HTTP requests, so most tests end
with "and the upstream received exactly this". :class:`RecordingUpstream` is a Starlette app served
on a loopback port (through :class:`~tests.support.servers.ServerThread`) that keeps a
:class:`RecordedRequest` for each request as it came off the wire — the percent-encoded path, the
raw query string, every header value — and answers with whatever the test programmed:

.. code-block:: python

    with RecordingUpstream() as upstream:
        upstream.route("GET", "/ships/{imo}", json={"name": "Ever Given"})
        upstream.enqueue(status=503)                 # the next request only, whatever its path
        ...                                          # exercise the runtime against upstream.url
        assert upstream.last.raw_path == "/ships/IMO%209811000"
        assert upstream.last.headers["authorization"] == "Token abc123"

Unmatched requests get the default route: 200 with a JSON echo of what was received, so a test
can also assert on the response its code saw. :meth:`RecordingUpstream.stop` and
:meth:`RecordingUpstream.start` keep the port, routes and history, for "upstream down, then back".
All accessors are thread-safe; the server runs on its own thread and loop, so the same object
works from sync tests and from ``async`` tests.
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
import re
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeAlias
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from .servers import LOOPBACK, ServerThread

HeaderPairs: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]
HandlerResult: TypeAlias = tuple[int, HeaderPairs | None, Any]
Handler: TypeAlias = Callable[["RecordedRequest"], HandlerResult | Awaitable[HandlerResult]]

_UNSET: Any = object()


# -- what was received -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RecordedRequest:
    """One request exactly as the upstream received it."""

    method: str
    raw_path: str
    """The path as sent on the wire, still percent-encoded (``/ships/IMO%209811000``)."""
    path: str
    """The percent-decoded path (``/ships/IMO 9811000``)."""
    raw_query: str
    """The query string as sent, without the ``?`` (``q=a%20b&tag=1&tag=2``)."""
    query: dict[str, list[str]]
    """Decoded query parameters, every value of a repeated name, blanks kept."""
    query_items: tuple[tuple[str, str], ...]
    """Decoded query parameters in wire order."""
    headers: Headers
    """Case-insensitive and multi-valued: ``headers["authorization"]``, ``headers.getlist("x-tag")``."""
    body: bytes
    json: Any
    """The body parsed as JSON, or None when it is empty or not JSON (see :attr:`is_json`)."""
    is_json: bool
    received_at: float
    """``time.monotonic()`` when the request arrived (compare two requests for retry spacing)."""
    timestamp: float
    """``time.time()`` when the request arrived."""
    http_version: str = "1.1"
    client: tuple[str, int] | None = None
    route: str | None = None
    """The pattern of the programmed route that answered, or None for the default echo."""
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def target(self) -> str:
        """The request target as on the wire: raw path plus ``?raw_query`` when there is one."""
        return f"{self.raw_path}?{self.raw_query}" if self.raw_query else self.raw_path

    def query_param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, list[str]]:
        """The body read as ``application/x-www-form-urlencoded``."""
        out: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.text, keep_blank_values=True):
            out.setdefault(key, []).append(value)
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary (what the default route echoes back)."""
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return {
            "method": self.method,
            "path": self.path,
            "raw_path": self.raw_path,
            "raw_query": self.raw_query,
            "query": self.query,
            "headers": headers,
            "body": self.text,
            "json": self.json,
        }

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.target} ({len(self.body)} bytes)>"


# -- what to answer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A programmed answer: a fixed response, or a handler that computes one."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None
    delay: float = 0.0
    handler: Handler | None = None

    @classmethod
    def build(
        cls,
        *,
        json: Any = _UNSET,
        text: str | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        status: int = 200,
        headers: HeaderPairs | None = None,
        delay: float = 0.0,
        handler: Handler | None = None,
    ) -> Reply:
        """Validate the keyword combination used by ``route()`` and ``enqueue()``."""
        chosen = {"json": json is not _UNSET, "text": text is not None, "body": body is not None}
        chosen["handler"] = handler is not None
        given = [name for name, present in chosen.items() if present]
        if len(given) > 1:
            raise ValueError(f"give at most one of json=, text=, body=, handler= (got {', '.join(given)})")
        if delay < 0:
            raise ValueError("delay must be >= 0")
        payload = b""
        if json is not _UNSET:
            payload = _json_bytes(json)
            content_type = content_type or "application/json"
        elif text is not None:
            payload = text.encode("utf-8")
            content_type = content_type or "text/plain; charset=utf-8"
        elif body is not None:
            payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return cls(status, _header_pairs(headers), payload, content_type, delay, handler)


@dataclass
class Route:
    """A programmed route. ``hits`` counts the requests it answered; ``times`` what it has left."""

    method: str
    pattern: str
    reply: Reply
    times: int | None = None
    hits: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._regex = _compile_pattern(self.pattern)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def match(self, method: str, raw_path: str, path: str) -> dict[str, str] | None:
        """Path parameters if this route answers ``method raw_path``, else None."""
        if self.method not in ("*", method) or self.exhausted:
            return None
        found = self._regex.fullmatch(raw_path)
        if found is not None:
            return {key: unquote(value) for key, value in found.groupdict().items()}
        found = self._regex.fullmatch(path)
        return dict(found.groupdict()) if found is not None else None


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    """``/ships/{imo}`` -> one segment per ``{name}``; ``{rest:path}`` spans slashes; ``*`` anything."""
    if pattern == "*":
        return re.compile(r".*")
    regex, position = "", 0
    for found in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(path))?\}", pattern):
        regex += re.escape(pattern[position : found.start()])
        regex += f"(?P<{found.group(1)}>{'.*' if found.group(2) else '[^/]+'})"
        position = found.end()
    regex += re.escape(pattern[position:])
    return re.compile(regex)


# -- the upstream ----------------------------------------------------------------------------------


class RecordingUpstream:
    """A recording, programmable HTTP upstream on a loopback port.

    Answer selection, first match wins: the one-shot queue (:meth:`enqueue`, oldest first), then
    routes (:meth:`route`, the most recently added first, skipping those whose ``times`` are used
    up), then the default JSON echo.
    """

    def __init__(
        self, host: str = LOOPBACK, port: int | None = None, *, graceful_timeout: float = 1.0
    ) -> None:
        self._cond = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._routes: list[Route] = []
        self._queue: list[tuple[str, re.Pattern[str] | None, Reply]] = []
        self._errors: list[str] = []
        self._stopping = threading.Event()
        self.app = Starlette(routes=[StarletteRoute("/{path:path}", _Endpoint(self))])
        self._server = ServerThread(self.app, host=host, port=port, graceful_timeout=graceful_timeout)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve (again) on the same port; routes and history are kept."""
        self._stopping.clear()
        self._server.start()
        return self

    def stop(self) -> None:
        """Close the port: clients now get "connection refused". Requests waiting on a ``delay`` end."""
        self._stopping.set()
        self._server.stop()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, stable across stop/start."""
        return self._server.url

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def running(self) -> bool:
        return self._server.running

    # -- programming ------------------------------------------------------------------------------

    def route(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        text: str | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        status: int = 200,
        headers: HeaderPairs | None = None,
        delay: float = 0.0,
        handler: Handler | None = None,
        times: int | None = None,
    ) -> Route:
        """Answer ``method path`` as described. ``method`` ``"*"`` matches any method.

        ``path`` may hold ``{name}`` (one segment) and ``{name:path}`` (several) placeholders; it is
        matched against the raw path and then the decoded one. The answer is ``json=`` (encoded,
        ``application/json``), ``text=`` (``text/plain``), ``body=`` bytes with ``content_type=``,
        or a ``handler(request) -> (status, headers, body)`` (sync or async; a body that is not
        bytes or str is sent as JSON). ``delay`` seconds pass before answering (for timeouts).
        ``times`` limits how many requests the route answers; a newer route for the same path
        overrides an older one until it is used up.
        """
        reply = Reply.build(
            json=json,
            text=text,
            body=body,
            content_type=content_type,
            status=status,
            headers=headers,
            delay=delay,
            handler=handler,
        )
        new = Route(method, path, reply, times=times)
        with self._cond:
            self._routes.append(new)
        return new

    def enqueue(
        self,
        *,
        json: Any = _UNSET,
        text: str | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        status: int = 200,
        headers: HeaderPairs | None = None,
        delay: float = 0.0,
        handler: Handler | None = None,
        method: str = "*",
        path: str | None = None,
    ) -> None:
        """Answer the next matching request once (before any route). Queue several for a sequence.

        ``upstream.enqueue(status=503); upstream.enqueue(status=503)`` then a route with the normal
        answer is a "fails twice, then recovers" upstream. ``method``/``path`` restrict which
        request consumes the entry (default: any).
        """
        reply = Reply.build(
            json=json,
            text=text,
            body=body,
            content_type=content_type,
            status=status,
            headers=headers,
            delay=delay,
            handler=handler,
        )
        pattern = _compile_pattern(path) if path is not None else None
        with self._cond:
            self._queue.append((method.upper(), pattern, reply))

    @property
    def routes(self) -> list[Route]:
        with self._cond:
            return list(self._routes)

    @property
    def pending(self) -> int:
        """How many one-shot answers are still queued."""
        with self._cond:
            return len(self._queue)

    # -- what was received ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def last(self) -> RecordedRequest:
        """The most recent request; AssertionError if none arrived (so a test fails legibly)."""
        with self._cond:
            if not self._requests:
                raise AssertionError(f"the upstream at {self.url} received no request")
            return self._requests[-1]

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handlers that raised (each such request was answered 500)."""
        with self._cond:
            return list(self._errors)

    def requests_for(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests with this method and/or a path matching this pattern (same syntax as ``route``)."""
        regex = _compile_pattern(path) if path is not None else None
        return [
            request
            for request in self.requests
            if (method is None or request.method == method.upper())
            and (regex is None or regex.fullmatch(request.raw_path) or regex.fullmatch(request.path))
        ]

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests have arrived; TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"{len(self._requests)} of {count} requests arrived within {timeout:g} s")
            return list(self._requests)

    async def wait_for_requests_async(self, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """:meth:`wait_for_requests` for async tests (does not block the test's event loop)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if len(self._requests) >= count:
                    return list(self._requests)
                arrived = len(self._requests)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{arrived} of {count} requests arrived within {timeout:g} s")
            await asyncio.sleep(0.01)

    def clear_requests(self) -> None:
        """Forget the recorded requests (and handler errors); keep routes and the queue."""
        with self._cond:
            self._requests.clear()
            self._errors.clear()

    def reset(self) -> None:
        """Back to a fresh upstream: no requests, routes, queued answers or errors."""
        with self._cond:
            self._requests.clear()
            self._routes.clear()
            self._queue.clear()
            self._errors.clear()

    def __repr__(self) -> str:
        return f"<RecordingUpstream {self._server!r} {len(self._requests)} requests>"

    # -- serving (runs on the server thread) ------------------------------------------------------

    def _select(
        self, method: str, raw_path: str, path: str
    ) -> tuple[Reply | None, Route | None, dict[str, str]]:
        with self._cond:
            for index, (want, pattern, reply) in enumerate(self._queue):
                if want not in ("*", method):
                    continue
                params: dict[str, str] = {}
                if pattern is not None:
                    found = pattern.fullmatch(raw_path)
                    if found is not None:
                        params = {key: unquote(value) for key, value in found.groupdict().items()}
                    elif (found := pattern.fullmatch(path)) is not None:
                        params = dict(found.groupdict())
                    else:
                        continue
                del self._queue[index]
                return reply, None, params
            for route in reversed(self._routes):
                params = route.match(method, raw_path, path)
                if params is not None:
                    route.hits += 1
                    return route.reply, route, params
        return None, None, {}

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _record_error(self, text: str) -> None:
        with self._cond:
            self._errors.append(text)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the upstream is being stopped."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.05))

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at, timestamp = time.monotonic(), time.time()
        request = Request(scope, receive)
        body = await request.body()
        raw_path = _raw_path(scope)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        method = scope["method"].upper()
        path = scope["path"]
        reply, route, params = self._select(method, raw_path, path)
        query_items = tuple(parse_qsl(raw_query, keep_blank_values=True))
        query: dict[str, list[str]] = {}
        for key, value in query_items:
            query.setdefault(key, []).append(value)
        parsed, is_json = _try_json(body)
        client = scope.get("client")
        recorded = RecordedRequest(
            method=method,
            raw_path=raw_path,
            path=path,
            raw_query=raw_query,
            query=query,
            query_items=query_items,
            headers=Headers(raw=list(scope["headers"])),
            body=body,
            json=parsed,
            is_json=is_json,
            received_at=received_at,
            timestamp=timestamp,
            http_version=scope.get("http_version", "1.1"),
            client=(client[0], client[1]) if client else None,
            route=route.pattern if route is not None else None,
            path_params=params,
        )
        self._record(recorded)

        if reply is None:
            response = Response(_json_bytes(recorded.describe()), 200, media_type="application/json")
            await response(scope, receive, send)
            return
        if reply.delay:
            await self._sleep(reply.delay)
        if reply.handler is not None:
            response = await self._run_handler(reply.handler, recorded)
        else:
            response = Response(reply.body, reply.status, media_type=reply.content_type)
            _add_headers(response, reply.headers)
        await response(scope, receive, send)

    async def _run_handler(self, handler: Handler, recorded: RecordedRequest) -> Response:
        try:
            result = handler(recorded)
            if inspect.isawaitable(result):
                result = await result
            status, headers, content = result  # type: ignore[misc]
        except Exception as exc:
            self._record_error(traceback.format_exc())
            message = {"error": f"RecordingUpstream handler raised {type(exc).__name__}: {exc}"}
            return Response(_json_bytes(message), 500, media_type="application/json")
        pairs = _header_pairs(headers)
        has_type = any(name.lower() == "content-type" for name, _ in pairs)
        if isinstance(content, bytes | bytearray):
            payload, media = bytes(content), None
        elif isinstance(content, str):
            payload, media = content.encode("utf-8"), "text/plain; charset=utf-8"
        elif content is None:
            payload, media = b"", None
        else:
            payload, media = _json_bytes(content), "application/json"
        response = Response(payload, status, media_type=None if has_type else media)
        _add_headers(response, pairs)
        return response


class _Endpoint:
    """The catch-all ASGI endpoint. An object, not a function, so Starlette passes every method."""

    def __init__(self, upstream: RecordingUpstream) -> None:
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.upstream._handle(scope, receive, send)


# -- helpers ---------------------------------------------------------------------------------------


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1")
    return str(scope["path"])  # servers that omit raw_path; uvicorn always sets it


def _try_json(body: bytes) -> tuple[Any, bool]:
    if not body.strip():
        return None, False
    try:
        return jsonlib.loads(body), True
    except ValueError:
        return None, False


def _json_bytes(value: Any) -> bytes:
    return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _header_pairs(headers: HeaderPairs | None) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(name), str(value)) for name, value in items)


def _add_headers(response: Response, pairs: Iterable[tuple[str, str]]) -> None:
    """Set programmed headers; a name given twice is sent twice (``Set-Cookie``, ``Link``)."""
    seen: set[str] = set()
    for name, value in pairs:
        key = name.lower()
        if key in seen:
            response.headers.append(name, value)
        else:
            response.headers[name] = value
            seen.add(key)
