"""Progress and log notifications of one ``tools/call``, sent on that request's own stream.

A client asks for them per request: ``params._meta.progressToken`` for ``notifications/progress``,
``params._meta["io.modelcontextprotocol/logLevel"]`` (the 2026-07-28 envelope; accepted in every
era) for ``notifications/message``. On stdio, a session level set with ``logging/setLevel`` (the
handshake era) applies to every later call of that session. Over HTTP there is no session, so a
level lasts one request: the notifications travel on that request's SSE response, before its
result, and any replica can answer it.

Progress counts the unit's steps (one for a unit with a single call): ``0/N`` when the first step
starts, ``k/N`` as each one ends. Log records say what ran, what each step's upstream answered and
how long it took, and why a call failed; never arguments, URLs or credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import LOG_LEVEL_META_KEY

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
_RANK = {level: rank for rank, level in enumerate(LOG_LEVELS)}
LOGGER_NAME = "naftiko"

Notify = Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class Session:
    """What a stdio connection remembers between requests: the level ``logging/setLevel`` chose,
    and whether the client has spoken the 2026-07-28 revision on it."""

    log_level: str | None = None
    modern: bool = False


@dataclass(frozen=True, slots=True)
class Channel:
    """Where a request's notifications go (its SSE stream, or the stdio line stream) and, on stdio,
    the session it belongs to."""

    notify: Notify
    session: Session | None = None


def requested_news(params: Mapping[str, Any]) -> bool:
    """Whether a request asks for notifications (a progress token or a log level in its ``_meta``):
    the HTTP transport only opens a stream for those."""
    meta = params.get("_meta")
    return isinstance(meta, dict) and ("progressToken" in meta or LOG_LEVEL_META_KEY in meta)


class CallNews:
    """A :class:`~naftiko_runtime.observability.progress.UnitWatcher` for one tool call."""

    __slots__ = ("_channel", "_level", "_moving", "_started", "_token", "_tool")

    def __init__(self, channel: Channel, tool: str, token: str | int | None, level: str | None) -> None:
        self._channel = channel
        self._tool = tool
        self._token = token
        self._level = _RANK[level] if level is not None else None
        self._started = time.perf_counter()
        self._moving = False  # progress sent yet (it must never go backwards)

    @classmethod
    def for_call(cls, channel: Channel | None, tool: str, params: Mapping[str, Any]) -> CallNews | None:
        """The news of a call, or ``None`` when nobody asked for any (or nothing could carry it)."""
        if channel is None:
            return None
        meta = params.get("_meta")
        meta = meta if isinstance(meta, dict) else {}
        token = meta.get("progressToken")
        if isinstance(token, bool) or not isinstance(token, str | int):
            token = None
        level = meta.get(LOG_LEVEL_META_KEY)
        if level not in _RANK:
            level = channel.session.log_level if channel.session is not None else None
        if token is None and level is None:
            return None
        return cls(channel, tool, token, level)

    # --- what the MCP layer reports ---------------------------------------------------------------

    def begin(self) -> None:
        self.log("info", f"tool {self._tool}: started")

    def end(self, failure: str | None) -> None:
        took = (time.perf_counter() - self._started) * 1000
        if failure is None:
            self.log("info", f"tool {self._tool}: finished in {took:.0f} ms")
        else:
            self.log("error", f"tool {self._tool}: failed after {took:.0f} ms: {failure}")

    # --- what the engine reports (UnitWatcher) ----------------------------------------------------

    def step_started(self, step: str, target: str, total: int) -> None:
        if not self._moving:
            self.progress(0, total, f"{step}: started")
        self.log("debug", f"step {step}: calling {target}" if "." in target else f"step {step}: started")

    def step_finished(self, step: str, target: str, done: int, total: int, detail: str) -> None:
        self.progress(done, total, f"{step}: {detail}")
        self.log("info", f"step {step} ({target}): {detail}")

    # --- the wire ---------------------------------------------------------------------------------

    def progress(self, done: int, total: int, message: str) -> None:
        if self._token is None:
            return
        self._moving = True
        params = {"progressToken": self._token, "progress": done, "total": total, "message": message}
        self._channel.notify({"jsonrpc": "2.0", "method": "notifications/progress", "params": params})

    def log(self, level: str, text: str) -> None:
        if self._level is None or _RANK[level] < self._level:
            return
        params = {"level": level, "logger": LOGGER_NAME, "data": text}
        self._channel.notify({"jsonrpc": "2.0", "method": "notifications/message", "params": params})
