"""Step-by-step news of a running unit, for whoever is watching it.

An adapter that can tell its caller how a call is going (MCP: ``notifications/progress`` and
``notifications/message`` on the request's own stream) sets a :class:`UnitWatcher` around the
invocation; the engine reports each step as it starts and ends. The watcher lives in a context
variable, so concurrent steps (tasks copy the context) report to the same one and nothing is threaded
through the engine's signatures. Without a watcher each report is one context-variable lookup.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Protocol


class UnitWatcher(Protocol):
    """Receives a unit's steps. ``total`` is the number of steps; a unit with one call has one."""

    def step_started(self, step: str, target: str, total: int) -> None: ...

    def step_finished(self, step: str, target: str, done: int, total: int, detail: str) -> None: ...


_WATCHER: ContextVar[UnitWatcher | None] = ContextVar("naftiko_unit_watcher", default=None)


def watch(watcher: UnitWatcher) -> Token[UnitWatcher | None]:
    """Report the steps of what runs in this context (until :func:`unwatch`) to ``watcher``."""
    return _WATCHER.set(watcher)


def unwatch(token: Token[UnitWatcher | None]) -> None:
    _WATCHER.reset(token)


def current_watcher() -> UnitWatcher | None:
    return _WATCHER.get()
