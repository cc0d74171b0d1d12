"""The drain gate's cost on every request: an exposed unit served with and without it, in process.

``naftiko serve`` wraps every adapter in a :class:`~naftiko_runtime.runtime.drain.DrainGate` (it adds
``Connection: close`` while draining and answers requests the shutdown timeout cuts off). Outside a
shutdown it only passes messages through; this measures what that costs. The same REST app (a unit
answering a constant, so that no upstream call hides the difference) is called through the ASGI
interface with no sockets, as uvicorn calls it, behind the access-log middleware as under ``naftiko
serve``: ``gate off`` is AccessLog → app, ``gate on`` AccessLog → DrainGate → app, for a REST
``GET`` and an MCP ``tools/call``. Variants alternate in rounds;
the figure is the median CPU time per request and the ratio on/off.

Run: ``.venv/bin/python bench/drain.py`` (``--requests 20000 --rounds 7`` by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import REPO

sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent)]

from naftiko_runtime.observability import AccessLog, Metrics  # noqa: E402
from naftiko_runtime.runtime import Runtime, RuntimeOptions  # noqa: E402
from naftiko_runtime.runtime.apps import build_adapter  # noqa: E402
from naftiko_runtime.runtime.drain import Drain, DrainGate  # noqa: E402
from naftiko_runtime.runtime.server import _mcp_interrupted, _problem_interrupted  # noqa: E402
from naftiko_runtime.spec import load  # noqa: E402

CAPABILITY = """
naftiko: 1.0.0-alpha2
info: {label: Constant, description: the drain gate bench}
capability:
  exposes:
    - type: rest
      namespace: constant-rest
      port: 8080
      resources:
        - path: /hello
          operations:
            - {method: GET, name: hello, outputParameters: [{type: string, value: hello}]}
    - type: mcp
      namespace: constant-mcp
      port: 9090
      tools:
        - {name: hello, description: Say hello, outputParameters: [{type: string, value: hello}]}
"""
MCP_BODY = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "hello", "arguments": {}}}
).encode()


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "scheme": "http",
    }


async def drive(app: Any, request: dict[str, Any], body: bytes, count: int) -> float:
    """CPU seconds per request for ``count`` requests, each answered in full."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(count):
        await app(dict(request), receive, send)
    spent = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {sorted(set(statuses))}")
    return spent / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "constant.yaml"
        path.write_text(CAPABILITY, encoding="utf-8")
        runtime = Runtime.build(load(path), RuntimeOptions(environ={}))
    metrics = Metrics()
    drain = Drain()
    capability = runtime.document.capability
    assert capability is not None
    rest_app, _, _ = build_adapter(runtime, capability.exposes[0], metrics, [runtime])  # type: ignore[misc]
    mcp_app, _, _ = build_adapter(runtime, capability.exposes[1], metrics, [runtime])  # type: ignore[misc]
    mcp_headers = [
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2025-11-25"),
    ]
    cases = {
        "REST": (rest_app, _problem_interrupted, scope("GET", "/hello", []), b""),
        "MCP": (mcp_app, _mcp_interrupted, scope("POST", "/mcp", mcp_headers), MCP_BODY),
    }
    variants = {}
    for name, (app, interrupted, request, body) in cases.items():
        variants[f"{name}: gate off"] = (AccessLog(app, name, metrics), request, body)
        gate = DrainGate(app, drain, interrupted)
        variants[f"{name}: gate on"] = (AccessLog(gate, name, metrics), request, body)

    async def run() -> dict[str, list[float]]:
        timings: dict[str, list[float]] = {name: [] for name in variants}
        for app, request, body in variants.values():  # warm-up
            await drive(app, request, body, args.requests // 10)
        for round_ in range(args.rounds):
            for name, (app, request, body) in variants.items():
                timings[name].append(await drive(app, request, body, args.requests))
            print(f"  round {round_ + 1}/{args.rounds}", file=sys.stderr, flush=True)
        return timings

    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    timings = asyncio.run(run())
    print(f"### Drain gate, in process ({args.requests:,} requests × {args.rounds} rounds, medians)\n")
    print("| variant | CPU µs/request | on / off |")
    print("| --- | ---: | ---: |")
    for name in variants:
        median = statistics.median(timings[name]) * 1e6
        off = statistics.median(timings[name.replace("gate on", "gate off")]) * 1e6
        ratio = "–" if name.endswith("off") else f"{median / off:.3f}×"
        print(f"| {name} | {median:.2f} | {ratio} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
