"""A ``naftiko serve`` process over a directory of capabilities, and documents to drop into it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}

SHOP = """\
naftiko: 1.0.0-alpha2
info: {{label: Shop, description: reload tests}}
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: {upstream}
      resources:
        - name: items
          path: /items/{{id}}
          operations:
            - {{name: get-item, method: GET}}
  exposes:
    - type: rest
      namespace: shop-rest
      port: {rest}
      resources:
        - path: /items/{{id}}
          operations:
            - {{method: GET, name: get-item, call: api.get-item, with: {{id: shop-rest.id}}}}
{extra_routes}    - type: mcp
      namespace: shop-mcp
      port: {mcp}
      tools:
        - name: get-item
          description: Get an item
          inputParameters:
            - {{name: id, type: string, required: true, description: the item}}
          call: api.get-item
          with: {{id: tools.id}}
{extra_tools}    - type: control
      port: {control}
      management: {{info: true, reload: true, validate: true, logs: true, scripting: {{timeout: 5000}}}}
"""

EXTRA = """\
naftiko: 1.0.0-alpha2
info: {{label: Extra}}
capability:
  exposes:
    - type: rest
      namespace: extra-rest
      port: {port}
      resources:
        - path: /hello
          operations:
            - method: GET
              name: hello
              outputParameters:
                - {{type: string, value: "{word}"}}
"""


def shop(upstream: str, ports: dict[str, int], *, extra_routes: str = "", extra_tools: str = "") -> str:
    return SHOP.format(upstream=upstream, extra_routes=extra_routes, extra_tools=extra_tools, **ports)


def free_ports(*names: str) -> dict[str, int]:
    return {name: free_port() for name in names}


class Served:
    """``naftiko serve DIR`` in a subprocess; stop() returns its stderr."""

    def __init__(self, directory: Path, *args: str) -> None:
        self.directory = directory
        self.ready = directory.parent / f"ready-{time.monotonic_ns()}.json"
        self.process = subprocess.Popen(
            [
                NAFTIKO,
                "serve",
                str(directory),
                "--ready-file",
                str(self.ready),
                "--shutdown-timeout",
                "1",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        self.listeners = self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.exists():
                return json.loads(self.ready.read_text())
            if self.process.poll() is not None:
                raise AssertionError(
                    f"serve exited with {self.process.returncode}: {self.process.stderr.read()}"
                )
            time.sleep(0.05)
        raise AssertionError("serve did not become ready")

    def hup(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(check: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """``check()``'s first truthy value within ``timeout`` seconds, else an AssertionError."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except httpx.TransportError as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s (last: {last!r})")


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=5, **kwargs)


def tool_call(
    url: str, name: str, arguments: dict[str, Any], client: httpx.Client | None = None
) -> httpx.Response:
    payload = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    return (client or httpx).post(url + "/mcp", json=payload, headers=MCP_HEADERS, timeout=10)  # type: ignore[union-attr]
