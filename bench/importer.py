"""Import bench: a large OpenAPI description (hundreds of operations) → a capability that serves.

The issue's target: a description of hundreds of operations imports in under 5 s, and the result
loads and serves. For a generated description of ``--operations`` operations (shared component
schemas with nested and recursive ``$ref``, ``allOf``/``oneOf``, enums, formats, path-level and
referenced parameters, two security schemes, a dozen tags) and, when the import corpus is cached,
the largest real one (``star-trek.json``, 120 operations), the median over N interleaved runs of

* ``parse``: ``orjson.loads`` of the description, the baseline (reading JSON costs at least that);
* ``import``: ``naftiko_runtime.importers.openapi(path)``: read, ``$ref``, schemas, document;
* ``yaml``: writing the document (``to_yaml``);
* ``validate``: ``check_text(yaml, strict=True)``, what ``naftiko validate --strict`` does;

each also as a ratio to ``parse``. Then once: ``naftiko serve`` on the result with free ports, the
time until every adapter accepts requests, ``tools/list``, and a call of three tools against a
local upstream (the result serves, not only loads). A measurement: it always exits 0.

    .venv/bin/python bench/importer.py                      # 600 operations, 5 runs
    .venv/bin/python bench/importer.py --operations 2000    # bigger
    .venv/bin/python bench/importer.py --profile            # where the import spends its time
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from naftiko_runtime.cli.import_cmd import serving  # noqa: E402
from naftiko_runtime.importers import openapi, to_yaml  # noqa: E402
from naftiko_runtime.spec import check_text  # noqa: E402

TARGET_S = 5.0
REAL = REPO / ".ci" / ".oas-examples" / "8.2.2" / "package" / "3.0" / "json" / "star-trek.json"
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def description(operations: int) -> dict[str, Any]:
    """A description with ``operations`` operations (five per resource family), shaped like real ones."""
    families = max(1, operations // 5)
    schemas: dict[str, Any] = {
        "User": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "readOnly": True},
                "login": {"type": "string"},
                "manager": {"$ref": "#/components/schemas/User"},
                "teams": {"type": "array", "items": {"$ref": "#/components/schemas/Team"}},
            },
        },
        "Team": {
            "type": "object",
            "properties": {
                "slug": {"type": "string"},
                "members": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
            },
        },
        "Audit": {
            "type": "object",
            "properties": {
                "created": {"type": "string", "format": "date-time"},
                "by": {"$ref": "#/components/schemas/User"},
            },
        },
        "Money": {"oneOf": [{"type": "integer"}, {"type": "number"}], "description": "An amount in cents."},
    }
    paths: dict[str, Any] = {}
    for i in range(families):
        name, plural = f"Item{i}", f"items{i}"
        schemas[name] = {
            "allOf": [
                {"$ref": "#/components/schemas/Audit"},
                {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "id": {"type": "integer", "readOnly": True},
                        "title": {"type": "string", "maxLength": 200, "description": "<b>Short</b> title."},
                        "state": {
                            "type": "string",
                            "enum": ["open", "closed", "archived"],
                            "default": "open",
                        },
                        "owner": {"$ref": "#/components/schemas/User"},
                        "price": {"$ref": "#/components/schemas/Money"},
                        "labels": {"type": "array", "items": {"type": "string"}, "example": ["a", "b"]},
                        "extra": {"type": "object", "additionalProperties": True},
                    },
                },
            ]
        }
        item = {"$ref": f"#/components/schemas/{name}"}
        answer = {"description": "ok", "content": {"application/json": {"schema": item}}}
        listing = {
            "description": "ok",
            "content": {"application/json": {"schema": {"type": "array", "items": item}}},
        }
        tag = [f"tag{i % 12}"]
        paths[f"/{plural}"] = {
            "get": {
                "operationId": f"list{name}s",
                "summary": f"List {plural}",
                "tags": tag,
                "parameters": [
                    {"$ref": "#/components/parameters/Limit"},
                    {"$ref": "#/components/parameters/Cursor"},
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "closed"]},
                    },
                ],
                "responses": {"200": listing},
            },
            "post": {
                "operationId": f"create{name}",
                "summary": f"Create an {name}",
                "tags": tag,
                "requestBody": {"required": True, "content": {"application/json": {"schema": item}}},
                "responses": {"201": answer},
            },
        }
        paths[f"/{plural}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": f"get{name}",
                "summary": f"Get an {name}",
                "tags": tag,
                "responses": {"200": answer},
            },
            "patch": {
                "operationId": f"update{name}",
                "tags": tag,
                "security": [{"oauth": ["write"]}],
                "requestBody": {"content": {"application/json": {"schema": item}}},
                "responses": {"200": answer},
            },
            "delete": {
                "operationId": f"delete{name}",
                "tags": tag,
                "responses": {"204": {"description": "gone"}},
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bench API", "version": "1.0", "description": "A large generated description."},
        "servers": [
            {"url": "https://{region}.bench.example.com/v1", "variables": {"region": {"default": "eu"}}}
        ],
        "security": [{"key": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
                "Cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            },
            "securitySchemes": {
                "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.example.com/token",
                            "scopes": {"write": "Write"},
                        }
                    },
                },
            },
        },
    }


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - started) / 1e6


def measure(path: Path, runs: int) -> dict[str, Any]:
    """Median milliseconds of each step, the steps interleaved run by run."""
    text = path.read_text(encoding="utf-8")
    document, warnings = openapi(str(path))
    written = to_yaml(document)
    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: orjson.loads(text),
        "import": lambda: openapi(str(path)),
        "yaml": lambda: to_yaml(document),
        "validate": lambda: check_text(written, "bench.yaml", strict=True),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, step in steps.items():
            times[name].append(_ms(step))
    report = check_text(written, "bench.yaml", strict=True)
    tools = next(len(e["tools"]) for e in document["capability"]["exposes"] if e["type"] == "mcp")
    return {
        "file": str(path),
        "kib": round(len(text.encode()) / 1024, 1),
        "operations": tools,
        "warnings": [w.rule for w in warnings],
        "valid": report.ok and not report.problems,
        "median_ms": {name: statistics.median(values) for name, values in times.items()},
        "yaml_kib": round(len(written.encode()) / 1024, 1),
        "document": document,
    }


class _Upstream(BaseHTTPRequestHandler):
    """Answers every request ``{}`` (the served units only need an upstream that answers)."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        return None


def serve_once(document: dict[str, Any]) -> dict[str, Any]:
    """``naftiko serve`` the result: seconds until ready, tools listed, three tools called."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    namespace = document["capability"]["consumes"][0]["namespace"]
    variables = {v: "bench" for bind in document.get("binds", []) for v in bind["keys"]}
    base_uris = {namespace: f"http://127.0.0.1:{upstream.server_port}"}
    try:
        with tempfile.TemporaryDirectory(prefix="naftiko-bench-import-") as tmp:
            path = Path(tmp) / "bench.yaml"
            path.write_text(to_yaml(document), encoding="utf-8")
            started = time.perf_counter()
            with serving(path, base_uris=base_uris, env=variables, timeout=120) as listeners:
                ready_s = time.perf_counter() - started
                url = next(item["url"] for item in listeners if item["type"] == "mcp")
                listed = _rpc(url, "tools/list", {})["result"]["tools"]
                called = []
                for tool in [t for t in listed if not t["inputSchema"].get("required")][:3]:
                    result = _rpc(url, "tools/call", {"name": tool["name"], "arguments": {}})["result"]
                    called.append((tool["name"], not result.get("isError")))
    finally:
        upstream.shutdown()
    return {"ready_s": ready_s, "tools_listed": len(listed), "called": called}


def _rpc(url: str, method: str, params: Any) -> dict[str, Any]:
    answer = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
        headers=MCP_HEADERS,
        timeout=60,
    )
    return answer.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=600, help="operations of the generated description")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per step (default 5)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one import of the generated description"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="naftiko-bench-import-") as tmp:
        generated = Path(tmp) / "generated.json"
        generated.write_text(json.dumps(description(args.operations)), encoding="utf-8")
        rows = [("generated", measure(generated, args.runs))]
        if REAL.is_file():
            rows.append(("star-trek.json", measure(REAL, args.runs)))
        served = serve_once(rows[0][1]["document"])
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(openapi, str(generated))
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"naftiko import openapi: median of {args.runs} interleaved runs; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {load}"
    )
    print()
    print(
        "| description | KiB | operations | parse ms | import ms | yaml ms | validate ms | import / parse "
        "| import+yaml+validate s | under 5 s | strict-valid |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for label, row in rows:
        ms = row["median_ms"]
        total = (ms["import"] + ms["yaml"] + ms["validate"]) / 1000
        print(
            f"| {label} | {row['kib']} | {row['operations']} | {ms['parse']:.1f} | {ms['import']:.0f} | "
            f"{ms['yaml']:.0f} | {ms['validate']:.0f} | {ms['import'] / ms['parse']:.0f}× | {total:.2f} | "
            f"{'yes' if ms['import'] / 1000 < TARGET_S else 'NO'} | {'yes' if row['valid'] else 'NO'} |"
        )
    print()
    called = ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in served["called"])
    print(
        f"serves: `naftiko serve` ready in {served['ready_s']:.2f} s with {served['tools_listed']} tools "
        f"listed; called {called}"
    )
    if args.profile:
        print()
        print(out.getvalue())
    if args.json:
        payload = {
            "rows": [
                {"label": label, **{k: v for k, v in row.items() if k != "document"}} for label, row in rows
            ],
            "serve": served,
            "target_s": TARGET_S,
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # a measurement never fails the caller
        print(f"bench/importer.py: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(0)
