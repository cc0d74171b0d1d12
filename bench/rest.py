"""REST: the seed's list route through ``naftiko serve``, beside the upstream and a hand-written proxy.

Every variant answers ``GET …/inference-runs?project=1&ordering=-created_at`` from the same fast
upstream (bench/upstream.py, raw protocol) and returns its three runs:

===============================  ===================================================================
``upstream direct``              bench/upstream.py itself, asked ``GET /api/prompts/1/versions/1/
                                 inference-runs`` with the ``Authorization`` header: the floor every
                                 proxy's latency is measured against ("added latency")
``hand-written proxy``           bench/baselines/starlette_aiohttp_proxy.py: the least a correct
                                 Starlette + aiohttp proxy of this one route does (the baseline)
``naftiko serve``                the seed capability (capabilities/label-studio-runs.yaml), unchanged
                                 but for its ports, run by the ``naftiko`` command as users run it:
                                 ``--base-uri`` pointing its consumed namespace at the upstream,
                                 default log level (one access line per request, to a file)
``naftiko serve (log warning)``  the same at ``--log-level warning``: no access line
``naftiko serve @REF``           ``--today REF`` (e.g. ``main``): the same, run from the code of git
                                 ref ``REF`` (extracted with ``git archive``): today's figure beside
                                 this branch's in the same run
``naftiko serve (traces 1.0)``   ``--tracing``: the seed plus a control adapter declaring
                                 ``observability`` (``sampling: 1.0``), spans exported over OTLP/HTTP
                                 to bench/otlp_sink.py (answers 200, keeps nothing)
``naftiko serve (traces 0.1)``   the same at ``sampling: 0.1``
===============================  ===================================================================

Single flight is on by default since issue #12: 16 connections asking the same URL share upstream
requests, so ``naftiko serve`` does less work than code older than it. ``--no-single-flight`` serves
this checkout's variants without it, the even comparison with ``--today``.

With ``--tracing`` and ``--today``, "tracing off" is ``naftiko serve`` (the seed declares no
``observability``) and its cost is its ratio to ``naftiko serve @REF``; each traced variant's cost is
its ratio to ``naftiko serve`` (printed under the tables).

Two measurements, each interleaved (A B C D, A B C D, …) after one warm-up per variant and summarised
by medians (see bench/_harness.py):

* **Saturated** (the issue's): ``wrk`` at ``--connections`` (16) as fast as each server answers.
  Throughput is the figure; latency here is mostly queueing (16 requests waiting on one busy core), so
  "added p99" under saturation says how long a request waits, not what the proxy adds to one.
* **Paced** (``--paced-delay-ms``, 10 by default; 0 to skip): the same 16 connections, each pausing a
  random 0–20 ms between answer and next request (a wrk ``delay()`` script; ≈ 1,500 req/s in all),
  so every server is far from saturation and ``p99 − upstream p99`` is the latency a proxy adds to a
  request, stalls included (GC pauses, blocking writes), without a queue in front of it. The pause is
  random because with a fixed one the connections fall into step and arrive in bursts of 16.

Figures: req/s and its ratio to the hand-written proxy (issue #4's target: naftiko ≥ 0.9×), p50/p99,
p50/p99 added over the upstream-direct variant (target: p99 added ≤ 2 ms at 16 connections), and the
server's CPU time per request, the figure that moves least when other work shares the machine (quote
it beside the ratio). The 1-minute load average is printed and kept in the results file. Each variant
must answer 200 with the upstream's exact runs before and after it is measured, or the bench stops.

Run: ``.venv/bin/python bench/rest.py`` (``--duration 5 --repeats 5`` by default; ``--repeats 1
--duration 3 --paced-delay-ms 0`` for a quick look; ``--json-log`` adds a naftiko variant with
``--log-format json``; ``--pin`` pins the server under test to CPU 0, upstream and wrk to CPU 1;
``--check-only`` for the answers alone).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from _harness import (
    REPO,
    Load,
    LoadResult,
    Server,
    add_comparison_arguments,
    add_load_arguments,
    check,
    code_of,
    free_port,
    interleave,
    single_flight_flags,
    summarize,
    write_results,
)
from reference import ENV, REST_PATH
from upstream import MODEL_RUNS

SEED = REPO / "capabilities" / "label-studio-runs.yaml"
CONSUMED = "label-studio-subpackage-prompts-subpackage-prompts-runs"
NAFTIKO = Path(sys.executable).with_name("naftiko")
UPSTREAM_PATH = REST_PATH.removeprefix("/v1")  # the same request, as the upstream itself is asked
AUTHORIZATION = f"Token {ENV['LABEL_STUDIO_API_KEY']}"

DIRECT = "upstream direct"
BASELINE = "hand-written proxy"
NAFTIKO_INFO = "naftiko serve"
NAFTIKO_QUIET = "naftiko serve (log warning)"
NAFTIKO_JSON = "naftiko serve (log json)"
TRACED = {"naftiko serve (traces 1.0)": 1.0, "naftiko serve (traces 0.1)": 0.1}
TARGET_TRACING_OFF = 0.97
TARGET_RATIO = 0.9
TARGET_ADDED_P99_MS = 2.0
_PORT = re.compile(r"^(\s*port:\s*)\d+\s*$", re.MULTILINE)


def seed_with_ports(directory: Path, rest_port: int) -> Path:
    """The seed with its REST adapter on ``rest_port`` and its MCP adapter on another free port."""
    text = SEED.read_text(encoding="utf-8")
    ports = iter([rest_port, free_port()])  # the seed declares REST (8080), then MCP (9090)
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / SEED.name
    copy.write_text(_PORT.sub(lambda m: f"{m.group(1)}{next(ports)}", text), encoding="utf-8")
    if next(ports, None) is not None:
        raise SystemExit(f"{SEED} no longer declares exactly two ports (REST, then MCP)")
    return copy


def with_tracing(document: Path, sampling: float, collector: str) -> None:
    """Add a control adapter declaring ``observability`` (``sampling``, OTLP to ``collector``)."""
    text = document.read_text(encoding="utf-8").rstrip("\n")
    text += (
        f"\n  - type: control\n    port: {free_port()}\n    observability:\n"
        f"      traces: {{sampling: {sampling}}}\n"
        f'      exporters: {{otlp: {{endpoint: "{collector}"}}}}\n'
    )
    document.write_text(text, encoding="utf-8")


def naftiko_server(
    name: str,
    directory: Path,
    upstream: Server,
    *,
    extra: Sequence[str] = (),
    cpus: Sequence[int] | None,
    tracing: tuple[float, str] | None = None,
    code: Path | None = None,
) -> Server:
    """``naftiko serve`` on a copy of the seed, its consumed namespace pointed at ``upstream``;
    ``tracing`` (sampling, collector URL) adds a control adapter declaring ``observability``;
    ``code`` runs the package found there instead of this checkout's."""
    port = free_port()
    document = seed_with_ports(directory / name, port)
    if tracing is not None:
        with_tracing(document, *tracing)
    command = (
        [str(NAFTIKO)]
        if NAFTIKO.exists()
        else [sys.executable, "-c", "import sys; from naftiko_runtime.cli import main; sys.exit(main())"]
    )
    argv = [*command, "serve", str(document), "--base-uri", f"{CONSUMED}={upstream.url}", *extra]
    # The seed's bind is the whole header value; the baseline adds "Token " itself.
    env = {"LABEL_STUDIO_API_KEY": AUTHORIZATION}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return Server(name, argv, port=port, env=env, cpus=cpus)


def paced_script(directory: Path, delay_ms: float) -> Path:
    """A wrk script: each connection waits a random 0–2×``delay_ms`` ms before its next request.

    Random, because with a fixed pause the connections fall into step and arrive in bursts of 16,
    which is queueing again; jitter spreads them out (mean pause ``delay_ms``).
    """
    path = directory / f"paced-{delay_ms:g}ms.lua"
    high = max(1, round(2 * delay_ms))
    path.write_text(f"function delay()\n  return math.random(0, {high})\nend\n", encoding="utf-8")
    return path


def smoke(name: str, load: Load) -> None:
    """200 with exactly the upstream's runs, or stop the bench."""
    answer = check(load)
    if answer != MODEL_RUNS:
        raise AssertionError(f"{name}: {load.url} did not answer the upstream's runs: {answer!r:.300}")


def table(runs: Mapping[str, list[LoadResult]], *, unit: str = "req/s", throughput: bool = True) -> str:
    """Medians per variant: throughput vs the baseline, latency and latency added over the upstream."""
    s = {name: summarize(results) for name, results in runs.items()}
    base, floor = s[BASELINE], s[DIRECT]
    header = ["variant"]
    if throughput:
        header += [f"{unit} (median)", f"vs {BASELINE}"]
    header += ["p50 ms", "p99 ms", "added p50 ms", "added p99 ms", "server CPU µs/req", "CPU vs proxy"]
    header += ["upstream CPU %", "failures"]
    if throughput:
        header += [f"{unit} min–max"]
    header += ["runs"]
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for name, row in s.items():
        cells = [name]
        if throughput:
            cells += [f"{row['rps']:,.0f}", f"{row['rps'] / base['rps']:.2f}×" if base["rps"] else "–"]
        cells += [f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}"]
        if name == DIRECT:
            cells += ["–", "–"]
        else:
            cells += [f"{row['p50_ms'] - floor['p50_ms']:+.2f}", f"{row['p99_ms'] - floor['p99_ms']:+.2f}"]
        us, base_us = row.get("server_cpu_us_per_req"), base.get("server_cpu_us_per_req")
        cells.append(f"{us:,.0f}" if us is not None else "–")
        cells.append(f"{us / base_us:.2f}×" if us is not None and base_us else "–")
        upstream_pct = row.get("cpu_percent", {}).get("upstream")
        cells.append("–" if name == DIRECT or upstream_pct is None else f"{upstream_pct:.0f}")
        cells.append(f"{row['failures']:,}")
        if throughput:
            cells.append(f"{row['rps_min']:,.0f}–{row['rps_max']:,.0f}")
        cells.append(str(row["runs"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures(runs: Mapping[str, list[LoadResult]]) -> dict[str, dict[str, Any]]:
    """Per variant: the ratio to the baseline, latency added over the upstream, CPU per request."""
    s = {name: summarize(results) for name, results in runs.items()}
    base, floor = s[BASELINE], s[DIRECT]
    out: dict[str, dict[str, Any]] = {}
    for name, row in s.items():
        out[name] = {
            "rps": round(row["rps"], 1),
            "ratio_vs_proxy": round(row["rps"] / base["rps"], 3) if base["rps"] else None,
            "p50_ms": row["p50_ms"],
            "p99_ms": row["p99_ms"],
            "added_p50_ms": round(row["p50_ms"] - floor["p50_ms"], 3),
            "added_p99_ms": round(row["p99_ms"] - floor["p99_ms"], 3),
            "server_cpu_us_per_req": row.get("server_cpu_us_per_req"),
        }
    return out


def tracing_costs(sat: Mapping[str, Mapping[str, Any]], today: str | None) -> dict[str, Any]:
    """Tracing off against today's code, each traced variant against tracing off, as ratios."""
    off = sat[NAFTIKO_INFO]
    result: dict[str, Any] = {"lines": []}
    if today and f"{NAFTIKO_INFO} @{today}" in sat:
        ratio = off["rps"] / sat[f"{NAFTIKO_INFO} @{today}"]["rps"]
        verdict = "meets" if ratio >= TARGET_TRACING_OFF else "misses"
        result["off_vs_today"] = round(ratio, 3)
        result["lines"].append(
            f"tracing off (no observability) / @{today} = {ratio:.3f}× req/s "
            f"({verdict} the ≥ {TARGET_TRACING_OFF:g}× target)"
        )
    for name in TRACED:
        if name in sat:
            ratio = sat[name]["rps"] / off["rps"]
            cpu, cpu_off = sat[name].get("server_cpu_us_per_req"), off.get("server_cpu_us_per_req")
            result[name] = {"rps_vs_off": round(ratio, 3)}
            line = f"{name} / tracing off = {ratio:.3f}× req/s"
            if cpu and cpu_off:
                result[name]["cpu_vs_off"] = round(cpu / cpu_off, 3)
                line += f", {cpu / cpu_off:.2f}× server CPU per request"
            result["lines"].append(line)
    return result


def loadavg_note(runs: Mapping[str, list[LoadResult]]) -> tuple[float, float, float]:
    values = [r.loadavg_1m for results in runs.values() for r in results]
    return statistics.median(values), min(values), max(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, duration_s=5.0, repeats=5, connections=16)
    parser.add_argument(
        "--paced-delay-ms",
        type=float,
        default=10.0,
        help="pause per connection between requests in the paced measurement (0: skip it)",
    )
    parser.add_argument("--no-quiet", action="store_true", help="skip the --log-level warning variant")
    parser.add_argument(
        "--json-log", action="store_true", help="add a naftiko variant with --log-format json"
    )
    parser.add_argument(
        "--tracing",
        action="store_true",
        help="add naftiko variants tracing at sampling 1.0 and 0.1 (spans to bench/otlp_sink.py)",
    )
    add_comparison_arguments(parser)
    parser.add_argument("--check-only", action="store_true", help="check the answers, no load")
    parser.add_argument(
        "--also-tree",
        type=Path,
        metavar="DIR",
        help="add a variant running the naftiko_runtime package found in DIR (e.g. an export of main), "
        "to compare a change with what it changes in the same run",
    )
    args = parser.parse_args(argv)

    under_test = [0] if args.pin else None
    helpers = [1] if args.pin else None
    flight = single_flight_flags(args)
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-rest-")))
        upstream = stack.enter_context(Server.python("rest-upstream", "upstream.py", cpus=helpers))
        servers: dict[str, Server] = {
            DIRECT: upstream,
            BASELINE: Server.python(
                "rest-proxy",
                "baselines/starlette_aiohttp_proxy.py",
                "--upstream",
                upstream.url,
                env=ENV,
                cpus=under_test,
            ),
            NAFTIKO_INFO: naftiko_server("rest-naftiko", directory, upstream, extra=flight, cpus=under_test),
        }
        if not args.no_quiet:
            servers[NAFTIKO_QUIET] = naftiko_server(
                "rest-naftiko-quiet",
                directory,
                upstream,
                extra=("--log-level", "warning", *flight),
                cpus=under_test,
            )
        if args.json_log:
            servers[NAFTIKO_JSON] = naftiko_server(
                "rest-naftiko-json",
                directory,
                upstream,
                extra=("--log-format", "json", *flight),
                cpus=under_test,
            )
        if args.also_tree:
            # served with this checkout's flags (--no-single-flight too): DIR must know them
            other = naftiko_server("rest-naftiko-other", directory, upstream, extra=flight, cpus=under_test)
            other.env = {**(other.env or {}), "PYTHONPATH": str(args.also_tree.resolve())}
            servers[f"naftiko serve ({args.also_tree.name})"] = other
        if args.today:
            code = code_of(args.today, directory)
            servers[f"{NAFTIKO_INFO} @{args.today}"] = naftiko_server(
                "rest-naftiko-today", directory, upstream, cpus=under_test, code=code
            )
        if args.tracing:
            sink = stack.enter_context(Server.python("otlp-sink", "otlp_sink.py", cpus=helpers))
            for name, sampling in TRACED.items():
                servers[name] = naftiko_server(
                    f"rest-naftiko-traces-{sampling:g}",
                    directory,
                    upstream,
                    extra=flight,
                    cpus=under_test,
                    tracing=(sampling, sink.url),
                )
        for server in servers.values():
            if server is not upstream:
                stack.enter_context(server)
        loads = {
            name: Load(server.url + UPSTREAM_PATH, headers={"Authorization": AUTHORIZATION})
            if name == DIRECT
            else Load(server.url + REST_PATH)
            for name, server in servers.items()
        }
        for name, load in loads.items():
            smoke(name, load)
        print(f"ok  every variant answers {REST_PATH} with the upstream's runs", file=sys.stderr)
        if args.check_only:
            return
        print(
            f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)",
            file=sys.stderr,
        )
        common: dict[str, Any] = {
            "repeats": args.repeats,
            "connections": args.connections,
            "duration_s": args.duration,
            "threads": args.threads,
            "tool": args.tool,
            "warmup_s": args.warmup,
            "cpus": helpers,
            "under_test": servers,
            "watch": {"upstream": upstream},
        }
        print(f"saturated: {args.connections} connections", file=sys.stderr)
        saturated = interleave(loads, **common)
        paced: dict[str, list[LoadResult]] = {}
        if args.paced_delay_ms > 0 and args.tool != "aiohttp":
            script = paced_script(directory, args.paced_delay_ms)
            paced_loads = {
                name: Load(load.url, headers=load.headers, lua_script=script) for name, load in loads.items()
            }
            print(
                f"paced: {args.connections} connections, 0–{2 * args.paced_delay_ms:g} ms apart",
                file=sys.stderr,
            )
            paced = interleave(paced_loads, **{**common, "tool": "wrk"})
        for name, load in loads.items():  # still answering correctly after the load
            smoke(name, load)

    median_load, low, high = loadavg_note({**saturated, **paced})
    sat = figures(saturated)
    notes: dict[str, Any] = {
        "targets": f"naftiko serve >= {TARGET_RATIO:g}x {BASELINE} req/s; "
        f"added p99 <= {TARGET_ADDED_P99_MS:g} ms",
        "saturated": sat,
        "paced": figures(paced) if paced else None,
        "loadavg_1m_median": round(median_load, 2),
        "loadavg_1m_range": [round(low, 2), round(high, 2)],
        "cores": os.cpu_count(),
    }
    path = write_results(
        "rest",
        {**saturated, **{f"{name} [paced]": results for name, results in paced.items()}},
        baseline=BASELINE,
        settings=dict(vars(args)),
        notes=notes,
    )
    print(f"### Saturated: {args.connections} connections, {args.repeats} × {args.duration:g} s (medians)\n")
    print(table(saturated))
    if paced:
        print(
            f"\n### Paced: {args.connections} connections, each pausing 0–{2 * args.paced_delay_ms:g} ms "
            "between requests "
            "(added latency without queueing)\n"
        )
        print(table(paced, throughput=False))
    ratio = sat[NAFTIKO_INFO]["ratio_vs_proxy"]
    verdict = "meets" if ratio is not None and ratio >= TARGET_RATIO else "misses"
    print(f"\nnaftiko serve / {BASELINE} = {ratio:.2f}× req/s ({verdict} the {TARGET_RATIO:g}× target)")
    for label, result in (("saturated", sat), ("paced", figures(paced) if paced else None)):
        if result is None:
            continue
        added = result[NAFTIKO_INFO]["added_p99_ms"]
        proxy_added = result[BASELINE]["added_p99_ms"]
        verdict = "meets" if added <= TARGET_ADDED_P99_MS else "misses"
        print(
            f"added p99 vs upstream direct ({label}): naftiko serve {added:+.2f} ms ({verdict} the "
            f"≤ {TARGET_ADDED_P99_MS:g} ms target), {BASELINE} {proxy_added:+.2f} ms"
        )
    costs = tracing_costs(sat, args.today)
    notes["tracing"] = costs
    for line in costs["lines"]:
        print(line)
    print(
        f"1-min load average during the runs: median {median_load:.1f}, {low:.1f}–{high:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"results: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
