"""Failing fast on an upstream that is down, and bounding how many calls wait on one.

A :class:`Circuit` counts consecutive calls that could not reach a consumed namespace (refused,
reset, connect or read timeout). At ``failures`` in a row it opens: calls fail at once with
:class:`~naftiko_runtime.errors.UpstreamCircuitOpen` (503, with when to retry) instead of each
waiting for its own timeout. After ``cooldown`` seconds one call is let through as a probe
(half-open): an answer, any answer, closes the circuit; another failure opens it again. An HTTP
error status is an answer: the upstream is up, and its status is the caller's business.

A :class:`Gate` caps the calls in flight to a namespace; up to ``queue`` more wait for a slot, and
beyond that a call fails at once with :class:`~naftiko_runtime.errors.UpstreamBusy` (503).

Both are per process and lock-free (one event loop), like the metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from ..errors import UpstreamBusy, UpstreamCircuitOpen

CLOSED, HALF_OPEN, OPEN = "closed", "half-open", "open"


class Circuit:
    """The circuit of one consumed namespace."""

    __slots__ = (
        "cooldown",
        "failures",
        "namespace",
        "opened",
        "opened_at",
        "probe_at",
        "reason",
        "state",
        "threshold",
    )

    def __init__(self, namespace: str, threshold: int, cooldown: float) -> None:
        self.namespace = namespace
        self.threshold = threshold
        self.cooldown = cooldown
        self.state = CLOSED
        self.failures = 0  # consecutive
        self.reason = ""
        self.opened_at = 0.0
        self.probe_at = 0.0
        self.opened = 0  # how many times it opened, for /metrics

    def admit(self, operation: str) -> None:
        """Let a call through, or raise :class:`UpstreamCircuitOpen`."""
        if self.state is CLOSED:
            return
        now = time.monotonic()
        if self.state is OPEN:
            left = self.opened_at + self.cooldown - now
            if left > 0:
                raise UpstreamCircuitOpen(operation, self.namespace, self.reason, left)
            self.state = HALF_OPEN
            self.probe_at = now
            return  # this call is the probe
        # Half-open: one probe at a time; a probe that never settled (cancelled) is replaced.
        if now - self.probe_at < self.cooldown:
            raise UpstreamCircuitOpen(operation, self.namespace, self.reason, self.cooldown)
        self.probe_at = now

    def succeeded(self) -> None:
        if self.failures or self.state is not CLOSED:
            self.failures = 0
            self.state = CLOSED

    def failed(self, reason: str) -> None:
        self.failures += 1
        if self.state is HALF_OPEN or (self.threshold and self.failures >= self.threshold):
            if self.state is not OPEN:
                self.opened += 1
            self.state = OPEN
            self.reason = reason
            self.opened_at = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"circuit": self.state, "consecutiveFailures": self.failures}
        if self.state is not CLOSED:
            out["reason"] = self.reason
            out["retryAfter"] = max(0, round(self.opened_at + self.cooldown - time.monotonic()))
        return out


class Gate:
    """At most ``limit`` calls in flight, ``queue`` more waiting (first come, first served)."""

    __slots__ = ("_waiters", "in_flight", "limit", "namespace", "queue", "refused")

    def __init__(self, namespace: str, limit: int, queue: int) -> None:
        self.namespace = namespace
        self.limit = limit
        self.queue = queue
        self.in_flight = 0
        self.refused = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, operation: str) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        if len(self._waiters) >= self.queue:
            self.refused += 1
            raise UpstreamBusy(operation, self.namespace, self.limit)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot is handed over by release(): in_flight already counts it
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as we were cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.in_flight -= 1

    @property
    def waiting(self) -> int:
        return len(self._waiters)
