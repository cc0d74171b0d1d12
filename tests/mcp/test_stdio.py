"""The stdio transport, line by line, as desktop clients launch it: ``naftiko serve --stdio``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.exposes.mcp import serve_stdio

from .conftest import Standin
from .engine import REPO, TOKEN, cli_env, seed_catalog, seed_runtime, stdio_command
from .test_http_protocol import ENVELOPE

STDIO_SCRIPT = Path(__file__).with_name("stdio_server.py")


def run_stdio(command: list[str], lines: list[str]) -> tuple[list[dict[str, Any]], str, int]:
    process = subprocess.run(
        command,
        input="".join(line + "\n" for line in lines).encode(),
        capture_output=True,
        cwd=REPO,
        env=cli_env(extra={"PYTHONUNBUFFERED": "1"}),
        timeout=30,
    )
    out = process.stdout.decode()
    assert out.endswith("\n") or out == ""
    # stdout holds protocol messages only, one JSON object per line.
    return [json.loads(line) for line in out.splitlines()], process.stderr.decode(), process.returncode


def test_handshake_listing_and_calls_through_the_command(standin: Standin) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": "c1",
        "method": "tools/call",
        "params": {"name": "get-inference-run-info", "arguments": {"prompt_id": 1, "version_id": 1}},
    }
    modern = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": ENVELOPE}}
    messages, stderr, code = run_stdio(
        stdio_command(standin.url),
        [
            '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}',
            '{"jsonrpc":"2.0","method":"notifications/initialized"}',
            "",
            '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
            '{"jsonrpc":"2.0","id":3,"method":"ping"}',
            "{not json",
            '{"jsonrpc":"1.0","id":7,"method":"ping"}',
            '{"jsonrpc":"2.0","id":8,"method":"nope"}',
            json.dumps(call),
            json.dumps(modern),
        ],
    )
    assert code == 0, stderr
    errors = [m for m in messages if "error" in m]
    assert {(m["id"], m["error"]["code"]) for m in errors} == {(None, -32700), (7, -32600), (8, -32601)}
    by_id = {m["id"]: m for m in messages if "result" in m}
    # nothing for the notification or the blank line
    assert sorted(by_id, key=str) == [1, 2, 3, 9, "c1"]
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"
    assert by_id[1]["result"]["serverInfo"]["name"].endswith("-mcp")
    assert by_id[2]["result"]["tools"][0]["name"] == "get-inference-run-info"
    assert by_id[3]["result"] == {}
    assert [run["id"] for run in by_id["c1"]["result"]["structuredContent"]["result"]] == [1, 2, 3]
    assert by_id[9]["result"]["resultType"] == "complete"
    (seen,) = standin.wait(1)
    assert seen.raw_path == "/api/prompts/1/versions/1/inference-runs"
    assert seen.header("authorization") == f"Token {TOKEN}"
    assert TOKEN not in stderr


def test_stray_output_goes_to_stderr(standin: Standin) -> None:
    messages, stderr, code = run_stdio(
        [sys.executable, str(STDIO_SCRIPT), standin.url],
        ['{"jsonrpc":"2.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'],
    )
    assert code == 0, stderr
    assert [m["id"] for m in messages] == [1, 2]
    assert "a stray print must not corrupt the protocol stream" in stderr
    assert "serving the seed over stdio" in stderr


@pytest.mark.anyio
async def test_serve_stdio_on_given_streams(standin: Standin) -> None:
    runtime = seed_runtime(standin.url)
    stdin = io.BytesIO(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    stdout = io.BytesIO()
    try:
        await serve_stdio(seed_catalog(runtime), stdin=stdin, stdout=stdout)
    finally:
        await runtime.aclose()
    assert json.loads(stdout.getvalue()) == {"jsonrpc": "2.0", "id": 1, "result": {}}


@pytest.mark.anyio
async def test_a_connection_that_spoke_2026_07_28_refuses_a_late_initialize(standin: Standin) -> None:
    # The SDK's auto mode falls back to `initialize` when its `server/discover` times out on a
    # slow-starting process; -32022 naming the modern versions makes it probe again instead of
    # settling for the handshake era on a connection the server already answered as modern.
    discover = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": ENVELOPE}}
    initialize = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25"},
    }
    listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": ENVELOPE}}
    runtime = seed_runtime(standin.url)
    stdin = io.BytesIO(b"".join(json.dumps(m).encode() + b"\n" for m in (discover, initialize, listing)))
    stdout = io.BytesIO()
    try:
        await serve_stdio(seed_catalog(runtime), stdin=stdin, stdout=stdout)
    finally:
        await runtime.aclose()
    by_id = {m["id"]: m for m in map(json.loads, stdout.getvalue().splitlines())}
    assert "2026-07-28" in by_id[1]["result"]["supportedVersions"]
    refused = by_id[2]["error"]
    assert refused["code"] == -32022
    assert refused["data"] == {
        "supported": by_id[1]["result"]["supportedVersions"],
        "requested": "2025-11-25",
    }
    assert by_id[3]["result"]["tools"]
