"""``naftiko serve PATH...``: every adapter of every capability, one event loop (per worker process)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ..consumes.transport import TransportSettings
from ..errors import NaftikoError
from ..observability import Metrics, configure, tracing
from ..runtime import Runtime, RuntimeOptions
from ..runtime import server as serving
from ..spec import check_files
from .environment import read_environment, resolve
from .files import expand_paths
from .options import (
    add_runtime_options,
    check_base_uri_namespaces,
    non_negative_float,
    parse_base_uris,
    positive_int,
)

log = logging.getLogger("naftiko.serve")
EXIT_CONFIG = 2


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve capabilities: REST, MCP, skill and control adapters",
        description="Serve every adapter of every capability given (files or "
        "directories), each on its declared address and port.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="capability files or directories")
    parser.add_argument(
        "--host",
        help="listen on this address instead of each adapter's `address` "
        "(default: the adapter's address, else 127.0.0.1)",
    )
    parser.add_argument(
        "--stdio",
        metavar="FILE",
        help="serve only FILE's MCP adapter over stdin/stdout (for desktop MCP clients)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="serve from N processes sharing the listening sockets (default 1; metrics are per process)",
    )
    parser.add_argument(
        "--any-port",
        action="store_true",
        help="let the system choose every adapter's port (see --ready-file for where)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        metavar="FILE",
        help="once every adapter accepts requests, write where each one listens as JSON",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="a browser origin every HTTP adapter admits, e.g. https://app.example.com or "
        "http://intranet:* (repeatable; '*' admits all). Default: same-origin and loopback pages only",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        metavar="HOST",
        help="a host name the adapters answer for (repeatable). Default: any on a public address; "
        "loopback names and IP addresses only on a loopback one (DNS-rebinding protection)",
    )
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--log-format", default="text", choices=("text", "json"))
    parser.add_argument(
        "--drain-delay",
        type=non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="on SIGTERM, answer 503 on /health/ready but keep accepting for SECONDS, so the load "
        "balancer stops sending first (default 0; 5 on Kubernetes)",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=non_negative_float,
        default=10.0,
        metavar="SECONDS",
        help="then how long in-flight requests may take to finish (default 10); those still "
        "running are answered with an error",
    )
    add_runtime_options(parser)
    read_environment(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        resolve(args, os.environ)
    except ValueError as exc:
        return _fail(str(exc))
    configure(args.log_level, args.log_format)
    try:
        base_uris = parse_base_uris(args.base_uri)
    except ValueError as exc:
        return _fail(str(exc))
    options = RuntimeOptions(
        base_uris=base_uris,
        unit_deadline_s=args.deadline,
        transport=TransportSettings(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout),
        allowed_origins=tuple(args.allow_origin) if args.allow_origin else None,
        allowed_hosts=tuple(args.allow_host) if args.allow_host else None,
    )
    if args.stdio:
        return _serve_stdio(Path(args.stdio), options, args)
    files = expand_paths(args.paths)
    if not files:
        return _fail("nothing to serve: give capability files or directories (or --stdio FILE)")
    runtimes = _build(files, options, ports=not args.any_port)
    if runtimes is None:
        return EXIT_CONFIG
    try:
        check_base_uri_namespaces(base_uris, [r.document for r in runtimes])
    except ValueError as exc:
        return _fail(str(exc))
    configure(args.log_level, args.log_format, [s for r in runtimes for s in r.secrets])
    tracing.configure(runtimes)  # before the adapters are built: they are wrapped when it is on
    metrics = Metrics()
    try:
        plan = serving.plan(runtimes, host=args.host, metrics=metrics, any_port=args.any_port)
        if not plan.listeners:
            for line in serving.describe(plan):
                print(line, file=sys.stderr)
            return _fail("no adapter to serve over HTTP")
        sockets = []
        try:
            for listener in plan.listeners:
                sockets.append(serving.bind(listener))
        except serving.ServeError:
            for sock in sockets:
                sock.close()
            raise
    except serving.ServeError as exc:
        return _fail(str(exc))
    print(
        f"naftiko: serving {len(runtimes)} capabilit{'y' if len(runtimes) == 1 else 'ies'}", file=sys.stderr
    )
    for line in serving.describe(plan):
        print(line, file=sys.stderr)
    sys.stderr.flush()
    _freeze_startup_objects()

    def serve(ready_file: Path | None) -> None:
        _run_loop(
            serving.run(
                plan.listeners,
                sockets,
                runtimes,
                shutdown_timeout=args.shutdown_timeout,
                drain_delay=args.drain_delay,
                drain=plan.drain,
                ready_file=ready_file,
                skipped=plan.skipped,
                freeze_gc=True,
            )
        )
        tracing.shutdown()  # the spans still queued go out (a bounded wait)

    if args.workers > 1:
        return _prefork(args.workers, serve, args.ready_file, sockets)
    serve(args.ready_file)
    return 0


def _freeze_startup_objects() -> None:
    """Take everything built so far out of the garbage collector's sight (``gc.freeze``).

    The loaded documents, compiled units, imported modules and pydantic models are some 100,000
    objects that live as long as the process. Left in the oldest generation, every full collection
    walks all of them: measured under load (bench/rest.py) that was a 60-70 ms pause about twice a
    second, the whole of naftiko's p99 latency and ≈ 17 µs of CPU per request. Frozen, they are never
    scanned (nor freed, which they would not be anyway); collections only look at what requests
    allocate. Before forking workers it also keeps those pages shared (collections write to them).
    """
    gc.collect()
    gc.freeze()


def _prefork(
    workers: int,
    serve: Callable[[Path | None], None],
    ready_file: Path | None,
    sockets: list[socket.socket],
) -> int:
    """N processes accept on the same listening sockets (bound once, above): the kernel spreads
    connections between them. Safe because nothing is shared: servers are stateless, and each
    process opens its own event loop and upstream pools after the fork. The parent, which never
    accepts, closes its copies: once every worker has stopped listening, a new connection is then
    refused at once (a load balancer tries another replica) instead of waiting in a queue nobody
    reads."""
    children: list[int] = []
    for index in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, whose coverage is not collected
            try:
                serve(ready_file if index == 0 else None)
            finally:
                os._exit(0)
        children.append(pid)
    for sock in sockets:
        sock.close()

    def forward(sig: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    failed = 0
    for child in children:
        _, status = os.waitpid(child, 0)
        failed += os.waitstatus_to_exitcode(status) != 0
    return 1 if failed else 0


def _build(files: list[Path], options: RuntimeOptions, *, ports: bool = True) -> list[Runtime] | None:
    """Every file's runtime, or ``None`` after printing every located error of every file."""
    runtimes = []
    failed = False
    for report in check_files(files, ports=ports):
        if report.document is None:
            for problem in report.errors:
                print(problem.format(), file=sys.stderr)
            failed = True
            continue
        try:
            runtimes.append(Runtime.build(report.document, options))
        except NaftikoError as exc:  # a missing bind, a script language this machine cannot run, ...
            print(f"{report.file}: error: {exc}", file=sys.stderr)
            failed = True
    return None if failed else runtimes


def _serve_stdio(path: Path, options: RuntimeOptions, args: argparse.Namespace) -> int:
    runtimes = _build([path], options)
    if runtimes is None:
        return EXIT_CONFIG
    runtime = runtimes[0]
    try:
        check_base_uri_namespaces(options.base_uris, [runtime.document])
    except ValueError as exc:
        return _fail(str(exc))
    if not runtime.mcp:
        return _fail(f"{path}: declares no MCP adapter to serve over stdio")
    configure(args.log_level, args.log_format, runtime.secrets)
    tracing.configure(runtimes)
    from ..runtime.mcp import serve_stdio

    _run_loop(serve_stdio(runtime, runtime.mcp[0]))
    tracing.shutdown()
    return 0


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when available: the servers and the upstream client share this loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_CONFIG
