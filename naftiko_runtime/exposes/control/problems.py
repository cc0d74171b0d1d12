"""Errors of the control adapter as RFC 9457 problem documents, and a size-limited body reader."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..problem import Problem


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    code, headers, body = Problem(status, title, detail, extra=extra).encode()
    return Response(body, code, headers={k.decode(): v.decode() for k, v in headers})


async def read_limited(request: Request, limit: int) -> bytes | Response:
    """The request body, or a 413 problem once it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    too_large = problem(
        413, "Content Too Large", f"the body exceeds {limit} bytes, the most this endpoint reads"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)
