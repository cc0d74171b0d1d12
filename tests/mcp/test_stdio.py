"""The stdio transport, line by line, in a subprocess (as desktop clients launch it)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest

from naftiko_runtime.exposes.mcp import serve_stdio
from tests.support.upstream import RecordingUpstream

from .conftest import program_seed
from .fakes import seed_catalog
from .test_clients import REPO, STDIO_SCRIPT
from .test_http_protocol import ENVELOPE


def run_stdio(upstream: RecordingUpstream, lines: list[str]) -> tuple[list[dict[str, Any]], str, int]:
    process = subprocess.run(
        [sys.executable, str(STDIO_SCRIPT), upstream.url],
        input="".join(line + "\n" for line in lines).encode(),
        capture_output=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO)},
        timeout=30,
    )
    out = process.stdout.decode()
    assert out.endswith("\n") or out == ""
    return [json.loads(line) for line in out.splitlines()], process.stderr.decode(), process.returncode


def test_handshake_and_listing(upstream: RecordingUpstream) -> None:
    messages, stderr, code = run_stdio(
        upstream,
        [
            '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}',
            '{"jsonrpc":"2.0","method":"notifications/initialized"}',
            "",
            '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
            '{"jsonrpc":"2.0","id":3,"method":"ping"}',
        ],
    )
    assert code == 0
    by_id = {m["id"]: m for m in messages}
    assert sorted(by_id) == [1, 2, 3]  # nothing for the notification or the blank line
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"
    assert by_id[2]["result"]["tools"][0]["name"] == "get-inference-run-info"
    assert by_id[3]["result"] == {}
    # Logs and the stray print went to stderr: stdout held protocol lines only.
    assert "a stray print must not corrupt the protocol stream" in stderr
    assert "serving the seed over stdio" in stderr


def test_errors_and_calls(upstream: RecordingUpstream) -> None:
    program_seed(upstream)
    call = {
        "jsonrpc": "2.0",
        "id": "c1",
        "method": "tools/call",
        "params": {"name": "get-inference-run-info", "arguments": {"prompt_id": 4, "version_id": 5}},
    }
    modern = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": ENVELOPE}}
    messages, _, code = run_stdio(
        upstream,
        [
            "{not json",
            '{"jsonrpc":"1.0","id":7,"method":"ping"}',
            '{"jsonrpc":"2.0","id":8,"method":"nope"}',
            json.dumps(call),
            json.dumps(modern),
        ],
    )
    assert code == 0
    errors = [m for m in messages if "error" in m]
    assert {(m["id"], m["error"]["code"]) for m in errors} == {(None, -32700), (7, -32600), (8, -32601)}
    by_id = {m["id"]: m for m in messages}
    assert by_id["c1"]["result"]["structuredContent"]["count"] == 1
    assert upstream.last.raw_path == "/api/prompts/4/versions/5/inference-runs"
    assert by_id[9]["result"]["resultType"] == "complete"


@pytest.mark.anyio
async def test_serve_stdio_on_given_streams(upstream: RecordingUpstream) -> None:
    stdin = io.BytesIO(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    stdout = io.BytesIO()
    await serve_stdio(seed_catalog(upstream.url), stdin=stdin, stdout=stdout)
    assert json.loads(stdout.getvalue()) == {"jsonrpc": "2.0", "id": 1, "result": {}}
