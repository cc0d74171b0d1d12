"""``make demo`` (README command one) does what it says, on its fixed ports."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_demo_starts_answers_every_printed_example_and_stops() -> None:
    busy = [port for port in (8080, 9090) if _busy(port)]
    if busy:
        pytest.skip(f"the demo needs ports 8080 and 9090; in use here: {busy}")
    standin = free_port()  # --standin-port: the printed stdio configuration must follow it
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--check", "--standin-port", str(standin)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo: every example above answered 2xx" in result.stdout
    assert "curl -s 'http://127.0.0.1:8080/v1/api/prompts/1/versions/1/inference-runs" in result.stdout
    assert '"url": "http://127.0.0.1:9090/mcp"' in result.stdout
    assert "--stdio" in result.stdout
    assert f"=http://127.0.0.1:{standin}" in result.stdout
    assert "127.0.0.1:8000" not in result.stdout
    assert not any(_busy(port) for port in (standin, 8080, 9090)), "the demo left a server running"
