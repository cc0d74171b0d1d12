"""``GET /traces`` (the last finished traces, filtered) and ``GET /traces/{traceId}`` (one, as a tree)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...observability.trace_buffer import local_buffer
from .problems import problem


def trace_routes(buffer_size: int) -> list[Route]:
    buffer = local_buffer(buffer_size)

    async def listing(request: Request) -> Response:
        status = request.query_params.get("status")
        if status and status.upper() not in ("OK", "ERROR"):
            return problem(400, "Bad Request", f"unknown status {status!r}: OK or ERROR", parameter="status")
        found = buffer.traces(operation=request.query_params.get("operation"), status=status)
        return JSONResponse(
            {
                "traces": [trace.summary() for trace in found],
                "bufferSize": buffer.capacity,
                "bufferUsed": len(buffer),
            }
        )

    async def one(request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        trace = buffer.get(trace_id)
        if trace is None:
            return problem(404, "Not Found", f"no trace {trace_id!r} in the last {buffer.capacity} traces")
        return JSONResponse(trace.tree())

    return [Route("/traces", listing), Route("/traces/{trace_id}", one)]
