"""Request counters and latency histograms, rendered in the Prometheus text format.

Kept in-process and lock-free (one event loop): each replica reports its own numbers and a
Prometheus server sums them, so scaling out needs no shared store.

Recording is on every request's path, so it is O(1) and allocates nothing once a unit has been
seen: each adapter has an :class:`AdapterMetrics` (``metrics.for_adapter(name)``, taken once by
the access-log middleware), holding per unit name one :class:`UnitSeries` (a dict lookup by the
unit's string), whose status counts are keyed by the status ``int`` and whose histograms bump one
bucket found by bisection.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

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


class UnitSeries:
    """One unit of one adapter: requests by status, request latency, upstream latency, the
    runtime's own time (request minus upstream), and upstream calls by operation and status."""

    __slots__ = ("calls", "latency", "overhead", "statuses", "upstream")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.latency = _Histogram()
        self.upstream = _Histogram()
        self.overhead = _Histogram()
        self.calls: dict[tuple[str, int | str], int] = {}


class AdapterMetrics:
    """The series of one adapter, by unit name (``-`` for requests no unit answered)."""

    __slots__ = ("name", "units")

    def __init__(self, name: str) -> None:
        self.name = name
        self.units: dict[str, UnitSeries] = {}

    def record(
        self,
        unit: str,
        status: int,
        seconds: float,
        upstream_seconds: float | None,
        upstream_wall: float | None = None,
    ) -> None:
        """One request; ``upstream_wall``: how long it waited on upstreams, overlapping calls
        counted once (``upstream_seconds``, their sum, when not given)."""
        series = self.units.get(unit)
        if series is None:
            series = self.units[unit] = UnitSeries()
        statuses = series.statuses
        statuses[status] = statuses.get(status, 0) + 1
        latency = series.latency
        latency.counts[bisect_left(_BUCKETS, seconds)] += 1
        latency.count += 1
        latency.total += seconds
        if upstream_seconds is not None:
            series.upstream.observe(upstream_seconds)
        waited = upstream_wall if upstream_wall is not None else upstream_seconds or 0.0
        overhead = seconds - waited if waited < seconds else 0.0
        hist = series.overhead
        hist.counts[bisect_left(_BUCKETS, overhead)] += 1
        hist.count += 1
        hist.total += overhead

    def upstream_call(self, unit: str, operation: str, status: int | str) -> None:
        """One upstream request of ``unit`` for ``operation``, answered ``status`` (or how it failed)."""
        series = self.units.get(unit)
        if series is None:
            series = self.units[unit] = UnitSeries()
        calls = series.calls
        key = (operation, status)
        calls[key] = calls.get(key, 0) + 1


class Metrics:
    """Per adapter and unit: requests by status, request latency, upstream latency."""

    def __init__(self) -> None:
        self.started = time.time()
        self.by_adapter: dict[str, AdapterMetrics] = {}
        self.adapters: list[dict[str, object]] = []  # type, namespace, source, port, state
        self._upstream_sources: list[Callable[[], list[dict[str, Any]]]] = []

    def watch_upstreams(self, source: Callable[[], list[dict[str, Any]]]) -> None:
        """Report the consumed namespaces ``source()`` describes (a runtime's client pool)."""
        if source not in self._upstream_sources:
            self._upstream_sources.append(source)

    def upstreams(self) -> list[dict[str, Any]]:
        """Every watched consumed namespace: circuit state, calls in flight, calls shared."""
        return [state for source in self._upstream_sources for state in source()]

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

    def for_adapter(self, name: str) -> AdapterMetrics:
        """The recorder of adapter ``name`` (created on first use; take it once, record on it often)."""
        found = self.by_adapter.get(name)
        if found is None:
            found = self.by_adapter[name] = AdapterMetrics(name)
        return found

    def record(
        self, adapter: str, unit: str, status: int, seconds: float, upstream_seconds: float | None
    ) -> None:
        self.for_adapter(adapter).record(unit, status, seconds, upstream_seconds)

    @property
    def requests(self) -> dict[tuple[str, str, str], int]:
        """Request counts keyed ``(adapter, unit, status)``, status as text (as rendered)."""
        return {
            (adapter, unit, str(status)): count
            for adapter, recorder in self.by_adapter.items()
            for unit, series in recorder.units.items()
            for status, count in series.statuses.items()
        }

    def _series(self) -> list[tuple[str, str, UnitSeries]]:
        return sorted(
            (adapter, unit, series)
            for adapter, recorder in self.by_adapter.items()
            for unit, series in recorder.units.items()
        )

    def render(self) -> str:
        series = self._series()
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
        lines += _upstream_lines(self.upstreams())
        lines += _histogram(
            "naftiko_request_duration_seconds",
            "Time to answer a request.",
            [(adapter, unit, s.latency) for adapter, unit, s in series],
        )
        lines += _histogram(
            "naftiko_upstream_duration_seconds",
            "Time spent waiting on upstreams per request.",
            [(adapter, unit, s.upstream) for adapter, unit, s in series if s.upstream.count],
        )
        lines += _histogram(
            "naftiko_runtime_overhead_seconds",
            "The runtime's own time per request: request time minus time waiting on upstreams.",
            [(adapter, unit, s.overhead) for adapter, unit, s in series if s.overhead.count],
        )
        lines += [
            "# HELP naftiko_upstream_calls_total Requests sent upstream, by adapter, unit, consumed "
            "operation and status (or timeout, unavailable, error).",
            "# TYPE naftiko_upstream_calls_total counter",
        ]
        for adapter, unit, s in series:
            for (operation, outcome), count in sorted(s.calls.items(), key=lambda item: str(item[0])):
                lines.append(
                    f'naftiko_upstream_calls_total{{adapter="{_esc(adapter)}",unit="{_esc(unit)}",'
                    f'operation="{_esc(operation)}",status="{outcome}"}} {count}'
                )
        return "\n".join(lines) + "\n"


_CIRCUIT = {"closed": 0, "half-open": 1, "open": 2}
_UPSTREAM_SERIES = (
    ("circuitOpened", "naftiko_upstream_circuit_opened_total", "counter", "Times the circuit opened."),
    ("inFlight", "naftiko_upstream_in_flight", "gauge", "Upstream calls in flight."),
    ("queued", "naftiko_upstream_queued", "gauge", "Calls waiting for a slot under the concurrency cap."),
    (
        "refused",
        "naftiko_upstream_refused_total",
        "counter",
        "Calls refused: concurrency cap and queue full.",
    ),
    ("shared", "naftiko_upstream_shared_total", "counter", "Calls answered by an identical call in flight."),
    ("cacheHits", "naftiko_upstream_cache_hits_total", "counter", "Calls answered from the cache."),
)


def _upstream_lines(states: list[dict[str, Any]]) -> list[str]:
    if not states:
        return []
    lines = [
        "# HELP naftiko_upstream_circuit_state Circuit of a namespace: 0 closed, 1 half-open, 2 open.",
        "# TYPE naftiko_upstream_circuit_state gauge",
    ]
    lines += [
        f'naftiko_upstream_circuit_state{{namespace="{_esc(s["namespace"])}"}} {_CIRCUIT[s["circuit"]]}'
        for s in states
    ]
    for key, name, kind, text in _UPSTREAM_SERIES:
        rows = [s for s in states if key in s]
        if rows:
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            lines += [f'{name}{{namespace="{_esc(s["namespace"])}"}} {s[key]}' for s in rows]
    return lines


def _histogram(name: str, help_text: str, series: list[tuple[str, str, _Histogram]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for adapter, unit, hist in series:
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
