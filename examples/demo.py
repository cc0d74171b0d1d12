"""``make demo``: the seed capability served in front of a Label Studio stand-in, no Label Studio needed.

Starts the stand-in on :8000 (token ``demo-token``), runs ``naftiko serve
capabilities/label-studio-runs.yaml`` with ``LABEL_STUDIO_API_KEY`` set for it (REST on :8080, MCP on
:9090), checks that both answer, and prints commands to try and an MCP client configuration. Ctrl-C
stops everything. ``--check`` runs the same checks and exits (used by the test suite).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAPABILITY = "capabilities/label-studio-runs.yaml"
TOKEN = "demo-token"
NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="start, verify, print, stop")
    parser.add_argument("--standin-port", type=int, default=8000)
    args = parser.parse_args()
    for port in (args.standin_port, 8080, 9090):
        if _busy(port):
            print(f"demo: port {port} is already in use; stop what is listening there first", file=sys.stderr)
            return 1
    bin_dir = Path(sys.executable).parent
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "examples" / "label_studio_standin.py"),
                    "--port",
                    str(args.standin_port),
                    "--token",
                    TOKEN,
                ],
                cwd=ROOT,
            )
        )
        _wait(args.standin_port)
        env = {**os.environ, "LABEL_STUDIO_API_KEY": f"Token {TOKEN}"}
        base = f"{NAMESPACE}=http://127.0.0.1:{args.standin_port}"
        children.append(
            subprocess.Popen(
                [str(bin_dir / "naftiko"), "serve", CAPABILITY, "--base-uri", base], cwd=ROOT, env=env
            )
        )
        _wait(8080)
        _wait(9090)
        sample = _get("http://127.0.0.1:8080/v1/api/prompts/1/versions/1/inference-runs")
        _print_guide(bin_dir, sample, args.standin_port)
        if args.check:
            _try_examples()
            print("demo: every example above answered 2xx", flush=True)
            return 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


# The requests the guide prints as curl commands; ``--check`` sends each one and expects a 2xx.
REST = "http://127.0.0.1:8080/v1/api/prompts/1/versions/1/inference-runs"
MCP = "http://127.0.0.1:9090/mcp"
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}
EXAMPLES: list[tuple[str, str, dict[str, str], object]] = [
    ("GET", f"{REST}?ordering=-created_at", {}, None),
    ("POST", REST, {"Content-Type": "application/json"}, {"project": 5, "project_subset": "All"}),
    ("POST", f"{REST}/3/cancel", {}, None),
    ("GET", "http://127.0.0.1:8080/openapi.json", {}, None),
    ("POST", MCP, MCP_HEADERS, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    (
        "POST",
        MCP,
        MCP_HEADERS,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "get-inference-run-info", "arguments": {"prompt_id": 1, "version_id": 1}},
        },
    ),
]


def _curl(method: str, url: str, headers: dict[str, str], body: object) -> str:
    parts = ["curl -s"] + ([f"-X {method}"] if method != "GET" or body is not None else []) + [f"'{url}'"]
    parts += [f"-H '{name}: {value}'" for name, value in headers.items()]
    if body is not None:
        parts.append(f"-d '{json.dumps(body)}'")
    return " ".join(parts)


def _try_examples() -> None:
    for method, url, headers, body in EXAMPLES:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.loads(response.read())
        if isinstance(payload, dict) and payload.get("result", {}).get("isError"):
            raise SystemExit(f"demo: {_curl(method, url, headers, body)} answered a tool error")


def _print_guide(bin_dir: Path, sample: object, standin_port: int) -> None:
    runs = sample if isinstance(sample, list) else []
    print(
        f"\nnaftiko demo is up: REST on :8080 and MCP on :9090, in front of the stand-in "
        f"({len(runs)} run{'' if len(runs) == 1 else 's'} for prompt 1, version 1).\n"
    )
    print("Try the REST API and the MCP server (stateless Streamable HTTP, JSON):")
    for example in EXAMPLES:
        print("  " + _curl(*example))
    config = {
        "mcpServers": {
            "label-studio-runs": {"url": MCP},
            "label-studio-runs-stdio": {
                "command": str(bin_dir / "naftiko"),
                "args": [
                    "serve",
                    "--stdio",
                    str(ROOT / CAPABILITY),
                    "--base-uri",
                    f"{NAMESPACE}=http://127.0.0.1:{standin_port}",
                ],
                "env": {"LABEL_STUDIO_API_KEY": f"Token {TOKEN}"},
            },
        }
    }
    print("\nMCP client configuration (HTTP, or stdio for desktop clients that launch the server):")
    print(json.dumps(config, indent=2))
    print("\nWith a real Label Studio: export LABEL_STUDIO_API_KEY='Token <your key>' and run")
    print(f"  naftiko serve {CAPABILITY} --base-uri {NAMESPACE}=https://<your-label-studio>")
    print("\nCtrl-C stops the demo.", flush=True)


def _busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _busy(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"demo: nothing answered on port {port} within {timeout:.0f} s")


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


if __name__ == "__main__":
    sys.exit(main())
