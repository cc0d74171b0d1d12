"""Progress and log notifications of a ``tools/call`` on that request's own stream (issue #12, item 7).

A two-step tool (two upstream calls on the RecordingUpstream) on the real engine: the notifications
cross the wire as SSE events before the result, over HTTP without a session (legacy and 2026-07-28),
and over ``naftiko serve --stdio`` where ``logging/setLevel`` holds for the session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import StdioServerParameters
from mcp.client import Client

from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

from .engine import REPO, naftiko_argv, serve_document
from .test_http_protocol import ENVELOPE, MODERN

DOCUMENT = """\
naftiko: 1.0.0-alpha2
info:
  label: News
  description: A tool of two steps, for progress and log notifications.
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: http://localhost:8000
    description: Items and prices.
    authentication: {type: bearer, token: shop-secret-token-77}
    resources:
    - name: items
      path: /items/{id}
      operations:
      - {name: get-item, method: GET, description: An item,
         inputParameters: [{name: id, in: path, type: string, required: true}]}
    - name: prices
      path: /prices/{id}
      operations:
      - {name: get-price, method: GET, description: A price,
         inputParameters: [{name: id, in: path, type: string, required: true}]}
  exposes:
  - type: mcp
    namespace: news-mcp
    port: 9999
    description: Progress and logs.
    tools:
    - name: priced-item
      description: An item and its price
      inputParameters:
      - {name: id, type: string, required: true, description: The item}
      steps:
      - {type: call, name: item, call: shop.get-item, with: {id: tools.id}}
      - {type: call, name: price, call: shop.get-price, with: {id: tools.id}}
      mappings:
      - {targetName: name, value: $.item.name}
      - {targetName: price, value: $.price.amount}
    - name: item
      description: An item
      call: shop.get-item
      with: {id: tools.id}
      inputParameters:
      - {name: id, type: string, required: true, description: The item}
"""
LEGACY_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "news.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


@pytest.fixture
def server(upstream: RecordingUpstream, document: Path) -> Iterator[ServerThread]:
    upstream.route("GET", "/items/{id}", json={"name": "lamp"})
    upstream.route("GET", "/prices/{id}", json={"amount": 12})
    with serve_document(document, base_uris={"shop": upstream.url}) as running:
        yield running


def call(name: str, meta: dict[str, Any], arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments or {"id": "7"}, "_meta": meta}
    return {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}


def events(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"] == "text/event-stream"
    return [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]


def test_progress_goes_on_the_requests_own_stream_before_the_result(
    server: ServerThread, upstream: RecordingUpstream
) -> None:
    response = httpx.post(
        server.url + "/mcp", json=call("priced-item", {"progressToken": "p-1"}), headers=LEGACY_HEADERS
    )
    assert response.status_code == 200
    assert "mcp-session-id" not in response.headers  # no session: any replica could have answered
    *notes, last = events(response)
    progress = [(n["params"]["progressToken"], n["params"]["progress"], n["params"]["total"]) for n in notes]
    assert progress == [("p-1", 0, 2), ("p-1", 1, 2), ("p-1", 2, 2)]
    assert all(n["method"] == "notifications/progress" for n in notes)
    assert "item: answered 200" in notes[1]["params"]["message"]
    assert last["id"] == 3 and last["result"]["structuredContent"] == {"name": "lamp", "price": 12}
    assert [r.raw_path for r in upstream.requests] == ["/items/7", "/prices/7"]


def test_nothing_asked_nothing_streamed(server: ServerThread) -> None:
    # Without a token or a level the answer stays plain JSON, as cheap as before.
    response = httpx.post(server.url + "/mcp", json=call("priced-item", {}), headers=LEGACY_HEADERS)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["result"]["isError"] is False


def test_log_records_only_for_a_request_that_asks(server: ServerThread, upstream: RecordingUpstream) -> None:
    modern = {
        **LEGACY_HEADERS,
        "mcp-protocol-version": MODERN,
        "mcp-method": "tools/call",
        "mcp-name": "item",
    }
    url = server.url + "/mcp"
    unasked = httpx.post(url, json=call("item", dict(ENVELOPE)), headers=modern)
    assert unasked.headers["content-type"] == "application/json"  # 2026-07-28: MUST NOT log unasked

    meta = {**ENVELOPE, "io.modelcontextprotocol/logLevel": "info"}
    asked = events(httpx.post(url, json=call("item", meta), headers=modern))
    logs = [e["params"] for e in asked if e.get("method") == "notifications/message"]
    assert [(r["level"], r["logger"]) for r in logs] == [("info", "naftiko")] * 3
    assert logs[0]["data"] == "tool item: started"
    assert logs[1]["data"].startswith("step get-item (shop.get-item): answered 200 in ")
    assert logs[2]["data"].startswith("tool item: finished in ")
    assert asked[-1]["result"]["resultType"] == "complete"

    # A failure is logged at error level with the reason the result gives; no secret, no URL.
    upstream.enqueue(status=503, json={"detail": "maintenance"})
    meta["io.modelcontextprotocol/logLevel"] = "error"
    failed = events(httpx.post(url, json=call("item", meta), headers=modern))
    (record,) = [e["params"] for e in failed if e.get("method") == "notifications/message"]
    assert record["level"] == "error" and "503" in record["data"]
    assert failed[-1]["result"]["isError"] is True
    assert "shop-secret-token-77" not in json.dumps(failed) and upstream.url not in json.dumps(failed)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_sdk_client_receives_progress(server: ServerThread, mode: str) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(server.url + "/mcp", mode=mode) as client:
        result = await client.call_tool("priced-item", {"id": "7"}, progress_callback=on_progress)
    assert result.is_error is False
    assert seen == [(0, 2), (1, 2), (2, 2)]


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")  # handshake era only
async def test_stdio_session_keeps_the_log_level(document: Path, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", json={"name": "lamp"})
    records: list[tuple[str, Any]] = []

    async def on_log(params: Any) -> None:
        records.append((params.level, params.data))

    command, *args = naftiko_argv("serve", "--stdio", str(document), "--base-uri", f"shop={upstream.url}")
    server = StdioServerParameters(command=command, args=args, cwd=str(REPO))
    async with Client(server, mode="legacy", logging_callback=on_log) as client:
        await client.call_tool("item", {"id": "7"})
        assert records == []  # no level set yet: nothing is sent
        await client.set_logging_level("info")
        await client.call_tool("item", {"id": "7"})
        assert [level for level, _ in records] == ["info", "info", "info"]
        records.clear()
        await client.set_logging_level("error")
        await client.call_tool("item", {"id": "7"})
        assert records == []
