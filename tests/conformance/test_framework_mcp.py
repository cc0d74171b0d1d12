"""Catalogue §10c: MCP behaviours, through ``naftiko serve`` (Streamable HTTP and stdio).

Clients: the ``mcp`` SDK's ``Client`` (handshake era, ``initialize`` at 2025-11-25) for what a user's
agent sees, and raw JSON-RPC over httpx for the protocol rows (parse errors, bad envelopes, missing
params). Upstreams: a :class:`~tests.support.upstream.RecordingUpstream` (one path prefix per
capability) and the Shipyard registry stand-in for the tutorial-shaped fixtures.

Where this runtime differs from the Java engine in ways the MCP specification permits, the test
asserts what the specification requires and says so: the server is stateless (no
``Mcp-Session-Id``; ``DELETE`` answers 405, which the transport spec allows), a body that is not
JSON is answered HTTP 400 with a JSON-RPC ``-32700`` error, and the negotiated protocol version is
the client's when supported (Java always answers 2025-11-25).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters

from tests.support.shipyard import Shipyard, shipyard
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .framework import (
    HANDSHAKE_VERSION,
    Rpc,
    ServeGroup,
    StdioServer,
    body,
    dump,
    inline,
    mcp_client,
    requires_framework,
    resource,
    scenario,
    serve_once,
    stdio_argv,
    tool_json,
    tools_by_name,
    unit,
)
from .framework.oauth import AuthorizationServer
from .framework.serve import serve_env

pytestmark = [requires_framework, pytest.mark.anyio]

NOTION_PAGES = {
    "results": [
        {
            "id": "page-1",
            "properties": {
                "Name": {"title": [{"text": {"content": "Ada"}}]},
                "Status": {"select": {"name": "Committed"}},
            },
        },
        {
            "id": "page-2",
            "properties": {
                "Name": {"title": [{"text": {"content": "Grace"}}]},
                "Status": {"select": {"name": "Committed"}},
            },
        },
    ]
}
PARTICIPANTS = [{"name": "Ada", "status": "Committed"}, {"name": "Grace", "status": "Committed"}]
VESSELS_XML = (
    "<vessels><vessel><vesselCode>V001</vesselCode><vesselName>Sea Eagle</vesselName></vessel>"
    "<vessel><vesselCode>V002</vesselCode><vesselName>Ocean Star</vesselName></vessel></vessels>"
)
OAUTH_RESOURCE = "http://mcp.conformance.test/mcp"


def _oauth_capability(issuer: str) -> str:
    """McpOAuth2IntegrationTest's inline YAML: one adapter asking ``tools:read``, one asking more."""
    adapter = """\
        - type: "mcp"
          address: "127.0.0.1"
          port: {port}
          namespace: "{namespace}"
          description: "OAuth2 protected MCP server"
          authentication:
            type: "oauth2"
            authorizationServerUri: "{issuer}"
            resource: "{resource}"
            scopes:
{scopes}
          tools:
            - name: "test-tool"
              description: "A test tool"
              outputParameters:
                - type: "string"
                  value: "ok"
"""
    adapters = "".join(
        textwrap.indent(
            adapter.format(
                port=port,
                namespace=namespace,
                issuer=issuer,
                resource=OAUTH_RESOURCE,
                scopes="\n".join(f'              - "{scope}"' for scope in scopes),
            ),
            "  ",
        )
        for port, namespace, scopes in (
            (9310, "oauth2-test-mcp", ["tools:read"]),
            (9311, "oauth2-scoped-mcp", ["tools:read", "tools:execute"]),
        )
    )
    return (
        'naftiko: "1.0.0-alpha2"\n'
        'info:\n  label: "OAuth2 MCP Test"\n  description: "OAuth2 integration test"\n'
        f"capability:\n  exposes:\n{adapters}  consumes: []\n"
    )


# -- servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as stub:
        for prefix in ("mcp", "rp", "stdio"):
            stub.route("POST", f"/{prefix}/v1/databases/{{id}}/query", json=NOTION_PAGES)
        stub.route("GET", "/xml/vessels", body=VESSELS_XML, content_type="application/xml")
        stub.route("GET", "/handlers/v1/users/u-1", json={"id": "u-1", "name": "Alice"})
        stub.route("GET", "/handlers/v1/users/u-2", json={"id": "u-2", "name": "Bob"})
        stub.route("GET", "/weather/v1/forecast", json={"forecast": "sunny"})
        stub.route("GET", "/hints/v1/data", json={"result": "data"})
        yield stub


@pytest.fixture(scope="module")
def yard() -> Iterator[Shipyard]:
    with shipyard() as stand_ins:
        yield stand_ins


@pytest.fixture(scope="module")
def authorization_server() -> Iterator[AuthorizationServer]:
    server = AuthorizationServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def servers(
    upstream: RecordingUpstream,
    yard: Shipyard,
    authorization_server: AuthorizationServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServeGroup]:
    up = upstream.url
    registry = {"registry": yard.registry_server.url}
    workdir = Path(tmp_path_factory.mktemp("mcp"))
    oauth = workdir / "oauth2-capability.yaml"
    oauth.write_text(_oauth_capability(authorization_server.issuer), encoding="utf-8")
    group = ServeGroup(workdir)
    group.add("mcp", resource("mcp/mcp-capability.yaml"), base_uris={"mock-api": f"{up}/mcp/v1"})
    group.add(
        "resources-prompts",
        resource("mcp/mcp-resources-prompts-capability.yaml"),
        base_uris={"mock-api": f"{up}/rp/v1"},
    )
    group.add("hints", resource("mcp/mcp-hints-capability.yaml"), base_uris={"mock-api": f"{up}/hints/v1"})
    group.add("nested", resource("nested-object-output-capability.yaml"), base_uris=registry)
    group.add("step-ns", resource("mcp/mcp-step-with-namespace-capability.yaml"), base_uris=registry)
    group.add(
        "aggregate-step-ns", resource("aggregates/aggregate-step-with-namespace.yaml"), base_uris=registry
    )
    group.add(
        "tool-handler", resource("mcp/mcp-tool-handler-with-mustache-capability.yaml"), base_uris=registry
    )
    group.add(
        "aggregate-basic",
        resource("aggregates/aggregate-basic.yaml"),
        base_uris={"weather-api": f"{up}/weather/v1"},
    )
    group.add(
        "aggregate-hints",
        resource("aggregates/aggregate-hints-override.yaml"),
        base_uris={"mock-api": f"{up}/agghints/v1"},
    )
    group.add("xml", inline("mcp-xml-output.yaml"), base_uris={"legacy": f"{up}/xml"})
    group.add("auth", inline("mcp-auth.yaml"))
    group.add("handlers", inline("mcp-resources-dynamic.yaml"), base_uris={"mock-api": f"{up}/handlers/v1"})
    group.add("oauth", oauth)
    group.start()
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture
def stub(upstream: RecordingUpstream, yard: Shipyard) -> RecordingUpstream:
    upstream.clear_requests()
    yard.clear()
    return upstream


def received(stub: RecordingUpstream, prefix: str) -> list[RecordedRequest]:
    return [r for r in stub.requests if r.path.startswith(prefix)]


def error_of(response: httpx.Response) -> dict[str, Any]:
    message = body(response)
    assert "error" in message, message
    return message


def result_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.status_code, response.text)
    message = body(response)
    assert "result" in message, message
    return message["result"]


# -- 10c rows --------------------------------------------------------------------------------------


@scenario("10c", "McpServerResource (transport)", java="T:engine/exposes/mcp/McpServerResourceTest")
def test_server_resource_transport(servers: ServeGroup) -> None:
    """Streamable HTTP at the transport level, raw.

    Spec-permitted differences: no ``Mcp-Session-Id`` is issued (sessions are optional; the server
    is stateless); a body that is not JSON gets HTTP 400 carrying the JSON-RPC ``-32700`` error
    (Java: HTTP 200); ``DELETE`` gets 405 (the transport spec's answer for "no session to
    terminate"; Java: 200).
    [BUG] in Java (notes §6, §11.7): ``protocolVersion`` is always 2025-11-25 whatever the client
    asks. Asserted instead: a supported version the client asks for is the one negotiated.
    """
    url = servers["mcp"].url("test-mcp")
    with Rpc(url) as rpc:
        with unit("GET ⇒ 405"):
            assert rpc.client.get(url, headers={"accept": "text/event-stream"}).status_code == 405
        with unit('POST "" ⇒ -32700, id null'):
            answer = error_of(rpc.post(None, raw=b""))
            assert answer["error"]["code"] == -32700 and answer["id"] is None
        with unit("POST { ⇒ -32700"):
            assert error_of(rpc.post(None, raw=b"{"))["error"]["code"] == -32700
        with unit("initialize ⇒ 200, id 1, protocolVersion 2025-11-25"):
            answer = rpc.initialize()
            assert answer.status_code == 200
            message = body(answer)
            assert message["id"] == 1 and message["result"]["protocolVersion"] == HANDSHAKE_VERSION
        with unit("initialize 2025-06-18 ⇒ 2025-06-18 (the client's supported version)"):
            assert result_of(rpc.initialize("2025-06-18"))["protocolVersion"] == "2025-06-18"
        with unit("notifications/initialized ⇒ 202, empty body"):
            answer = rpc.notify("notifications/initialized")
            assert answer.status_code == 202 and answer.content == b""
        with unit("DELETE (with or without a session header) ⇒ 405 or 2xx"):
            for headers in ({}, {"mcp-session-id": "any"}):
                assert rpc.client.delete(url, headers=headers).status_code in (200, 202, 204, 405)
        with unit("unknown method ⇒ -32601"):
            assert error_of(rpc.call("no/such/method"))["error"]["code"] == -32601
        with unit('jsonrpc "1.0" ⇒ -32600'):
            answer = rpc.post({"jsonrpc": "1.0", "id": 7, "method": "ping"})
            assert error_of(answer)["error"]["code"] == -32600


@scenario(
    "10c",
    "ProtocolDispatcher (negative + coverage)",
    java="T:engine/exposes/mcp/ProtocolDispatcherNegativeTest, ProtocolDispatcherCoverageTest",
)
def test_protocol_dispatcher(servers: ServeGroup, upstream: RecordingUpstream) -> None:
    """Missing params, unknown names, a null request, capabilities advertised only for what the
    adapter declares, an upstream that is down (``isError`` result, id echoed).

    Java answers a message without ``id`` (``tools/call`` with no params) with an error whose id is
    null; JSON-RPC 2.0 makes such a message a notification, which must not be answered, so that is
    asserted (HTTP 202, empty), and "id null when absent" is asserted on an invalid request.
    """
    url = servers["mcp"].url("test-mcp")
    prompts_url = servers["resources-prompts"].url("test-mcp-resources-prompts")
    with Rpc(url) as rpc, Rpc(prompts_url) as rich:
        with unit("tools/call without params ⇒ -32602"):
            assert error_of(rpc.call("tools/call"))["error"]["code"] == -32602
        with unit("resources/read {} ⇒ -32602"):
            assert error_of(rich.call("resources/read", {}))["error"]["code"] == -32602
        with unit("prompts/get {} ⇒ -32602"):
            assert error_of(rich.call("prompts/get", {}))["error"]["code"] == -32602
        with unit("null request ⇒ -32600, id null"):
            answer = error_of(rpc.post(None, raw=b"null"))
            assert answer["error"]["code"] == -32600 and answer["id"] is None
        # Issue #12: listed empty rather than left out (agent frameworks list all three and fail on
        # -32601; an MCP server that answers a listing must declare it).
        with unit("initialize without resources/prompts ⇒ all advertised, listings empty"):
            capabilities = result_of(rpc.initialize())["capabilities"]
            assert {"tools", "resources", "prompts"} <= set(capabilities)
            assert result_of(rpc.call("resources/list"))["resources"] == []
            assert result_of(rpc.call("prompts/list"))["prompts"] == []
        with unit("unknown tool ⇒ -32602"):
            answer = rpc.call("tools/call", {"name": "no-such-tool", "arguments": {}})
            assert error_of(answer)["error"]["code"] == -32602
        with unit("upstream down ⇒ isError result with text content, id 15 echoed"):
            upstream.stop()
            try:
                answer = rpc.call("tools/call", {"name": "query-database", "arguments": {}}, id=15)
            finally:
                upstream.start()
            message = body(answer)
            assert message["id"] == 15
            assert message["result"]["isError"] is True
            assert message["result"]["content"][0]["type"] == "text"
        with unit("invalid request without id ⇒ error envelope with id null"):
            answer = error_of(rpc.post({"jsonrpc": "2.0"}))
            assert answer["error"]["code"] == -32600 and answer["id"] is None
        with unit("a message without id is a notification ⇒ 202, no reply"):
            answer = rpc.post({"jsonrpc": "2.0", "method": "tools/call"})
            assert answer.status_code == 202 and answer.content == b""


@scenario("10c", "McpIntegration (wiring)", java="T:engine/exposes/mcp/McpIntegrationTest")
async def test_mcp_integration(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """``query-database`` with a static ``with`` (``datasource_id``) and a block body, served over HTTP
    (the transport when none is declared); the Java test stops at wiring, here it is called.

    [QUIRK] in Java (notes §3.2): ``baseUri`` + a path without a leading slash is concatenated raw
    (``/v1databases/...``). Asserted instead: one ``/`` between them.
    """
    async with mcp_client(servers["mcp"].url("test-mcp")) as client:
        with unit("tools/list ⇒ query-database"):
            tools = tools_by_name(await client.list_tools())
            assert list(tools) == ["query-database"]
            assert tools["query-database"]["description"].startswith("Query the test database")
        with unit("call ⇒ mapped participants"):
            assert tool_json(await client.call_tool("query-database", {})) == PARTICIPANTS
        with unit("upstream POST /v1/databases/test-db-id-123/query with the JSON body"):
            [seen] = received(stub, "/mcp/")
            assert (seen.method, seen.path) == ("POST", "/mcp/v1/databases/test-db-id-123/query")
            assert seen.json == {"filter": {"property": "Status", "select": {"equals": "Committed"}}}
            assert seen.headers.get("content-type", "").startswith("application/json")


@scenario("10c", "ResourcesPrompts", java="T:engine/exposes/mcp/ResourcesPromptsIntegrationTest")
async def test_resources_prompts(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Resources (concrete and templates) and prompts (inline, multi-turn) over the SDK client.

    [BUG] in Java (notes §6, §11.7): ``prompts/list`` comes in hash order. Asserted instead: the
    document's order.
    """
    url = servers["resources-prompts"].url("test-mcp-resources-prompts")
    with unit("initialize advertises tools, resources and prompts"), Rpc(url) as rpc:
        capabilities = result_of(rpc.initialize())["capabilities"]
        assert {"tools", "resources", "prompts"} <= set(capabilities)
    async with mcp_client(url) as client:
        with unit("tools/list: title Query Database"):
            assert tools_by_name(await client.list_tools())["query-database"]["title"] == "Query Database"
        with unit("resources/list: the concrete resource, no template URIs"):
            listed = [dump(r) for r in (await client.list_resources()).resources]
            assert all("{" not in r["uri"] for r in listed)
            [schema] = [r for r in listed if r["uri"] == "data://databases/pre-release/schema"]
            assert (schema["name"], schema["title"], schema["mimeType"]) == (
                "database-schema",
                "Database Schema",
                "application/json",
            )
        with unit("resources/templates/list: data://users/{userId}/profile"):
            templates = [dump(t) for t in (await client.list_resource_templates()).resource_templates]
            [profile] = [t for t in templates if t["uriTemplate"] == "data://users/{userId}/profile"]
            assert (profile["name"], profile["title"]) == ("user-profile", "User Profile")
        with unit("resources/read of the concrete resource ⇒ the upstream answer, application/json"):
            contents = dump(await client.read_resource("data://databases/pre-release/schema"))["contents"]
            assert contents[0]["mimeType"] == "application/json"
            assert json.loads(contents[0]["text"]) == NOTION_PAGES
        with unit("resources/read of a template ⇒ datasource_id from the URI"):
            stub.clear_requests()
            await client.read_resource("data://users/u-42/profile")
            assert received(stub, "/rp/")[-1].path == "/rp/v1/databases/u-42/query"
        prompts = {p["name"]: p for p in (dump(p) for p in (await client.list_prompts()).prompts)}
        with unit("prompts/list: 2 prompts in document order; outreach title, required argument"):
            assert list(prompts) == ["participant-outreach", "summary-prompt"]
            outreach = prompts["participant-outreach"]
            assert outreach["title"] == "Participant Outreach"
            arguments = {a["name"]: a for a in outreach["arguments"]}
            assert list(arguments) == ["participant_name", "product_name"]
            assert arguments["participant_name"]["required"] is True
            assert all("title" not in a for a in outreach["arguments"])
        with unit("prompts/get outreach ⇒ one user message with both values"):
            got = dump(
                await client.get_prompt(
                    "participant-outreach", {"participant_name": "Alice", "product_name": "Naftiko"}
                )
            )
            [message] = got["messages"]
            text = message["content"]["text"]
            assert message["role"] == "user" and "Alice" in text and "Naftiko" in text and "{{" not in text
        with unit("prompts/get summary ⇒ user/assistant/user with substitutions"):
            got = dump(await client.get_prompt("summary-prompt", {"data": "x=1", "format": "table"}))
            assert [m["role"] for m in got["messages"]] == ["user", "assistant", "user"]
            assert "table" in got["messages"][0]["content"]["text"]
            assert "x=1" in got["messages"][0]["content"]["text"]
        # Java leaves a missing optional argument as written; here it is empty text, the one rule
        # for every unset optional input (issue #15).
        with unit("prompts/get summary without format ⇒ the optional {{format}} is empty text"):
            got = dump(await client.get_prompt("summary-prompt", {"data": "x=1"}))
            text = got["messages"][0]["content"]["text"]
            assert "{{format}}" not in text and "x=1" in text
    with unit("unknown prompt, unknown URI ⇒ JSON-RPC errors"), Rpc(url) as rpc:
        assert error_of(rpc.call("prompts/get", {"name": "nope"}))["error"]["code"] == -32602
        assert "error" in body(rpc.call("resources/read", {"uri": "data://unknown"}))


@scenario(
    "10c",
    "ResourceHandler (dynamic + safety) and PromptHandler",
    java="T:engine/exposes/mcp/ResourceHandlerDynamicTest, ResourceHandlerSafetyTest, PromptHandlerTest",
)
async def test_resource_and_prompt_handlers(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Template resources over a consumed operation, a static directory confined to itself, inline
    and file prompts.

    [BUG]-adjacent in Java (notes §4e, §11.4): when every output parameter maps to null the raw
    upstream body is returned instead — part of the "first non-null output wins" mechanism the
    notes mark as a bug, and a way to expose fields the author did not map. Asserted instead: the
    declared output, ``null``.
    """
    url = servers["handlers"].url("handlers-mcp")
    async with mcp_client(url) as client:
        with unit('data://users/u-1/name ⇒ "Alice" (JSON), application/json'):
            [content] = dump(await client.read_resource("data://users/u-1/name"))["contents"]
            assert json.loads(content["text"]) == "Alice" and content["mimeType"] == "application/json"
        with unit("data://users/u-2/raw with $.missing ⇒ the declared output (null), not the raw body"):
            stub.clear_requests()
            [content] = dump(await client.read_resource("data://users/u-2/raw"))["contents"]
            assert json.loads(content["text"]) is None
            assert received(stub, "/handlers")[-1].path == "/handlers/v1/users/u-2"
        with unit("static: guide.md ⇒ text/markdown '# guide\\n'"):
            [content] = dump(await client.read_resource("data://docs/guide.md"))["contents"]
            assert (content["mimeType"], content["text"]) == ("text/markdown", "# guide\n")
        with unit("static: resources/list expands the directory's files"):
            uris = {r.uri for r in (await client.list_resources()).resources}
            assert {"data://docs/guide.md", "data://docs/data.json"} <= {str(u) for u in uris}
        with unit("prompt: Hello {{name}}, you have {{count}} tasks"):
            got = dump(await client.get_prompt("greeting", {"name": "Alice", "count": "5"}))
            assert [(m["role"], m["content"]["text"]) for m in got["messages"]] == [
                ("user", "Hello Alice, you have 5 tasks")
            ]
        with unit("prompt: an optional argument left out is empty text; values not re-interpolated"):
            got = dump(await client.get_prompt("greeting", {"name": "Bob"}))
            assert got["messages"][0]["content"]["text"] == "Hello Bob, you have  tasks"
            got = dump(await client.get_prompt("echo", {"message": "{{danger}} C:\\Users\\$HOME"}))
            assert got["messages"][0]["content"]["text"] == "You said: {{danger}} C:\\Users\\$HOME"
        with unit("prompt from a file ⇒ one user message"):
            got = dump(await client.get_prompt("analyze", {"topic": "solar energy", "audience": "engineers"}))
            assert [(m["role"], m["content"]["text"]) for m in got["messages"]] == [
                ("user", "Analyze solar energy for engineers")
            ]
    with Rpc(url) as rpc:
        with unit("static: data://docs/../secrets.txt ⇒ refused, nothing read"):
            answer = body(rpc.call("resources/read", {"uri": "data://docs/../secrets.txt"}))
            assert "error" in answer and "do-not-read" not in json.dumps(answer)
        with unit("static: data://docs (the directory) ⇒ error"):
            assert "error" in body(rpc.call("resources/read", {"uri": "data://docs"}))
        with unit("data://users/a/b/name does not match across segments"):
            assert "error" in body(rpc.call("resources/read", {"uri": "data://users/a/b/name"}))
        with unit("unknown URI and unknown prompt ⇒ errors"):
            assert "error" in body(rpc.call("resources/read", {"uri": "data://unknown"}))
            assert "error" in body(rpc.call("prompts/get", {"name": "unknown-prompt"}))


@scenario("10c", "Stdio", java="T:engine/exposes/mcp/StdioIntegrationTest")
async def test_stdio(upstream: RecordingUpstream) -> None:
    """``naftiko serve --stdio`` on the stdio fixture: newline-delimited JSON-RPC, one line per
    request, nothing for a notification, nothing but protocol on stdout (Java logs to stdout —
    [BUG] in the notes; asserted: every stdout line is a JSON-RPC message)."""
    document = resource("mcp/mcp-stdio-capability.yaml")
    base_uris = {"mock-api": f"{upstream.url}/stdio/v1"}
    lines: list[bytes] = []
    with unit("initialize / initialized / tools/list / ping ⇒ exactly 3 lines, ids 1,2,3"):
        with StdioServer(document, base_uris=base_uris) as server:
            initialize = {
                "protocolVersion": HANDSHAKE_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "conformance", "version": "1"},
            }
            server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize})
            server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            server.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
            server.close_stdin()
            lines = server.read_lines()
        messages = [json.loads(line) for line in lines]
        assert [m["id"] for m in messages] == [1, 2, 3], lines
    with unit("initialize ⇒ 2025-11-25, serverInfo test-mcp-stdio"):
        result = json.loads(lines[0])["result"]
        assert result["protocolVersion"] == HANDSHAKE_VERSION
        assert result["serverInfo"]["name"] == "test-mcp-stdio"
    with unit("tools/list ⇒ query-database; ping ⇒ {}"):
        assert [t["name"] for t in json.loads(lines[1])["result"]["tools"]] == ["query-database"]
        assert json.loads(lines[2])["result"] == {}
    with unit("SDK stdio client: list and call"):
        command, *args = stdio_argv(document, base_uris)
        params = StdioServerParameters(command=command, args=args, env=serve_env())
        async with Client(params, mode="legacy") as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["query-database"]
            assert tool_json(await client.call_tool("query-database", {})) == PARTICIPANTS


@scenario("10c", "McpToolHints", java="T:engine/exposes/mcp/McpToolHintsIntegrationTest")
async def test_tool_hints(servers: ServeGroup) -> None:
    """``hints`` become ``annotations`` (only the keys declared); a label becomes the tool title."""
    async with mcp_client(servers["hints"].url("hints-mcp")) as client:
        tools = tools_by_name(await client.list_tools())
    with unit("read-data: title Read Data; readOnly, openWorld; no destructiveHint"):
        read = tools["read-data"]
        assert read["title"] == "Read Data"
        annotations = read["annotations"]
        assert annotations["readOnlyHint"] is True and annotations["openWorldHint"] is True
        assert "destructiveHint" not in annotations
    with unit("delete-record: readOnly false, destructive, idempotent, openWorld false; no title"):
        annotations = tools["delete-record"]["annotations"]
        assert {
            k: annotations[k] for k in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
        } == {
            "readOnlyHint": False,
            "destructiveHint": True,
            "idempotentHint": True,
            "openWorldHint": False,
        }
        assert "title" not in tools["delete-record"] and "title" not in annotations
    with unit("no-hints-tool: no annotations"):
        assert "annotations" not in tools["no-hints-tool"]


@scenario("10c", "McpAuthentication", java="T:engine/exposes/mcp/McpAuthenticationIntegrationTest")
def test_mcp_authentication(servers: ServeGroup) -> None:
    """Bearer and API-key MCP adapters refuse every method without credentials; an open one serves."""
    server = servers["auth"]
    bearer_url, apikey_url = server.url("bearer-mcp"), server.url("apikey-mcp")
    with unit("bearer: missing / wrong ⇒ 401, right ⇒ 200 initialize"):
        with Rpc(bearer_url) as rpc:
            assert rpc.initialize().status_code == 401
        with Rpc(bearer_url, {"authorization": "Bearer wrong-token"}) as rpc:
            assert rpc.initialize().status_code == 401
        with Rpc(bearer_url, {"authorization": "Bearer mcp-secret-token-123"}) as rpc:
            assert result_of(rpc.initialize())["protocolVersion"]
    with unit("apikey: missing ⇒ 401, X-MCP-Key right ⇒ 200"):
        with Rpc(apikey_url) as rpc:
            assert rpc.initialize().status_code == 401
        with Rpc(apikey_url, {"x-mcp-key": "abc-key-456"}) as rpc:
            assert result_of(rpc.initialize())["protocolVersion"]
    with unit("bearer: GET and DELETE without a token ⇒ 401"):
        assert httpx.get(bearer_url).status_code == 401
        assert httpx.delete(bearer_url).status_code == 401
    with unit("no authentication ⇒ 200"), Rpc(server.url("open-mcp")) as rpc:
        assert result_of(rpc.initialize())["protocolVersion"]


@scenario("10c", "McpOAuth2", java="T:engine/exposes/mcp/McpOAuth2IntegrationTest")
def test_mcp_oauth2(servers: ServeGroup, authorization_server: AuthorizationServer) -> None:
    """An MCP adapter as an OAuth 2.1 resource server: challenges point at the protected-resource
    metadata; tokens are checked for signature, expiry, issuer, audience and scopes."""
    server = servers["oauth"]
    url, scoped_url = server.url("oauth2-test-mcp"), server.url("oauth2-scoped-mcp")
    issue = authorization_server.token
    with unit("no token ⇒ 401, Bearer challenge with resource_metadata"), Rpc(url) as rpc:
        answer = rpc.initialize()
        assert answer.status_code == 401
        challenge = answer.headers["www-authenticate"]
        assert "Bearer" in challenge and "resource_metadata" in challenge
    with unit("expired token ⇒ 401"):
        token = issue(audience=OAUTH_RESOURCE, scope="tools:read", expires_in=-60)
        with Rpc(url, {"authorization": f"Bearer {token}"}) as rpc:
            assert rpc.initialize().status_code == 401
    with unit("valid iss/aud/scope ⇒ 200 initialize"):
        token = issue(audience=OAUTH_RESOURCE, scope="tools:read")
        with Rpc(url, {"authorization": f"Bearer {token}"}) as rpc:
            assert result_of(rpc.initialize())["protocolVersion"]
    with unit("wrong audience ⇒ 401"):
        token = issue(audience="http://elsewhere.test/mcp", scope="tools:read")
        with Rpc(url, {"authorization": f"Bearer {token}"}) as rpc:
            assert rpc.initialize().status_code == 401
    with unit("GET /.well-known/oauth-protected-resource/mcp ⇒ metadata"):
        answer = httpx.get(f"{server.base('oauth2-test-mcp')}/.well-known/oauth-protected-resource/mcp")
        assert answer.status_code == 200
        metadata = answer.json()
        assert metadata["resource"] == OAUTH_RESOURCE
        assert metadata["authorization_servers"] == [authorization_server.issuer] or metadata[
            "authorization_servers"
        ] == [authorization_server.issuer + "/"]
        assert metadata["bearer_methods_supported"][0] == "header"
    with unit("missing scope ⇒ 403 insufficient_scope with resource_metadata"):
        token = issue(audience=OAUTH_RESOURCE, scope="tools:read")
        with Rpc(scoped_url, {"authorization": f"Bearer {token}"}) as rpc:
            answer = rpc.initialize()
            assert answer.status_code == 403
            challenge = answer.headers["www-authenticate"]
            assert "insufficient_scope" in challenge and "resource_metadata" in challenge


@scenario("10c", "McpXmlOutput", java="T:engine/exposes/mcp/McpXmlOutputIntegrationTest")
async def test_mcp_xml_output(servers: ServeGroup) -> None:
    """A tool over an XML upstream (``outputRawFormat: xml``)."""
    async with mcp_client(servers["xml"].url("shipyard-tools")) as client:
        with unit("call ⇒ not isError, [{vesselCode, name} × 2]"):
            assert tool_json(await client.call_tool("list-legacy-vessels", {})) == [
                {"vesselCode": "V001", "name": "Sea Eagle"},
                {"vesselCode": "V002", "name": "Ocean Star"},
            ]


@scenario(
    "10c", "NestedObjectOutputMapping", java="T:engine/exposes/mcp/NestedObjectOutputMappingIntegrationTest"
)
async def test_nested_object_output_mapping(servers: ServeGroup, yard: Shipyard) -> None:
    """A nested object without a mapping of its own reads the same source (absolute paths).

    [BUG] in Java (notes §6, §11.7): no ``structuredContent``. Asserted instead: the object is also
    the result's ``structuredContent``.
    """
    async with mcp_client(servers["nested"].url("test-tools")) as client:
        expected = {
            "imo": "IMO-9321483",
            "name": "Northern Star",
            "status": "active",
            "specs": {"yearBuilt": 2015, "tonnage": 42000, "length": 229},
        }
        result = await client.call_tool("get-ship", {"imo": "IMO-9321483"})
        with unit("get-ship ⇒ {imo, name, status, specs{yearBuilt, tonnage, length}}"):
            assert tool_json(result) == expected
        with unit("structuredContent carries the same object"):
            assert dump(result)["structuredContent"] == expected


@scenario(
    "10c",
    "StepWithNamespace (tool and aggregate)",
    java="T:engine/exposes/mcp/StepWithNamespaceIntegrationTest, "
    "T:engine/aggregates/AggregateStepNamespaceIntegrationTest",
)
async def test_step_with_namespace(servers: ServeGroup, yard: Shipyard) -> None:
    """A step's ``with`` value ``<namespace>.<param>`` refers to the tool's (resp. the aggregate
    function's) input."""
    async with mcp_client(servers["step-ns"].url("shipyard-tools")) as client:
        with unit("tool step: voyageId ⇒ /voyages/VOY-2026-042"):
            yard.clear()
            got = tool_json(await client.call_tool("get-voyage-manifest", {"voyageId": "VOY-2026-042"}))
            assert got == {"voyageId": "VOY-2026-042"}
            assert yard.registry.paths == ["GET /voyages/VOY-2026-042"]
    async with mcp_client(servers["aggregate-step-ns"].url("shipyard-mcp")) as client:
        with unit("aggregate step: shipyard.voyage-id ⇒ /voyages/VOY-2026-042"):
            yard.clear()
            got = tool_json(await client.call_tool("get-voyage-manifest", {"voyage-id": "VOY-2026-042"}))
            assert got == {"voyage-id": "VOY-2026-042"}
            assert yard.registry.paths == ["GET /voyages/VOY-2026-042"]


@scenario("10c", "ToolHandler", java="T:engine/exposes/mcp/ToolHandlerTest")
async def test_tool_handler(servers: ServeGroup, yard: Shipyard) -> None:
    """``with imo_number: "{{imo}}"`` renders against the arguments; unknown tools and missing
    arguments are answered, not crashed on.

    [BUG] in Java (notes §6, §11.5): no argument validation — a call without ``imo`` renders
    ``/ships/``. Asserted instead: the missing required argument is reported (JSON-RPC error or
    ``isError``) and the upstream is not called. "Malformed tool entries skipped" is a Java
    loader detail with no wire behaviour (this runtime refuses such documents with located errors).
    """
    url = servers["tool-handler"].url("shipyard-tools")
    async with mcp_client(url) as client:
        with unit("get-ship {imo} ⇒ /ships/IMO-9321483, no unresolved-template error"):
            yard.clear()
            result = dump(await client.call_tool("get-ship", {"imo": "IMO-9321483"}))
            assert result.get("isError") is False, result
            assert yard.registry.paths == ["GET /ships/IMO-9321483"]
    with Rpc(url) as rpc:
        with unit("unknown tool ⇒ error naming it"):
            answer = body(rpc.call("tools/call", {"name": "nope", "arguments": {}}))
            assert "nope" in json.dumps(answer) and ("error" in answer or answer["result"]["isError"])
        with unit("arguments null / missing imo ⇒ reported, upstream not called"):
            yard.clear()
            for params in ({"name": "get-ship", "arguments": None}, {"name": "get-ship"}):
                answer = body(rpc.call("tools/call", params))
                assert "error" in answer or answer["result"]["isError"] is True, answer
                assert "imo" in json.dumps(answer)
            assert len(yard.registry) == 0


@scenario("10c", "Aggregate (refs and hints)", java="T:engine/exposes/mcp/AggregateIntegrationTest")
async def test_aggregates(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """``ref`` tools and operations inherit name/description from the aggregate function; hints are
    derived from ``semantics`` (safe ⇒ readOnly/not destructive, idempotent copied, openWorld never
    derived) and explicit hints override field by field; an unknown ref is refused at startup."""
    async with mcp_client(servers["aggregate-basic"].url("forecast-mcp")) as client:
        tools = tools_by_name(await client.list_tools())
        with unit("tools: get-forecast and the inheriting tool"):
            assert list(tools) == ["get-forecast", "get-forecast-inherited"]
            assert (
                tools["get-forecast-inherited"]["description"]
                == "Fetch current weather forecast for a location."
            )
            assert list(tools["get-forecast"]["inputSchema"]["properties"]) == ["location"]
        with unit("wire annotations derived: readOnly, not destructive, idempotent, no openWorld"):
            annotations = tools["get-forecast"]["annotations"]
            assert annotations["readOnlyHint"] is True and annotations["destructiveHint"] is False
            assert annotations["idempotentHint"] is True and "openWorldHint" not in annotations
        with unit("call ⇒ the function's call and mapping"):
            assert tool_json(await client.call_tool("get-forecast", {"location": "Oslo"})) == "sunny"
            assert received(stub, "/weather")[-1].path == "/weather/v1/forecast"
    with unit("REST ref operations answer through the function (GET and the inheriting POST)"):
        rest = servers["aggregate-basic"].base("forecast-rest")
        assert httpx.get(f"{rest}/forecast/Oslo").json() == "sunny"
        assert httpx.post(f"{rest}/forecast/Oslo").json() == "sunny"
    async with mcp_client(servers["aggregate-hints"].url("data-mcp")) as client:
        tools = tools_by_name(await client.list_tools())
    with unit("read-items: full derivation"):
        annotations = tools["read-items"]["annotations"]
        assert (
            annotations["readOnlyHint"],
            annotations["destructiveHint"],
            annotations["idempotentHint"],
        ) == (
            True,
            False,
            True,
        )
        assert "openWorldHint" not in annotations
    with unit("read-items-open: derived + openWorld true"):
        assert tools["read-items-open"]["annotations"]["openWorldHint"] is True
        assert tools["read-items-open"]["annotations"]["readOnlyHint"] is True
    with unit("delete-item: explicit overrides, idempotent from semantics"):
        annotations = tools["delete-item"]["annotations"]
        assert (annotations["readOnlyHint"], annotations["destructiveHint"]) == (False, True)
        assert (annotations["idempotentHint"], annotations["openWorldHint"]) == (True, False)
    with unit("plain-tool (no ref): no annotations"):
        assert "annotations" not in tools["plain-tool"]
    with unit("unknown ref ⇒ refused at startup, naming it"):
        code, output = serve_once(resource("aggregates/aggregate-invalid-ref.yaml"), tmp_path / "bad-ref")
        assert code == 2 and "unknown.nonexistent" in output, output
