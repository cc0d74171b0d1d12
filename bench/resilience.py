"""Resilience features: what sharing saves, and what the protections cost on every request.

Two measurements on the seed capability (capabilities/label-studio-runs.yaml), in process:

* **Sharing** (issue #12 item 5): ``--agents`` (50) agents ask the seed's MCP tool the same
  question at once, ``--bursts`` (5) times, against a real upstream (aiohttp on a loopback port,
  counting requests, answering after ``--upstream-delay-ms``, 50). Variants: single flight off,
  single flight on (the default), single flight and a 5 s cache (``--cache-ttl 5``). The figures:
  upstream requests per burst (the issue's "N agents → 1 upstream call") and the burst's wall time.
* **Hot-path cost** (items 1, 2, 4, 5): the seed's REST list route and its MCP ``tools/call``
  through the ASGI interface (as uvicorn calls them), 16 concurrent callers, each request with its
  own ``project`` so that no two are shared, against bench/upstream.py (a subprocess). ``protections
  off``: no answer bound, no circuit, no single flight, no result budget; ``defaults``: what
  ``naftiko serve`` runs with (32 MiB bound, circuit after 5 failures, single flight, 100,000-char
  budget). Variants alternate in rounds; the figure is the median CPU time per request of this
  process (the upstream's is not in it) and the ratio defaults / off.

Run: ``.venv/bin/python bench/resilience.py`` (``--requests 4000 --rounds 5`` by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _harness import REPO, Server
from drain import scope

sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent)]

from aiohttp import web  # noqa: E402

from naftiko_runtime.consumes.limits import Limits  # noqa: E402
from naftiko_runtime.consumes.transport import TransportSettings  # noqa: E402
from naftiko_runtime.observability import Metrics  # noqa: E402
from naftiko_runtime.runtime import Runtime, RuntimeOptions  # noqa: E402
from naftiko_runtime.runtime.apps import build_adapter  # noqa: E402
from naftiko_runtime.spec import load  # noqa: E402

SEED = REPO / "capabilities" / "label-studio-runs.yaml"
NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"
TOOL = "get-inference-run-info"
ENV = {"LABEL_STUDIO_API_KEY": "Token bench"}
OFF = Limits(max_body=None, circuit_failures=0, single_flight=False)
RUNS = [{"id": n, "status": "Completed", "project": 1} for n in (1, 2, 3)]


def runtime_for(upstream: str, limits: Limits, budget: int | None) -> Runtime:
    settings = TransportSettings(limits=limits)
    options = RuntimeOptions(
        base_uris={NAMESPACE: upstream}, environ=ENV, transport=settings, mcp_result_chars=budget
    )
    return Runtime.build(load(str(SEED)), options)


# -- sharing -----------------------------------------------------------------------------------------


async def sharing(agents: int, bursts: int, delay_ms: float) -> list[tuple[str, float, float]]:
    seen = 0

    async def runs(_: web.Request) -> web.Response:
        nonlocal seen
        seen += 1
        await asyncio.sleep(delay_ms / 1000)
        return web.json_response(RUNS)

    app = web.Application()
    app.router.add_get("/{tail:.*}", runs)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    variants = {
        "single flight off": replace(OFF, circuit_failures=5, max_body=Limits().max_body),
        "single flight on (default)": Limits(),
        "single flight + cache-ttl 5 s": Limits(cache_ttl=5.0),
    }
    rows = []
    for name, limits in variants.items():
        runtime = runtime_for(f"http://127.0.0.1:{port}", limits, 100_000)
        unit = runtime.find(TOOL)
        calls, walls = [], []
        for _ in range(bursts):
            before = seen
            started = time.perf_counter()
            results = await asyncio.gather(
                *(unit.invoke({"prompt_id": 1, "version_id": 1}) for _ in range(agents))
            )
            walls.append((time.perf_counter() - started) * 1000)
            calls.append(seen - before)
            assert all(r.value == RUNS for r in results)
        await runtime.aclose()
        rows.append((name, statistics.mean(calls), statistics.median(walls)))
    await runner.cleanup()
    return rows


# -- hot-path cost -----------------------------------------------------------------------------------


_MCP_HEADERS = [
    (b"content-type", b"application/json"),
    (b"accept", b"application/json, text/event-stream"),
    (b"mcp-protocol-version", b"2025-11-25"),
]
_REST_PATH = "/v1/api/prompts/1/versions/1/inference-runs"


async def drive(app: Any, kind: str, count: int, callers: int, offset: int) -> float:
    """CPU seconds per request for ``count`` requests from ``callers`` concurrent callers."""
    statuses: list[int] = []

    async def one(n: int) -> None:
        if kind == "REST":
            request = {**scope("GET", _REST_PATH, []), "query_string": f"project={n}".encode()}
            body = b""
        else:
            request = scope("POST", "/mcp", _MCP_HEADERS)
            arguments = {"prompt_id": 1, "version_id": 1, "project": n}
            message = {
                "jsonrpc": "2.0",
                "id": n,
                "method": "tools/call",
                "params": {"name": TOOL, "arguments": arguments},
            }
            body = json.dumps(message).encode()

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(request, receive, send)

    async def caller(index: int) -> None:
        for n in range(index, count, callers):
            await one(offset + n)

    started = time.process_time()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    spent = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {sorted(set(statuses))}")
    return spent / count


async def hot_path(upstream: str, requests: int, rounds: int, callers: int) -> dict[str, list[float]]:
    metrics = Metrics()
    apps: dict[str, tuple[Any, str]] = {}
    runtimes = []
    for label, limits, budget in (("protections off", OFF, None), ("defaults", Limits(), 100_000)):
        runtime = runtime_for(upstream, limits, budget)
        runtimes.append(runtime)
        capability = runtime.document.capability
        assert capability is not None
        for expose, kind in ((capability.exposes[0], "REST"), (capability.exposes[1], "MCP")):
            app, _, _ = build_adapter(runtime, expose, metrics, [runtime])  # type: ignore[misc]
            apps[f"{kind}: {label}"] = (app, kind)
    timings: dict[str, list[float]] = {name: [] for name in apps}
    offset = 0
    for app, kind in apps.values():  # warm-up
        await drive(app, kind, requests // 10, callers, offset)
        offset += requests
    for round_ in range(rounds):
        for name, (app, kind) in apps.items():
            timings[name].append(await drive(app, kind, requests, callers, offset))
            offset += requests
        print(f"  round {round_ + 1}/{rounds}", file=sys.stderr, flush=True)
    for runtime in runtimes:
        await runtime.aclose()
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--upstream-delay-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--callers", type=int, default=16)
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", file=sys.stderr)

    rows = asyncio.run(sharing(args.agents, args.bursts, args.upstream_delay_ms))
    print(f"### Sharing: {args.agents} agents ask the same question at once ({args.bursts} bursts)\n")
    print("| variant | upstream requests per burst | burst wall ms (median) |")
    print("| --- | ---: | ---: |")
    for name, calls, wall in rows:
        print(f"| {name} | {calls:g} | {wall:.1f} |")

    with Server.python("resilience-upstream", "upstream.py") as upstream:
        timings = asyncio.run(hot_path(upstream.url, args.requests, args.rounds, args.callers))
    size = f"{args.requests:,} requests × {args.rounds} rounds, {args.callers} callers, medians"
    print(f"\n### Hot-path cost ({size})\n")
    print("| variant | CPU µs/request | defaults / off |")
    print("| --- | ---: | ---: |")
    for name, values in timings.items():
        median = statistics.median(values) * 1e6
        off = statistics.median(timings[name.replace("defaults", "protections off")]) * 1e6
        ratio = "–" if name.endswith("off") else f"{median / off:.3f}× (throughput {off / median:.3f}×)"
        print(f"| {name} | {median:.1f} | {ratio} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
