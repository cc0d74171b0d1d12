"""The Streamable HTTP endpoint on the wire: negotiation, both eras, errors, SSE vs JSON, Origin."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mcp_types
import pytest

from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.engine.contract import Result
from naftiko_runtime.exposes.mcp import McpCatalog, McpSecurity, ToolEntry, build_mcp_app
from tests.support.servers import ServerThread, free_port
from tests.support.upstream import RecordingUpstream

from .conftest import RUNS
from .engine import CONSUMED, MCP_NAMESPACE, serve_document, serve_seed
from .fakes import FakeInvocable, constant, failing

ACCEPT = "application/json, text/event-stream"
MODERN = "2026-07-28"
# Every capability is listed (resources and prompts empty when none are declared); logging records
# of a call are sent when a request asks for them.
CAPABILITIES = {
    "logging": {},
    "tools": {"listChanged": False},
    "resources": {"subscribe": False, "listChanged": False},
    "prompts": {"listChanged": False},
}
# One client for the module, without keep-alive: a fresh ``httpx.Client`` per request costs an SSL
# context, and a reused connection to ServerThread waits out a delayed ACK (~40 ms) per request.
CLIENT = httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
}


def post(
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    version: str | None = "2025-11-25",
    client: httpx.Client | None = None,
) -> httpx.Response:
    sent = {"accept": ACCEPT, "content-type": "application/json"}
    if version:
        sent["mcp-protocol-version"] = version
    sent.update(headers or {})
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (client or CLIENT).post(url, content=content, headers=sent)


def rpc(url: str, method: str, params: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        message["params"] = params
    return post(url, message, **kwargs)


def modern(url: str, method: str, params: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 5, "method": method, "params": {**(params or {}), "_meta": ENVELOPE}}
    sent = {"mcp-method": method}
    if method in ("tools/call", "prompts/get"):
        sent["mcp-name"] = (params or {}).get("name", "")
    if method == "resources/read":
        sent["mcp-name"] = (params or {}).get("uri", "")
    sent.update(headers)
    return post(url, body, headers=sent, version=MODERN)


@pytest.fixture
def mcp_url(seed_server: ServerThread) -> str:
    return seed_server.url + "/mcp"


# --- handshake era ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2031-01-01", "2025-11-25"),
    ],
)
def test_initialize_negotiates_the_version(mcp_url: str, offered: str, answered: str) -> None:
    params = {"protocolVersion": offered, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    response = rpc(mcp_url, "initialize", params, version=None)
    assert response.status_code == 200
    assert "mcp-session-id" not in response.headers  # stateless: nothing to remember
    result = response.json()["result"]
    assert result["protocolVersion"] == answered
    assert result["serverInfo"] == {
        "name": MCP_NAMESPACE,
        "title": "API Reference — subpackage_prompts.subpackage_prompts/runs",
        "version": importlib.metadata.version("naftiko-runtime"),
    }
    assert result["capabilities"] == CAPABILITIES
    assert result["instructions"].startswith("MCP adapter for API Reference")
    mcp_types.InitializeResult.model_validate(result)


def test_requests_need_no_initialize_and_no_session(mcp_url: str) -> None:
    listed = rpc(mcp_url, "tools/list")
    assert listed.status_code == 200
    assert len(listed.json()["result"]["tools"]) == 3
    # Header-less requests mean 2025-03-26 (streamable HTTP spec) and are served too.
    assert rpc(mcp_url, "tools/list", version=None).status_code == 200
    mcp_types.ListToolsResult.model_validate(listed.json()["result"])


def test_ping_and_notifications(mcp_url: str) -> None:
    assert rpc(mcp_url, "ping").json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    for method in ("notifications/initialized", "notifications/cancelled", "notifications/whatever"):
        response = post(mcp_url, {"jsonrpc": "2.0", "method": method, "params": {"requestId": 1}})
        assert response.status_code == 202
        assert response.content == b""


def test_protocol_errors_are_json_rpc_errors(mcp_url: str) -> None:
    unknown = rpc(mcp_url, "tools/explode")
    assert unknown.status_code == 200
    assert unknown.json()["error"]["code"] == -32601
    assert unknown.json()["id"] == 1

    no_tool = rpc(mcp_url, "tools/call", {"name": "nope", "arguments": {}})
    assert no_tool.json()["error"] == {"code": -32602, "message": "Invalid params: Unknown tool: nope"}
    assert rpc(mcp_url, "tools/call").json()["error"]["code"] == -32602
    bad_arguments = rpc(mcp_url, "tools/call", {"name": "get-inference-run-info", "arguments": [1, 2]})
    assert bad_arguments.json()["error"]["code"] == -32602
    # No resources or prompts declared: listed empty, not "method not found" (agent frameworks list
    # all three and fail on -32601); reading or getting one names what is missing.
    assert rpc(mcp_url, "resources/list").json()["result"] == {"resources": []}
    assert rpc(mcp_url, "resources/templates/list").json()["result"] == {"resourceTemplates": []}
    assert rpc(mcp_url, "prompts/list").json()["result"] == {"prompts": []}
    assert rpc(mcp_url, "resources/read", {"uri": "file:///etc/passwd"}).json()["error"]["code"] != -32601
    assert rpc(mcp_url, "prompts/get", {"name": "nope"}).json()["error"]["code"] == -32602


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", -32700),
        (b"{", -32700),
        (b"\xff\xfe", -32700),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600),
        (b'"ping"', -32600),
        (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":1}', -32600),
        (b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', -32602),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            -32700,
        ),
    ],
)
def test_malformed_input_gets_a_json_rpc_error_never_a_500(mcp_url: str, body: bytes, code: int) -> None:
    response = post(mcp_url, body)
    assert response.status_code == 400
    error = response.json()
    assert error["jsonrpc"] == "2.0"
    assert error["error"]["code"] == code
    assert "id" in error


def test_id_is_echoed_exactly(mcp_url: str) -> None:
    for request_id in ("abc", 0, 2**53 + 1):
        body = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
        assert post(mcp_url, body).json()["id"] == request_id


def test_get_and_delete_are_not_supported(mcp_url: str) -> None:
    for method in ("GET", "DELETE", "PUT"):
        response = httpx.request(method, mcp_url, headers={"accept": "text/event-stream"})
        assert response.status_code == 405
        assert "POST" in response.headers["allow"]


def test_unsupported_protocol_version_header(mcp_url: str) -> None:
    response = rpc(mcp_url, "tools/list", version="1999-01-01")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"]["requested"] == "1999-01-01"
    # The same list server/discover gives (the handshake era's versions are negotiated by initialize).
    discover = modern(mcp_url, "server/discover").json()["result"]
    assert error["data"]["supported"] == discover["supportedVersions"] == [MODERN]
    notification = post(mcp_url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, version="0.1")
    assert notification.status_code == 400


# --- JSON or SSE -----------------------------------------------------------------------------------


def test_json_unless_the_client_only_takes_sse(mcp_url: str) -> None:
    both = rpc(mcp_url, "ping")
    assert both.headers["content-type"] == "application/json"
    json_only = rpc(mcp_url, "ping", headers={"accept": "application/json"})
    assert json_only.headers["content-type"] == "application/json"

    sse = rpc(mcp_url, "ping", headers={"accept": "text/event-stream"})
    assert sse.status_code == 200
    assert sse.headers["content-type"].startswith("text/event-stream")
    events = [line for line in sse.text.splitlines() if line.startswith("data: ")]
    assert sse.text.startswith("event: message\n")
    assert [json.loads(line[6:]) for line in events] == [{"jsonrpc": "2.0", "id": 1, "result": {}}]

    refused = rpc(mcp_url, "ping", headers={"accept": "text/html"})
    assert refused.status_code == 406
    assert refused.json()["error"]["code"] == -32600


def test_sse_tool_call(mcp_url: str, upstream: RecordingUpstream) -> None:
    params = {"name": "get-inference-run-info", "arguments": {"prompt_id": 3, "version_id": 4}}
    sse = rpc(mcp_url, "tools/call", params, headers={"accept": "text/event-stream"})
    data = json.loads(sse.text.split("data: ", 1)[1])
    assert data["result"]["structuredContent"]["count"] == 1
    assert upstream.last.raw_path == "/api/prompts/3/versions/4/inference-runs"


def test_body_checks(mcp_url: str) -> None:
    wrong_type = httpx.post(mcp_url, content=b"{}", headers={"content-type": "text/plain", "accept": ACCEPT})
    assert wrong_type.status_code == 415
    too_big = post(
        mcp_url, b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 5_000_000 + b'"}}'
    )
    assert too_big.status_code == 413


# --- tools/call outcomes -----------------------------------------------------------------------------


def call(url: str, name: str, arguments: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = rpc(url, "tools/call", {"name": name, "arguments": arguments}, **kwargs)
    assert response.status_code == 200
    result = response.json()["result"]
    mcp_types.CallToolResult.model_validate(result)
    return result


def test_agent_credentials_are_never_forwarded(mcp_url: str, upstream: RecordingUpstream) -> None:
    agent = {"authorization": "Bearer agent-own-token", "cookie": "session=agent", "x-api-key": "agent"}
    result = call(mcp_url, "get-inference-run-info", {"prompt_id": 1, "version_id": 2}, headers=agent)
    assert result["isError"] is False
    seen = upstream.last.headers
    assert seen["authorization"] == "Token seed-secret-123"
    assert "cookie" not in seen and "x-api-key" not in seen
    # Nor as an argument: the bind supplies the header, so the tool does not take it.
    arguments = {"prompt_id": 1, "version_id": 2, "Authorization": "Token agent-own-token"}
    refused = call(mcp_url, "get-inference-run-info", arguments)
    assert refused["isError"] is True
    assert "Authorization: unknown argument" in refused["content"][0]["text"]
    assert len(upstream.requests) == 1


def test_invalid_arguments_name_the_argument_and_call_nothing(
    mcp_url: str, upstream: RecordingUpstream
) -> None:
    result = call(mcp_url, "get-inference-run-info", {"prompt_id": 1, "version_id": True, "project": "x"})
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert "version_id" in text and "project" in text and "prompt_id" not in text
    assert upstream.requests == []


def test_upstream_status_becomes_a_tool_error(mcp_url: str, upstream: RecordingUpstream) -> None:
    # A 5xx answer is named by operation and status only (its body is the upstream's business)...
    upstream.enqueue(status=503, json={"message": "maintenance window at http://10.0.0.7:8000/x"})
    result = call(mcp_url, "get-inference-run-info", {"prompt_id": 1, "version_id": 2})
    assert result["isError"] is True
    assert result["content"][0]["text"] == f"Upstream {CONSUMED}.list answered HTTP 503"
    assert "structuredContent" not in result
    # ...a 4xx one says what the upstream said, and its body (field errors included), so that the
    # agent can act on it; never a URL.
    upstream.enqueue(
        status=422,
        json={
            "message": "version 2 is archived, see http://10.0.0.7:8000/v",
            "errors": [{"field": "version_id", "reason": "archived"}],
        },
    )
    result = call(mcp_url, "get-inference-run-info", {"prompt_id": 1, "version_id": 2})
    assert result["content"][0]["text"] == (
        f"Upstream {CONSUMED}.list answered HTTP 422: version 2 is archived, see <url>\n"
        'Upstream error body: {"message":"version 2 is archived, see <url>",'
        '"errors":[{"field":"version_id","reason":"archived"}]}'
    )


def _server_with(*units: FakeInvocable) -> ServerThread:
    tools = [ToolEntry(u.name, None, None, u) for u in units]
    return ServerThread(build_mcp_app(McpCatalog("t", tools=tools)))


def test_unreachable_and_slow_upstreams_become_tool_errors(upstream: RecordingUpstream) -> None:
    arguments = {"prompt_id": 1, "version_id": 2}
    with serve_seed(f"http://127.0.0.1:{free_port()}") as server:
        unreachable = call(server.url + "/mcp", "get-inference-run-info", arguments)
    assert unreachable["isError"] is True
    assert unreachable["content"][0]["text"] == f"Upstream {CONSUMED}.list could not be reached"

    upstream.route("GET", RUNS, json={}, delay=2)
    with serve_seed(upstream.url, transport=TransportSettings(read_timeout=0.2)) as server:
        timed_out = call(server.url + "/mcp", "get-inference-run-info", arguments)
    assert timed_out["isError"] is True
    assert timed_out["content"][0]["text"] == f"Upstream {CONSUMED}.list did not answer in time"


def test_unexpected_failures_are_contained(caplog: pytest.LogCaptureFixture) -> None:
    """Fake unit: a bug inside a unit (any exception the engine does not define) cannot be provoked
    through a capability document, yet the adapter must contain it."""
    boom = FakeInvocable("boom", failing(RuntimeError("secret=hunter2 in a traceback")))
    with _server_with(boom) as server:
        url = server.url + "/mcp"
        result = call(url, "boom", {})
        assert result == {
            "content": [{"type": "text", "text": "Internal error while running 'boom'"}],
            "isError": True,
        }
        assert rpc(url, "ping").status_code == 200  # still serving


def test_structured_content_wraps_non_objects_and_output_schema() -> None:
    """Fake units: the adapter's wrapping rules are pinned on units whose output schema and value
    are given directly; which schema the engine derives from ``outputParameters`` is tested with
    the engine (tests/engine)."""
    listing = FakeInvocable(
        "listing",
        constant([{"id": 1}, {"id": 2}]),
        output_schema={"type": "array", "items": {"type": "object"}},
    )
    shaped = FakeInvocable("shaped", constant({"id": 1}), output_schema={"type": "object"})
    text = FakeInvocable("text", constant("plain words", "text/plain"))
    with _server_with(listing, shaped, text) as server:
        url = server.url + "/mcp"
        tools = {t["name"]: t for t in rpc(url, "tools/list").json()["result"]["tools"]}
        assert tools["listing"]["outputSchema"] == {
            "type": "object",
            "properties": {"result": {"type": "array", "items": {"type": "object"}}},
            "required": ["result"],
        }
        assert tools["shaped"]["outputSchema"] == {"type": "object"}
        assert "outputSchema" not in tools["text"]
        assert tools["text"]["inputSchema"] == {"type": "object"}

        result = call(url, "listing", {})
        assert result["structuredContent"] == {"result": [{"id": 1}, {"id": 2}]}
        assert result["content"][0]["text"] == '[{"id":1},{"id":2}]'
        assert call(url, "text", {})["content"][0]["text"] == "plain words"


HINTS_DOCUMENT = """\
naftiko: 1.0.0-alpha2
info:
  label: Tool titles and hints
  description: Mock tools whose listing shows labels, hints and declared inputs.
capability:
  exposes:
  - type: mcp
    namespace: hints
    port: 9999
    tools:
    - name: read-data
      label: Read Data
      description: Reads data
      hints: {readOnly: true, openWorld: true}
      outputParameters: [{name: ok, type: boolean, value: true}]
    - name: delete-record
      description: Deletes a record
      hints: {readOnly: false, destructive: true, idempotent: true, openWorld: false}
      inputParameters: [{name: id, type: string, description: The record, required: true}]
      outputParameters: [{name: deleted, type: string, value: '{{id}}'}]
    - name: no-hints
      description: Nothing special
      outputParameters: [{name: ok, type: boolean, value: true}]
"""


def test_tool_titles_and_hints(tmp_path: Path) -> None:
    document = tmp_path / "hints.yaml"
    document.write_text(HINTS_DOCUMENT, encoding="utf-8")
    with serve_document(document) as server:
        url = server.url + "/mcp"
        listed = {t["name"]: t for t in rpc(url, "tools/list").json()["result"]["tools"]}
        deleted = call(url, "delete-record", {"id": "r-1"})
    assert listed["read-data"]["title"] == "Read Data"
    assert listed["read-data"]["annotations"] == {
        "title": "Read Data",
        "readOnlyHint": True,
        "openWorldHint": True,
    }
    assert listed["delete-record"]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": False,
    }
    assert listed["delete-record"]["inputSchema"] == {
        "type": "object",
        "properties": {"id": {"type": "string", "description": "The record"}},
        "required": ["id"],
    }
    assert "annotations" not in listed["no-hints"] and "title" not in listed["no-hints"]
    assert listed["no-hints"]["inputSchema"] == {"type": "object", "properties": {}}
    assert deleted["structuredContent"] == {"result": "r-1"}


def test_concurrent_calls_do_not_interfere(mcp_url: str, upstream: RecordingUpstream) -> None:
    import concurrent.futures

    def one(i: int) -> int:
        result = call(
            mcp_url, "cancel-inference-run-api", {"inference_run_id": i, "prompt_id": 1, "version_id": 1}
        )
        assert result["isError"] is False
        return i

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(one, range(40))) == list(range(40))
    paths = sorted(r.raw_path for r in upstream.requests)
    assert paths == sorted(f"/api/prompts/1/versions/1/inference-runs/{i}/cancel" for i in range(40))


# --- the 2026-07-28 revision ---------------------------------------------------------------------


def test_modern_requests_need_no_handshake(mcp_url: str, upstream: RecordingUpstream) -> None:
    discover = modern(mcp_url, "server/discover")
    assert discover.status_code == 200
    result = discover.json()["result"]
    assert result["supportedVersions"] == [MODERN]
    assert result["capabilities"] == CAPABILITIES
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == MCP_NAMESPACE

    listed = modern(mcp_url, "tools/list").json()["result"]
    assert (listed["resultType"], listed["ttlMs"], listed["cacheScope"]) == ("complete", 0, "public")
    assert len(listed["tools"]) == 3

    params = {"name": "get-inference-run-info", "arguments": {"prompt_id": 1, "version_id": 2}}
    called = modern(mcp_url, "tools/call", params).json()["result"]
    assert called["resultType"] == "complete" and called["isError"] is False
    assert upstream.last.raw_path == "/api/prompts/1/versions/2/inference-runs"


def test_modern_envelope_and_header_checks(mcp_url: str) -> None:
    missing_meta = post(
        mcp_url,
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        version=MODERN,
        headers={"mcp-method": "tools/list"},
    )
    assert missing_meta.status_code == 400
    assert missing_meta.json()["error"]["code"] == -32602

    wrong_method = modern(mcp_url, "tools/list", **{"mcp-method": "prompts/list"})
    assert wrong_method.status_code == 400
    assert wrong_method.json()["error"]["code"] == -32020

    wrong_name = modern(mcp_url, "tools/call", {"name": "cancel-inference-run-api"}, **{"mcp-name": "other"})
    assert wrong_name.json()["error"]["code"] == -32020

    unknown = modern(mcp_url, "tools/explode")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == -32601
    # What the 2026-07-28 revision removed answers 404 / -32601 there, as it says.
    for removed in ("initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"):
        gone = modern(mcp_url, removed)
        assert (gone.status_code, gone.json()["error"]["code"], gone.json()["id"]) == (404, -32601, 5)

    unknown_tool = modern(mcp_url, "tools/call", {"name": "nope"})
    assert unknown_tool.status_code == 400
    assert unknown_tool.json()["error"]["code"] == -32602

    duplicated = httpx.post(
        mcp_url,
        content=json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": ENVELOPE}}
        ),
        headers=[
            ("accept", ACCEPT),
            ("content-type", "application/json"),
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
            ("mcp-method", "tools/list"),
        ],
    )
    assert duplicated.status_code == 400
    assert duplicated.json()["error"]["code"] == -32020


def test_modern_notifications_are_accepted(mcp_url: str) -> None:
    body = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}
    assert post(mcp_url, body, version=MODERN).status_code == 202


# --- Origin (DNS rebinding) --------------------------------------------------------------------------


def test_origin_allow_list(mcp_url: str) -> None:
    assert rpc(mcp_url, "ping").status_code == 200  # no Origin: not a browser
    for good in ("http://localhost:6274", "http://127.0.0.1", "https://[::1]:8443"):
        response = rpc(mcp_url, "ping", headers={"origin": good})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == good
    for bad in ("http://evil.example.com", "null", "http://127.0.0.1.evil.example.com"):
        refused = rpc(mcp_url, "ping", headers={"origin": bad})
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers


def test_dns_rebinding_is_refused_even_with_a_matching_host(mcp_url: str) -> None:
    headers = {"host": "evil.example.com", "origin": "http://evil.example.com"}
    assert rpc(mcp_url, "initialize", {"protocolVersion": "2025-11-25"}, headers=headers).status_code == 403


@pytest.fixture
def configured_origins(upstream: RecordingUpstream) -> Iterator[str]:
    security = McpSecurity(allowed_origins=["https://app.example.com", "http://intranet:*"])
    with serve_seed(upstream.url, security) as server:
        yield server.url + "/mcp"


def test_configured_origins(configured_origins: str) -> None:
    url = configured_origins
    assert rpc(url, "ping", headers={"origin": "https://app.example.com"}).status_code == 200
    assert rpc(url, "ping", headers={"origin": "http://intranet:8080"}).status_code == 200
    assert rpc(url, "ping", headers={"origin": "http://localhost:3000"}).status_code == 403
    preflight = httpx.options(
        url, headers={"origin": "https://app.example.com", "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "mcp-protocol-version" in preflight.headers["access-control-allow-headers"]


def test_slow_unit_does_not_block_others(upstream: RecordingUpstream) -> None:
    """Fake units: a gate the test opens makes "still running" exact, where a slow upstream
    would only make it likely."""
    import asyncio
    import threading

    gate = threading.Event()

    async def wait(arguments: dict[str, Any]) -> Result:
        await asyncio.to_thread(gate.wait, 5)
        return Result({"waited": True})

    with _server_with(FakeInvocable("wait", wait), FakeInvocable("fast", constant({"ok": 1}))) as server:
        url = server.url + "/mcp"
        waiting = threading.Thread(target=call, args=(url, "wait", {}))
        waiting.start()
        assert call(url, "fast", {})["structuredContent"] == {"ok": 1}
        gate.set()
        waiting.join(5)


# --- catalog checks at start-up ----------------------------------------------------------------------


def test_catalog_errors_fail_at_build_time() -> None:
    """Fake units: the spec loader already refuses duplicate names and the engine never builds a
    non-object input schema; this pins the adapter's own last line of defence."""
    from pydantic import ValidationError

    unit = FakeInvocable("a", constant({}))
    with pytest.raises(ValueError, match="duplicate MCP tool name: 'a'"):
        build_mcp_app(
            McpCatalog("t", tools=[ToolEntry("a", None, None, unit), ToolEntry("a", None, None, unit)])
        )
    array_root = FakeInvocable("b", constant({}), schema={"type": "array"})
    with pytest.raises(ValidationError):
        build_mcp_app(McpCatalog("t", tools=[ToolEntry("b", None, None, array_root)]))


def test_odd_values_never_crash_the_endpoint(demo_server: ServerThread) -> None:
    """Values of every JSON type in every slot: always a JSON-RPC answer, never a 500."""
    url = demo_server.url + "/mcp"
    odd: list[Any] = [None, True, 0, -1.5, "", "\ud800", "x" * 10_000, [], [None], {}, {"a": {"b": []}}]
    methods = [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/read",
        "prompts/get",
        "server/discover",
    ]
    for method in methods:
        for value in odd:
            for params in (
                value,
                {"name": value, "arguments": value, "uri": value, "protocolVersion": value},
            ):
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
                for version in ("2025-11-25", None):
                    response = post(url, body.encode(), version=version)
                    assert response.status_code in (200, 400, 404), (method, params, response.text)
                    assert response.json()["jsonrpc"] == "2.0"
            envelope = {"_meta": {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": value}}
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": envelope})
            response = post(url, body.encode(), version=MODERN, headers={"mcp-method": method})
            assert response.status_code in (200, 400, 404), (method, value, response.text)
