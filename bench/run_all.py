"""Run every bench in bench/, one after the other, and print each one's table (``make bench``).

Each bench is its own script and stays runnable alone; this only runs them in turn as subprocesses
(so each gets a fresh interpreter, and one failing does not stop the others), with quick settings
by default (about four minutes in all on a 2-core machine), and prints what each printed on stdout:
its table and verdict. Progress lines (stderr) go to ``bench/results/logs/run_all-<bench>.log``;
the tail is shown when a bench fails. Every bench still writes its own results file.

    .venv/bin/python bench/run_all.py                 # quick settings
    .venv/bin/python bench/run_all.py --full          # each bench's own defaults (≈ 30 minutes)
    .venv/bin/python bench/run_all.py --only rest mcp # some of them
    .venv/bin/python bench/run_all.py --list          # what would run, with which arguments

A script added to bench/ later runs too (with its own defaults) unless its name starts with ``_``
or it is one of the helpers below. Exit status: 0 if every bench exited 0, else 1. Most benches
exit 0 whenever they ran to the end, target met or not (measurements, not tests);
orchestration.py exits 1 when it misses its target, and the summary shows each exit status.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LOGS = BENCH / "results" / "logs"

#: Scripts in bench/ that are not benches.
HELPERS = {"run_all.py", "upstream.py"}

#: Order and quick settings; the first ones run in-process and are cheap, servers come after.
QUICK: dict[str, list[str]] = {
    "load.py": ["--runs", "11", "--rounds", "1"],
    "consumer.py": ["--duration", "2", "--repeats", "3", "--warmup", "0.5"],
    "orchestration.py": ["--iterations", "10", "--warmup", "2"],
    "importer.py": ["--operations", "500", "--runs", "3"],
    "transport.py": ["--repeats", "1", "--duration", "3", "--warmup", "1"],
    "reference.py": ["--repeats", "1", "--duration", "3", "--warmup", "1"],
    "mcp.py": ["--repeats", "1", "--duration", "3", "--warmup", "1"],
    "rest.py": ["--repeats", "1", "--duration", "3", "--warmup", "1"],
    "drain.py": ["--requests", "5000", "--rounds", "5"],
    "replicas.py": ["--repeats", "1", "--duration", "3", "--warmup", "1", "--soak", "60"],
}


def benches() -> list[str]:
    """Every bench script: the known ones in their order, then any others by name."""
    found = sorted(p.name for p in BENCH.glob("*.py") if not p.name.startswith("_") and p.name not in HELPERS)
    return [name for name in QUICK if name in found] + [name for name in found if name not in QUICK]


def command(name: str, full: bool) -> list[str]:
    return [sys.executable, str(BENCH / name), *([] if full else QUICK.get(name, []))]


def run(name: str, argv: list[str]) -> tuple[int, float, str]:
    """Run one bench; print its stdout; return (exit status, seconds, log path)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"run_all-{Path(name).stem}.log"
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as err:
        done = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True, check=False)
    seconds = time.monotonic() - started
    if done.stdout.strip():
        print(done.stdout.rstrip())
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        print(f"\n{name} exited with status {done.returncode}; last lines of {_rel(log)}:")
        print("\n".join(f"    {line}" for line in tail))
    return done.returncode, seconds, _rel(log)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="each bench's own default settings")
    parser.add_argument("--only", nargs="+", metavar="BENCH", help="run only these (rest or rest.py)")
    parser.add_argument("--skip", nargs="+", metavar="BENCH", default=[], help="leave these out")
    parser.add_argument("--list", action="store_true", help="print what would run and exit")
    args = parser.parse_args(argv)

    def normal(name: str) -> str:
        return name if name.endswith(".py") else f"{name}.py"

    chosen = benches()
    if args.only:
        wanted = [normal(n) for n in args.only]
        unknown = [n for n in wanted if n not in chosen]
        if unknown:
            parser.error(f"no such bench: {', '.join(unknown)} (have: {', '.join(chosen)})")
        chosen = [n for n in chosen if n in wanted]
    skipped = {normal(n) for n in args.skip}
    chosen = [n for n in chosen if n not in skipped]
    if args.list:
        for name in chosen:
            print(
                shlex.join(
                    [_rel(Path(a)) if a.startswith(str(REPO)) else a for a in command(name, args.full)]
                )
            )
        return 0

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    mode = "full" if args.full else "quick"
    print(f"# naftiko-runtime benches ({mode} settings), load average {load} on {os.cpu_count()} cores\n")
    results: list[tuple[str, int, float, str]] = []
    for name in chosen:
        argv_ = command(name, args.full)
        print(f"\n## {name}\n\n`{shlex.join(['python', f'bench/{name}', *argv_[2:]])}`\n", flush=True)
        print(f"running bench/{name} ...", file=sys.stderr, flush=True)
        status, seconds, log = run(name, argv_)
        verdict = "ok" if status == 0 else f"exit {status}"
        print(f"  {verdict} in {seconds:.0f} s (progress: {log})", file=sys.stderr, flush=True)
        results.append((name, status, seconds, log))
        sys.stdout.flush()

    print("\n## Summary\n")
    print("| bench | exit status | seconds |")
    print("| --- | ---: | ---: |")
    for name, status, seconds, _ in results:
        print(f"| {name} | {status if status == 0 else f'**{status}**'} | {seconds:.0f} |")
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if all(status == 0 for _, status, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
