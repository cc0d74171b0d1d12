"""Issue #15's security cases as a user meets them: ``naftiko serve`` / ``validate`` / ``call`` run as
processes, real sockets, a recording upstream behind them, and every byte the clients and the log
saw kept for the assertions."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.fixtures import upstream, upstream_server

__all__ = ["upstream", "upstream_server"]

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def write(tmp_path: Path, text: str, name: str = "capability.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run_naftiko(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """One ``naftiko`` command to its end: exit code, stdout and stderr as text."""
    return subprocess.run(
        [NAFTIKO, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Served:
    """A running ``naftiko serve``: where each adapter listens, and what it logged so far."""

    process: subprocess.Popen[str]
    listeners: dict[str, str] = field(default_factory=dict)  # namespace → base URL
    log: str = ""

    def url(self, namespace: str) -> str:
        return self.listeners[namespace]

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        self.log = err
        return err


@contextlib.contextmanager
def serve(
    capability: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Iterator[Served]:
    """``naftiko serve CAPABILITY --any-port`` until the block ends; ``served.log`` is then its stderr."""
    ready = capability.with_name(capability.stem + ".ready.json")
    ready.unlink(missing_ok=True)
    process = subprocess.Popen(
        [NAFTIKO, "serve", str(capability), "--any-port", "--ready-file", str(ready), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    served = Served(process)
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if process.poll() is not None:
                raise AssertionError(f"serve exited with {process.returncode}: {process.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become ready")
            time.sleep(0.05)
        for item in json.loads(ready.read_text())["listeners"]:
            served.listeners[item["namespace"]] = f"http://127.0.0.1:{item['port']}"
        yield served
    finally:
        served.stop()


def mcp_call(url: str, name: str, arguments: dict, **headers: str) -> dict:
    """``tools/call`` over Streamable HTTP: the JSON-RPC answer as a dict."""
    import httpx

    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    answer = httpx.post(url + "/mcp", json=message, headers={**MCP_HEADERS, **headers}, timeout=20)
    return answer.json()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
