"""Load bench: what reading a capability costs next to parsing its YAML, as a ratio.

For a few corpus files (the smallest, the median and the largest capability that loads, plus the
seed), the median over N runs of

* ``naftiko_runtime.spec.check(path)``: read, parse with positions, normalise the dialect, build the
  typed models, run the semantic rules (everything ``naftiko validate`` does), and
* ``yaml.load(path.read_text(), Loader=yaml.CSafeLoader)``: the fastest plain PyYAML load,

both including the file read. The two are run interleaved (A B, B A, ...) so drift on a busy machine
hits both alike. The issue's target is a ratio of at most 2x. This is a measurement: it always exits 0.

    .venv/bin/python bench/load.py                 # the table
    .venv/bin/python bench/load.py --runs 101      # steadier medians
    .venv/bin/python bench/load.py --profile       # where the time goes on the largest file
    .venv/bin/python bench/load.py FILE...         # other files
    .venv/bin/python bench/load.py --json out.json # the figures for tools
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from naftiko_runtime.spec import check  # noqa: E402

SHARED = (REPO / ".." / "shared").resolve()
CORPUS = SHARED / "corpus"
SEED = REPO / "capabilities" / "label-studio-runs.yaml"
TARGET = 2.0


@dataclass
class Row:
    label: str
    file: str
    bytes: int
    lines: int
    loads: bool
    naftiko_ms: float
    yaml_ms: float

    @property
    def ratio(self) -> float:
        return self.naftiko_ms / self.yaml_ms if self.yaml_ms else float("inf")


def _naftiko(path: Path) -> Callable[[], object]:
    return lambda: check(path)


def _plain_yaml(path: Path) -> Callable[[], object]:
    return lambda: yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def measure(label: str, path: Path, runs: int, warmup: int = 3) -> Row:
    ours, theirs = _naftiko(path), _plain_yaml(path)
    for _ in range(warmup):
        ours()
        theirs()
    a: list[float] = []
    b: list[float] = []
    gc.collect()
    for i in range(runs):
        if i % 2:
            b.append(_once(theirs))
            a.append(_once(ours))
        else:
            a.append(_once(ours))
            b.append(_once(theirs))
    text = path.read_text(encoding="utf-8")
    return Row(
        label=label,
        file=_short(path),
        bytes=len(text.encode("utf-8")),
        lines=text.count("\n"),
        loads=check(path).ok,
        naftiko_ms=statistics.median(a),
        yaml_ms=statistics.median(b),
    )


def corpus_total(files: list[Path], rounds: int) -> Row:
    """Every corpus file once per round, the two loaders interleaved; the median round."""
    ours, theirs = [], []
    for i in range(rounds):
        first, second = (_naftiko, _plain_yaml) if i % 2 == 0 else (_plain_yaml, _naftiko)
        totals = {first: 0.0, second: 0.0}
        for path in files:
            totals[first] += _once(first(path))
            totals[second] += _once(second(path))
        ours.append(totals[_naftiko])
        theirs.append(totals[_plain_yaml])
    size = sum(p.stat().st_size for p in files)
    return Row(
        label=f"whole corpus ({len(files)} files)",
        file=_short(CORPUS),
        bytes=size,
        lines=0,
        loads=True,
        naftiko_ms=statistics.median(ours),
        yaml_ms=statistics.median(theirs),
    )


def pick(files: list[Path]) -> list[tuple[str, Path]]:
    """The smallest and the median capability that loads, the largest file of the corpus (refused or
    not, it goes through every stage), the largest that loads, and the seed."""
    by_size = sorted(files, key=lambda p: p.stat().st_size)
    loading = [p for p in by_size if check(p).ok]
    chosen: list[tuple[str, Path]] = []
    if loading:
        chosen += [("smallest", loading[0]), ("median", loading[len(loading) // 2])]
    if by_size:
        chosen.append(("largest", by_size[-1]))
    if loading and loading[-1] != by_size[-1]:
        chosen.append(("largest loading", loading[-1]))
    if SEED.is_file():
        chosen.append(("seed", SEED))
    return chosen


def profile(path: Path, runs: int, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        check(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def render(rows: list[Row]) -> str:
    header = (
        f"| {'file':<44} | {'KiB':>6} | {'lines':>6} | {'loads':>5} | {'check() ms':>10} | "
        f"{'CSafeLoader ms':>14} | {'ratio':>6} | ≤ {TARGET:g}× |"
    )
    rule = "|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|"
    lines = [header, rule]
    for row in rows:
        name = f"{row.label}: {Path(row.file).name}" if row.lines else row.label
        verdict = "yes" if row.ratio <= TARGET else "NO"
        lines.append(
            f"| {name[:44]:<44} | {row.bytes / 1024:>6.1f} | {row.lines or '':>6} | "
            f"{('yes' if row.loads else 'no') if row.lines else '':>5} | "
            f"{row.naftiko_ms:>10.3f} | {row.yaml_ms:>14.3f} | {row.ratio:>5.2f}× | {verdict:>4} |"
        )
    return "\n".join(lines)


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(SHARED.parent))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="files to measure (default: from the corpus)")
    parser.add_argument("--runs", type=int, default=51, help="timed runs per file (default 51)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus (default 5, 0: none)")
    parser.add_argument("--profile", action="store_true", help="cProfile check() on the largest file")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    corpus = sorted(CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else []
    if args.files:
        chosen = [(f"#{i + 1}", p) for i, p in enumerate(args.files)]
    else:
        if not corpus:
            print(f"note: {CORPUS} is absent; measuring the seed only")
        chosen = pick(corpus)
    if not chosen:
        print("nothing to measure")
        return 0

    rows = [measure(label, path, args.runs) for label, path in chosen]
    if corpus and not args.files and args.rounds:
        rows.append(corpus_total(corpus, args.rounds))

    print("naftiko_runtime.spec.check(path) vs yaml.load(text, CSafeLoader), both reading the file;")
    print(
        f"median of {args.runs} interleaved runs per file; Python {platform.python_version()}, "
        f"PyYAML {yaml.__version__} (libyaml {yaml.__with_libyaml__}), {platform.machine()}"
    )
    print()
    print(render(rows))
    worst = max(rows, key=lambda r: r.ratio)
    print()
    print(
        f"worst ratio {worst.ratio:.2f}× ({worst.label}); target ≤ {TARGET:g}×: "
        + ("met" if worst.ratio <= TARGET else "NOT met")
    )

    if args.profile or worst.ratio > TARGET:
        largest = max((p for _, p in chosen), key=lambda p: p.stat().st_size)
        print()
        print(f"cProfile of check() on {_short(largest)}, {max(5, args.runs // 5)} runs, by own time:")
        print(profile(largest, max(5, args.runs // 5)))

    if args.json:
        payload = {
            "target_ratio": TARGET,
            "runs": args.runs,
            "python": platform.python_version(),
            "rows": [asdict(r) | {"ratio": r.ratio} for r in rows],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # a measurement never fails the caller
        print(f"bench/load.py: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
