"""Metrics: the runtime's own lock-free recorder beside the OpenTelemetry metrics SDK, per request.

What one REST request of an orchestrated unit with two upstream calls records, both ways, in the
same process, interleaved (A B, A B, …), medians of ``--repeats`` runs of ``--requests`` each:

======================  =========================================================================
``naftiko recorder``    ``observability/metrics.py``: ``AdapterMetrics.record`` (status count,
                        latency, upstream and overhead histograms) + two ``upstream_call``
``OpenTelemetry SDK``   ``opentelemetry-sdk`` metrics: the same series as instruments (a counter
                        of requests, three histograms, a counter of upstream calls), recorded with
                        the same attributes, read by an in-memory reader as a Prometheus exporter
                        would be
======================  =========================================================================

The figure is CPU µs per request and its ratio to the recorder: what each way adds to every
request's path. The decision it informs (issue #10): keep the recorder unless the SDK is as cheap.

Run: ``.venv/bin/python bench/metrics.py`` (``--requests 20000 --repeats 7`` by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from naftiko_runtime.observability.metrics import Metrics

ADAPTER, UNIT = "rest:label-studio", "label-studio.list-runs"
CALLS = (("projects.get-project", 200), ("runs.list-runs", 200))


def naftiko_recorder() -> Callable[[float], None]:
    recorder = Metrics().for_adapter(ADAPTER)

    def record(seconds: float) -> None:
        for operation, status in CALLS:
            recorder.upstream_call(UNIT, operation, status)
        recorder.record(UNIT, 200, seconds, seconds / 2, seconds / 3)

    return record


def otel_sdk() -> Callable[[float], None]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    meter = provider.get_meter("naftiko-runtime")
    requests = meter.create_counter("naftiko_requests")
    latency = meter.create_histogram("naftiko_request_duration", unit="s")
    upstream = meter.create_histogram("naftiko_upstream_duration", unit="s")
    overhead = meter.create_histogram("naftiko_runtime_overhead", unit="s")
    calls = meter.create_counter("naftiko_upstream_calls")
    series = {"adapter": ADAPTER, "unit": UNIT}

    def record(seconds: float) -> None:
        for operation, status in CALLS:
            calls.add(1, {**series, "operation": operation, "status": status})
        requests.add(1, {**series, "status": 200})
        latency.record(seconds, series)
        upstream.record(seconds / 2, series)
        overhead.record(seconds - seconds / 3, series)

    return record


def per_request_us(record: Callable[[float], None], count: int) -> float:
    started = time.process_time()
    for index in range(count):
        record(0.001 + (index % 50) * 0.0002)
    return (time.process_time() - started) / count * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests recorded per run")
    parser.add_argument("--repeats", type=int, default=7, help="runs per variant (median)")
    args = parser.parse_args(argv)
    variants = {"naftiko recorder": naftiko_recorder(), "OpenTelemetry SDK": otel_sdk()}
    for record in variants.values():  # warm-up: series created, code paths hot
        per_request_us(record, 1000)
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, record in variants.items():
            runs[name].append(per_request_us(record, args.requests))
    base = statistics.median(runs["naftiko recorder"])
    print(f"### Metrics recording per request ({args.repeats} × {args.requests:,} requests, medians)\n")
    print("| variant | CPU µs/request | vs recorder | min–max |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in runs.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {median / base:.1f}× | {min(values):.2f}–{max(values):.2f} |")
    print(f"\n1-min load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
