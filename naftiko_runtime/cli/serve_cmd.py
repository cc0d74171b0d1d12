"""``naftiko serve PATH...``: every adapter of every capability, one event loop (per worker process)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..consumes.limits import check_namespaces
from ..consumes.transport import TransportSettings
from ..errors import NaftikoError
from ..observability import Metrics, configure, tracing
from ..runtime import Runtime, RuntimeOptions
from ..runtime import server as serving
from ..runtime.connections import ConnectionLimits
from ..runtime.reload import LiveServer
from ..spec import check_files
from .environment import read_environment, resolve
from .files import expand_paths
from .options import (
    add_limit_options,
    add_runtime_options,
    check_base_uri_namespaces,
    limits_from,
    non_negative_float,
    non_negative_int,
    parse_base_uris,
    positive_int,
)

log = logging.getLogger("naftiko.serve")
EXIT_CONFIG = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument(
        "--watch",
        action="store_true",
        help="reload when capability files are added, changed or removed (a broken version is "
        "reported and never served); SIGHUP reloads once, with or without it",
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
    parser.add_argument(
        "--max-result-chars",
        type=non_negative_int,
        default=100_000,
        metavar="N",
        help="an MCP tool result longer than N characters of JSON is cut at whole items, saying what "
        "was cut and how to page (default 100000; 0: never cut)",
    )
    parser.add_argument(
        "--header-timeout",
        type=non_negative_float,
        default=10.0,
        metavar="SECONDS",
        help="a request's headers must arrive within SECONDS, else 408 and the connection closes "
        "(default 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=non_negative_float,
        default=30.0,
        metavar="SECONDS",
        help="a request body may pause no longer than SECONDS between chunks (default 30)",
    )
    parser.add_argument(
        "--max-connections",
        type=positive_int,
        default=None,
        metavar="N",
        help="open client connections per process; one more is answered 503 and closed "
        "(default: half the process's descriptor limit)",
    )
    add_runtime_options(parser)
    add_limit_options(parser)
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
        limits, namespace_limits = limits_from(args)
    except ValueError as exc:
        return _fail(str(exc))
    options = RuntimeOptions(
        base_uris=base_uris,
        unit_deadline_s=args.deadline,
        mcp_result_chars=args.max_result_chars or None,
        transport=TransportSettings(
            connect_timeout=args.connect_timeout,
            read_timeout=args.read_timeout,
            limits=limits,
            namespace_limits=namespace_limits,
        ),
        allowed_origins=tuple(args.allow_origin) if args.allow_origin else None,
        allowed_hosts=tuple(args.allow_host) if args.allow_host else None,
    )
    if args.stdio:
        return _serve_stdio(Path(args.stdio), options, args)
    if args.watch and args.workers > 1:
        return _fail("--watch needs a single process: every worker would reload on its own (--workers 1)")
    files = expand_paths(args.paths)
    if not files:
        return _fail("nothing to serve: give capability files or directories (or --stdio FILE)")
    runtimes = _build(files, options, ports=not args.any_port)
    if runtimes is None:
        return EXIT_CONFIG
    try:
        check_base_uri_namespaces(base_uris, [r.document for r in runtimes])
        check_namespaces(namespace_limits, (c.namespace for r in runtimes for c in r.document.all_consumes))
    except ValueError as exc:
        return _fail(str(exc))
    configure(args.log_level, args.log_format, [s for r in runtimes for s in r.secrets])
    tracing.configure(runtimes)  # before the adapters are built: they are wrapped when it is on
    metrics = Metrics()
    live = LiveServer(
        args.paths,
        options,
        runtimes,
        metrics=metrics,
        host=args.host,
        any_port=args.any_port,
        shutdown_timeout=args.shutdown_timeout,
        reloadable=args.workers == 1,
        ready_file=args.ready_file,
    )
    try:
        plan = serving.plan(
            runtimes, host=args.host, metrics=metrics, any_port=args.any_port, plane=live, drain=live.drain
        )
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
    return serving.serve_forever(
        plan,
        sockets,
        runtimes,
        workers=args.workers,
        shutdown_timeout=args.shutdown_timeout,
        drain_delay=args.drain_delay,
        ready_file=args.ready_file,
        connections=ConnectionLimits(args.header_timeout, args.body_timeout, args.max_connections),
        on_started=lambda running: live.attach(running, watch=args.watch),
        on_stopped=lambda: _stopped(live),
    )


async def _stopped(live: LiveServer) -> None:
    await live.close()
    tracing.shutdown()  # the spans still queued go out (a bounded wait)


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
    from ..runtime.reload import StdioReload

    live = LiveServer(
        [str(path)], options, [runtime], metrics=Metrics(), shutdown_timeout=args.shutdown_timeout
    )

    def reloads(session: Any) -> StdioReload:  # SIGHUP always; file changes with --watch
        return StdioReload(live, runtime.mcp[0].expose.namespace, session, watch=args.watch)

    serving.run_loop(serve_stdio(runtime, runtime.mcp[0], reloads=reloads))
    tracing.shutdown()
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_CONFIG
