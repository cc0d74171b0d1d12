"""Traces: the hooks the request path calls, and the switch that turns them on.

Tracing is set up once per process, by :func:`configure`, from the control adapter that declares
``observability`` (its ``traces`` and ``exporters``). Until then, and for every process whose
documents declare no ``observability``, :data:`active` is ``None``: the OpenTelemetry SDK is never
imported (≈ 0.15 s and several MB), no adapter is wrapped, and each hook on the request path is one
module-attribute test (``tracing.active is not None``), a few nanoseconds.

The spans themselves (what they are named, what they carry, how they are exported) are built by
:mod:`.otel`, imported only here, only when a document asks for traces:

* a server span per adapter request: :func:`server_spans` wraps the REST and skill adapters' apps
  (named ``METHOD /route/{template}`` once the adapter matched a route); MCP requests get theirs from
  :func:`mcp_spans`, per JSON-RPC message (``tools/call get-ship``), which also reads
  ``params._meta.traceparent``;
* a span per unit (``engine/units.py``) and per orchestration step (``engine/orchestration.py``);
* a client span per upstream call (``consumes/transport.py``), whose context goes out in the
  request's ``traceparent`` (or B3) header.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..binds import BindValues
from ..spec.models import ControlExpose, Document
from .trace_buffer import FinishedSpan, current_buffer

if TYPE_CHECKING:
    from .otel import Tracing


class Served(Protocol):
    """What tracing reads of a served capability (``runtime.Runtime``, which sits above this room)."""

    @property
    def control(self) -> ControlExpose | None: ...

    @property
    def document(self) -> Document: ...

    @property
    def binds(self) -> BindValues: ...


log = logging.getLogger("naftiko.tracing")

active: Tracing | None = None
"""The process's tracing (None: off, and every hook does nothing)."""


def configure(runtimes: Sequence[Served], environ: dict[str, str] | None = None) -> Tracing | None:
    """Turn tracing on for this process if a served capability's control adapter declares
    ``observability`` (enabled, with an exporter or the local trace buffer). The first such adapter
    decides; another one that says something different is named in a warning.

    Call it after the runtimes are built (the exporter endpoint may be a bind) and before their
    adapters' apps are (:func:`server_spans`, :func:`mcp_spans` wrap them only when tracing is on).
    """
    global active
    chosen: tuple[Served, Any] | None = None
    for runtime in runtimes:
        control = runtime.control
        observability = control.observability if control is not None else None
        if observability is None or not observability.enabled:
            continue
        if chosen is None:
            chosen = (runtime, observability)
        elif observability != chosen[1]:
            log.warning(
                "%s declares other observability settings than %s; this process traces as the latter "
                "says (one tracer per process)",
                runtime.document.source_file or "a capability",
                chosen[0].document.source_file or "the first capability",
            )
    if chosen is None:
        return None
    from .otel import Tracing

    runtime, observability = chosen
    tracing = Tracing.from_spec(observability, runtime, environ)
    if tracing is not None:
        active = tracing
        tracing.feed(_into_local_buffer)  # the control adapter's GET /traces, when it serves one
    return tracing


def _into_local_buffer(fields: dict[str, Any]) -> None:
    buffer = current_buffer()
    if buffer is not None:
        buffer.add(FinishedSpan(**fields))


def shutdown(timeout_s: float = 2.0) -> None:
    """Export what is still queued (at most ``timeout_s``, a collector that is down cannot hold the
    process), then turn tracing off."""
    global active
    tracing, active = active, None
    if tracing is not None:
        tracing.shutdown(timeout_s)


def feed_local(sink: Callable[[dict[str, Any]], None]) -> bool:
    """Hand every finished, sampled span of this process to ``sink``, as the keyword arguments of
    ``trace_buffer.FinishedSpan`` (see :func:`.otel.span_fields`); False when tracing is off.

    The control adapter's ``GET /traces`` buffer connects here:
    ``feed_local(lambda fields: buffer.add(FinishedSpan(**fields)))``."""
    if active is None:
        return False
    active.feed(sink)
    return True


def server_spans(app: Any, adapter: str) -> Any:
    """``app`` with a server span around each HTTP request (REST, skill); ``app`` itself when off."""
    if active is None:
        return app
    from .otel import ServerSpans

    return ServerSpans(app, active, adapter)


Handle = Callable[..., Awaitable[Any]]


def mcp_spans(handle: Handle) -> Handle:
    """An MCP dispatcher's ``handle(message, headers)`` with a server span per JSON-RPC request
    (HTTP or stdio); ``handle`` itself when off."""
    if active is None:
        return handle
    return active.mcp_handler(handle)
