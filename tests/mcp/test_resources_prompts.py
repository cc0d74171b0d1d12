"""Resources (static directories, dynamic resources, templates) and prompts on the wire, on the real
engine: tests/mcp/capabilities/demo.yaml served as ``naftiko serve`` builds it."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import Client

from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

from .conftest import PNG_PIXEL
from .test_http_protocol import modern, rpc


@pytest.fixture
def url(demo_server: ServerThread) -> str:
    return demo_server.url + "/mcp"


def result(url: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = rpc(url, method, params).json()
    assert "result" in response, response
    return response["result"]


def error(url: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = rpc(url, method, params).json()
    assert "error" in response, response
    return response["error"]


def test_capabilities_follow_what_is_declared(url: str) -> None:
    init = result(url, "initialize", {"protocolVersion": "2025-11-25"})
    assert set(init["capabilities"]) == {"logging", "tools", "resources", "prompts"}
    assert init["serverInfo"]["title"] == "Label Studio runs"


def test_resources_list(url: str) -> None:
    listed = result(url, "resources/list")
    mcp_types.ListResourcesResult.model_validate(listed)
    by_uri = {r["uri"]: r for r in listed["resources"]}
    assert by_uri["config://app/current"] == {
        "uri": "config://app/current",
        "name": "current-config",
        "title": "Current config",
        "mimeType": "application/json",
    }
    assert by_uri["docs://reference/guide.md"]["mimeType"] == "text/markdown"
    assert by_uri["docs://reference/guides/setup.yaml"]["mimeType"] == "application/yaml"
    assert by_uri["docs://reference/logo.png"]["mimeType"] == "image/png"
    assert by_uri["docs://reference/guide.md"]["title"] == "Reference docs"
    assert not any("{" in uri for uri in by_uri)  # templates are listed apart
    assert not any("secrets" in uri for uri in by_uri)


def test_static_files_are_listed_as_they_are_now(url: str, tmp_path: Path) -> None:
    (tmp_path / "docs" / "new.txt").write_text("fresh", encoding="utf-8")
    uris = [r["uri"] for r in result(url, "resources/list")["resources"]]
    assert "docs://reference/new.txt" in uris
    assert (
        result(url, "resources/read", {"uri": "docs://reference/new.txt"})["contents"][0]["text"] == "fresh"
    )


def test_templates_list(url: str) -> None:
    listed = result(url, "resources/templates/list")
    mcp_types.ListResourceTemplatesResult.model_validate(listed)
    assert listed["resourceTemplates"] == [
        {
            "uriTemplate": "data://users/{user_id}/profile",
            "name": "user-profile",
            "description": "A user's profile",
            "mimeType": "application/json",
        }
    ]


def test_read_static_text_and_binary(url: str) -> None:
    guide = result(url, "resources/read", {"uri": "docs://reference/guide.md"})
    assert guide == {
        "contents": [{"uri": "docs://reference/guide.md", "mimeType": "text/markdown", "text": "# guide\n"}]
    }
    nested = result(url, "resources/read", {"uri": "docs://reference/guides/setup.yaml"})
    assert nested["contents"][0]["text"] == "steps: [install, run]\n"
    logo = result(url, "resources/read", {"uri": "docs://reference/logo.png"})["contents"][0]
    assert base64.b64decode(logo["blob"]) == PNG_PIXEL
    mcp_types.ReadResourceResult.model_validate({"contents": [logo]})


@pytest.mark.parametrize(
    "uri",
    [
        "docs://reference/../secrets.txt",
        "docs://reference/guides/../../secrets.txt",
        "docs://reference/%2e%2e/secrets.txt",
        "docs://reference/%2E%2E/%2e%2e/etc/passwd",
        "docs://reference//etc/passwd",
        "docs://reference/./guide.md",
        "docs://reference/guides\\..\\..\\secrets.txt",
    ],
)
def test_static_traversal_is_refused(url: str, uri: str) -> None:
    refused = error(url, "resources/read", {"uri": uri})
    assert refused["code"] == -32602
    assert "traversal" in refused["message"]


def test_symlinks_out_of_the_directory_are_not_served(url: str, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secrets.txt", tmp_path / "docs" / "escape.txt")
    uris = [r["uri"] for r in result(url, "resources/list")["resources"]]
    assert "docs://reference/escape.txt" not in uris
    assert "traversal" in error(url, "resources/read", {"uri": "docs://reference/escape.txt"})["message"]


@pytest.mark.parametrize("uri", ["docs://reference", "docs://reference/", "docs://reference/guides"])
def test_directories_are_refused(url: str, uri: str) -> None:
    refused = error(url, "resources/read", {"uri": uri})
    assert refused["code"] == -32602
    assert "directory" in refused["message"]


def test_unknown_and_missing_uris(url: str) -> None:
    assert error(url, "resources/read", {"uri": "data://unknown"}) == {
        "code": -32602,
        "message": "Unknown resource URI: data://unknown",
        "data": {"uri": "data://unknown"},
    }
    assert error(url, "resources/read", {"uri": "docs://reference/missing.md"})["code"] == -32602
    assert error(url, "resources/read", {})["message"] == "Invalid params: uri is required"


def test_dynamic_resource_and_template(url: str, upstream: RecordingUpstream) -> None:
    config = result(url, "resources/read", {"uri": "config://app/current"})
    assert config == {
        "contents": [
            {
                "uri": "config://app/current",
                "mimeType": "application/json",
                "text": '{"mode":"demo","replicas":2}',
            }
        ]
    }
    upstream.route("GET", "/users/{id}", json={"id": "a b", "name": "Ann"})
    profile = result(url, "resources/read", {"uri": "data://users/a%20b/profile"})
    assert profile["contents"][0]["uri"] == "data://users/a%20b/profile"
    assert upstream.last.path == "/users/a b"
    # A template variable is one segment: no match across "/".
    assert error(url, "resources/read", {"uri": "data://users/a/b/profile"})["code"] == -32602


def test_dynamic_resource_failures(url: str, upstream: RecordingUpstream) -> None:
    upstream.enqueue(status=500, json={"detail": "database down"})
    failed = error(url, "resources/read", {"uri": "data://users/u-1/profile"})
    assert failed["code"] == -32603
    assert "500" in failed["message"] and "database down" not in failed["message"]


def test_modern_read_is_cacheable_and_typed(url: str) -> None:
    read = modern(url, "resources/read", {"uri": "docs://reference/guide.md"}).json()["result"]
    assert (read["resultType"], read["ttlMs"], read["cacheScope"]) == ("complete", 0, "public")
    missing = modern(url, "resources/read", {"uri": "nope://x"})
    assert missing.status_code == 400


# --- prompts -------------------------------------------------------------------------------------


def test_prompts_list(url: str) -> None:
    listed = result(url, "prompts/list")
    mcp_types.ListPromptsResult.model_validate(listed)
    assert listed["prompts"][0] == {
        "name": "review-run",
        "title": "Review a run",
        "description": "Ask for a review of an inference run",
        "arguments": [
            {"name": "run_id", "description": "The run to review", "required": True},
            {"name": "focus", "title": "Focus", "description": "What to look at", "required": False},
        ],
    }
    assert [p["name"] for p in listed["prompts"]] == ["review-run", "summarize-prompt"]


def test_prompt_substitution_is_one_pass(url: str) -> None:
    got = result(
        url, "prompts/get", {"name": "review-run", "arguments": {"run_id": "{focus}", "focus": "$1 \\n"}}
    )
    mcp_types.GetPromptResult.model_validate(got)
    assert got["messages"] == [
        {
            "role": "user",
            "content": {"type": "text", "text": "Please review run {focus} focusing on $1 \\n."},
        },
        {"role": "assistant", "content": {"type": "text", "text": "I will review run {focus}."}},
    ]
    assert got["description"] == "Ask for a review of an inference run"


def test_optional_prompt_argument_left_out(url: str) -> None:
    got = result(url, "prompts/get", {"name": "review-run", "arguments": {"run_id": "7"}})
    # An optional argument left out is empty text (the rule for every unset optional input).
    assert got["messages"][0]["content"]["text"] == "Please review run 7 focusing on ."


def test_prompt_errors(url: str) -> None:
    missing = error(url, "prompts/get", {"name": "review-run", "arguments": {"focus": "x"}})
    assert missing["code"] == -32602 and "run_id" in missing["message"]
    assert error(url, "prompts/get", {"name": "nope"})["message"] == "Invalid params: Unknown prompt: nope"
    assert error(url, "prompts/get", {})["message"] == "Invalid params: name is required"
    assert error(url, "prompts/get", {"name": "review-run", "arguments": ["7"]})["code"] == -32602


def test_dynamic_prompt_message(url: str, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/summaries/{id}", json={"runs": 3})
    got = result(url, "prompts/get", {"name": "summarize-prompt", "arguments": {"prompt_id": "5"}})
    assert got["messages"] == [{"role": "user", "content": {"type": "text", "text": '{"runs":3}'}}]
    assert upstream.last.raw_path == "/summaries/5"
    upstream.enqueue(status=502, text="bad gateway")
    failed = error(url, "prompts/get", {"name": "summarize-prompt", "arguments": {"prompt_id": "5"}})
    assert failed["code"] == -32603 and "502" in failed["message"]


@pytest.mark.anyio
async def test_resources_and_prompts_through_the_sdk_client(
    demo_server: ServerThread, upstream: RecordingUpstream
) -> None:
    upstream.route("GET", "/users/{id}", json={"id": "u-1", "name": "Alice"})
    upstream.route("GET", "/summaries/{id}", json={"runs": 3, "completed": 3})
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
            assert json.loads(summary.messages[0].content.text) == {"runs": 3, "completed": 3}
            assert upstream.last.raw_path == "/summaries/5"
