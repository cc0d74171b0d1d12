"""Scale-out: 1, 2 and 3 replicas behind nginx, ``--workers 1`` vs ``2``, the footprint, the soak.

Every replica serves what the Kubernetes base deploys (deploy/kubernetes/base/capabilities: the seed
and a control adapter), its consumed namespace pointed at the fast upstream (bench/upstream.py),
with ``--log-format json`` as in the image. Four measurements, all in one run:

* **Replicas** (``1 replica`` is the baseline): three ``naftiko serve`` processes behind nginx
  (round robin, keep-alive to the replicas; tests/replicas/cluster.py), nginx routing to the first
  1, 2 or all 3 of them (reloaded between runs), the variants interleaved. Load: wrk on the seed's
  REST list route, then a stateless MCP ``tools/call`` (bench/baselines/tools_call.lua).
* **Workers** (``--workers 1`` is the baseline): one ``naftiko serve --workers N`` without nginx.
* **Footprint**: each replica's resident memory (VmRSS) idle and after the load, its peak (VmHWM),
  and CPU time per request: the figures the Kubernetes resource requests and limits come from.
* **Soak** (``--soak SECONDS``, 60 by default; 0 skips it): the rolling restart of
  tests/replicas/test_rolling_restart.py (three restarts under REST and MCP load), for longer.

On 2 cores the ratios say what the machine allows, not what the runtime would do with more: each
replica is one event loop (at most one core), and nginx, wrk and the upstream share the same two
cores; the CPU time per request shows whether a variant did more work or only waited for a core.

Run: ``.venv/bin/python bench/replicas.py`` (``--duration 5 --repeats 3 --soak 60`` by default;
``make bench`` runs ``--duration 3 --repeats 1 --soak 60``). Needs ``nginx`` and ``wrk`` (Debian).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from _harness import (
    BENCH,
    REPO,
    Load,
    LoadResult,
    Server,
    process_cpu_seconds,
    run_load,
    summarize,
    write_results,
)
from reference import ENV, REST_PATH, TOOLS_CALL_LUA

# The cluster and the rolling restart are the replica tests' own. They import the `mcp` package,
# which bench/mcp.py would shadow while bench/ is on the path.
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != BENCH)]

from tests.replicas.cluster import Nginx, Replica  # noqa: E402
from tests.replicas.scenario import rolling_restart  # noqa: E402
from tests.support.servers import ServerThread  # noqa: E402

CAPABILITIES = sorted((REPO / "deploy" / "kubernetes" / "base" / "capabilities").glob("*.yaml"))
CONSUMED = "label-studio-subpackage-prompts-subpackage-prompts-runs"


def replica(name: str, workdir: Path, upstream: Server, *extra: str) -> Replica:
    return Replica(
        name,
        CAPABILITIES,
        workdir,
        {**ENV, "LABEL_STUDIO_API_KEY": f"Token {ENV['LABEL_STUDIO_API_KEY']}"},
        ["--base-uri", f"{CONSUMED}={upstream.url}", *extra],
    )


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of ``pid`` and its child processes, in KiB, from /proc."""
    pids = [pid] + [
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and _parent(entry) == pid
    ]
    out = {"VmRSS": 0, "VmHWM": 0}
    for each in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in out:
                    out[key] += int(value.split()[0])
    return out


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def measure(
    variants: Mapping[str, Callable[[], None]],
    loads: Mapping[str, Load],
    processes: Callable[[], Sequence[int]],
    *,
    repeats: int,
    duration: float,
    connections: int,
    warmup: float,
) -> dict[str, list[LoadResult]]:
    """Every (load, variant) pair ``repeats`` times, interleaved; ``variants`` set the stage."""
    runs: dict[str, list[LoadResult]] = {}
    for load_name, load in loads.items():
        for prepare in variants.values():
            prepare()
            run_load(load, connections=connections, duration_s=warmup)
        for rep in range(repeats):
            for variant, prepare in variants.items():
                prepare()
                time.sleep(0.5)
                before = sum(process_cpu_seconds(pid) for pid in processes())
                result = run_load(load, connections=connections, duration_s=duration)
                cpu = sum(process_cpu_seconds(pid) for pid in processes()) - before
                ok = result.requests - int(result.detail.get("non_2xx", result.failures))
                result.detail["server_cpu_us_per_req"] = round(cpu / ok * 1e6, 1) if ok else None
                runs.setdefault(f"{load_name}: {variant}", []).append(result)
                print(
                    f"  [{rep + 1}/{repeats}] {load_name}: {variant:<14} {result.rps:>8,.0f}/s "
                    f"p99 {result.p99_ms:6.2f} ms  failures {result.failures}",
                    file=sys.stderr,
                    flush=True,
                )
    return runs


def table(runs: Mapping[str, list[LoadResult]], baselines: Mapping[str, str]) -> str:
    """Medians: req/s, ratio to the baseline of the same load, p50/p99, CPU µs per request."""
    rows = [
        "| variant | req/s | ratio | p50 ms | p99 ms | CPU µs/req | failures |",
        "| --- |" + " ---: |" * 6,
    ]
    summaries = {name: summarize(results) for name, results in runs.items()}
    for name, row in summaries.items():
        load_name = name.split(":", 1)[0]
        base = summaries[f"{load_name}: {baselines[load_name]}"]
        us = row.get("server_cpu_us_per_req")
        rows.append(
            f"| {name} | {row['rps']:,.0f} | {row['rps'] / base['rps']:.2f}× | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {'–' if us is None else f'{us:,.0f}'} | {row['failures']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--soak", type=float, default=60.0, help="rolling-restart soak seconds (0: skip)")
    args = parser.parse_args(argv)
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed: apt-get install -y {tool}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    notes: dict[str, Any] = {"loadavg_before": os.getloadavg(), "cores": os.cpu_count()}
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-replicas-")))
        upstream = stack.enter_context(Server.python("replicas-upstream", "upstream.py"))
        pool = [replica(f"r{i}", workdir, upstream).start() for i in range(3)]
        stack.callback(lambda: [r.kill() for r in pool])
        for each in pool:
            each.wait_ready()
        idle = [memory_kib(each.process.pid) for each in pool]  # type: ignore[union-attr]
        nginx = Nginx(workdir).start(pool)
        stack.callback(nginx.stop)
        routed = {f"{n} replica{'s' if n > 1 else ''}": pool[:n] for n in (1, 2, 3)}
        loads = {
            "REST": Load(nginx.rest_url + REST_PATH),
            "MCP": Load(nginx.mcp_url, method="POST", lua_script=TOOLS_CALL_LUA),
        }
        replica_runs = measure(
            {name: (lambda chosen=chosen: nginx.route(chosen)) for name, chosen in routed.items()},
            loads,
            lambda: [each.process.pid for each in pool],  # type: ignore[union-attr]
            repeats=args.repeats,
            duration=args.duration,
            connections=args.connections,
            warmup=args.warmup,
        )
        loaded = [memory_kib(each.process.pid) for each in pool]  # type: ignore[union-attr]
        nginx.stop()
        for each in pool:
            each.terminate()
            each.wait()

        workers = {
            f"--workers {n}": replica(f"w{n}", workdir, upstream, "--workers", str(n)).start() for n in (1, 2)
        }
        for each in workers.values():
            each.wait_ready()
            stack.callback(each.kill)
        worker_loads = {
            name: {
                "REST": Load(f"http://{each.address('rest')}{REST_PATH}"),
                "MCP": Load(f"http://{each.address('mcp')}/mcp", method="POST", lua_script=TOOLS_CALL_LUA),
            }
            for name, each in workers.items()
        }
        worker_runs: dict[str, list[LoadResult]] = {}
        for load_name in ("REST", "MCP"):
            for rep in range(args.repeats + 1):
                for name, each in workers.items():
                    before = process_cpu_seconds(each.process.pid)  # type: ignore[union-attr]
                    result = run_load(
                        worker_loads[name][load_name],
                        connections=args.connections,
                        duration_s=args.warmup if rep == 0 else args.duration,
                    )
                    if rep == 0:
                        continue
                    cpu = process_cpu_seconds(each.process.pid) - before  # type: ignore[union-attr]
                    ok = result.requests - int(result.detail.get("non_2xx", result.failures))
                    result.detail["server_cpu_us_per_req"] = round(cpu / ok * 1e6, 1) if ok else None
                    worker_runs.setdefault(f"{load_name}: {name}", []).append(result)
                    print(
                        f"  [{rep}/{args.repeats}] {load_name}: {name:<12} {result.rps:>8,.0f}/s",
                        file=sys.stderr,
                        flush=True,
                    )
        for each in workers.values():
            each.terminate()
            each.wait()

    soak = None
    if args.soak > 0:
        print(f"soak: rolling restart of 3 replicas under load for {args.soak:g} s", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="bench-soak-") as directory:
            from tests.replicas.cluster import echo_upstream

            with echo_upstream() as echo:
                assert isinstance(echo, ServerThread)
                report = rolling_restart(Path(directory), echo.url, duration=args.soak)
        traffic = report.traffic
        soak = {
            "seconds": round(report.seconds, 1),
            "rest_ok": traffic.rest.ok,
            "rest_failed": len(traffic.rest.failures),
            "mcp_ok": traffic.mcp.ok,
            "mcp_failed": len(traffic.mcp.failures),
            "restarts": len(report.drains),
            "failures_sample": (traffic.rest.failures + traffic.mcp.failures)[:5],
        }

    footprint = {
        "idle_rss_mib": round(statistics.median(m["VmRSS"] for m in idle) / 1024, 1),
        "loaded_rss_mib": round(statistics.median(m["VmRSS"] for m in loaded) / 1024, 1),
        "peak_rss_mib": round(max(m["VmHWM"] for m in loaded) / 1024, 1),
    }
    notes.update(footprint=footprint, soak=soak, loadavg_after=os.getloadavg())
    write_results(
        "replicas",
        {**replica_runs, **worker_runs},
        baseline="1 replica / --workers 1",
        settings=dict(vars(args)),
        notes=notes,
    )
    print(f"### Replicas behind nginx ({args.connections} connections, medians of {args.repeats})\n")
    print(table(replica_runs, {"REST": "1 replica", "MCP": "1 replica"}))
    print(f"\n### One machine: --workers ({args.connections} connections)\n")
    print(table(worker_runs, {"REST": "--workers 1", "MCP": "--workers 1"}))
    print(
        f"\nfootprint per replica: {footprint['idle_rss_mib']} MiB resident idle, "
        f"{footprint['loaded_rss_mib']} MiB after the load, peak {footprint['peak_rss_mib']} MiB"
    )
    if soak is not None:
        print(
            f"soak: {soak['restarts']} rolling restarts in {soak['seconds']} s: REST {soak['rest_ok']} ok, "
            f"{soak['rest_failed']} failed; MCP {soak['mcp_ok']} ok, {soak['mcp_failed']} failed"
        )
    print(f"load average: before {notes['loadavg_before'][0]:.2f}, after {notes['loadavg_after'][0]:.2f}")
    return 1 if soak is not None and (soak["rest_failed"] or soak["mcp_failed"]) else 0


if __name__ == "__main__":
    sys.exit(main())
