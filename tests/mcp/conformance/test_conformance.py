"""The official MCP conformance suite, in every test run: ``.ci/mcp-conformance.sh`` under pytest.

The script installs Node 22 and ``@modelcontextprotocol/conformance`` from the npm registry into
``.ci/.node/`` (once), serves ``conformance.yaml`` with ``naftiko serve`` on a free port and runs
``conformance server --url … --suite all --expected-failures expected-failures.yml``. It fails on a
scenario failing that the baseline does not list, and on a listed one that starts passing. The
test is skipped only when the npm registry cannot be reached (the script's exit status 77).

Three runs: the released suite (0.1.16), and the 0.2.0 alpha (stateless 2026-07-28 scenarios, the
draft's) at its default versions and at 2026-07-28; each has its own baseline file.

Deselect with ``-m "not mcp_conformance"``; run alone with ``bash .ci/mcp-conformance.sh``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / ".ci" / "mcp-conformance.sh"
NPM_UNREACHABLE = 77


@pytest.mark.mcp_conformance
@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("suite", "spec"),
    [("0.1.16", ""), ("0.2.0-alpha.12", ""), ("0.2.0-alpha.12", "2026-07-28")],
    ids=["0.1.16", "0.2.0-alpha.12", "0.2.0-alpha.12@2026-07-28"],
)
def test_official_mcp_conformance_suite(suite: str, spec: str) -> None:
    bash = shutil.which("bash")
    if bash is None:  # pragma: no cover - every CI machine has bash
        pytest.skip("bash is not installed")
    env = {**os.environ, "PYTHON": sys.executable, "SUITE_VERSION": suite, "SPEC_VERSION": spec}
    naftiko = Path(sys.executable).with_name("naftiko")
    if naftiko.exists():
        env["NAFTIKO"] = str(naftiko)
    process = subprocess.run(
        [bash, str(SCRIPT)], capture_output=True, text=True, env=env, cwd=REPO, timeout=570
    )
    if process.returncode == NPM_UNREACHABLE:
        pytest.skip(process.stderr.strip().splitlines()[-1])
    assert process.returncode == 0, process.stdout[-6000:] + "\n" + process.stderr[-4000:]
    assert "Baseline check passed" in process.stdout
