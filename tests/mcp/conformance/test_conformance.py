"""The official MCP conformance suite against the conformance catalog (opt-in: needs Node >= 22).

Run with ``NAFTIKO_MCP_CONFORMANCE=1 pytest tests/mcp/conformance``. ``npx`` fetches
``@modelcontextprotocol/conformance`` from the npm registry; ``NAFTIKO_NODE_BIN`` may point at a
directory holding a newer ``node``/``npx`` than the one on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from naftiko_runtime.exposes.mcp import build_mcp_app
from tests.mcp.fakes import conformance_catalog
from tests.support.servers import ServerThread

PACKAGE = "@modelcontextprotocol/conformance@0.1.16"
BASELINE = Path(__file__).with_name("expected-failures.yml")


def _node_env() -> dict[str, str]:
    env = dict(os.environ)
    extra = os.environ.get("NAFTIKO_NODE_BIN")
    if extra:
        env["PATH"] = extra + os.pathsep + env.get("PATH", "")
    return env


def _node_major(env: dict[str, str]) -> int:
    node = shutil.which("node", path=env["PATH"])
    if node is None:
        return 0
    version = subprocess.run([node, "--version"], capture_output=True, text=True, env=env).stdout
    return int(version.strip().lstrip("v").split(".")[0] or 0)


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    os.environ.get("NAFTIKO_MCP_CONFORMANCE") != "1", reason="opt-in: NAFTIKO_MCP_CONFORMANCE=1"
)
def test_official_conformance_suite(tmp_path: Path) -> None:
    env = _node_env()
    if _node_major(env) < 22:
        pytest.skip("the conformance CLI needs Node >= 22 (set NAFTIKO_NODE_BIN)")
    npx = shutil.which("npx", path=env["PATH"])
    assert npx is not None
    with ServerThread(build_mcp_app(conformance_catalog())) as server:
        url = f"http://localhost:{server.port}/mcp"  # the DNS-rebinding scenario needs a localhost URL
        process = subprocess.run(
            [
                npx,
                "-y",
                PACKAGE,
                "server",
                "--url",
                url,
                "--suite",
                "all",
                "--expected-failures",
                str(BASELINE),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=570,
        )
    summary = process.stdout[process.stdout.find("=== SUMMARY ===") :]
    assert process.returncode == 0, summary or process.stdout[-4000:] + process.stderr[-4000:]
