"""Request counters and latency histograms, rendered in the Prometheus text format.

Kept in-process and lock-free (one event loop): each replica reports its own numbers and a
Prometheus server sums them, so scaling out needs no shared store.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Histogram:
    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(_BUCKETS, seconds)] += 1
        self.count += 1
        self.total += seconds


class Metrics:
    """Per adapter and unit: requests by status, request latency, upstream latency."""

    def __init__(self) -> None:
        self.started = time.time()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self.upstream: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self.adapters: list[dict[str, object]] = []  # type, namespace, source, port, state

    def adapter(self, kind: str, namespace: str, source: str, port: int) -> dict[str, object]:
        """Register an adapter for readiness and status; the returned record is updated in place."""
        record: dict[str, object] = {
            "type": kind,
            "namespace": namespace,
            "source": source,
            "port": port,
            "state": "stopped",
        }
        self.adapters.append(record)
        return record

    def record(
        self, adapter: str, unit: str, status: int, seconds: float, upstream_seconds: float | None
    ) -> None:
        self.requests[(adapter, unit, str(status))] += 1
        self.latency[(adapter, unit)].observe(seconds)
        if upstream_seconds is not None:
            self.upstream[(adapter, unit)].observe(upstream_seconds)

    def render(self) -> str:
        lines = [
            "# HELP naftiko_uptime_seconds Seconds since this process started serving.",
            "# TYPE naftiko_uptime_seconds gauge",
            f"naftiko_uptime_seconds {time.time() - self.started:.3f}",
            "# HELP naftiko_requests_total Requests answered, by adapter, unit and status.",
            "# TYPE naftiko_requests_total counter",
        ]
        for (adapter, unit, status), count in sorted(self.requests.items()):
            lines.append(
                f'naftiko_requests_total{{adapter="{_esc(adapter)}",unit="{_esc(unit)}",'
                f'status="{status}"}} {count}'
            )
        lines += _histogram("naftiko_request_duration_seconds", "Time to answer a request.", self.latency)
        lines += _histogram(
            "naftiko_upstream_duration_seconds", "Time spent waiting on upstreams per request.", self.upstream
        )
        return "\n".join(lines) + "\n"


def _histogram(name: str, help_text: str, series: dict[tuple[str, str], _Histogram]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for (adapter, unit), hist in sorted(series.items()):
        labels = f'adapter="{_esc(adapter)}",unit="{_esc(unit)}"'
        cumulative = 0
        for bound, count in zip((*_BUCKETS, float("inf")), hist.counts, strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'{name}_bucket{{{labels},le="{le}"}} {cumulative}')
        lines.append(f"{name}_sum{{{labels}}} {hist.total:.6f}")
        lines.append(f"{name}_count{{{labels}}} {hist.count}")
    return lines


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
