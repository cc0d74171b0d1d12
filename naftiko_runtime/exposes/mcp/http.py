"""Streamable HTTP transport: one POST, one JSON-RPC message, one answer (JSON or a one-event SSE stream).

The endpoint is a plain ASGI callable rather than the SDK's session manager: the SDK spawns a
transport, memory streams and a task per stateless request, which caps ``tools/call`` at a few
thousand per second on two cores before any upstream is called; this path does the same protocol
work in a handful of dict operations (figures in tests/mcp/conformance/NOTES.md).

There is no server-side session. ``Mcp-Session-Id`` is neither issued nor required, so every
replica answers every request; GET (a standalone SSE stream for server-initiated messages) and
DELETE (session termination) have nothing to serve and answer 405, as the spec allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from mcp.shared.inbound import find_duplicated_routing_header
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..asgi import FastPathApp
from ..oauth import WELL_KNOWN_PREFIX
from ..origin import BrowserPolicy, cors_headers
from .auth import Denial, Guard, OAuth2Guard, StaticGuard
from .catalog import ApiKeyAuth, BasicAuth, BearerAuth, McpCatalog, McpSecurity, OAuth2Auth
from .jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    RpcError,
    encode,
    error_message,
)
from .news import Channel, requested_news
from .protocol import McpProtocol, Reply

logger = logging.getLogger("naftiko.mcp")

_JSON = [(b"content-type", b"application/json")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache, no-transform")]
_MCP_PATHS = frozenset({"/mcp", "/"})
_CORS_EXPOSE = b"mcp-session-id, www-authenticate"
_REQUEST_ID = "naftiko.mcp.request_id"
_CORS_ALLOW_HEADERS = (
    b"content-type, accept, authorization, last-event-id, "
    b"mcp-protocol-version, mcp-session-id, mcp-method, mcp-name"
)


class McpEndpoint:
    """The ASGI app answering at ``/mcp`` (and ``/``)."""

    def __init__(
        self, protocol: McpProtocol, guard: Guard | None, browsers: BrowserPolicy, max_body: int
    ) -> None:
        self.protocol = protocol
        self.guard = guard
        self.browsers = browsers
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal, origin = self.browsers.admit(scope)
        if refusal is not None:
            await _deny(send, Denial(403, refusal.error, refusal.description), None)
            return
        raw_headers = scope["headers"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
        cors = cors_headers(origin, _CORS_EXPOSE) if origin is not None else []
        method = scope["method"]
        if method == "OPTIONS":
            preflight = [
                *cors,
                (b"access-control-allow-methods", b"POST, GET, DELETE, OPTIONS"),
                (b"access-control-allow-headers", _CORS_ALLOW_HEADERS),
                (b"access-control-max-age", b"600"),
            ]
            await _send(send, 204, preflight, b"")
            return
        if self.guard is not None:
            try:
                denial = await self.guard.check(headers, scope.get("query_string", b""))
            except Exception:
                logger.exception("MCP authentication check failed unexpectedly")
                denial = Denial(500, "server_error", "the credentials could not be checked")
            if denial is not None:
                await _deny(send, denial, cors)
                return
        if method != "POST":
            # No standalone SSE stream (nothing is ever pushed) and no session to delete.
            await _rpc_failure(
                send, 405, "Method Not Allowed: this server answers POST only", cors, allow=True
            )
            return
        await self._post(scope, receive, send, headers, raw_headers, cors)

    async def _post(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        raw_headers: list[tuple[bytes, bytes]],
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        sse = _wants_sse(headers.get("accept"))
        if sse is None:
            await _rpc_failure(
                send, 406, "Not Acceptable: accept application/json or text/event-stream", cors
            )
            return
        content_type = headers.get("content-type")
        if content_type is not None and "json" not in content_type.split(";", 1)[0].lower():
            await _rpc_failure(
                send, 415, "Unsupported Media Type: Content-Type must be application/json", cors
            )
            return
        body = await _read_body(receive, self.max_body, headers.get("content-length"))
        if body is None:
            await _rpc_failure(send, 413, "Request body too large", cors)
            return
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            await _rpc_failure(send, 400, "Parse error: the body is not valid JSON", cors, code=PARSE_ERROR)
            return
        if isinstance(message, dict):
            scope[_REQUEST_ID] = message.get("id")  # for an answer at the shutdown timeout
        version = headers.get("mcp-protocol-version")
        if version in MODERN_PROTOCOL_VERSIONS:
            duplicated = find_duplicated_routing_header((k.decode("latin-1"), "") for k, _ in raw_headers)
            if duplicated is not None:
                await _rpc_failure(
                    send, 400, f"{duplicated} header appears more than once", cors, HEADER_MISMATCH
                )
                return
        if _accepts_sse(headers.get("accept")):
            params = message.get("params") if isinstance(message, dict) else None
            if isinstance(params, dict) and requested_news(params):
                await self._stream(send, message, headers, cors, sse)
                return
        try:
            reply = await self.protocol.handle(message, headers)
        except Exception:
            # The dispatcher turns every expected failure into a reply; this is a bug, not a crash.
            logger.exception("MCP request failed unexpectedly")
            request_id = message.get("id") if isinstance(message, dict) else None
            error = RpcError(-32603, "Internal error")
            await _send(send, 500, _JSON + cors, encode(error_message(request_id, error)))
            return
        if reply.message is None:
            await _send(send, 202, cors, b"")
            return
        if sse and reply.status == 200:
            await _send(send, 200, _SSE + cors, _event(reply.message))
        else:
            await _send(send, reply.status, _JSON + cors, encode(reply.message))

    async def _stream(
        self,
        send: Send,
        message: dict[str, Any],
        headers: dict[str, str],
        cors: list[tuple[bytes, bytes]],
        sse: bool,
    ) -> None:
        """A request that asked for progress or log notifications: they go on its own SSE response,
        opened when the first one is ready, before the result. If none came, the reply is sent as
        usual (JSON when the client takes it)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        call = asyncio.ensure_future(self.protocol.handle(message, headers, Channel(queue.put_nowait)))
        opened = False
        try:
            while not call.done() or not queue.empty():
                if queue.empty():
                    news = asyncio.ensure_future(queue.get())
                    await asyncio.wait({call, news}, return_when=asyncio.FIRST_COMPLETED)
                    if not news.done():
                        news.cancel()
                        continue
                    notification = news.result()
                else:
                    notification = queue.get_nowait()
                if not opened:
                    await send({"type": "http.response.start", "status": 200, "headers": _SSE + cors})
                    opened = True
                await send({"type": "http.response.body", "body": _event(notification), "more_body": True})
        finally:
            if not call.done():  # the client went away (or the server is stopping): stop the call
                call.cancel()
        try:
            reply = call.result()
        except Exception:
            logger.exception("MCP request failed unexpectedly")
            reply = Reply(error_message(message.get("id"), RpcError(INTERNAL_ERROR, "Internal error")), 500)
        if opened:
            await send(
                {"type": "http.response.body", "body": _event(reply.message or {}), "more_body": False}
            )
        elif reply.message is None:
            await _send(send, 202, cors, b"")
        elif sse and reply.status == 200:
            await _send(send, 200, _SSE + cors, _event(reply.message))
        else:
            await _send(send, reply.status, _JSON + cors, encode(reply.message))


def _event(message: dict[str, Any]) -> bytes:
    return b"event: message\ndata: " + encode(message) + b"\n\n"


def _accepts_sse(accept: str | None) -> bool:
    return accept is not None and "text/event-stream" in accept.lower()


def interrupted_by_shutdown(scope: Scope, timeout: float) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer to a request still running when the server's shutdown timeout ran out: a JSON-RPC
    error for the request's ``id`` (noted in the scope when the request was read), at 503, which
    clients surface as the request's error."""
    request_id = scope.get(_REQUEST_ID)
    error = RpcError(
        INTERNAL_ERROR,
        f"the server shut down before this request finished (shutdown timeout {timeout:g} s); "
        "whether it took effect is unknown: retry it only if it is safe to repeat",
    )
    return 503, list(_JSON), encode(error_message(request_id, error))


def _wants_sse(accept: str | None) -> bool | None:
    """``False`` for JSON, ``True`` for SSE, ``None`` when the client accepts neither.

    JSON whenever the client takes it (both forms carry the same single message, JSON is cheaper);
    SSE when it is all the client takes.
    """
    if not accept:
        return False
    kinds = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if kinds & {"application/json", "application/*", "*/*"}:
        return False
    if "text/event-stream" in kinds:
        return True
    return None


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes | None:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _rpc_failure(
    send: Send,
    status: int,
    text: str,
    cors: list[tuple[bytes, bytes]],
    code: int = INVALID_REQUEST,
    *,
    allow: bool = False,
) -> None:
    headers = _JSON + cors + ([(b"allow", b"POST, OPTIONS")] if allow else [])
    await _send(send, status, headers, encode(error_message(None, RpcError(code, text))))


async def _deny(send: Send, denial: Denial, cors: list[tuple[bytes, bytes]] | None) -> None:
    headers = (
        _JSON + (cors or []) + [(k.encode("latin-1"), v.encode("latin-1")) for k, v in denial.headers.items()]
    )
    await _send(send, denial.status, headers, encode(denial.body()))


def _guard_for(security: McpSecurity | None) -> Guard | None:
    auth = security.auth if security is not None else None
    if auth is None:
        return None
    if isinstance(auth, BearerAuth | ApiKeyAuth | BasicAuth):
        return StaticGuard(auth)
    if isinstance(auth, OAuth2Auth):
        return OAuth2Guard(auth)
    raise TypeError(f"unsupported MCP authentication: {type(auth).__name__}")


def build_mcp_app(catalog: McpCatalog, security: McpSecurity | None = None) -> Starlette:
    """The Streamable HTTP server of one MCP expose, at ``/mcp`` and ``/``.

    With ``OAuth2Auth`` the protected-resource metadata is also served (unauthenticated) at
    ``/.well-known/oauth-protected-resource`` and below it at the resource's path.
    """
    security = security or McpSecurity()
    guard = _guard_for(security)
    protocol = McpProtocol(catalog, private=guard is not None)
    browsers = BrowserPolicy(security.allowed_origins, security.allowed_hosts)
    endpoint = McpEndpoint(protocol, guard, browsers, security.max_body_bytes)
    routes = [Route(path, endpoint) for path in sorted(_MCP_PATHS)]
    if isinstance(guard, OAuth2Guard):
        routes[:0] = _metadata_routes(guard)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if isinstance(guard, OAuth2Guard):
                await guard.aclose()

    app = FastPathApp(endpoint, _owns, routes=routes, lifespan=lifespan)
    app.state.mcp_protocol = protocol
    return app


def _owns(scope: Scope) -> bool:
    """The endpoint's paths take the fast path, mounted or not; the well-known metadata and 404s go
    through Starlette."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return (path[len(root) :] if root and path.startswith(root) else path) in _MCP_PATHS


def _metadata_routes(guard: OAuth2Guard) -> list[Route]:
    document = guard.server.protected_resource_metadata()

    async def metadata(request: Request) -> Response:
        return JSONResponse(
            document, headers={"access-control-allow-origin": "*", "cache-control": "max-age=300"}
        )

    paths = dict.fromkeys([*guard.server.metadata_paths(), WELL_KNOWN_PREFIX + "/mcp"])
    return [Route(path, metadata, methods=["GET"]) for path in paths]
