"""Orchestration bench: does a three-call unit overlap its two independent calls?

The unit (an MCP tool, invoked through the runtime's core) has three call steps against an
upstream that holds every answer for ``--delay-ms`` (50 ms by default, ``bench/upstream.py``):

* ``first`` and ``second``: two GETs that depend on nothing, so they run concurrently;
* ``third``: a GET whose path is built from both answers (``$.first[0].id``, ``{{second.1.id}}``).

For each invocation it records the unit's wall time and the sum of its three calls' own times
(what a one-after-the-other engine would take at best), and reports the median ratio
wall / sum. Two rounds of calls instead of three give about 2/3; the target is ≤ 0.7.

Usage: ``python bench/orchestration.py [--delay-ms 50] [--iterations 40] [--warmup 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from _harness import RESULTS, Server, machine_info  # noqa: E402

from naftiko_runtime.runtime import Runtime, RuntimeOptions  # noqa: E402
from naftiko_runtime.spec.loader import loads  # noqa: E402

CAPABILITY = """
naftiko: "1.0.0-alpha2"
capability:
  consumes:
    - namespace: runs
      type: http
      baseUri: "http://127.0.0.1:1"
      authentication: {type: bearer, token: bench-token}
      resources:
        - name: inference-runs
          path: "/api/prompts/{{prompt}}/versions/{{version}}/inference-runs"
          operations:
            - name: list-runs
              method: GET
  exposes:
    - type: mcp
      namespace: bench
      tools:
        - name: three-calls
          description: two independent GETs, then one that needs both
          steps:
            - {type: call, name: first, call: runs.list-runs, with: {prompt: 1, version: 1}}
            - {type: call, name: second, call: runs.list-runs, with: {prompt: 2, version: 1}}
            - type: call
              name: third
              call: runs.list-runs
              with: {prompt: "$.first[0].id", version: "{{second.1.id}}"}
          mappings:
            - {targetName: statuses, value: "$.third[*].status"}
"""


async def measure(upstream_url: str, iterations: int, warmup: int) -> dict[str, object]:
    document = loads(CAPABILITY, "bench-orchestration.yml")
    options = RuntimeOptions(base_uris={"runs": upstream_url}, environ={})
    async with Runtime.build(document, options) as runtime:
        unit = runtime.find("three-calls")
        for _ in range(warmup):
            await unit.invoke({})
        walls: list[float] = []
        sums: list[float] = []
        ratios: list[float] = []
        for _ in range(iterations):
            started = time.perf_counter()
            result = await unit.invoke({})
            wall = (time.perf_counter() - started) * 1000
            assert result.value == {"statuses": ["Completed", "Completed", "InProgress"]}, result.value
            walls.append(wall)
            sums.append(result.upstream_ms)
            ratios.append(wall / result.upstream_ms)
    return {
        "iterations": iterations,
        "wall_ms_median": round(statistics.median(walls), 1),
        "calls_sum_ms_median": round(statistics.median(sums), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_p90": round(sorted(ratios)[int(len(ratios) * 0.9) - 1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.7)
    args = parser.parse_args()
    upstream = Server.python("orchestration-upstream", "upstream.py", "--delay-ms", str(args.delay_ms))
    with upstream:
        figures = asyncio.run(measure(upstream.url, args.iterations, args.warmup))
    ok = float(figures["ratio_median"]) <= args.target  # type: ignore[arg-type]
    print(
        f"three-call unit, {args.delay_ms} ms per upstream call: wall {figures['wall_ms_median']} ms, "
        f"sum of calls {figures['calls_sum_ms_median']} ms, ratio {figures['ratio_median']} "
        f"(p90 {figures['ratio_p90']}; target <= {args.target}: {'met' if ok else 'MISSED'})"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"orchestration-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "bench": "orchestration",
                "settings": {"delay_ms": args.delay_ms, "warmup": args.warmup, "target": args.target},
                "figures": figures,
                "target_met": ok,
                "machine": machine_info(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {out.relative_to(BENCH.parent)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
