"""Interop: independent MCP clients list and call the seed's tools; the upstream sees the calls.

Clients: the ``mcp`` SDK's ``Client`` over Streamable HTTP in the handshake era (``mode="legacy"``),
pinned to the 2026-07-28 revision, and auto-negotiating; the same client over stdio (a subprocess
running ``serve_stdio``); FastMCP's client (auto and legacy).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import fastmcp
import pytest
from mcp import Client, StdioServerParameters

from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

STDIO_SCRIPT = Path(__file__).with_name("stdio_server.py")
REPO = Path(__file__).resolve().parents[2]


class Session:
    """The two client libraries behind one face: dict tools, dict results."""

    def __init__(
        self, list_tools: Callable[[], Any], call_tool: Callable[[str, dict[str, Any]], Any]
    ) -> None:
        self.list_tools = list_tools
        self.call_tool = call_tool


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


@asynccontextmanager
async def sdk_session(server: Any, mode: str) -> AsyncIterator[Session]:
    async with Client(server, mode=mode) as client:

        async def list_tools() -> list[dict[str, Any]]:
            return [_dump(tool) for tool in (await client.list_tools()).tools]

        async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            return _dump(await client.call_tool(name, arguments))

        yield Session(list_tools, call_tool)


@asynccontextmanager
async def fastmcp_session(url: str, mode: str) -> AsyncIterator[Session]:
    async with fastmcp.Client(url, mode=mode) as client:

        async def list_tools() -> list[dict[str, Any]]:
            return [_dump(tool) for tool in await client.list_tools()]

        async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, arguments, raise_on_error=False)
            content = [_dump(block) for block in result.content]
            return {
                "content": content,
                "structuredContent": result.structured_content,
                "isError": result.is_error,
            }

        yield Session(list_tools, call_tool)


def stdio_params(upstream_url: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[str(STDIO_SCRIPT), upstream_url],
        cwd=str(REPO),
        env={"PYTHONPATH": str(REPO)},
    )


Opener = Callable[[ServerThread, RecordingUpstream], AbstractAsyncContextManager[Session]]

CLIENTS: dict[str, Opener] = {
    "sdk-http-legacy": lambda s, u: sdk_session(s.url + "/mcp", "legacy"),
    "sdk-http-2026-07-28": lambda s, u: sdk_session(s.url + "/mcp", "2026-07-28"),
    "sdk-http-auto": lambda s, u: sdk_session(s.url + "/mcp", "auto"),
    "sdk-http-root-path": lambda s, u: sdk_session(s.url + "/", "legacy"),
    "sdk-stdio-legacy": lambda s, u: sdk_session(stdio_params(u.url), "legacy"),
    "sdk-stdio-auto": lambda s, u: sdk_session(stdio_params(u.url), "auto"),
    "fastmcp-auto": lambda s, u: fastmcp_session(s.url + "/mcp", "auto"),
    "fastmcp-legacy": lambda s, u: fastmcp_session(s.url + "/mcp", "legacy"),
}


def check_seed_tools(tools: list[dict[str, Any]]) -> None:
    by_name = {tool["name"]: tool for tool in tools}
    assert list(by_name) == ["get-inference-run-info", "run-prompt-inference", "cancel-inference-run-api"]

    get_runs = by_name["get-inference-run-info"]
    assert get_runs["description"] == "✨ Get inference run info"
    schema = get_runs["inputSchema"]
    assert schema["type"] == "object"
    assert schema["properties"]["prompt_id"]["type"] == "integer"
    assert schema["properties"]["version_id"]["type"] == "integer"
    assert schema["properties"]["project"]["type"] == "integer"
    assert set(schema["required"]) == {"prompt_id", "version_id"}
    assert get_runs["annotations"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True}

    for tool in tools:
        # The consumer's authentication supplies it: never asked of the agent.
        assert "Authorization" not in tool["inputSchema"].get("properties", {})
    assert by_name["run-prompt-inference"]["inputSchema"]["properties"]["body"]["type"] == "object"
    assert by_name["cancel-inference-run-api"]["annotations"]["readOnlyHint"] is False
    assert set(by_name["cancel-inference-run-api"]["inputSchema"]["required"]) == {
        "inference_run_id",
        "prompt_id",
        "version_id",
    }


@pytest.mark.anyio
@pytest.mark.parametrize("client", list(CLIENTS))
async def test_client_lists_and_calls_the_seed_tools(
    client: str, seed_server: ServerThread, upstream: RecordingUpstream
) -> None:
    async with CLIENTS[client](seed_server, upstream) as session:
        check_seed_tools(await session.list_tools())

        runs = await session.call_tool(
            "get-inference-run-info", {"prompt_id": 1, "version_id": 2, "ordering": "-id"}
        )
        assert runs["isError"] is False
        assert runs["structuredContent"] == {"count": 1, "results": [{"id": 7, "status": "Completed"}]}
        assert json.loads(runs["content"][0]["text"]) == runs["structuredContent"]
        seen = upstream.last
        assert (seen.method, seen.raw_path, seen.raw_query) == (
            "GET",
            "/api/prompts/1/versions/2/inference-runs",
            "ordering=-id",
        )
        assert seen.headers["authorization"] == "Token seed-secret-123"

        created = await session.call_tool(
            "run-prompt-inference", {"prompt_id": 1, "version_id": 2, "body": {"project_subset": "All"}}
        )
        assert created["structuredContent"] == {"id": 8, "status": "Pending"}
        seen = upstream.last
        assert (seen.method, seen.raw_path, seen.json) == (
            "POST",
            "/api/prompts/1/versions/2/inference-runs",
            {"project_subset": "All"},
        )

        cancelled = await session.call_tool(
            "cancel-inference-run-api", {"inference_run_id": 9, "prompt_id": 1, "version_id": 2}
        )
        assert cancelled["structuredContent"] == {"detail": "cancelled"}
        assert upstream.last.raw_path == "/api/prompts/1/versions/2/inference-runs/9/cancel"
        assert len(upstream.requests) == 3


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client", ["sdk-http-legacy", "sdk-http-2026-07-28", "sdk-stdio-auto", "fastmcp-auto"]
)
async def test_client_sees_argument_errors_before_any_upstream_call(
    client: str, seed_server: ServerThread, upstream: RecordingUpstream
) -> None:
    async with CLIENTS[client](seed_server, upstream) as session:
        result = await session.call_tool("get-inference-run-info", {"prompt_id": "one"})
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "prompt_id" in text and "version_id" in text
        assert upstream.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("client", ["sdk-http-legacy", "sdk-http-2026-07-28", "fastmcp-auto"])
async def test_client_sees_upstream_failures_as_tool_errors(
    client: str, seed_server: ServerThread, upstream: RecordingUpstream
) -> None:
    upstream.enqueue(status=404, json={"detail": "Prompt version not found"})
    async with CLIENTS[client](seed_server, upstream) as session:
        result = await session.call_tool("get-inference-run-info", {"prompt_id": 1, "version_id": 99})
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert "404" in text and "Prompt version not found" in text
    assert "seed-secret" not in text


@pytest.mark.anyio
async def test_server_identity_and_instructions(
    seed_server: ServerThread, upstream: RecordingUpstream
) -> None:
    # legacy: from initialize; auto: from server/discover (a pinned client asks nothing).
    for mode in ("legacy", "auto"):
        async with Client(seed_server.url + "/mcp", mode=mode) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            assert client.server_capabilities.tools is not None
            assert client.server_capabilities.resources is None
            assert client.server_capabilities.prompts is None
            assert "One tool per consumed operation" in (client.instructions or "")
            assert client.server_info is not None
            assert client.server_info.name == "label-studio-subpackage-prompts-subpackage-prompts-runs-mcp"


@pytest.mark.anyio
async def test_resources_and_prompts_through_the_sdk_client(
    demo_server: ServerThread, upstream: RecordingUpstream
) -> None:
    upstream.route("GET", "/users/{id}", json={"id": "u-1", "name": "Alice"})
    upstream.route("GET", "/summaries/{id}", text="3 runs, all completed")
    for mode in ("legacy", "2026-07-28"):
        async with Client(demo_server.url + "/mcp", mode=mode) as client:
            listed = {r.uri: r for r in (await client.list_resources()).resources}
            assert "config://app/current" in listed
            assert "docs://reference/guide.md" in listed
            assert listed["docs://reference/guide.md"].mime_type == "text/markdown"
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["data://users/{user_id}/profile"]

            profile = await client.read_resource("data://users/u-1/profile")
            assert json.loads(profile.contents[0].text) == {"id": "u-1", "name": "Alice"}
            assert upstream.last.raw_path == "/users/u-1"
            guide = await client.read_resource("docs://reference/guide.md")
            assert guide.contents[0].text == "# guide\n"
            logo = await client.read_resource("docs://reference/logo.png")
            assert logo.contents[0].mime_type == "image/png" and logo.contents[0].blob

            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            assert [a.name for a in prompts["review-run"].arguments or []] == ["run_id", "focus"]
            review = await client.get_prompt("review-run", {"run_id": "42", "focus": "{{run_id}}"})
            assert [m.role for m in review.messages] == ["user", "assistant"]
            assert review.messages[0].content.text == "Please review run 42 focusing on {{run_id}}."
            summary = await client.get_prompt("summarize-prompt", {"prompt_id": "5"})
            assert summary.messages[0].content.text == "3 runs, all completed"
