"""Draining a serving process on SIGTERM so that no request is lost, behind any load balancer.

A replica that is told to stop goes through three phases:

1. **Unready, still serving** (``--drain-delay`` seconds). ``/health/ready`` answers 503 at once,
   so the load balancer (a Kubernetes Service, an ingress) takes the replica out of rotation; until
   it has, new connections are still accepted and answered. Every answer from now on carries
   ``Connection: close``, so clients and proxies move their kept-alive connections elsewhere.
2. **Not accepting, finishing** (up to ``--shutdown-timeout`` seconds). The listening sockets close
   (the control adapter's last, so readiness stays observable); requests in flight finish. A
   kept-alive connection stays open meanwhile, and a request that arrives on it is answered, with
   ``Connection: close``, instead of being reset: a proxy that had already written it there (nginx
   with upstream keep-alive does) would otherwise lose it, and a POST is never retried.
3. **Out of time.** A request still running is cancelled and answered by its adapter's own kind of
   error (:class:`DrainGate`): RFC 9457 problem+json on REST, skill and control, a JSON-RPC error on
   MCP; never uvicorn's bare plain-text 500. A second SIGINT/SIGTERM jumps straight here.

Idle kept-alive connections are closed at the end, when nothing is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ..observability.context import current_unit
from .uvicorn_compat import in_flight, listening

log = logging.getLogger("naftiko.serve")

Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]
Interrupted = Callable[[Any, float, str | None], Answer]
"""The answer to a request cut off by the shutdown timeout, from ``(scope, timeout, unit)``: the
unit it was running, if one had started."""

_CLOSE = (b"connection", b"close")
_POLL = 0.05


class Drain:
    """The shutdown of one serving process: its phase, and the timings it runs by.

    Shared by every :class:`DrainGate` of the process; :meth:`run` moves it through the phases.
    """

    def __init__(self, delay: float = 0.0, timeout: float = 10.0) -> None:
        self.delay = delay
        self.timeout = timeout
        self.draining = False
        """Phase 1 has begun: answers carry ``Connection: close``, and a request cancelled from now
        on (only the shutdown cancels a request's task) is answered by its gate."""
        self._hurry = asyncio.Event()

    def hurry(self) -> None:
        """Skip what is left of the delay and of the timeout (a second signal)."""
        self._hurry.set()

    async def run(self, servers: Sequence[uvicorn.Server], last: Sequence[bool]) -> None:
        """Phases 1 to 3 for ``servers``; ``last[i]`` marks the ones that stop accepting last.

        Returns when nothing is in flight any more: the caller then lets uvicorn close the idle
        connections and run the lifespan shutdown.
        """
        self.draining = True
        if self.delay > 0 and not self._hurry.is_set():
            log.info("draining: unready, still accepting for %.3g s", self.delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), self.delay)
        deadline = asyncio.get_running_loop().time() + self.timeout
        first = [server for server, late in zip(servers, last, strict=True) if not late]
        then = [server for server, late in zip(servers, last, strict=True) if late]
        for group in (first, then):
            _stop_accepting(group)
            await self._finish(group, deadline)

    async def _finish(self, servers: Sequence[uvicorn.Server], deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            running = _in_flight(servers)
            left = deadline - loop.time()
            if not running:
                return
            if left <= 0 or self._hurry.is_set():
                break
            hurry = asyncio.ensure_future(self._hurry.wait())
            # New requests may still arrive on kept-alive connections: look again every _POLL.
            await asyncio.wait([*running, hurry], timeout=min(left, _POLL), return_when="FIRST_COMPLETED")
            hurry.cancel()
        log.warning("shutdown timeout: answering %d request(s) still running with an error", len(running))
        for task in running:
            task.cancel("shutdown timeout")
        await asyncio.wait(running, timeout=1.0)


def _stop_accepting(servers: Sequence[uvicorn.Server]) -> None:
    for server in servers:
        for accepting in listening(server):
            accepting.close()


def _in_flight(servers: Sequence[uvicorn.Server]) -> list[asyncio.Task[Any]]:
    return [task for server in servers for task in in_flight(server) if not task.done()]


class DrainGate:
    """ASGI middleware of one adapter: ``Connection: close`` while draining, and an adapter-shaped
    answer for a request the shutdown timeout cuts off.

    Outside a drain a request costs one attribute test and a ``try`` (bench/drain.py measures it).
    """

    __slots__ = ("app", "drain", "interrupted")

    def __init__(self, app: ASGIApp, drain: Drain, interrupted: Interrupted) -> None:
        self.app = app
        self.drain = drain
        self.interrupted = interrupted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        drain = self.drain
        if drain.draining:
            send = _closing(send)
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not drain.draining:
                raise
            status, headers, payload = self.interrupted(scope, drain.timeout, current_unit())
            try:
                await send({"type": "http.response.start", "status": status, "headers": [*headers, _CLOSE]})
            except RuntimeError:  # the answer had begun: the server refuses a second start (ASGI)
                raise asyncio.CancelledError from None
            await send({"type": "http.response.body", "body": payload})


def _closing(send: Send) -> Any:
    async def send_closing(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
        await send(message)

    return send_closing
