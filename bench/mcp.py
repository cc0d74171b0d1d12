"""MCP tools/call: naftiko serve vs FastMCP's OpenAPI-generated server, with a hand-written ceiling.

Every server answers ``tools/call`` of ``get-inference-run-info`` (``prompt_id=1, version_id=1``)
by calling the same fast upstream (bench/upstream.py) and returning its runs:

=======================  ===========================================================================
``naftiko serve``        the seed capability (capabilities/label-studio-runs.yaml), unchanged but for
                         its ports, run by the ``naftiko`` command as users run it (``--base-uri``
                         pointing its consumed namespace at the upstream; default log level, so
                         one access-log line per request)
``FastMCP from_openapi`` bench/baselines/fastmcp_openapi.py: ``FastMCP.from_openapi`` over an
                         OpenAPI description of the same operation, stateless JSON mode
``hand-written JSON-RPC`` bench/baselines/jsonrpc_stateless.py: the least a correct stateless
                         Streamable HTTP endpoint can do for this one tool (Starlette + aiohttp)
=======================  ===========================================================================

Load: ``wrk`` with bench/baselines/tools_call.lua (one thread, 8 connections by default), a stateless
JSON-RPC ``tools/call`` per request (``MCP-Protocol-Version: 2025-11-25``, no session, no
``initialize``). Before and after measuring, each server must list the tool and answer the call
with a JSON-RPC *result* that is not ``isError`` and holds the upstream's runs.

The variants are run interleaved, each ``--repeats`` times, and summarised by their median (see
bench/_harness.py); the table gives calls/s with the ratio to FastMCP (issue #5's target: naftiko
at least 4×), p50/p99 latency, and the CPU time each server process spent per call, which moves
least when other work shares the machine. The 1-minute load average at the start of each run is
printed with it and kept in the results file.

Run: ``.venv/bin/python bench/mcp.py`` (``--duration 5 --repeats 5`` by default; ``--pin`` to pin
the server under test to CPU 0 and the upstream and wrk to CPU 1; ``--quiet`` adds a naftiko
variant at ``--log-level warning``; ``--today REF`` adds ``naftiko serve`` run from the code of git
ref ``REF``, today's figure in the same run; ``--no-single-flight`` serves this checkout without
single flight, the even comparison with code older than it; ``--check-only`` for the answers alone).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _harness import (
    REPO,
    Server,
    add_comparison_arguments,
    add_load_arguments,
    code_of,
    free_port,
    interleave,
    markdown_table,
    single_flight_flags,
    write_results,
)
from reference import ENV, TOOLS_CALL_BODY, TOOLS_CALL_LUA, mcp_load, smoke_test_mcp

SEED = REPO / "capabilities" / "label-studio-runs.yaml"
CONSUMED = "label-studio-subpackage-prompts-subpackage-prompts-runs"
NAFTIKO = Path(sys.executable).with_name("naftiko")
BASELINE = "FastMCP from_openapi"
TARGET = 4.0
_PORT = re.compile(r"^(\s*port:\s*)\d+\s*$", re.MULTILINE)


def seed_with_ports(directory: Path, mcp_port: int) -> Path:
    """The seed with its MCP adapter on ``mcp_port`` and its REST adapter on another free port."""
    text = SEED.read_text(encoding="utf-8")
    ports = iter([free_port(), mcp_port])  # the seed declares REST (8080), then MCP (9090)
    copy = directory / SEED.name
    copy.write_text(_PORT.sub(lambda m: f"{m.group(1)}{next(ports)}", text), encoding="utf-8")
    if next(ports, None) is not None:
        raise SystemExit(f"{SEED} no longer declares exactly two ports (REST, then MCP)")
    return copy


def naftiko_server(
    name: str,
    directory: Path,
    upstream: Server,
    *,
    log_level: str,
    cpus: Sequence[int] | None,
    extra: Sequence[str] = (),
    code: Path | None = None,
) -> Server:
    """``naftiko serve`` on a copy of the seed; ``code`` runs the package found there instead of
    this checkout's."""
    port = free_port()
    (directory / name).mkdir()
    document = seed_with_ports(directory / name, port)
    command = (
        [str(NAFTIKO)]
        if NAFTIKO.exists()
        else [sys.executable, "-c", "import sys; from naftiko_runtime.cli import main; sys.exit(main())"]
    )
    argv = [
        *command,
        "serve",
        str(document),
        "--base-uri",
        f"{CONSUMED}={upstream.url}",
        "--log-level",
        log_level,
        *extra,
    ]
    # The seed's bind reads the whole header value; the baselines add "Token " themselves.
    env = {"LABEL_STUDIO_API_KEY": f"Token {ENV['LABEL_STUDIO_API_KEY']}"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return Server(name, argv, port=port, env=env, cpus=cpus)


def ratios(runs: dict[str, list]) -> dict[str, float]:
    base = statistics.median(r.rps for r in runs[BASELINE])
    return {name: statistics.median(r.rps for r in results) / base for name, results in runs.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, duration_s=5.0, repeats=5, connections=8)
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="also measure naftiko serve at --log-level warning (no access log)",
    )
    add_comparison_arguments(parser)
    parser.add_argument("--check-only", action="store_true", help="check the answers, no load")
    args = parser.parse_args(argv)
    if TOOLS_CALL_BODY.decode() not in TOOLS_CALL_LUA.read_text():
        raise SystemExit(f"{TOOLS_CALL_LUA} and reference.TOOLS_CALL_BODY disagree; keep them in step")

    under_test = [0] if args.pin else None
    helpers = [1] if args.pin else None
    flight = single_flight_flags(args)
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mcp-")))
        upstream = stack.enter_context(Server.python("mcp-upstream", "upstream.py", cpus=helpers))
        servers = {
            "naftiko serve": naftiko_server(
                "mcp-naftiko", directory, upstream, log_level="info", cpus=under_test, extra=flight
            ),
            BASELINE: Server.python(
                "mcp-fastmcp",
                "baselines/fastmcp_openapi.py",
                "--upstream",
                upstream.url,
                env=ENV,
                cpus=under_test,
            ),
            "hand-written JSON-RPC": Server.python(
                "mcp-jsonrpc",
                "baselines/jsonrpc_stateless.py",
                "--upstream",
                upstream.url,
                env=ENV,
                cpus=under_test,
            ),
        }
        if args.quiet:
            servers["naftiko serve (log warning)"] = naftiko_server(
                "mcp-naftiko-quiet", directory, upstream, log_level="warning", cpus=under_test, extra=flight
            )
        if args.today:
            servers[f"naftiko serve @{args.today}"] = naftiko_server(
                "mcp-naftiko-today",
                directory,
                upstream,
                log_level="info",
                cpus=under_test,
                code=code_of(args.today, directory),
            )
        for server in servers.values():
            stack.enter_context(server)
        loads = {name: mcp_load(server.url + "/mcp") for name, server in servers.items()}
        for name, load in loads.items():
            smoke_test_mcp(name, load.url)
        if args.check_only:
            return
        print(
            f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)",
            file=sys.stderr,
        )
        runs = interleave(
            loads,
            repeats=args.repeats,
            connections=args.connections,
            duration_s=args.duration,
            threads=args.threads,
            tool=args.tool,
            warmup_s=args.warmup,
            cpus=helpers,
            under_test=servers,
            watch={"upstream": upstream},
        )
        for name, load in loads.items():  # still answering correctly after the load
            smoke_test_mcp(name, load.url)

    loadavgs = [r.loadavg_1m for results in runs.values() for r in results]
    by = ratios(runs)
    notes = {
        "target": f"naftiko serve >= {TARGET:g}x {BASELINE}",
        "ratio_vs_fastmcp": {name: round(value, 2) for name, value in by.items()},
        "loadavg_1m_median": round(statistics.median(loadavgs), 2),
        "loadavg_1m_range": [round(min(loadavgs), 2), round(max(loadavgs), 2)],
    }
    path = write_results("mcp", runs, baseline=BASELINE, settings=dict(vars(args)), notes=notes)
    print(markdown_table(runs, baseline=BASELINE, unit="calls/s"))
    verdict = "meets" if by["naftiko serve"] >= TARGET else "misses"
    print(
        f"\nnaftiko serve / FastMCP = {by['naftiko serve']:.2f}× ({verdict} the {TARGET:g}× target); "
        f"1-min load average during the runs: median {notes['loadavg_1m_median']}, "
        f"{notes['loadavg_1m_range'][0]}–{notes['loadavg_1m_range'][1]} on {os.cpu_count()} cores"
    )
    if args.today:
        today = f"naftiko serve @{args.today}"
        print(f"naftiko serve / {today} = {by['naftiko serve'] / by[today]:.3f}× calls/s (same run)")
    print(f"results: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
