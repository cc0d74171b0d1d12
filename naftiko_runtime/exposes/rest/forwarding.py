"""A ``forward`` resource on the wire: everything under its path streamed to the target namespace and
back, bodies bounded, a client that leaves mid-body leaving no trace but a closed upstream request.

How the upstream request is made (headers kept, credentials added, path checked) is
:class:`~naftiko_runtime.consumes.forward.Forwarder`'s; this module only moves the HTTP exchange.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ...consumes.forward import ENTITY_HEADERS, Forwarder, PathEscape
from ...engine.plans import AdapterContext, RestForward
from ...errors import InputProblem, InvocationError
from .answers import send_problem
from .arguments import ClientGone
from .options import RestOptions
from .problems import for_error, internal_error, invalid_input, payload_too_large

log = logging.getLogger("naftiko.rest")


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
            await send_problem(send, payload_too_large(self.limit, self.operation))
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
            await send_problem(send, invalid_input([problem], self.operation))
            return
        except InvocationError as exc:
            if state.too_large and self.limit is not None:
                await send_problem(send, payload_too_large(self.limit, self.operation))
            elif not state.gone:
                await send_problem(send, for_error(exc, self.operation))
            return
        except Exception as exc:
            if state.too_large and self.limit is not None:
                await send_problem(send, payload_too_large(self.limit, self.operation))
                return
            if state.gone:
                return
            log.error("%s: forwarding failed", self.operation, exc_info=exc)
            await send_problem(send, internal_error(self.operation))
            return
        streaming = StreamingResponse(response.chunks, status_code=response.status)
        streaming.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
        ]
        try:
            await streaming(scope, receive, send)
        finally:
            response.close()


def forwarder_for(forward: RestForward, context: AdapterContext, namespace: str) -> Forwarder:
    """The forwarder of one ``forward`` resource, over the runtime's upstream clients."""
    return context.forwarder(f"{namespace}.forward {forward.path}", forward.forward, forward.base_uri)


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
