"""``naftiko health|status|metrics|traces|logs|reload``: clients of a running control adapter.

The control adapter is found from ``--url``, else from the capability files given (default: those
in the current directory): the one control adapter they declare, at its address and port.

Exit codes: 0 the answer is good; 1 the server answered with a failure (not ready, reload refused,
no such trace); 2 no control adapter to talk to, or it does not enable the endpoint; 3 it could
not be reached; 4 it refused the credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import httpx

from ..spec import check_files
from ..spec.discover import discover
from ..spec.models import ControlExpose

OK, FAILED, UNAVAILABLE, UNREACHABLE, REFUSED = 0, 1, 2, 3, 4
_ENABLED_BY = {
    "/health": "management.health",
    "/status": "management.info",
    "/metrics": "observability.metrics.local.enabled",
    "/traces": "observability.traces.local.enabled (with observability declared)",
    "/logs": "management.logs",
    "/config/reload": "management.reload",
}


class ControlUnavailable(Exception):
    """No control adapter to talk to; the message says why."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    specs = {
        "health": "is the serving process ready? (GET /health/ready)",
        "status": "what the process serves, its version and uptime (GET /status)",
        "metrics": "Prometheus metrics of the process (GET /metrics)",
        "traces": "the last finished traces, or one with its spans (GET /traces[/ID])",
        "logs": "logger levels: list, set one (--set), or follow the log stream (--follow)",
        "reload": "read the capability files again and swap what is served (POST /config/reload)",
    }
    for name, help_text in specs.items():
        parser = commands.add_parser(
            name, help=help_text, description=help_text + ". " + __doc__.split("\n\n")[1]
        )
        parser.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="capability files or directories declaring the control adapter",
        )
        parser.add_argument("--url", help="the control adapter's base URL, e.g. http://localhost:9090")
        parser.add_argument(
            "--token",
            default=os.environ.get("NAFTIKO_CONTROL_TOKEN"),
            help="bearer token for a control adapter with authentication (default: $NAFTIKO_CONTROL_TOKEN)",
        )
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="seconds to wait for an answer (default 10)"
        )
        parser.add_argument("--json", action="store_true", help="print the answer as the server sent it")
        if name == "traces":
            parser.add_argument("--id", dest="trace_id", help="show this trace with its span tree")
            parser.add_argument("--operation", help="only traces of this operation")
            parser.add_argument(
                "--status", choices=("OK", "ERROR", "ok", "error"), help="only traces with this status"
            )
        if name == "logs":
            parser.add_argument(
                "--set", metavar="LOGGER=LEVEL", help="set a logger's level, e.g. naftiko=DEBUG"
            )
            parser.add_argument(
                "--follow", action="store_true", help="print log records as they happen (Ctrl-C stops)"
            )
        parser.set_defaults(run=run, action=name)


def run(args: argparse.Namespace) -> int:
    try:
        base = args.url.rstrip("/") if args.url else find_control_url(args.paths or ["."])
    except ControlUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return UNAVAILABLE
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=args.timeout) as client:
            return _ACTIONS[args.action](client, args)
    except httpx.TransportError as exc:
        print(
            f"error: cannot reach the control adapter at {base}: {exc or type(exc).__name__}", file=sys.stderr
        )
        return UNREACHABLE


def find_control_url(paths: list[str]) -> str:
    """The URL of the one control adapter the capability files under ``paths`` declare."""
    found: list[tuple[str, ControlExpose]] = []
    for report in check_files(discover(paths).files, ports=False):
        capability = report.document.capability if report.document else None
        for expose in capability.exposes if capability else ():
            if isinstance(expose, ControlExpose) and expose.port:
                found.append((report.file, expose))
    where = ", ".join(paths)
    if not found:
        raise ControlUnavailable(f"no capability under {where} declares a control adapter: give --url")
    if len({(e.address, e.port) for _, e in found}) > 1:
        listing = "; ".join(f"{file} port {e.port}" for file, e in found)
        raise ControlUnavailable(f"several control adapters ({listing}): give --url")
    expose = found[0][1]
    host = expose.address or "localhost"
    if host in ("0.0.0.0", "::"):
        host = "localhost"
    return f"http://{'[' + host + ']' if ':' in host else host}:{expose.port}"


def _ask(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    endpoint: str | None = None,
    own_404: bool = False,
    **options: Any,
) -> httpx.Response | int:
    """The answer at ``path`` (of ``endpoint``, when the path has an id in it), or the exit code
    after saying why there is none."""
    response = client.request(method, path, **options)
    failed = _failed(response, endpoint or path, own_404=own_404)
    return response if failed is None else failed


def _failed(response: httpx.Response, endpoint: str, *, own_404: bool = False) -> int | None:
    """The exit code for an answer that is not the endpoint's, after saying why; else ``None``."""
    if response.status_code in (401, 403):
        print(
            f"error: the control adapter refused the credentials ({response.status_code}): give --token",
            file=sys.stderr,
        )
        return REFUSED
    # Only a trace look-up answers 404 itself; elsewhere a 404 or 405 means the route is absent
    # (its flag is off, or the URL is another adapter's).
    own = own_404 and "problem+json" in response.headers.get("content-type", "")
    if response.status_code in (404, 405) and not own:
        key = next((flag for prefix, flag in _ENABLED_BY.items() if endpoint.startswith(prefix)), "its flag")
        print(f"error: this control adapter does not serve {endpoint}: enable {key}", file=sys.stderr)
        return UNAVAILABLE
    return None


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _adapter_line(adapter: dict[str, Any]) -> str:
    kind, namespace = adapter.get("type", "?"), adapter.get("namespace", "-")
    return f"  {kind:<8} {namespace:<40} port {adapter.get('port')}  {adapter.get('state')}"


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def health(client: httpx.Client, args: argparse.Namespace) -> int:
    response = _ask(client, "GET", "/health/ready")
    if isinstance(response, int):
        return response
    body = response.json()
    if args.json:
        _print_json(body)
    else:
        print(body.get("status", "?"))
        for adapter in body.get("adapters", []):
            print(_adapter_line(adapter))
    return OK if response.status_code == 200 else FAILED


def status(client: httpx.Client, args: argparse.Namespace) -> int:
    response = _ask(client, "GET", "/status")
    if isinstance(response, int):
        return response
    body = response.json()
    if args.json:
        _print_json(body)
        return OK
    capability, engine = body.get("capability", {}), body.get("engine", {})
    print(f"{capability.get('label')} (spec {capability.get('specVersion')}), up {body.get('uptime')}")
    print(f"engine {engine.get('name')} {engine.get('version')}, Python {engine.get('python')}")
    for adapter in body.get("adapters", []):
        print(_adapter_line(adapter))
    return OK


def metrics(client: httpx.Client, args: argparse.Namespace) -> int:
    response = _ask(client, "GET", "/metrics")
    if isinstance(response, int):
        return response
    sys.stdout.write(response.text)
    return OK if response.status_code == 200 else FAILED


def traces(client: httpx.Client, args: argparse.Namespace) -> int:
    if args.trace_id:
        response = _ask(client, "GET", f"/traces/{args.trace_id}", endpoint="/traces", own_404=True)
        if isinstance(response, int):
            return response
        if response.status_code == 404:
            print(f"error: {_problem(response).get('detail', 'no such trace')}", file=sys.stderr)
            return FAILED
        body = response.json()
        if args.json:
            _print_json(body)
        else:
            print(_trace_line(body))
            for line in _tree(body.get("spans", []), "  "):
                print(line)
        return OK
    params = {key: value for key, value in (("operation", args.operation), ("status", args.status)) if value}
    response = _ask(client, "GET", "/traces", params=params)
    if isinstance(response, int):
        return response
    body = response.json()
    if args.json:
        _print_json(body)
        return OK
    for trace in body.get("traces", []):
        print(_trace_line(trace))
    print(f"{len(body.get('traces', []))} shown; buffer {body.get('bufferUsed')}/{body.get('bufferSize')}")
    return OK


def _trace_line(trace: dict[str, Any]) -> str:
    return (
        f"{trace.get('traceId')}  {trace.get('timestamp')}  {trace.get('status', '?'):<5} "
        f"{trace.get('durationMs', 0):>9.1f} ms  {trace.get('spanCount')} spans  {trace.get('operation')}"
    )


def _tree(spans: list[dict[str, Any]], indent: str) -> Iterator[str]:
    for span in spans:
        yield f"{indent}{span.get('name')}  {span.get('durationMs', 0):.1f} ms  {span.get('status')}"
        yield from _tree(span.get("children", []), indent + "  ")


def logs(client: httpx.Client, args: argparse.Namespace) -> int:
    if args.set:
        logger, _, level = args.set.partition("=")
        if not logger or not level:
            print("error: --set takes LOGGER=LEVEL, e.g. naftiko=DEBUG", file=sys.stderr)
            return UNAVAILABLE
        response = _ask(client, "PUT", f"/logs/{logger}", endpoint="/logs", json={"level": level})
        if isinstance(response, int):
            return response
        if response.status_code != 200:
            print(f"error: {_problem(response).get('detail', response.text)}", file=sys.stderr)
            return FAILED
        body = response.json()
        print(f"{body['name']}: {body['effectiveLevel']}")
        return OK
    if args.follow:
        return _follow(client)
    response = _ask(client, "GET", "/logs")
    if isinstance(response, int):
        return response
    body = response.json()
    if args.json:
        _print_json(body)
        return OK
    for logger in body.get("loggers", []):
        print(
            f"{logger['name']:<40} {logger['effectiveLevel']}{'' if logger.get('level') else ' (inherited)'}"
        )
    return OK


def _follow(client: httpx.Client) -> int:
    with client.stream("GET", "/logs/stream", timeout=httpx.Timeout(10.0, read=None)) as response:
        failed = _failed(response, "/logs/stream")
        if failed is not None:
            return failed
        if response.status_code != 200:
            response.read()
            print(f"error: {_problem(response).get('detail', response.text)}", file=sys.stderr)
            return FAILED
        event = "message"
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if event == "dropped":
                    print("error: the server dropped this stream: it did not keep up", file=sys.stderr)
                    return FAILED
                print(data, flush=True)
                event = "message"
    return OK


def reload(client: httpx.Client, args: argparse.Namespace) -> int:
    response = _ask(client, "POST", "/config/reload", timeout=max(args.timeout, 30.0))
    if isinstance(response, int):
        return response
    body = _problem(response)
    if args.json:
        _print_json(body)
    elif response.status_code == 200:
        diff = body.get("diff", {})
        print(f"reloaded: generation {body.get('generation')}")
        for section in ("capabilities", "adapters", "units"):
            for what in ("added", "removed", "changed"):
                for item in diff.get(section, {}).get(what, []):
                    print(f"  {section[:-1] if section != 'capabilities' else 'capability'} {what}: {item}")
        for item in diff.get("breaking", []):
            print(f"  BREAKING: {item}")
    else:
        print(f"error: {body.get('detail', response.text)}", file=sys.stderr)
        for problem in body.get("problems", []):
            place = ":".join(
                str(problem[k]) for k in ("file", "line", "column") if problem.get(k) is not None
            )
            print(f"  {place + ': ' if place else ''}{problem.get('message')}", file=sys.stderr)
    return OK if response.status_code == 200 else FAILED


_ACTIONS = {
    "health": health,
    "status": status,
    "metrics": metrics,
    "traces": traces,
    "logs": logs,
    "reload": reload,
}
