"""The seed's three Label Studio operations, imported from an OpenAPI description written for them.

The imported capability is served by ``naftiko serve`` next to the seed, both pointed at one
recording upstream; an MCP client calls the same operation on each, and the two requests the
upstream received must be the same bytes: method, target, every header, body. The imported
``run-prompt-inference`` says what the seed's ``body: object`` never did: ``project`` (an integer,
required) and ``project_subset`` (one of Label Studio's subsets).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from naftiko_runtime.importers import openapi, to_yaml
from naftiko_runtime.spec import check
from tests.mcp.engine import SEED, NaftikoServe
from tests.support.fixtures import anyio_backend, upstream, upstream_server
from tests.support.upstream import RecordedRequest, RecordingUpstream

__all__ = ["anyio_backend", "upstream", "upstream_server"]

DESCRIPTION = Path(__file__).with_name("label-studio-runs.openapi.yaml")
SEED_NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"
TOKEN = "ls-secret-token"

# (seed tool, imported tool, seed arguments, imported arguments): the same request, asked of each.
RUN = {"prompt_id": 1, "version_id": 2}
FILTERS = {**RUN, "ordering": "-created_at", "parent_model": 3, "project": 5, "project_subset": "HasGT"}
CASES = {
    "list": ("get-inference-run-info", "get-inference-run-info", FILTERS, FILTERS),
    "create": (
        "run-prompt-inference",
        "run-prompt-inference",
        {**RUN, "body": {"project": 5, "project_subset": "HasGT"}},
        {**RUN, "project": 5, "project_subset": "HasGT"},
    ),
    "cancel": (
        "cancel-inference-run-api",
        "cancel-inference-run",
        {**RUN, "inference_run_id": 7},
        {**RUN, "inference_run_id": 7},
    ),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document, warnings = openapi(str(DESCRIPTION))
    assert warnings == []
    path = tmp_path_factory.mktemp("imported") / "label-studio.yaml"
    path.write_text(to_yaml(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(
    imported: Path, upstream_server: RecordingUpstream
) -> Iterator[tuple[NaftikoServe, NaftikoServe]]:
    # The seed's variable holds the whole header value; the description's x-fern-header says the
    # SDKs read the bare key and add "Token ", and so does the imported capability.
    seed = NaftikoServe(SEED, base_uris={SEED_NAMESPACE: upstream_server.url}, api_key=f"Token {TOKEN}")
    mine = NaftikoServe(imported, base_uris={"label-studio": upstream_server.url}, api_key=TOKEN)
    with seed, mine:
        yield seed, mine


async def _tools(url: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient() as http, Client(streamable_http_client(url, http_client=http)) as client:
        listed = (await client.list_tools()).tools
    return {tool.name: tool.model_dump(by_alias=True, exclude_none=True) for tool in listed}


async def _call(url: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as http, Client(streamable_http_client(url, http_client=http)) as client:
        return (await client.call_tool(tool, arguments)).model_dump(by_alias=True, exclude_none=True)


def test_the_imported_document_validates_strict_with_nothing_to_say(imported: Path) -> None:
    report = check(imported, strict=True)
    assert report.ok and report.problems == []


@pytest.mark.anyio
async def test_run_prompt_inference_has_typed_project_inputs(
    servers: tuple[NaftikoServe, NaftikoServe],
) -> None:
    _, mine = servers
    tool = (await _tools(mine.url()))["run-prompt-inference"]
    schema = tool["inputSchema"]
    assert schema["properties"]["project"]["type"] == "integer"
    subset = schema["properties"]["project_subset"]
    assert subset["type"] == "string"
    assert '"All", "HasGT", "Sample", "Custom"' in subset["description"]
    assert 'Default: "All"' in subset["description"]
    assert set(schema["required"]) == {"prompt_id", "version_id", "project"}
    assert "body" not in schema["properties"] and "Authorization" not in schema["properties"]
    hints = {k: v for k, v in tool["annotations"].items() if k.endswith("Hint")}
    assert hints == {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False}


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_upstream_requests_are_byte_identical_to_the_seeds(
    case: str, servers: tuple[NaftikoServe, NaftikoServe], upstream: RecordingUpstream
) -> None:
    seed, mine = servers
    seed_tool, my_tool, seed_arguments, my_arguments = CASES[case]
    first = await _call(seed.url(), seed_tool, seed_arguments)
    second = await _call(mine.url(), my_tool, my_arguments)

    assert not first.get("isError") and not second.get("isError"), (first, second)
    from_seed, from_import = upstream.requests
    assert _wire(from_import) == _wire(from_seed)
    assert from_import.headers["authorization"] == f"Token {TOKEN}"


def _wire(request: RecordedRequest) -> tuple[Any, ...]:
    """Everything the upstream can see of a request but the client port."""
    return request.method, request.target, request.headers.raw, request.body
