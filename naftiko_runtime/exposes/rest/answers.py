"""Writing an answer on raw ASGI: every REST endpoint sends its response through these two calls, so
a ``HEAD`` request gets the same status and headers without a body, in one place."""

from __future__ import annotations

from starlette.types import Send

from .problems import Problem


async def answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, head: bool
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_problem(send: Send, problem: Problem, head: bool = False) -> None:
    status, headers, body = problem.encode()
    await answer(send, status, headers, body, head)
