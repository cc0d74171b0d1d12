"""Shared machinery for the benches in this folder: servers, load, tables, results.

A bench script is meant to read like the experiment it runs::

    upstream = Server.python("upstream", BENCH / "upstream.py", "--delay-ms", "0")
    with upstream, Server.python("proxy", "baselines/starlette_aiohttp_proxy.py",
                                 "--upstream", upstream.url) as proxy:
        load = Load(proxy.url + "/v1/api/prompts/1/versions/1/inference-runs")
        check(load)                                   # 200 and a JSON body, or raise
        runs = interleave({"proxy": load}, repeats=5, connections=16, duration_s=10,
                          under_test={"proxy": proxy}, watch={"upstream": upstream})
    print(markdown_table(runs, baseline="proxy"))
    write_results("my-bench", runs, baseline="proxy", settings={...})

Design choices, and why:

* Every server is a subprocess on a free loopback port, its output in ``bench/results/logs/``,
  so the process under test gets its own interpreter and event loop, as in production.
* Load comes from ``wrk`` (C, one thread by default so the 2-core machine keeps a core for the
  servers); without ``wrk`` an aiohttp load generator stands in (slower: it caps near a few
  thousand req/s, so the harness records which tool measured each run).
* Variants are measured *interleaved* (A B C, A B C, …) and summarised by their median, so
  drift from other work on the machine hits every variant alike and ratios stay meaningful.
* Throughput counts successful (2xx/3xx) responses only; failures are reported beside it.
* The CPU time the server under test spends per request is recorded too (from /proc): on a
  machine shared with other work, throughput falls when cores are stolen, CPU per request hardly
  moves, so the two together tell a slow server from a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"
PYTHON = sys.executable
HOST = "127.0.0.1"

#: Packages whose versions are recorded with every result file.
TRACKED_PACKAGES = (
    "aiohttp",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "orjson",
    "mcp",
    "fastmcp",
    "sniffio",
)


# ---------------------------------------------------------------------------------------------
# Servers


def code_of(ref: str, directory: Path) -> Path:
    """The package as it is at git ref ``ref``, extracted under ``directory`` (for PYTHONPATH)."""
    target = directory / f"code-{re.sub(r'[^A-Za-z0-9._-]', '_', ref)}"
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "naftiko_runtime"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def add_comparison_arguments(parser: argparse.ArgumentParser) -> None:
    """``--today REF`` and ``--no-single-flight``: this checkout beside the code of a git ref."""
    parser.add_argument(
        "--today",
        metavar="REF",
        help="add a naftiko variant running the code of git ref REF (e.g. main), today's figure",
    )
    parser.add_argument(
        "--no-single-flight",
        action="store_true",
        help="serve this checkout's variants with --no-single-flight, so each request reaches the upstream "
        "as it does in code older than single flight (an even comparison with --today)",
    )


def single_flight_flags(args: argparse.Namespace) -> tuple[str, ...]:
    """The serve flags ``--no-single-flight`` asks for (only this checkout knows the flag)."""
    return ("--no-single-flight",) if args.no_single_flight else ()


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, *, host: str = HOST, timeout_s: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until ``host:port`` accepts a TCP connection; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_s:.0f}s")


def _stat_fields(pid: int | str) -> list[str]:
    # Fields after the parenthesised command name (which may contain spaces).
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its live children, from /proc (Linux)."""
    ticks = 0
    with contextlib.suppress(OSError):
        fields = _stat_fields(pid)
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            fields = _stat_fields(entry.name)
            if int(fields[1]) == pid:  # ppid
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _affinity(cpus: Iterable[int] | None) -> Callable[[], None] | None:
    if cpus is None:
        return None
    wanted = set(cpus)
    return lambda: os.sched_setaffinity(0, wanted)


@dataclass
class Server:
    """A server subprocess on its own port; a context manager that starts and stops it.

    ``argv`` may contain ``{port}``, replaced by the chosen port. ``cpus`` pins the process
    (``os.sched_setaffinity``) for quieter figures on an otherwise idle machine.
    """

    name: str
    argv: Sequence[str]
    port: int = field(default_factory=free_port)
    env: Mapping[str, str] | None = None
    cpus: Iterable[int] | None = None
    start_timeout_s: float = 30.0
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @classmethod
    def python(
        cls,
        name: str,
        script: str | Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        cpus: Iterable[int] | None = None,
        port: int | None = None,
    ) -> Server:
        """A Python script (path relative to ``bench/``) run as ``script args… --port P``."""
        path = Path(script)
        if not path.is_absolute():
            path = BENCH / path
        argv = [PYTHON, str(path), *args, "--port", "{port}"]
        if port is None:
            return cls(name, argv, env=env, cpus=cpus)
        return cls(name, argv, port=port, env=env, cpus=cpus)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return LOGS / f"{self.name}.log"

    def start(self) -> Server:
        LOGS.mkdir(parents=True, exist_ok=True)
        argv = [arg.replace("{port}", str(self.port)) for arg in self.argv]
        env = {**os.environ, **(self.env or {})}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, preexec_fn=_affinity(self.cpus)
            )
        try:
            wait_for_port(self.port, timeout_s=self.start_timeout_s, proc=self.proc)
        except BaseException:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} did not start; log tail:\n{tail}") from None
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGINT (graceful for uvicorn), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server and its live child processes."""
        if self.proc is None:
            return 0.0
        return process_cpu_seconds(self.proc.pid)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# What to send


@dataclass(frozen=True)
class Load:
    """One request, repeated by the load generator.

    ``lua_script`` replaces the generated wrk script (wrk only); ``method``/``body``/``headers``
    still describe the request for ``check`` and for the aiohttp fallback, so keep them in step.
    """

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    lua_script: Path | None = None

    def wrk_script(self) -> str | None:
        """A wrk Lua script setting method and body, or ``None`` when plain GET will do."""
        if self.method == "GET" and self.body is None:
            return None
        body = (self.body or b"").decode()
        level = "=" * next(n for n in range(1, 10) if f"]{'=' * n}]" not in body)
        return f'wrk.method = "{self.method}"\nwrk.body = [{level}[{body}]{level}]\n'


def check(load: Load, *, expect_status: int = 200, timeout_s: float = 10.0) -> Any:
    """Send ``load`` once; return its decoded JSON body or raise with what came back instead."""
    request = urllib.request.Request(load.url, data=load.body, method=load.method, headers=dict(load.headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    if status != expect_status:
        raise AssertionError(
            f"{load.method} {load.url}: HTTP {status}, expected {expect_status}: {raw[:500]!r}"
        )
    try:
        return json.loads(raw)
    except ValueError as err:
        raise AssertionError(f"{load.method} {load.url}: body is not JSON: {raw[:500]!r}") from err


# ---------------------------------------------------------------------------------------------
# Load generation


@dataclass
class LoadResult:
    """One load run. ``rps`` counts successful responses only (wrk's non-2xx/3xx excluded)."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int
    duration_s: float
    connections: int
    tool: str
    loadavg_1m: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unparsable wrk duration {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str, connections: int) -> LoadResult:
    """Parse ``wrk --latency`` output (requests, duration, p50/p99, errors)."""
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    if total is None:
        raise ValueError(f"no request count in wrk output:\n{output}")
    requests, duration_s = int(total.group(1)), _ms(total.group(2)) / 1000.0
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = sum(int(n) for n in sock.groups()) if sock else 0
    return LoadResult(
        rps=(requests - bad) / duration_s if duration_s else 0.0,
        p50_ms=_ms(pct["50"]) if "50" in pct else float("nan"),
        p99_ms=_ms(pct["99"]) if "99" in pct else float("nan"),
        requests=requests,
        failures=bad + socket_errors,
        duration_s=duration_s,
        connections=connections,
        tool="wrk",
        detail={
            "non_2xx": bad,
            "socket_errors": socket_errors,
            "wrk_rps": float(m.group(1)) if (m := re.search(r"Requests/sec:\s+([\d.]+)", output)) else None,
        },
    )


def run_wrk(
    load: Load,
    *,
    connections: int,
    duration_s: float,
    threads: int = 1,
    timeout_s: float = 10.0,
    cpus: Iterable[int] | None = None,
) -> LoadResult:
    """Run wrk once against ``load`` and parse its figures."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise FileNotFoundError("wrk is not installed")
    seconds = max(1, round(duration_s))  # wrk takes whole seconds
    argv = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout_s:g}s",
        "--latency",
    ]
    for name, value in load.headers.items():
        argv += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory() as tmp:
        script = load.lua_script
        if script is None and (text := load.wrk_script()) is not None:
            script = Path(tmp) / "request.lua"
            script.write_text(text)
        if script is not None:
            argv += ["-s", str(script)]
        loadavg = os.getloadavg()[0]
        done = subprocess.run(
            [*argv, load.url],
            capture_output=True,
            text=True,
            check=False,
            timeout=duration_s + timeout_s + 30,
            preexec_fn=_affinity(cpus),
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout, connections)
    result.loadavg_1m = loadavg
    return result


async def _aiohttp_load(load: Load, connections: int, duration_s: float, timeout_s: float) -> LoadResult:
    import aiohttp

    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    headers = dict(load.headers)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        deadline = start + duration_s

        async def worker() -> None:
            nonlocal failures
            while (now := time.perf_counter()) < deadline:
                try:
                    async with session.request(
                        load.method, load.url, data=load.body, headers=headers
                    ) as response:
                        await response.read()
                        ok = response.status < 400
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - now)
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return LoadResult(
        rps=len(latencies) / elapsed,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        requests=len(latencies) + failures,
        failures=failures,
        duration_s=elapsed,
        connections=connections,
        tool="aiohttp",
    )


def run_aiohttp(load: Load, *, connections: int, duration_s: float, timeout_s: float = 10.0) -> LoadResult:
    """Python fallback load generator: ``connections`` workers, each one request at a time."""
    loadavg = os.getloadavg()[0]
    result = asyncio.run(_aiohttp_load(load, connections, duration_s, timeout_s))
    result.loadavg_1m = loadavg
    return result


def run_load(
    load: Load,
    *,
    connections: int,
    duration_s: float,
    threads: int = 1,
    tool: str = "auto",
    cpus: Iterable[int] | None = None,
) -> LoadResult:
    """Measure ``load`` with wrk, or with the aiohttp generator if wrk is absent or ``tool='aiohttp'``."""
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        return run_wrk(load, connections=connections, duration_s=duration_s, threads=threads, cpus=cpus)
    return run_aiohttp(load, connections=connections, duration_s=duration_s)


Runs = dict[str, list[LoadResult]]


def interleave(
    loads: Mapping[str, Load],
    *,
    repeats: int,
    connections: int,
    duration_s: float,
    threads: int = 1,
    tool: str = "auto",
    warmup_s: float = 2.0,
    pause_s: float = 1.0,
    cpus: Iterable[int] | None = None,
    under_test: Mapping[str, Server] | None = None,
    watch: Mapping[str, Server] | None = None,
    progress: bool = True,
) -> Runs:
    """Measure every load ``repeats`` times in round-robin order; warm each up once first.

    CPU accounting (Linux /proc), recorded in each result's ``detail``:

    * ``under_test`` maps a load's name to the server that answers it: its CPU time per
      successful request (``server_cpu_us_per_req``). This barely moves when other work on the
      machine steals cores, so it is the figure to compare across noisy runs and machines.
    * ``watch`` names other servers (the upstream, say) whose CPU use is recorded as percent of
      one core in ``cpu_percent``, to show they are not the bottleneck.
    """
    under_test, watch = under_test or {}, watch or {}
    cpus = None if cpus is None else list(cpus)
    if warmup_s > 0:
        for load in loads.values():
            run_load(
                load, connections=connections, duration_s=warmup_s, threads=threads, tool=tool, cpus=cpus
            )
    runs: Runs = {name: [] for name in loads}
    for rep in range(repeats):
        for name, load in loads.items():
            time.sleep(pause_s)
            server = under_test.get(name)
            watched_before = {label: w.cpu_seconds() for label, w in watch.items()}
            server_before = server.cpu_seconds() if server else 0.0
            result = run_load(
                load, connections=connections, duration_s=duration_s, threads=threads, tool=tool, cpus=cpus
            )
            if server is not None:
                ok = result.requests - int(result.detail.get("non_2xx", result.failures))
                cpu_s = server.cpu_seconds() - server_before
                result.detail["server_cpu_us_per_req"] = round(cpu_s / ok * 1e6, 1) if ok else None
                result.detail["server_cpu_percent"] = round(100 * cpu_s / result.duration_s, 1)
            result.detail["cpu_percent"] = {
                label: round(100 * (w.cpu_seconds() - watched_before[label]) / result.duration_s, 1)
                for label, w in watch.items()
            }
            runs[name].append(result)
            if progress:
                print(f"  [{rep + 1}/{repeats}] {name:<26} {_progress(result)}", file=sys.stderr, flush=True)
    return runs


def _progress(result: LoadResult) -> str:
    text = (
        f"{result.rps:>9,.0f}/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"fail {result.failures}  load {result.loadavg_1m:.1f}"
    )
    if (us := result.detail.get("server_cpu_us_per_req")) is not None:
        text += f"  server {us:.0f} µs/req ({result.detail['server_cpu_percent']:.0f}% CPU)"
    for label, pct in result.detail.get("cpu_percent", {}).items():
        text += f"  {label} {pct:.0f}% CPU"
    return text


# ---------------------------------------------------------------------------------------------
# Reporting


def summarize(results: Sequence[LoadResult]) -> dict[str, Any]:
    """Medians (and the throughput spread) of repeated runs of one variant."""
    rps = [r.rps for r in results]
    summary: dict[str, Any] = {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50_ms": statistics.median(r.p50_ms for r in results),
        "p99_ms": statistics.median(r.p99_ms for r in results),
        "failures": sum(r.failures for r in results),
        "runs": len(results),
    }
    per_req = [us for r in results if (us := r.detail.get("server_cpu_us_per_req")) is not None]
    if per_req:
        summary["server_cpu_us_per_req"] = statistics.median(per_req)
    watched = {label for r in results for label in r.detail.get("cpu_percent", {})}
    if watched:
        summary["cpu_percent"] = {
            label: statistics.median(
                r.detail["cpu_percent"][label] for r in results if label in r.detail.get("cpu_percent", {})
            )
            for label in sorted(watched)
        }
    return summary


def markdown_table(runs: Runs, *, baseline: str, unit: str = "req/s") -> str:
    """A markdown table of medians, with throughput as a ratio of the ``baseline`` variant.

    CPU columns appear when ``interleave`` recorded them: server CPU time per request (lower is
    better) and the median CPU use of each watched server.
    """
    summaries = {name: summarize(results) for name, results in runs.items()}
    base = summaries[baseline]["rps"]
    has_cpu = any("server_cpu_us_per_req" in s for s in summaries.values())
    watched = sorted({label for s in summaries.values() for label in s.get("cpu_percent", {})})
    header = ["variant", f"{unit} (median)", f"vs {baseline}", "p50 ms", "p99 ms"]
    header += ["server CPU µs/req"] if has_cpu else []
    header += [f"{label} CPU %" for label in watched]
    header += ["failures", f"{unit} min–max", "runs"]
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for name, s in summaries.items():
        ratio = s["rps"] / base if base else float("nan")
        cells = [name, f"{s['rps']:,.0f}", f"{ratio:.2f}×", f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}"]
        if has_cpu:
            us = s.get("server_cpu_us_per_req")
            cells.append(f"{us:,.0f}" if us is not None else "–")
        cells += [f"{s.get('cpu_percent', {}).get(label, float('nan')):.0f}" for label in watched]
        cells += [f"{s['failures']:,}", f"{s['rps_min']:,.0f}–{s['rps_max']:,.0f}", str(s["runs"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    """What the figures depend on: CPU, load, interpreter, package versions, wrk version."""
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    versions = {}
    for name in TRACKED_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        wrk_version = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "wrk": wrk_version,
    }


def write_results(
    bench: str,
    runs: Runs,
    *,
    baseline: str,
    settings: Mapping[str, Any],
    notes: Mapping[str, Any] | None = None,
) -> Path:
    """Write every run, the medians and the machine to ``bench/results/<bench>-<UTC time>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{bench}-{stamp}.json"
    payload = {
        "bench": bench,
        "machine": machine_info(),
        "settings": dict(settings),
        "baseline": baseline,
        "summary": {name: summarize(results) for name, results in runs.items()},
        "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
        "notes": dict(notes or {}),
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def add_load_arguments(
    parser: Any, *, duration_s: float = 10.0, repeats: int = 5, connections: int = 16
) -> None:
    """The command-line knobs every bench shares (``parser`` is an ``argparse.ArgumentParser``)."""
    parser.add_argument("--duration", type=float, default=duration_s, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=repeats, help="runs per variant (median)")
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per variant")
    parser.add_argument("--tool", choices=("auto", "wrk", "aiohttp"), default="auto")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the server under test to CPU 0, upstream and load generator to CPU 1",
    )
