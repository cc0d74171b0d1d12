"""``naftiko import openapi SOURCE``: a capability from an OpenAPI description, checked and ready to serve.

The import itself is :func:`naftiko_runtime.importers.openapi`; this command adds what a user at a
terminal needs around it: warnings printed compiler-style, the result validated against the spec
(``validate --strict``) before it is written, a summary that says which environment variables to
set, and ``--check``: serve the result on free ports and call every GET that needs no input once
against the upstream, printing a table of what each tool got.

Exit codes: 0 written (and every check passed); 1 the description could not be imported, the
result did not validate, or a check failed; 2 bad options.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..importers import Diagnostic, ImportFailed, openapi, to_yaml
from ..importers.options import ADAPTERS, InvalidOptions
from ..migrate import TARGETS, migrate_data
from ..spec import check_text
from ..spec.ikanos import ALPHA2_VERSION

EXIT_FAILED = 1
EXIT_USAGE = 2
CHECK_STARTUP_S = 30.0
CHECK_CALL_S = 30.0
_BOOTSTRAP = "import sys; from naftiko_runtime.cli import main; sys.exit(main())"
_MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import",
        help="make a capability from another API description (OpenAPI)",
        description="Make a capability document from another description of an API.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="FORMAT", required=True)
    api = kinds.add_parser(
        "openapi",
        help="from an OpenAPI 3.0/3.1 or Swagger 2.0 description",
        description="Write a strict-valid capability (naftiko 1.0.0-alpha2, or ikanos 1.0.0-beta5 with --to) "
        "for an OpenAPI 3.0, 3.1 or "
        "Swagger 2.0 description: one consumed namespace, and a REST route and an MCP tool per operation.",
    )
    api.add_argument(
        "source", metavar="SOURCE", help="the description: a file or an http(s) URL, JSON or YAML"
    )
    api.add_argument("-o", "--output", metavar="FILE", help="write the capability here (default: stdout)")
    api.add_argument("--namespace", help="the consumed namespace (default: from the title)")
    api.add_argument("--base-uri", metavar="URL", help="the upstream's base URL (default: the first server)")
    api.add_argument(
        "--expose",
        default=",".join(ADAPTERS),
        metavar="LIST",
        help="adapters to generate: rest, mcp or rest,mcp (default)",
    )
    api.add_argument("--rest-port", type=int, default=8080, metavar="PORT", help="REST adapter port (8080)")
    api.add_argument("--mcp-port", type=int, default=9090, metavar="PORT", help="MCP adapter port (9090)")
    api.add_argument(
        "--shape",
        action="store_true",
        help="map the documented fields of each 2xx answer (default: return the whole body)",
    )
    api.add_argument("--include-tags", metavar="TAGS", help="only operations with one of these tags")
    api.add_argument("--exclude-tags", metavar="TAGS", help="leave out operations with one of these tags")
    api.add_argument("--operations", metavar="IDS", help="only these operations (operationIds or names)")
    api.add_argument("--methods", metavar="METHODS", help="only these HTTP methods (GET,POST,...)")
    api.add_argument(
        "--max-tools", type=int, metavar="N", help="refuse to generate more than N tools (above 40 it warns)"
    )
    api.add_argument("--strict", action="store_true", help="any construct not carried over is an error")
    api.add_argument(
        "--check",
        metavar="URL_OR_ENV",
        help="after writing, serve the result and call every GET without required inputs once: "
        "against URL, or against the description's own server with 'env' (credentials always come "
        "from the environment)",
    )
    api.add_argument(
        "--to",
        choices=sorted(TARGETS),
        default=ALPHA2_VERSION,
        metavar="VERSION",
        help=f"the spec version to write: {' or '.join(sorted(TARGETS))} (default {ALPHA2_VERSION})",
    )
    api.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    api.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.check is not None and args.check != "env" and not args.check.startswith(("http://", "https://")):
        return _usage(f"--check {args.check!r}: expected an http(s) URL or 'env'")
    options = {
        "namespace": args.namespace,
        "base_uri": args.base_uri,
        "expose": args.expose,
        "rest_port": args.rest_port,
        "mcp_port": args.mcp_port,
        "shape": args.shape,
        "include_tags": args.include_tags,
        "exclude_tags": args.exclude_tags,
        "operations": args.operations,
        "methods": args.methods,
        "max_tools": args.max_tools,
        "strict": args.strict,
    }
    try:
        document, warnings = openapi(args.source, **options)
    except InvalidOptions as exc:
        return _usage(str(exc))
    except ImportFailed as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format("error"), file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        for diagnostic in warnings:
            print(diagnostic.format(), file=sys.stderr)
    output = Path(args.output) if args.output else None
    base_dir = (output or Path("x")).resolve().parent
    written = document
    if args.to != ALPHA2_VERSION:
        # The importer builds the alpha2 shape; migrate says the same thing in the target's spelling.
        written = copy.deepcopy(document)
        for note in migrate_data(written, args.to, base_dir=base_dir):
            if not args.quiet:
                print(f"{args.source}: note: {note}", file=sys.stderr)
    text = to_yaml(written, header=f"Imported by `naftiko import openapi` from {args.source}.")
    report = check_text(text, str(output or "<imported>"), base_dir=base_dir, strict=True)
    if report.problems:
        for problem in report.problems:
            print(problem.format(), file=sys.stderr)
        print(
            "error: the generated capability does not validate; this is a bug of the importer",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
    _summary(document, warnings, output)
    if args.check is None:
        return 0
    with _written(text, output) as path:
        # The table goes where the document did not: stdout holds the YAML when there is no -o.
        return smoke_check(document, path, args.check, sys.stdout if output else sys.stderr)


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


@contextlib.contextmanager
def _written(text: str, output: Path | None) -> Iterator[Path]:
    """The capability's file: the one written, or a temporary one when it went to stdout."""
    if output is not None:
        yield output
        return
    with tempfile.TemporaryDirectory(prefix="naftiko-import-") as folder:
        path = Path(folder) / "capability.yaml"
        path.write_text(text, encoding="utf-8")
        yield path


def _summary(document: dict[str, Any], warnings: list[Diagnostic], output: Path | None) -> None:
    capability = document.get("capability", {})
    parts = []
    for expose in capability.get("exposes", []):
        if expose["type"] == "mcp":
            parts.append(f"{len(expose['tools'])} MCP tools on port {expose['port']}")
        else:
            routes = sum(len(r["operations"]) for r in expose["resources"])
            parts.append(f"{routes} REST routes on port {expose['port']}")
    where = str(output) if output else "stdout"
    count = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    print(f"wrote {where}: {', '.join(parts) or 'nothing to expose'}{count}", file=sys.stderr)
    variables = [v for bind in document.get("binds", []) for v in bind["keys"]]
    if variables:
        print(f"set {', '.join(variables)} in the environment before serving", file=sys.stderr)
    if output is not None:
        print(f"serve it with: naftiko serve {output}", file=sys.stderr)


# -- serving in the background ---------------------------------------------------------------------


class ServeFailed(RuntimeError):
    """``naftiko serve`` exited or did not become ready; the message ends with its last log lines."""


@contextlib.contextmanager
def serving(
    path: Path,
    *,
    base_uris: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = CHECK_STARTUP_S,
) -> Iterator[list[dict[str, Any]]]:
    """``naftiko serve PATH`` in a subprocess on free loopback ports, until the block ends.

    Yields the listeners of its ready file (``type``, ``namespace``, ``url``…), once every adapter
    accepts requests; ``env`` is added to this process's environment. Used by ``--check``, and by
    the bench and the tests that serve an imported capability.
    """
    with tempfile.TemporaryDirectory(prefix="naftiko-serve-") as folder:
        ready, log = Path(folder) / "ready.json", Path(folder) / "serve.log"
        command = [sys.executable, "-c", _BOOTSTRAP, "serve", str(path), "--any-port", "--host", "127.0.0.1"]
        command += ["--ready-file", str(ready), "--log-level", "warning", "--shutdown-timeout", "2"]
        for namespace, url in (base_uris or {}).items():
            command += ["--base-uri", f"{namespace}={url}"]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, env={**os.environ, **(env or {})}
            )
        try:
            deadline = time.monotonic() + timeout
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    why = "exited" if process.poll() is not None else f"was not ready within {timeout:g} s"
                    tail = log.read_text(errors="replace").strip().splitlines()[-8:]
                    raise ServeFailed("\n".join([f"naftiko serve {why}:", *(f"  {line}" for line in tail)]))
                time.sleep(0.05)
            yield json.loads(ready.read_text())["listeners"]
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- --check ---------------------------------------------------------------------------------------


@dataclass
class Probe:
    """One GET tool to call, and what it got."""

    tool: str
    request: str
    outcome: str = ""
    ok: bool = False
    ms: float = 0.0


def smoke_check(document: dict[str, Any], path: Path, target: str, table: TextIO) -> int:
    """Serve ``path`` on free ports and call each GET without required inputs once; print a table."""
    variables = [v for bind in document.get("binds", []) for v in bind["keys"]]
    missing = [v for v in variables if not os.environ.get(v)]
    if missing:
        print(
            f"check: set {', '.join(missing)} in the environment first (the capability reads them)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    probes, adapter = _probes(document)
    namespace = document["capability"]["consumes"][0]["namespace"]
    upstream = target if target != "env" else document["capability"]["consumes"][0]["baseUri"]
    print(
        f"check: {len(probes)} GET operation(s) without required inputs, against {upstream}", file=sys.stderr
    )
    if not probes:
        return 0
    base_uris = {} if target == "env" else {namespace: target}
    try:
        with serving(path, base_uris=base_uris, timeout=CHECK_STARTUP_S) as listeners:
            url = next(item["url"] for item in listeners if item["type"] == adapter)
            _call_all(probes, url, adapter)
    except ServeFailed as exc:
        print(f"check: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print_table(probes, table)
    return 0 if all(p.ok for p in probes) else EXIT_FAILED


def _probes(document: dict[str, Any]) -> tuple[list[Probe], str]:
    """The GET units without required inputs, by the adapter they are called through."""
    capability = document["capability"]
    methods: dict[str, tuple[str, str]] = {}
    for resource in capability["consumes"][0].get("resources", []):
        for operation in resource["operations"]:
            methods[operation["name"]] = (operation["method"], resource["path"])
    exposes = {e["type"]: e for e in capability.get("exposes", [])}
    probes: list[Probe] = []
    if "mcp" in exposes:
        for tool in exposes["mcp"]["tools"]:
            method, route = methods[tool["call"].split(".", 1)[1]]
            required = any(p.get("required", True) for p in tool.get("inputParameters", []))
            if method == "GET" and not required:
                probes.append(Probe(tool["name"], f"GET {route}"))
        return probes, "mcp"
    for resource in exposes["rest"]["resources"] if "rest" in exposes else ():
        for operation in resource["operations"]:
            inputs = operation.get("inputParameters", [])
            if operation["method"] == "GET" and not any(p["in"] == "path" for p in inputs):
                probes.append(Probe(operation["name"], f"GET {resource['path']}"))
    return probes, "rest"


def _call_all(probes: list[Probe], url: str, adapter: str) -> None:
    with httpx.Client(timeout=CHECK_CALL_S) as client:
        for number, probe in enumerate(probes, 1):
            started = time.perf_counter()
            try:
                if adapter == "mcp":
                    _call_tool(client, url, probe, number)
                else:
                    answer = client.get(url.rstrip("/") + probe.request.split(" ", 1)[1])
                    probe.ok = answer.status_code < 400
                    probe.outcome = f"{answer.status_code} {answer.reason_phrase}"
            except httpx.HTTPError as exc:
                probe.outcome = f"no answer: {type(exc).__name__}"
            probe.ms = (time.perf_counter() - started) * 1000


def _call_tool(client: httpx.Client, url: str, probe: Probe, number: int) -> None:
    payload = {
        "jsonrpc": "2.0",
        "id": number,
        "method": "tools/call",
        "params": {"name": probe.tool, "arguments": {}},
    }
    answer = client.post(url, json=payload, headers=_MCP_HEADERS)
    text = answer.text
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = data[-1] if data else ""
    try:
        message = json.loads(text)
    except ValueError:
        probe.outcome = f"HTTP {answer.status_code}: not a JSON-RPC answer"
        return
    if "error" in message:
        probe.outcome = f"JSON-RPC error: {message['error'].get('message', '')}"
        return
    result = message.get("result") or {}
    content = " ".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))
    probe.ok = not result.get("isError")
    probe.outcome = "ok" if probe.ok else content.strip().splitlines()[0] if content.strip() else "error"


def _print_table(probes: list[Probe], out: TextIO) -> None:
    rows = [("tool", "request", "result", "ms")]
    rows += [(p.tool, p.request, p.outcome[:90], f"{p.ms:.0f}") for p in probes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]:>5}", file=out)
    print(f"{sum(p.ok for p in probes)} of {len(probes)} ok", file=out)
