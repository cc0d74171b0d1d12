"""``naftiko serve`` as a user runs it: the installed console script in a subprocess, a capability
with a REST and a skill adapter on free ports; the startup summary names the skill adapter and it
answers over HTTP."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import httpx

from tests.support.servers import free_port, wait_for_port

from .conftest import GUIDE, make_skill_dir

NAFTIKO = Path(sys.executable).parent / "naftiko"

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info:
  label: Serve a skill catalog
capability:
  exposes:
    - type: rest
      namespace: orders-api
      address: 127.0.0.1
      port: {rest_port}
      resources:
        - path: /orders
          name: orders
          operations:
            - method: GET
              name: list-orders
              outputParameters:
                - {{name: value, type: string, value: ok}}
    - type: skill
      namespace: orders-skills
      address: 127.0.0.1
      port: {skill_port}
      skills:
        - name: order-management
          description: Tools for managing orders
          location: file:///./order-management
          tools:
            - name: list-orders
              description: List all orders
              from: {{sourceNamespace: orders-api, action: list-orders}}
            - name: order-guide
              description: Guide for working with orders
              instruction: order-guide.md
"""


def test_naftiko_serve_runs_the_skill_adapter(tmp_path: Path) -> None:
    make_skill_dir(tmp_path / "order-management")
    rest_port, skill_port = free_port(), free_port()
    capability = tmp_path / "orders.yaml"
    capability.write_text(textwrap.dedent(CAPABILITY.format(rest_port=rest_port, skill_port=skill_port)))
    process = subprocess.Popen(
        [str(NAFTIKO), "serve", str(capability), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for_port("127.0.0.1", skill_port, timeout=20)
        deadline = time.monotonic() + 10
        while not any(line.lstrip().startswith("skill ") for line in lines):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        banner = next(line for line in lines if line.lstrip().startswith("skill "))
        assert "orders-skills" in banner
        assert f"http://127.0.0.1:{skill_port}/skills" in banner
        assert "1 skill, 2 tools" in banner
        assert not any("skipped" in line for line in lines), "".join(lines)

        base = f"http://127.0.0.1:{skill_port}"
        listing = httpx.get(base + "/skills", timeout=5).json()
        assert listing == {
            "count": 1,
            "skills": [
                {
                    "name": "order-management",
                    "description": "Tools for managing orders",
                    "tools": ["list-orders", "order-guide"],
                }
            ],
        }
        derived = httpx.get(base + "/skills/order-management", timeout=5).json()["tools"][0]
        assert derived["invocationRef"]["mode"] == "rest" and derived["resolved"] is True
        assert httpx.get(base + "/skills/order-management/contents/order-guide.md", timeout=5).text == GUIDE
        archive = httpx.get(base + "/skills/order-management/download", timeout=5)
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            assert "SKILL.md" in zipped.namelist()
        # The sibling the derived tool points at is served by the same process.
        assert httpx.get(f"http://127.0.0.1:{rest_port}/orders", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        reader.join(timeout=5)
    assert process.returncode == 0, "".join(lines)
