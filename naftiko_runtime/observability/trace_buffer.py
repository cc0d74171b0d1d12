"""The last finished traces of this process, for the control adapter's ``GET /traces``.

A bounded ring of trace summaries ``{traceId, operation, durationMs, status, spanCount, timestamp}``
with each trace's span tree, ``buffer-size`` traces at most (``observability.traces.local``). It
knows nothing of OpenTelemetry: whatever produces spans hands each finished one over as a
:class:`FinishedSpan`.

**The seam for the tracing pipeline.** An OpenTelemetry ``SpanProcessor`` feeds the buffer from its
``on_end(span)``::

    buffer.add(FinishedSpan(
        trace_id=format(span.context.trace_id, "032x"),
        span_id=format(span.context.span_id, "016x"),
        parent_id=format(span.parent.span_id, "016x") if span.parent else None,
        root=span.parent is None or span.parent.is_remote,
        name=span.name,
        start_ns=span.start_time, end_ns=span.end_time,
        error=span.status.status_code is StatusCode.ERROR,
        attributes=dict(span.attributes or {}),
        kind=span.kind.name.lower(),
    ))

The process has one buffer, created by the control adapter that serves ``/traces``
(:func:`local_buffer`); a span processor takes it from :func:`current_buffer` when it ends a span,
and skips the call when that is ``None`` (no control adapter shows traces: nothing to keep).

``add`` is cheap (a dict look-up and an append under a lock) and may be called from any thread.
Spans of a trace are held until its local root ends (the span that has no parent in this
process); then the trace is summarised and enters the ring, pushing out the oldest. Traces whose
root never ends (a span leaked by a crash) cannot grow memory: at most ``4 × capacity`` unfinished
traces are held, the oldest dropped first, and each holds at most :data:`MAX_SPANS` spans.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_SPANS = 1000  # spans kept per trace: a runaway loop of steps must not hold memory without end
DEFAULT_CAPACITY = 100  # the schema's `buffer-size` default


@dataclass(frozen=True, slots=True)
class FinishedSpan:
    """One ended span, as plain values."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    root: bool = False
    error: bool = False
    kind: str = "internal"
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Trace:
    """A finished trace: its summary and its spans."""

    trace_id: str
    operation: str
    start_ns: int
    duration_ms: float
    status: str  # "OK" | "ERROR" (any span of it failed)
    spans: tuple[FinishedSpan, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "traceId": self.trace_id,
            "operation": self.operation,
            "durationMs": round(self.duration_ms, 3),
            "status": self.status,
            "spanCount": len(self.spans),
            "timestamp": _iso(self.start_ns),
        }

    def tree(self) -> dict[str, Any]:
        """The summary with ``spans``: the span tree, children ordered by start time."""
        children: dict[str | None, list[FinishedSpan]] = {}
        ids = {span.span_id for span in self.spans}
        for span in sorted(self.spans, key=lambda s: s.start_ns):
            parent = span.parent_id if span.parent_id in ids else None
            children.setdefault(parent, []).append(span)

        def node(span: FinishedSpan) -> dict[str, Any]:
            return {
                "spanId": span.span_id,
                "parentId": span.parent_id,
                "name": span.name,
                "kind": span.kind,
                "status": "ERROR" if span.error else "OK",
                "startTime": _iso(span.start_ns),
                "durationMs": round((span.end_ns - span.start_ns) / 1e6, 3),
                "attributes": dict(span.attributes),
                "children": [node(child) for child in children.get(span.span_id, [])],
            }

        return {**self.summary(), "spans": [node(span) for span in children.get(None, [])]}


class TraceBuffer:
    """A ring of the last ``capacity`` finished traces; thread-safe."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a trace buffer holds at least one trace")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._done: deque[Trace] = deque(maxlen=capacity)
        self._by_id: dict[str, Trace] = {}
        self._open: OrderedDict[str, list[FinishedSpan]] = OrderedDict()

    def add(self, span: FinishedSpan) -> None:
        """Take one ended span; a trace is complete when its local root span ends."""
        with self._lock:
            spans = self._open.get(span.trace_id)
            if spans is None:
                spans = self._open[span.trace_id] = []
                while len(self._open) > 4 * self.capacity:
                    self._open.popitem(last=False)
            if len(spans) < MAX_SPANS:
                spans.append(span)
            if span.root:
                del self._open[span.trace_id]
                self._finish(span, spans)

    def _finish(self, root: FinishedSpan, spans: list[FinishedSpan]) -> None:
        trace = Trace(
            trace_id=root.trace_id,
            operation=root.name,
            start_ns=root.start_ns,
            duration_ms=(root.end_ns - root.start_ns) / 1e6,
            status="ERROR" if any(span.error for span in spans) else "OK",
            spans=tuple(spans),
        )
        if len(self._done) == self._done.maxlen:
            oldest = self._done[0]
            if self._by_id.get(oldest.trace_id) is oldest:
                del self._by_id[oldest.trace_id]
        self._done.append(trace)
        self._by_id[trace.trace_id] = trace

    def adopt(self, other: TraceBuffer) -> None:
        """Take ``other``'s finished and unfinished traces (the newest, if this one is smaller)."""
        with other._lock:
            done, pending = list(other._done), list(other._open.items())
        with self._lock:
            for trace in done[-self.capacity :]:
                self._done.append(trace)
                self._by_id[trace.trace_id] = trace
            self._open.update(pending[-4 * self.capacity :])

    def traces(self, *, operation: str | None = None, status: str | None = None) -> list[Trace]:
        """Finished traces, newest first; ``operation`` matches the root span's name exactly (or as
        a substring when it is not exact for any), ``status`` is ``OK`` or ``ERROR`` (any case)."""
        with self._lock:
            found = list(reversed(self._done))
        if status:
            found = [trace for trace in found if trace.status == status.upper()]
        if operation:
            exact = [trace for trace in found if trace.operation == operation]
            found = exact or [trace for trace in found if operation in trace.operation]
        return found

    def get(self, trace_id: str) -> Trace | None:
        with self._lock:
            return self._by_id.get(trace_id.lower())

    def __len__(self) -> int:
        return len(self._done)


_PROCESS_BUFFER: TraceBuffer | None = None


def local_buffer(capacity: int = DEFAULT_CAPACITY) -> TraceBuffer:
    """The process's buffer, created now if needed; another ``capacity`` (a reload that changed
    ``buffer-size``) resizes it, keeping the newest traces it holds."""
    global _PROCESS_BUFFER
    buffer = _PROCESS_BUFFER
    if buffer is None or buffer.capacity != capacity:
        grown = TraceBuffer(capacity)
        if buffer is not None:
            grown.adopt(buffer)
        _PROCESS_BUFFER = buffer = grown
    return buffer


def current_buffer() -> TraceBuffer | None:
    """The process's buffer if a control adapter serves ``/traces``, else ``None``."""
    return _PROCESS_BUFFER


def _iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1_000_000:03d}Z"
