"""The spans, built with the official OpenTelemetry SDK, exported over OTLP/HTTP in batches.

Imported only by :mod:`.tracing`, and only when a control adapter declares ``observability``.

What a request produces (names as a trace viewer shows them)::

    GET /inference-runs                 server   REST route template (MCP: tools/call get-ship)
    └─ label-studio.list-runs           internal the unit (its qualified name)
       ├─ step fetch-project            internal one per orchestration step (call, script, lookup)
       │  └─ GET projects.get-project   client   one per upstream call; its context is the
       └─ GET runs.list-runs            client   traceparent (or B3) header the upstream receives

A request never waits on the collector: a finished span is appended to the batch processor's
bounded queue (a ``deque.appendleft``), and a background thread encodes and sends batches. A
collector that is down or slow makes that thread wait and, once the queue is full (2,048 spans by
default), spans are dropped; requests go on at the same pace (``tests/tracing`` shows it).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.b3 import B3MultiFormat
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ..errors import StepError, UpstreamError
from ..version import runtime_version

log = logging.getLogger("naftiko.tracing")

_SERVER, _CLIENT, _INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL
_ERROR = StatusCode.ERROR
_attach, _detach = otel_context.attach, otel_context.detach
_in_context = trace.set_span_in_context
_current_span = trace.get_current_span
_TRACES_PATH = "/v1/traces"
_W3C, _B3 = TraceContextTextMapPropagator(), B3MultiFormat()


class Tracing:
    """One process's tracer: sampler, propagation format, exporters."""

    def __init__(
        self,
        *,
        sampling: float = 1.0,
        propagation: str = "w3c",
        endpoint: str | None = None,
        env_exporter: bool = False,
        service: Mapping[str, str] | None = None,
    ) -> None:
        sampler: Sampler = ALWAYS_OFF if sampling <= 0 else ParentBased(TraceIdRatioBased(sampling))
        attributes = dict(service or {})
        if os.environ.get("OTEL_SERVICE_NAME"):
            attributes.pop("service.name", None)  # the operator's name for it wins
        # Not at exit: :meth:`shutdown` bounds the wait (the SDK's atexit hook would wait 30 s).
        self.provider = TracerProvider(
            sampler=sampler, resource=Resource.create(attributes), shutdown_on_exit=False
        )
        _route_sdk_logs()
        self.tracer = self.provider.get_tracer("naftiko-runtime", runtime_version())
        self.sampling = sampling
        self.propagation = propagation
        # Outbound in the declared format; inbound, either format continues the caller's trace.
        self.outbound = _B3 if propagation == "b3" else _W3C
        self._inbound = (_B3, _W3C) if propagation == "b3" else (_W3C, _B3)
        # B3's single ``b3`` header is read by the multi-header propagator too, but not listed.
        self._inbound_fields = frozenset({"b3", *(f for p in self._inbound for f in p.fields)})
        self.endpoint = endpoint
        if endpoint is not None or env_exporter:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
            self._add(BatchSpanProcessor(exporter))

    @classmethod
    def from_spec(
        cls, observability: Any, runtime: Any, environ: Mapping[str, str] | None = None
    ) -> Tracing | None:
        """From a control adapter's ``observability`` (binds resolved with ``runtime``'s values);
        None when its traces would go nowhere (no exporter, local buffer off)."""
        from ..spec.variables import bind_text

        environ = os.environ if environ is None else environ
        traces = observability.traces
        otlp = observability.exporters.otlp if observability.exporters is not None else None
        endpoint = _traces_url(bind_text(otlp.endpoint, runtime.binds)) if otlp is not None else None
        env_exporter = endpoint is None and bool(
            environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        )
        if endpoint is None and not env_exporter and not traces.local.enabled:
            return None
        document = runtime.document
        service = {"service.name": _service_name(document)}
        if document.info is not None and document.info.version:
            service["service.version"] = str(document.info.version)
        return cls(
            sampling=traces.sampling,
            propagation=traces.propagation,
            endpoint=endpoint,
            env_exporter=env_exporter,
            service=service,
        )

    # -- where spans go --------------------------------------------------------------------------

    def _add(self, processor: SpanProcessor) -> None:
        self.provider.add_span_processor(processor)

    def feed(self, sink: Callable[[dict[str, Any]], None]) -> None:
        """Hand every finished (sampled) span to ``sink`` as :func:`span_fields` (the control
        adapter's trace buffer: ``lambda fields: buffer.add(FinishedSpan(**fields))``)."""
        self._add(LocalSpans(sink))

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Export what is queued, waiting ``timeout_s`` at most in all: the SDK's own shutdown
        waits up to 30 s on an exporter retrying a collector that is down, so it runs on a daemon
        thread that the process does not wait for beyond ``timeout_s``."""
        closing = threading.Thread(target=self.provider.shutdown, name="naftiko-trace-flush", daemon=True)
        closing.start()
        closing.join(timeout_s)
        if closing.is_alive():
            log.warning(
                "traces still queued after %.3g s were not exported (collector slow or down)", timeout_s
            )

    # -- context in and out ----------------------------------------------------------------------

    def extract_scope(self, headers: Iterable[tuple[bytes, bytes]]) -> Context | None:
        """The caller's trace context from ASGI headers (None: none was sent)."""
        wanted = self._inbound_fields
        carrier: dict[str, str] = {}
        for name, value in headers:
            if len(name) > 1 and (name[0] in (116, 120, 98)):  # t(raceparent/tracestate), x-b3-*, b3
                key = name.decode("latin-1")
                if key in wanted:
                    carrier[key] = value.decode("latin-1")
        return self.extract(carrier) if carrier else None

    def extract(self, carrier: Mapping[str, Any]) -> Context | None:
        """The trace context in ``carrier`` (lower-case header names or ``_meta`` keys), if valid."""
        for propagator in self._inbound:
            found = propagator.extract(carrier)
            if _current_span(found).get_span_context().is_valid:
                return found
        return None

    def inject(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` plus the current span's context in the outbound format."""
        sent = dict(headers)
        self.outbound.inject(sent)
        return sent

    # -- spans -----------------------------------------------------------------------------------

    def unit(self, work: Awaitable[Any], name: str, kind: str) -> Awaitable[Any]:
        """Await ``work`` (a unit's run) inside the unit's span."""
        return self._around(work, name, {"naftiko.unit": name, "naftiko.unit.kind": kind})

    def step(self, work: Awaitable[Any], unit: str, step: str, kind: str) -> Awaitable[Any]:
        """Await ``work`` (one orchestration step) inside the step's span."""
        attributes = {"naftiko.unit": unit, "naftiko.step": step, "naftiko.step.kind": kind}
        return self._around(work, f"step {step}", attributes)

    async def _around(self, work: Awaitable[Any], name: str, attributes: dict[str, Any]) -> Any:
        if not _current_span().is_recording():  # an unsampled request: its children are too
            return await work
        span = self.tracer.start_span(name, kind=_INTERNAL, attributes=attributes)
        token = _attach(_in_context(span))
        try:
            return await work
        except BaseException as exc:
            _failed(span, exc)
            raise
        finally:
            _detach(token)
            span.end()

    def lookup(self, unit: str, step: str) -> AbstractContextManager[Span | None]:
        """The span of a lookup step, which runs without awaiting: ``with tracing.lookup(...)``."""
        if not _current_span().is_recording():
            return nullcontext()
        return self.tracer.start_as_current_span(
            f"step {step}",
            kind=_INTERNAL,
            attributes={"naftiko.unit": unit, "naftiko.step": step, "naftiko.step.kind": "lookup"},
            record_exception=False,
        )

    async def client(
        self,
        send: Callable[..., Awaitable[Any]],
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """One upstream call (``send(operation, method, url, headers, ...)``) inside a client span,
        its context in the request's headers. In an unsampled trace no span is made: the upstream
        is handed the current (unsampled) context, which is all it needs to go on unsampled too."""
        if not _current_span().is_recording():
            sent = dict(headers)
            self.outbound.inject(sent)
            return await send(operation, method, url, sent, *args, **kwargs)
        span = self.tracer.start_span(f"{method} {operation}", kind=_CLIENT)
        token = _attach(_in_context(span))
        try:
            if span.is_recording():
                _client_attributes(span, operation, method, url)
            sent = dict(headers)
            self.outbound.inject(sent)
            response = await send(operation, method, url, sent, *args, **kwargs)
        except BaseException as exc:
            _failed(span, exc)
            span.end()
            raise
        finally:
            _detach(token)
        status = response.status
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            span.set_status(Status(_ERROR, f"upstream answered {status}"))
        span.end()
        return response

    def retry(self, attempt: int, reason: str) -> None:
        """The upstream call in progress is sent again (``attempt`` counts resends from 1)."""
        span = _current_span()
        if span.is_recording():
            span.set_attribute("http.request.resend_count", attempt)
            span.add_event("retry", {"naftiko.retry.reason": reason})

    def mcp_handler(self, handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``handle(message, headers, channel)`` with a server span per JSON-RPC request."""

        async def traced(message: Any, headers: Mapping[str, str] | None = None, channel: Any = None) -> Any:
            if not isinstance(message, dict) or "id" not in message:
                return await handle(message, headers, channel)  # notifications and junk: nothing to trace
            method = message.get("method")
            params = message.get("params")
            meta = params.get("_meta") if isinstance(params, dict) else None
            parent = self.extract(meta) if isinstance(meta, dict) else None
            if parent is None and headers is not None:
                parent = self.extract(headers)
            method = method if isinstance(method, str) else "?"
            target = _mcp_target(method, params)
            attributes: dict[str, Any] = {"mcp.method.name": method, "rpc.system": "jsonrpc"}
            if target is not None:
                attributes["gen_ai.tool.name" if method == "tools/call" else "mcp.target"] = target
            name = f"{method} {target}" if target is not None else method
            span = self.tracer.start_span(name, context=parent, kind=_SERVER, attributes=attributes)
            token = _attach(_in_context(span, parent))
            try:
                reply = await handle(message, headers, channel)
            except BaseException as exc:
                _failed(span, exc)
                span.end()
                raise
            finally:
                _detach(token)
            _mcp_outcome(span, getattr(reply, "message", None))
            span.end()
            return reply

        return traced


class ServerSpans:
    """ASGI middleware: a server span around each HTTP request of one adapter.

    The adapter names the route it matched in ``scope["route"]`` (the REST path template); the span
    is named ``METHOD template`` from it, or ``METHOD`` when no route matched (a 404, a refusal).
    """

    def __init__(self, app: Any, tracing: Tracing, adapter: str) -> None:
        self.app = app
        self.tracing = tracing
        self.adapter = adapter

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracing = self.tracing
        parent = tracing.extract_scope(scope["headers"])
        method = scope["method"]
        span = tracing.tracer.start_span(method, context=parent, kind=_SERVER)
        token = _attach(_in_context(span, parent))
        status = 500

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException as exc:
            _failed(span, exc)
            raise
        finally:
            _detach(token)
            if span.is_recording():
                route = scope.get("route")
                if route:
                    span.update_name(f"{method} {route}")
                span.set_attributes(
                    {
                        "http.request.method": method,
                        "url.path": scope["path"],
                        "http.response.status_code": status,
                        "naftiko.adapter": self.adapter,
                        **({"http.route": route} if route else {}),
                    }
                )
                if status >= 500:
                    span.set_status(Status(_ERROR, f"answered {status}"))
            span.end()


class LocalSpans(SpanProcessor):
    """Hands each finished, sampled span to a sink in this process (the control adapter's ring
    buffer behind ``GET /traces``), as plain values (:func:`span_fields`)."""

    def __init__(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self.sink = sink

    def on_end(self, span: ReadableSpan) -> None:
        try:
            self.sink(span_fields(span))
        except Exception:  # a buffer's fault must not reach the request that ended the span
            log.exception("the local trace buffer refused a span")


def span_fields(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as plain values: the fields of ``trace_buffer.FinishedSpan``."""
    context = span.get_span_context()
    if context is None:  # the SDK's finished spans always have one; the type allows none
        raise ValueError(f"span {span.name!r} has no context")
    parent = span.parent
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(parent.span_id, "016x") if parent is not None else None,
        "root": parent is None or parent.is_remote,
        "name": span.name,
        "start_ns": span.start_time or 0,
        "end_ns": span.end_time or 0,
        "error": span.status.status_code is _ERROR,
        "kind": span.kind.name.lower(),
        "attributes": dict(span.attributes or {}),
    }


def _route_sdk_logs() -> None:
    """The SDK's own warnings (a collector refusing a batch, a full queue) go where naftiko's logs
    go, in the same format and with the same redaction, not to Python's bare last-resort handler."""
    ours = logging.getLogger("naftiko")
    sdk = logging.getLogger("opentelemetry")
    if ours.handlers:
        sdk.handlers = list(ours.handlers)
        sdk.setLevel(logging.WARNING)
        sdk.propagate = False


def _client_attributes(span: Span, operation: str, method: str, url: str) -> None:
    base, _, query = url.partition("?")
    if query:  # names only: a query value can be an API key or personal data
        base += "?" + "&".join(part.partition("=")[0] + "=" for part in query.split("&"))
    span.set_attributes({"http.request.method": method, "url.full": base, "naftiko.operation": operation})


def _failed(span: Span, exc: BaseException) -> None:
    """Mark ``span`` failed with what the client is told (never an upstream body: it may carry
    personal data; never a traceback)."""
    if not span.is_recording():
        return
    cause = exc
    while isinstance(cause, StepError):
        cause = cause.cause
    if isinstance(cause, UpstreamError):
        span.set_attribute("http.response.status_code", cause.status)
        description = f"upstream {cause.operation} answered {cause.status}"
    else:
        description = str(cause)[:300] or type(cause).__name__
    span.set_attribute("error.type", type(cause).__name__)
    span.set_status(Status(_ERROR, description))


def _mcp_target(method: str, params: Any) -> str | None:
    if not isinstance(params, dict):
        return None
    key = "uri" if method == "resources/read" else "name" if method in ("tools/call", "prompts/get") else None
    value = params.get(key) if key else None
    return value if isinstance(value, str) else None


def _mcp_outcome(span: Span, message: Any) -> None:
    if not span.is_recording() or not isinstance(message, dict):
        return
    error = message.get("error")
    if isinstance(error, dict):
        span.set_attribute("rpc.jsonrpc.error_code", error.get("code", 0))
        span.set_status(Status(_ERROR, str(error.get("message", "error"))[:300]))
        return
    result = message.get("result")
    if isinstance(result, dict) and result.get("isError") is True:
        span.set_attribute("error.type", "tool_error")
        span.set_status(Status(_ERROR, "the tool answered an error"))


def _traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector's base address (``http://collector:4318``), as
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is read; a URL already ending in ``/v1/traces`` is kept."""
    endpoint = endpoint.strip()
    if endpoint.rstrip("/").endswith(_TRACES_PATH):
        return endpoint
    return endpoint.rstrip("/") + _TRACES_PATH


def _service_name(document: Any) -> str:
    title = getattr(document, "title", None)
    return str(title) if title else "naftiko"
