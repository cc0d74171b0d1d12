"""How much does the invocation core cost on top of the HTTP client it drives? Measure it.

Two variants make the same upstream request — the seed's ``list`` (``GET
/api/prompts/1/versions/1/inference-runs`` with ``Authorization`` and ``Accept: application/json``)
— against the fast stand-in upstream (``bench/upstream.py``, a subprocess), from the same process,
event loop and concurrency, side by side:

==========  ======================================================================================
``core``    ``runtime.invoke("list", {"prompt_id": 1, "version_id": 1})`` on the seed capability:
            input coercion, ``with``, request building, auth, transport, JSON decoding, shaping
``aiohttp`` a hand-written loop: one ``aiohttp.ClientSession`` with the runtime's session settings
            (same connector, timeouts, cookie jar, auto headers), ``session.get`` + ``read`` +
            ``orjson.loads``; the least any client can do for the same answer
==========  ======================================================================================

Each variant runs ``--concurrency`` tasks that each invoke in a loop for ``--duration`` seconds;
variants are interleaved (aiohttp, core, aiohttp, core, …) and summarised by their median, so drift on
the machine hits both alike. The figure of merit is ``core / aiohttp`` invocations per second
(target ≥ 0.8). CPU time of this process per invocation is reported beside it, with the ratio it
implies (``aiohttp µs / core µs``): when other work shares the machine, throughput swings with the
scheduler while CPU per invocation barely moves, and on an idle machine the two ratios agree (this
process is CPU-bound at 16 concurrent tasks against a fast upstream).

Run: ``.venv/bin/python bench/consumer.py`` (``--duration 3 --repeats 3`` for a quick look;
``--profile core.prof`` writes a cProfile of one core run; ``--loop asyncio`` for the stock loop).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from _harness import REPO, LoadResult, Server, write_results

sys.path.insert(0, str(REPO))

from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load

SEED = REPO / "capabilities" / "label-studio-runs.yaml"
NS = "label-studio-subpackage-prompts-subpackage-prompts-runs"
API_KEY = "Token bench-token"
UPSTREAM_PATH = "/api/prompts/1/versions/1/inference-runs"
ARGUMENTS = {"prompt_id": 1, "version_id": 1}

Invoke = Callable[[], Awaitable[Any]]


# ---------------------------------------------------------------------------------------------
# The two variants


def hand_session(settings: TransportSettings) -> aiohttp.ClientSession:
    """A session configured exactly as ``naftiko_runtime.consumes.transport.HttpClient`` does."""
    connector = aiohttp.TCPConnector(
        limit=settings.pool_limit,
        limit_per_host=0,
        keepalive_timeout=settings.keepalive,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        ),
        auto_decompress=True,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
    )


def hand_variant(session: aiohttp.ClientSession, upstream_url: str) -> Invoke:
    url = upstream_url + UPSTREAM_PATH
    headers = {"Authorization": API_KEY, "Accept": "application/json"}

    async def invoke() -> Any:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            body = await response.read()
            if response.status >= 400:
                raise RuntimeError(f"upstream answered {response.status}")
            return orjson.loads(body)

    return invoke


def core_runtime(upstream_url: str, settings: TransportSettings) -> Runtime:
    options = RuntimeOptions(
        base_uris={NS: upstream_url}, environ={"LABEL_STUDIO_API_KEY": API_KEY}, transport=settings
    )
    return Runtime.build(load(SEED), options)


def core_variant(runtime: Runtime, target: str) -> Invoke:
    unit = runtime.find(target)

    async def invoke() -> Any:
        return (await unit.invoke(ARGUMENTS)).value

    return invoke


# ---------------------------------------------------------------------------------------------
# Measuring


async def measure(invoke: Invoke, *, concurrency: int, duration_s: float) -> LoadResult:
    """``concurrency`` tasks invoking back to back for ``duration_s``; latencies of successes."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        nonlocal failures
        clock = time.perf_counter
        while (started := clock()) < deadline:
            try:
                await invoke()
            except Exception:
                failures += 1
                continue
            latencies.append(clock() - started)

    cpu_before = time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    ok = len(latencies)
    return LoadResult(
        rps=ok / elapsed,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        requests=ok + failures,
        failures=failures,
        duration_s=elapsed,
        connections=concurrency,
        tool="in-process",
        loadavg_1m=os.getloadavg()[0],
        detail={"cpu_us_per_invocation": round(cpu / ok * 1e6, 1) if ok else None},
    )


async def run_all(args: argparse.Namespace, upstream_url: str) -> dict[str, list[LoadResult]]:
    settings = TransportSettings()
    runtime = core_runtime(upstream_url, settings)
    session = hand_session(settings)
    variants: dict[str, Invoke] = {
        "aiohttp": hand_variant(session, upstream_url),
        "core": core_variant(runtime, args.target),
    }
    try:
        first = {name: await invoke() for name, invoke in variants.items()}
        if first["core"] != first["aiohttp"]:
            raise AssertionError(
                f"the variants disagree:\n core    {first['core']!r:.300}\n aiohttp {first['aiohttp']!r:.300}"
            )
        for invoke in variants.values():  # warm up: connections, caches, lazy imports
            await measure(invoke, concurrency=args.concurrency, duration_s=args.warmup)
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
            profiler.enable()
            await measure(variants["core"], concurrency=args.concurrency, duration_s=args.duration)
            profiler.disable()
            profiler.dump_stats(args.profile)
            print(f"cProfile of one core run written to {args.profile}", file=sys.stderr)
        runs: dict[str, list[LoadResult]] = {name: [] for name in variants}
        for rep in range(args.repeats):
            for name, invoke in variants.items():
                await asyncio.sleep(args.pause)
                result = await measure(invoke, concurrency=args.concurrency, duration_s=args.duration)
                runs[name].append(result)
                print(
                    f"  [{rep + 1}/{args.repeats}] {name:<8} {result.rps:>8,.0f}/s"
                    f"  p50 {result.p50_ms:5.2f} ms  p99 {result.p99_ms:6.2f} ms"
                    f"  cpu {result.detail['cpu_us_per_invocation']} µs/inv  fail {result.failures}",
                    file=sys.stderr,
                    flush=True,
                )
        return runs
    finally:
        await session.close()
        await runtime.aclose()


def table(runs: dict[str, list[LoadResult]]) -> str:
    base = statistics.median(r.rps for r in runs["aiohttp"])
    lines = [
        "| variant | invocations/s (median) | vs aiohttp | p50 ms | p99 ms | CPU µs/invocation | failures "
        "| min–max /s | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, results in runs.items():
        rps = statistics.median(r.rps for r in results)
        cpu = _median_cpu(results)
        lines.append(
            f"| {name} | {rps:,.0f} | {rps / base:.2f}× | {statistics.median(r.p50_ms for r in results):.2f} "
            f"| {statistics.median(r.p99_ms for r in results):.2f} | {cpu:,.0f} "
            f"| {sum(r.failures for r in results)} | {min(r.rps for r in results):,.0f}–"
            f"{max(r.rps for r in results):,.0f} | {len(results)} |"
        )
    return "\n".join(lines)


def _median_cpu(results: list[LoadResult]) -> float:
    return statistics.median(r.detail["cpu_us_per_invocation"] or float("nan") for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per variant (median)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent tasks per variant")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per variant")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between runs")
    parser.add_argument("--target", default="list", help="unit the core invokes (default: the seed's list)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--pin", action="store_true", help="this process on CPU 0, the upstream on CPU 1")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of one extra core run")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/consumer-*.json")
    args = parser.parse_args(argv)

    if args.pin:
        os.sched_setaffinity(0, {0})
    upstream = Server.python("consumer-upstream", "upstream.py", cpus={1} if args.pin else None)
    with upstream:
        if args.loop == "uvloop":
            import uvloop

            runs = uvloop.run(run_all(args, upstream.url))
        else:
            runs = asyncio.run(run_all(args, upstream.url))
    print(table(runs))
    ratio = statistics.median(r.rps for r in runs["core"]) / statistics.median(r.rps for r in runs["aiohttp"])
    cpu_ratio = _median_cpu(runs["aiohttp"]) / _median_cpu(runs["core"])
    print(
        f"\ncore / aiohttp = {ratio:.2f} by invocations/s, {cpu_ratio:.2f} by CPU per invocation "
        "(target ≥ 0.80)"
    )
    if not args.no_save:
        path = write_results(
            "consumer",
            runs,
            baseline="aiohttp",
            settings={
                "target": args.target,
                "concurrency": args.concurrency,
                "duration_s": args.duration,
                "repeats": args.repeats,
                "loop": args.loop,
                "pinned": args.pin,
                "upstream": "bench/upstream.py --impl raw",
            },
            notes={"ratio_core_over_aiohttp": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3)},
        )
        print(f"results: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
