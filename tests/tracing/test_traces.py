"""Traces over real servers: ``naftiko serve`` exports OTLP/HTTP to a collector in the test, which
decodes the payloads with the official ``opentelemetry-proto`` messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import RecordingUpstream, free_port

from .collector import MCP_HEADERS, NAFTIKO, Collector, Exported, serve, write_capability

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SERVER, CLIENT, INTERNAL = 2, 3, 1  # SpanKind in the protobuf


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as registry:
        registry.route("GET", "/ships/{imo}", json={"name": "Ever Given"})
        registry.route("GET", "/crew", json=[{"id": 1}])
        yield registry


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector() as receiver:
        yield receiver


def by_name(spans: list[Exported]) -> dict[str, Exported]:
    return {span.name: span for span in spans}


def traceparent(header: str) -> tuple[str, str, str]:
    version, trace_id, span_id, flags = header.split("-")
    assert version == "00"
    return trace_id, span_id, flags


def test_rest_request_unit_steps_and_upstream_calls_form_one_tree(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    with serve(tmp_path, upstream.url, collector.url) as served:
        answer = httpx.get(
            f"{served.rest}/ships/IMO1",
            headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        spans = collector.wait_for(6, trace_id=CALLER_TRACE)

    assert len(spans) == 6, [s.name for s in spans]
    named = by_name(spans)
    server = named["GET /ships/{imo}"]
    assert server.kind == SERVER and server.parent_id == CALLER_SPAN  # the caller's trace goes on
    assert server.attributes["http.route"] == "/ships/{imo}"
    assert server.attributes["http.response.status_code"] == 200
    assert server.service == "Fleet"
    unit = named["fleet-rest.get-ship"]
    assert unit.kind == INTERNAL and unit.parent_id == server.span_id
    ship_step, crew_step = named["step fetch-ship"], named["step fetch-crew"]
    assert ship_step.parent_id == unit.span_id and crew_step.parent_id == unit.span_id
    ship_call, crew_call = named["GET registry.get-ship"], named["GET registry.list-crew"]
    assert ship_call.kind == CLIENT and ship_call.parent_id == ship_step.span_id
    assert crew_call.parent_id == crew_step.span_id
    assert ship_call.attributes["http.response.status_code"] == 200
    assert ship_call.attributes["url.full"] == f"{upstream.url}/ships/IMO1"
    # Query values may be keys or personal data: the span keeps the names only.
    assert upstream.requests_for("GET", "/crew")[0].query_param("vessel") == "IMO1"
    assert crew_call.attributes["url.full"] == f"{upstream.url}/crew?vessel="

    # What the upstream received: the client span's context, in the trace the caller started.
    sent = {r.path: traceparent(r.headers["traceparent"]) for r in upstream.requests}
    assert sent["/ships/IMO1"] == (CALLER_TRACE, ship_call.span_id, "01")
    assert sent["/crew"] == (CALLER_TRACE, crew_call.span_id, "01")


def test_a_request_without_traceparent_starts_a_trace_and_errors_carry_their_status(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    upstream.route("GET", "/ships/GONE", status=503, json={"message": "down"})
    with serve(tmp_path, upstream.url, collector.url) as served:
        answer = httpx.get(f"{served.rest}/plain/GONE", timeout=10)
        assert answer.status_code == 502
        (client,) = collector.wait_for(1, name="GET registry.get-ship")
        spans = collector.wait_for(3, trace_id=client.trace_id)

    named = by_name(spans)
    server = named["GET /plain/{imo}"]
    assert server.parent_id == ""  # a new trace
    assert server.error and server.attributes["http.response.status_code"] == 502
    assert named["fleet-rest.plain-ship"].error
    assert client.error and client.attributes["http.response.status_code"] == 503
    assert "down" not in repr(spans)  # the upstream's error body stays out of the trace
    trace_id, span_id, _ = traceparent(upstream.last.headers["traceparent"])
    assert (trace_id, span_id) == (client.trace_id, client.span_id)


def test_mcp_tool_call_continues_the_trace_in_params_meta(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "get-ship",
            "arguments": {"imo": "IMO9"},
            "_meta": {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
        },
    }
    with serve(tmp_path, upstream.url, collector.url) as served:
        answer = httpx.post(served.mcp, json=call, headers=MCP_HEADERS, timeout=10)
        assert answer.json()["result"]["structuredContent"] == {"name": "Ever Given"}
        spans = collector.wait_for(3, trace_id=CALLER_TRACE)

    named = by_name(spans)
    server = named["tools/call get-ship"]
    assert server.kind == SERVER and server.parent_id == CALLER_SPAN
    assert server.attributes["gen_ai.tool.name"] == "get-ship"
    unit = named["fleet-mcp.get-ship"]
    assert unit.parent_id == server.span_id
    client = named["GET registry.get-ship"]
    assert client.parent_id == unit.span_id
    assert traceparent(upstream.last.headers["traceparent"])[:2] == (CALLER_TRACE, client.span_id)


def test_mcp_header_traceparent_and_unknown_tool_error(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "nope"}}
    headers = {**MCP_HEADERS, "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    with serve(tmp_path, upstream.url, collector.url) as served:
        httpx.post(served.mcp, json=call, headers=headers, timeout=10)
        (server,) = collector.wait_for(1, trace_id=CALLER_TRACE)
    assert server.name == "tools/call nope" and server.parent_id == CALLER_SPAN
    assert server.error


def test_sampling_zero_exports_nothing_but_still_propagates(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    with serve(tmp_path, upstream.url, collector.url, sampling=0) as served:
        for _ in range(20):
            httpx.get(f"{served.rest}/ships/IMO1", timeout=10).raise_for_status()
        time.sleep(0.5)  # ten export intervals
    assert collector.upstream.requests == []  # shut down too, and still nothing was sent
    trace_id, _, flags = traceparent(upstream.last.headers["traceparent"])
    assert int(flags, 16) & 1 == 0 and trace_id != "0" * 32  # not sampled, said downstream


def test_b3_propagation_in_and_out(tmp_path: Path, upstream: RecordingUpstream, collector: Collector) -> None:
    b3 = {"X-B3-TraceId": CALLER_TRACE, "X-B3-SpanId": CALLER_SPAN, "X-B3-Sampled": "1"}
    with serve(tmp_path, upstream.url, collector.url, propagation="b3") as served:
        httpx.get(f"{served.rest}/plain/IMO1", headers=b3, timeout=10).raise_for_status()
        spans = collector.wait_for(3, trace_id=CALLER_TRACE)
        # The single-header form continues a trace too.
        single = {"b3": f"{'a' * 32}-{CALLER_SPAN}-1"}
        httpx.get(f"{served.rest}/plain/IMO2", headers=single, timeout=10).raise_for_status()
        assert collector.wait_for(3, trace_id="a" * 32)
    named = by_name(spans)
    assert named["GET /plain/{imo}"].parent_id == CALLER_SPAN
    client = named["GET registry.get-ship"]
    first = upstream.requests_for("GET", "/ships/IMO1")[0].headers
    assert first["x-b3-traceid"] == CALLER_TRACE and first["x-b3-spanid"] == client.span_id
    assert first["x-b3-sampled"] == "1"
    assert "traceparent" not in first


def test_the_standard_environment_variables_point_at_a_collector(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_SERVICE_NAME": "fleet-from-env"}
    with serve(tmp_path, upstream.url, None, env=env, exporter=False) as served:
        httpx.get(f"{served.rest}/plain/IMO1", timeout=10).raise_for_status()
        (server,) = collector.wait_for(1, name="GET /plain/{imo}")
    assert server.service == "fleet-from-env"


def test_a_collector_that_is_down_or_slow_never_slows_or_fails_a_request(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with Collector(delay=3.0) as slow:  # holds every export 3 s before answering
        for collector_url in (down, slow.url):
            with serve(tmp_path, upstream.url, collector_url) as served, httpx.Client(timeout=10) as client:
                slowest = 0.0
                for index in range(200):
                    began = time.monotonic()
                    answer = client.get(f"{served.rest}/ships/IMO{index}")
                    slowest = max(slowest, time.monotonic() - began)
                    assert answer.status_code == 200
                # An export waits 3 s on the slow collector (or retries the closed port for
                # seconds); no request took a third of that: none of them waited for it.
                assert slowest < 1.0, f"a request took {slowest:.2f} s with collector {collector_url}"
                if collector_url == slow.url:  # batches were on their way while requests went on
                    assert slow.upstream.wait_for_requests(1, timeout=5)
            if collector_url == down:  # the operator is told, in naftiko's log format
                assert "WARNING opentelemetry" in served.served.log
                assert "/v1/traces" in served.served.log


def test_without_observability_the_sdk_is_never_imported(tmp_path: Path, upstream: RecordingUpstream) -> None:
    path, _ = write_capability(tmp_path, upstream.url, observability=False)
    script = f"""
import asyncio, sys
from naftiko_runtime.runtime import Runtime
from naftiko_runtime.runtime.server import plan
from naftiko_runtime.observability import tracing
from naftiko_runtime.spec.loader import load
runtime = Runtime.build(load({str(path)!r}))
assert tracing.configure([runtime]) is None and tracing.active is None
plan([runtime], any_port=True)
print(sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk")))
"""
    env = {**os.environ, "OTLP_COLLECTOR": "http://127.0.0.1:4318"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_mcp_over_stdio_continues_the_trace_in_params_meta(
    tmp_path: Path, upstream: RecordingUpstream, collector: Collector
) -> None:
    path, _ = write_capability(tmp_path, upstream.url)
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {
            "name": "get-ship",
            "arguments": {"imo": "IMO4"},
            "_meta": {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
        },
    }
    env = {**os.environ, "OTLP_COLLECTOR": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    result = subprocess.run(
        [NAFTIKO, "serve", "--stdio", str(path)],
        input=json.dumps(call) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert json.loads(result.stdout.splitlines()[0])["result"]["structuredContent"] == {"name": "Ever Given"}
    # stdin closed: the server stopped, and sent its spans on the way out.
    named = by_name(collector.wait_for(3, trace_id=CALLER_TRACE, timeout=5))
    assert named["tools/call get-ship"].parent_id == CALLER_SPAN
    assert named["fleet-mcp.get-ship"].parent_id == named["tools/call get-ship"].span_id
