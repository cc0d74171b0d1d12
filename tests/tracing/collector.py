"""What the tracing tests run: an OTLP/HTTP collector that decodes what it received, and
``naftiko serve`` on a capability whose control adapter declares ``observability``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.security.conftest import Served
from tests.security.conftest import serve as serve_capability
from tests.support import RecordingUpstream, free_port

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


@dataclass(frozen=True)
class Exported:
    """One span as the collector decoded it, ids as hex."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    attributes: dict[str, Any]
    status_code: int
    service: str

    @property
    def error(self) -> bool:
        return self.status_code == 2  # STATUS_CODE_ERROR


class Collector:
    """A real OTLP/HTTP receiver (``POST /v1/traces``) over a :class:`RecordingUpstream`."""

    def __init__(self, delay: float = 0.0) -> None:
        self.upstream = RecordingUpstream()
        self.upstream.route(
            "POST", "/v1/traces", body=b"", content_type="application/x-protobuf", delay=delay
        )

    def __enter__(self) -> Collector:
        self.upstream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.upstream.stop()

    @property
    def url(self) -> str:
        return self.upstream.url

    def spans(self) -> list[Exported]:
        found: list[Exported] = []
        for request in self.upstream.requests_for("POST", "/v1/traces"):
            message = ExportTraceServiceRequest()
            message.ParseFromString(request.body)
            for resource_spans in message.resource_spans:
                attributes = resource_spans.resource.attributes
                service = next((a.value.string_value for a in attributes if a.key == "service.name"), "")
                for scope_spans in resource_spans.scope_spans:
                    found += [_exported(span, service) for span in scope_spans.spans]
        return found

    def wait_for(self, count: int, timeout: float = 15.0, **match: Any) -> list[Exported]:
        """At least ``count`` spans whose fields equal ``match`` (e.g. ``trace_id=...``)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = [s for s in self.spans() if all(getattr(s, k) == v for k, v in match.items())]
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.05)


def _exported(span: Span, service: str) -> Exported:
    return Exported(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        name=span.name,
        kind=span.kind,
        attributes={a.key: _value(a.value) for a in span.attributes},
        status_code=span.status.code,
        service=service,
    )


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {{label: Fleet, description: tracing tests}}
binds:
  - namespace: env
    keys: {{OTLP_COLLECTOR: OTLP_COLLECTOR}}
capability:
  consumes:
    - type: http
      namespace: registry
      baseUri: {upstream}
      resources:
        - name: ships
          path: /ships/{{imo}}
          operations:
            - {{name: get-ship, method: GET}}
        - name: crew
          path: /crew
          operations:
            - name: list-crew
              method: GET
              inputParameters:
                - {{name: vessel, in: query}}
  exposes:
    - type: rest
      namespace: fleet-rest
      port: {rest_port}
      resources:
        - path: /ships/{{imo}}
          name: ship
          operations:
            - method: GET
              name: get-ship
              inputParameters:
                - {{name: imo, in: path, type: string}}
              steps:
                - {{type: call, name: fetch-ship, call: registry.get-ship, with: {{imo: fleet-rest.imo}}}}
                - {{type: call, name: fetch-crew, call: registry.list-crew, with: {{vessel: fleet-rest.imo}}}}
              mappings:
                - {{targetName: name, value: "$.fetch-ship.name"}}
                - {{targetName: crew, value: "$.fetch-crew"}}
        - path: /plain/{{imo}}
          name: plain
          operations:
            - {{method: GET, name: plain-ship, call: registry.get-ship, with: {{imo: fleet-rest.imo}}}}
    - type: mcp
      namespace: fleet-mcp
      port: {mcp_port}
      tools:
        - {{name: get-ship, description: One ship, call: registry.get-ship, with: {{imo: fleet-mcp.imo}}}}
    - type: control
      port: {control_port}
{observability}
"""

OBSERVABILITY = """      observability:
        traces: {{sampling: {sampling}, propagation: {propagation}}}
"""
EXPORTER = """        exporters:
          otlp: {endpoint: "{{OTLP_COLLECTOR}}"}
"""


class Fleet:
    """Where the served test capability's adapters listen (from ``naftiko serve``'s ready file)."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.rest = served.url("fleet-rest")
        self.mcp = served.url("fleet-mcp") + "/mcp"
        self.control = served.url("control")


def write_capability(
    directory: Path,
    upstream: str,
    *,
    sampling: float = 1.0,
    propagation: str = "w3c",
    observability: bool = True,
    exporter: bool = True,
) -> tuple[Path, dict[str, int]]:
    """The test capability; ``exporter=False`` leaves the collector to ``OTEL_EXPORTER_OTLP_*``."""
    ports = {name: free_port() for name in ("rest_port", "mcp_port", "control_port")}
    block = ""
    if observability:
        block = OBSERVABILITY.format(sampling=sampling, propagation=propagation)
        block += EXPORTER if exporter else ""
    path = directory / "fleet.yaml"
    path.write_text(CAPABILITY.format(upstream=upstream, observability=block, **ports), encoding="utf-8")
    return path, ports


@contextmanager
def serve(
    directory: Path,
    upstream: str,
    collector: str | None,
    *,
    env: dict[str, str] | None = None,
    **options: Any,
) -> Iterator[Fleet]:
    """``naftiko serve`` on the test capability, its spans exported to ``collector`` every 50 ms."""
    path, _ = write_capability(directory, upstream, **options)
    environment = {"OTLP_COLLECTOR": collector or "", "OTEL_BSP_SCHEDULE_DELAY": "50", **(env or {})}
    with serve_capability(path, "--log-level", "warning", env=environment) as served:
        yield Fleet(served)
    assert served.process.returncode == 0, served.log
    assert "Traceback" not in served.log, served.log
