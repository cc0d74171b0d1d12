"""The seam to the control adapter's trace buffer: finished spans of a real request, as plain values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from naftiko_runtime.observability import tracing
from naftiko_runtime.runtime import Runtime
from naftiko_runtime.runtime.server import plan
from naftiko_runtime.spec.loader import load
from tests.support import RecordingUpstream, ServerThread

from .collector import write_capability

FIELDS = {
    "trace_id",
    "span_id",
    "parent_id",
    "root",
    "name",
    "start_ns",
    "end_ns",
    "error",
    "kind",
    "attributes",
}


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as registry:
        registry.route("GET", "/ships/{imo}", json={"name": "Ever Given"})
        yield registry


def test_finished_spans_reach_a_local_sink(
    tmp_path: Path, upstream: RecordingUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = write_capability(tmp_path, upstream.url, exporter=False)  # no collector: local only
    monkeypatch.setenv("OTLP_COLLECTOR", "unused")
    runtime = Runtime.build(load(path))
    spans: list[dict[str, Any]] = []
    try:
        assert tracing.configure([runtime]) is not None
        assert tracing.feed_local(spans.append)
        (rest,) = [item for item in plan([runtime], any_port=True).listeners if item.kind == "rest"]
        with ServerThread(rest.app) as server:
            answer = httpx.get(f"{server.url}/plain/IMO5", timeout=10)
            assert answer.status_code == 200
    finally:
        tracing.shutdown()
    assert tracing.active is None and not tracing.feed_local(spans.append)
    assert [s["name"] for s in spans] == [
        "GET registry.get-ship",
        "fleet-rest.plain-ship",
        "GET /plain/{imo}",
    ]
    assert all(set(s) == FIELDS for s in spans)
    client, unit, server_span = spans
    assert server_span["root"] and server_span["parent_id"] is None and server_span["kind"] == "server"
    assert unit["parent_id"] == server_span["span_id"] and not unit["root"]
    assert client["parent_id"] == unit["span_id"] and client["kind"] == "client"
    assert len({s["trace_id"] for s in spans}) == 1
    assert server_span["start_ns"] <= unit["start_ns"] <= client["start_ns"] <= client["end_ns"]
    assert server_span["attributes"]["http.route"] == "/plain/{imo}"
