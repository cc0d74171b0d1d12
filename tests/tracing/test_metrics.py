"""Per-unit metrics on ``/metrics``: the runtime's own time per request, and upstream calls by
operation and status, read from a real ``naftiko serve`` after real requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import RecordingUpstream

from .collector import MCP_HEADERS, serve


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as registry:
        registry.route("GET", "/ships/{imo}", json={"name": "Ever Given"})
        registry.route("GET", "/ships/GONE", status=503, json={"message": "down"})  # newest wins
        registry.route("GET", "/crew", json=[{"id": 1}])
        yield registry


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the one sample of ``name`` whose labels include ``labels``."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            found.append(float(match.group(2)))
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]


def test_overhead_and_upstream_calls_per_unit(tmp_path: Path, upstream: RecordingUpstream) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get-ship", "arguments": {"imo": "IMO3"}},
    }
    with serve(tmp_path, upstream.url, None, observability=False) as served:
        for _ in range(3):
            assert httpx.get(f"{served.rest}/ships/IMO1", timeout=10).status_code == 200
        assert httpx.get(f"{served.rest}/plain/GONE", timeout=10).status_code == 502
        assert httpx.post(served.mcp, json=call, headers=MCP_HEADERS, timeout=10).status_code == 200
        text = httpx.get(f"{served.control}/metrics", timeout=10).text

    rest, mcp = "rest:fleet-rest", "mcp:fleet-mcp"
    ship = {"adapter": rest, "unit": "fleet-rest.get-ship"}
    calls = "naftiko_upstream_calls_total"
    assert sample(text, calls, **ship, operation="registry.get-ship", status="200") == 3
    assert sample(text, calls, **ship, operation="registry.list-crew", status="200") == 3
    plain = {"adapter": rest, "unit": "fleet-rest.plain-ship"}
    assert sample(text, calls, **plain, operation="registry.get-ship", status="503") == 1
    tool = {"adapter": mcp, "unit": "fleet-mcp.get-ship"}
    assert sample(text, calls, **tool, operation="registry.get-ship", status="200") == 1

    # The runtime's own time: one observation per request, less than the whole request's time.
    overhead = "naftiko_runtime_overhead_seconds"
    assert sample(text, f"{overhead}_count", **ship) == 3
    assert sample(text, f"{overhead}_count", **tool) == 1
    # The unit's two steps run side by side: their upstream times add up to more than they waited,
    # so the overhead is the request minus the time any call was in flight, not minus the sum.
    total = sample(text, "naftiko_request_duration_seconds_sum", **ship)
    summed = sample(text, "naftiko_upstream_duration_seconds_sum", **ship)
    own = sample(text, f"{overhead}_sum", **ship)
    assert 0 < own < total
    assert own > total - summed
    assert sample(text, f"{overhead}_bucket", **ship, le="+Inf") == 3
