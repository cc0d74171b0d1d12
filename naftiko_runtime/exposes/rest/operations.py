"""One exposed operation on the wire: request → arguments → ``unit.invoke`` → JSON (or binary) answer.

The request is read by the route's :class:`~.arguments.RequestReader`; every failure becomes a
problem document naming the operation, with inputs named and placed as the request carries them.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import Receive, Scope, Send

from ...engine.contract import Result
from ...engine.plans import RestRoute
from ...errors import InvocationError, UpstreamError
from ...errors.classify import classify
from .answers import answer, send_problem
from .arguments import ClientGone, Reject, RequestReader
from .options import RestOptions
from .problems import from_failure, internal_error, upstream_passthrough
from .routing import PathTemplate

log = logging.getLogger("naftiko.rest")

_JSON_HEADERS = (b"content-type", b"application/json")
_NO_BODY = frozenset({204, 205, 304})


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
            await send_problem(send, reject.problem, head)
            return
        except ClientGone:
            return
        except InvocationError as exc:
            await self._failed(send, exc, head)
            return
        except Exception as exc:
            log.error("%s: unexpected failure", self.operation, exc_info=exc)
            await send_problem(send, internal_error(self.operation), head)
            return
        await answer(send, *encode_result(result, self.unit.media_type), head)

    async def _failed(self, send: Send, exc: InvocationError, head: bool) -> None:
        failure = classify(exc, self.operation)
        if failure.passthrough and isinstance(exc, UpstreamError):
            await answer(send, *upstream_passthrough(exc, failure.headers), head)
            return
        reader = self.reader
        await send_problem(send, from_failure(failure, reader.wire_names, reader.locations), head)


def encode_result(
    result: Result, media_type: str | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
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
