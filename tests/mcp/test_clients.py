"""Interop: independent MCP clients list and call the seed's tools on the real engine.

The seed (capabilities/label-studio-runs.yaml) is served exactly as a user runs it, pointed at the
Label Studio stand-in (examples/label_studio_standin.py) on a loopback port, and the tests assert
what the stand-in received: path, query, the ``Authorization: Token …`` the seed's bind supplies,
the JSON body.

Servers: the runtime's MCP app in process (``engine``) and ``naftiko serve`` as a subprocess
(``naftiko-serve``); for stdio, the ``naftiko serve --stdio`` command line, launched by the client.
Clients: the ``mcp`` SDK's ``Client`` over Streamable HTTP in the handshake era (``mode="legacy"``),
pinned to the 2026-07-28 revision, and auto-negotiating; the same client over stdio; FastMCP's
client (auto and legacy).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import fastmcp
import pytest
from mcp import Client, StdioServerParameters

from .conftest import Standin
from .engine import MCP_NAMESPACE, REPO, SEED_INSTRUCTIONS, TOKEN, EngineServer, NaftikoServe, cli_env
from .engine import stdio_command as naftiko_stdio

RUNS_PATH = "/api/prompts/1/versions/1/inference-runs"


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
    """What a desktop client is configured with: the real ``naftiko serve --stdio`` command."""
    command, *args = naftiko_stdio(upstream_url)
    return StdioServerParameters(command=command, args=args, cwd=str(REPO), env=cli_env())


Opener = Callable[[str, Standin], AbstractAsyncContextManager[Session]]

HTTP_CLIENTS: dict[str, Opener] = {
    "sdk-http-legacy": lambda url, s: sdk_session(url, "legacy"),
    "sdk-http-2026-07-28": lambda url, s: sdk_session(url, "2026-07-28"),
    "sdk-http-auto": lambda url, s: sdk_session(url, "auto"),
    "sdk-http-root-path": lambda url, s: sdk_session(url.removesuffix("/mcp") + "/", "legacy"),
    "fastmcp-auto": lambda url, s: fastmcp_session(url, "auto"),
    "fastmcp-legacy": lambda url, s: fastmcp_session(url, "legacy"),
}
STDIO_CLIENTS: dict[str, Opener] = {
    "sdk-stdio-legacy": lambda url, s: sdk_session(stdio_params(s.url), "legacy"),
    "sdk-stdio-2026-07-28": lambda url, s: sdk_session(stdio_params(s.url), "2026-07-28"),
    "sdk-stdio-auto": lambda url, s: sdk_session(stdio_params(s.url), "auto"),
}
CLIENTS = {**HTTP_CLIENTS, **STDIO_CLIENTS}

IDS = {"type": "integer"}


def check_seed_tools(tools: list[dict[str, Any]]) -> None:
    """Names, descriptions, schemas inferred from the consumed operations, hints as annotations."""
    by_name = {tool["name"]: tool for tool in tools}
    assert list(by_name) == ["get-inference-run-info", "run-prompt-inference", "cancel-inference-run-api"]

    get_runs = by_name["get-inference-run-info"]
    assert get_runs["description"] == "✨ Get inference run info"
    schema = get_runs["inputSchema"]
    assert schema["type"] == "object"
    assert list(schema["properties"]) == [
        "prompt_id",
        "version_id",
        "ordering",
        "parent_model",
        "project",
        "project_subset",
    ]
    assert schema["properties"]["prompt_id"] == schema["properties"]["version_id"] == IDS
    assert schema["properties"]["ordering"] == {
        "type": "string",
        "description": "Which field to use when ordering the results.",
    }
    assert schema["properties"]["project"]["type"] == "integer"
    assert schema["properties"]["project_subset"]["type"] == "string"
    assert sorted(schema["required"]) == ["prompt_id", "version_id"]
    assert get_runs["annotations"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True}

    create = by_name["run-prompt-inference"]
    assert create["description"] == "✨ Run prompt inference"
    assert create["inputSchema"]["properties"] == {
        "prompt_id": IDS,
        "version_id": IDS,
        "body": {"type": "object", "description": "Request body (JSON)."},
    }
    assert sorted(create["inputSchema"]["required"]) == ["prompt_id", "version_id"]
    writes = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False}
    assert create["annotations"] == writes

    cancel = by_name["cancel-inference-run-api"]
    assert cancel["description"] == "✨ Cancel Inference Run API"
    assert cancel["inputSchema"]["properties"] == {
        "inference_run_id": IDS,
        "prompt_id": IDS,
        "version_id": IDS,
    }
    assert sorted(cancel["inputSchema"]["required"]) == ["inference_run_id", "prompt_id", "version_id"]
    assert cancel["annotations"] == writes

    for tool in tools:
        # The consumer's authentication supplies it: never asked of the agent.
        assert "Authorization" not in tool["inputSchema"]["properties"]
        assert "Authorization" not in tool["inputSchema"].get("required", [])
        assert "title" not in tool  # the seed's tools have no label


async def list_and_call_every_tool(session: Session, standin: Standin) -> None:
    """The acceptance scenario, for any client: list, then call each tool; check the upstream."""
    check_seed_tools(await session.list_tools())

    runs = await session.call_tool(
        "get-inference-run-info", {"prompt_id": 1, "version_id": 1, "project": 1, "ordering": "-id"}
    )
    assert runs["isError"] is False, runs
    listed = runs["structuredContent"]["result"]  # the stand-in answers a JSON array: wrapped
    assert [(run["id"], run["project"]) for run in listed] == [(2, 1), (1, 1)]
    assert json.loads(runs["content"][0]["text"]) == listed
    (seen,) = standin.wait(1)
    assert (seen.method, seen.raw_path, seen.query_string, seen.status) == (
        "GET",
        RUNS_PATH,
        "ordering=-id&project=1",
        200,
    )
    assert seen.header("authorization") == f"Token {TOKEN}"
    assert seen.body == b""

    created = await session.call_tool(
        "run-prompt-inference", {"prompt_id": 1, "version_id": 1, "body": {"project": 5}}
    )
    assert created["isError"] is False, created
    run = created["structuredContent"]
    assert (run["id"], run["project"], run["status"], run["parent_model"]) == (4, 5, "Pending", 1)
    seen = standin.wait(2)[1]
    assert (seen.method, seen.raw_path, seen.query_string, seen.status) == ("POST", RUNS_PATH, "", 201)
    assert seen.header("authorization") == f"Token {TOKEN}"
    assert (seen.header("content-type") or "").startswith("application/json")
    assert seen.json == {"project": 5}

    cancelled = await session.call_tool(
        "cancel-inference-run-api", {"inference_run_id": run["id"], "prompt_id": 1, "version_id": 1}
    )
    assert cancelled["isError"] is False, cancelled
    assert cancelled["structuredContent"]["status"] == "Canceled"
    assert cancelled["structuredContent"]["detail"] == "Inference run 4 canceled."
    seen = standin.wait(3)[2]
    assert (seen.method, seen.raw_path, seen.query_string, seen.status) == (
        "POST",
        RUNS_PATH + "/4/cancel",
        "",
        200,
    )
    assert seen.header("authorization") == f"Token {TOKEN}"
    assert len(standin.records) == 3


@pytest.mark.anyio
@pytest.mark.parametrize("client", list(CLIENTS))
async def test_client_lists_and_calls_the_seed_tools(
    client: str, engine_server: EngineServer, standin: Standin
) -> None:
    async with CLIENTS[client](engine_server.url + "/mcp", standin) as session:
        await list_and_call_every_tool(session, standin)


@pytest.mark.anyio
@pytest.mark.parametrize("client", ["sdk-http-legacy", "sdk-http-2026-07-28", "fastmcp-auto"])
async def test_client_through_naftiko_serve(
    client: str, naftiko_serve: NaftikoServe, standin: Standin
) -> None:
    """The same scenario against the ``naftiko serve`` command (the seed with free ports)."""
    async with HTTP_CLIENTS[client](naftiko_serve.url(), standin) as session:
        await list_and_call_every_tool(session, standin)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client", ["sdk-http-legacy", "sdk-http-2026-07-28", "sdk-stdio-legacy", "fastmcp-auto"]
)
async def test_client_sees_argument_errors_before_any_upstream_call(
    client: str, engine_server: EngineServer, standin: Standin
) -> None:
    async with CLIENTS[client](engine_server.url + "/mcp", standin) as session:
        result = await session.call_tool("get-inference-run-info", {"prompt_id": "one"})
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "prompt_id" in text and "version_id" in text
    assert standin.records == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client", ["sdk-http-legacy", "sdk-http-2026-07-28", "sdk-stdio-auto", "fastmcp-auto"]
)
async def test_client_sees_upstream_failures_as_tool_errors(
    client: str, engine_server: EngineServer, standin: Standin
) -> None:
    async with CLIENTS[client](engine_server.url + "/mcp", standin) as session:
        result = await session.call_tool("get-inference-run-info", {"prompt_id": 1, "version_id": 99})
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert "404" in text and "Not found." in text
    assert TOKEN not in text
    assert standin.wait(1)[0].status == 404


@pytest.mark.anyio
@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_server_identity_and_instructions(
    transport: str, engine_server: EngineServer, standin: Standin
) -> None:
    # legacy: from initialize; auto: from server/discover (a pinned client asks nothing).
    server: Any = engine_server.url + "/mcp" if transport == "http" else stdio_params(standin.url)
    for mode in ("legacy", "auto"):
        async with Client(server, mode=mode) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            assert client.server_capabilities.tools is not None
            # The seed declares no resources or prompts: they are listed, empty (frameworks list
            # all three regardless and fail on "method not found").
            assert client.server_capabilities.resources is not None
            assert client.server_capabilities.prompts is not None
            assert (await client.list_resources()).resources == []
            assert (await client.list_resource_templates()).resource_templates == []
            assert (await client.list_prompts()).prompts == []
            assert client.instructions == SEED_INSTRUCTIONS
            assert client.server_info is not None
            assert client.server_info.name == MCP_NAMESPACE
            assert client.server_info.title == "API Reference — subpackage_prompts.subpackage_prompts/runs"
