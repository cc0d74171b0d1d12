"""Bounded upstream answers (REST and MCP), MCP result budgets, and the bounded throttle retry."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from naftiko_runtime.exposes.mcp.budget import fit, notice
from tests.support.upstream import RecordingUpstream

from .conftest import serve


def test_an_answer_larger_than_max_body_fails_fast_naming_the_operation_and_limit(
    upstream: RecordingUpstream,
) -> None:
    big = [{"id": n, "name": "x" * 100} for n in range(2000)]  # ≈ 230 kB
    upstream.route("GET", "/items", json=big)
    with serve(upstream, max_body=64 * 1024) as api, api.client() as http:
        answer = http.get("/items")
        assert answer.status_code == 502
        problem = answer.json()
        assert problem["type"] == "urn:naftiko:problem:upstream-too-large"
        assert problem["upstream"] == "up.list-items"
        assert problem["max-upstream-body"] == 65536
        assert "more than --max-upstream-body allows (64KiB = 65536 bytes)" in problem["detail"]

        result = api.tool("list-items", {})
        assert result["isError"] is True
        assert "more than --max-upstream-body allows" in result["content"][0]["text"]

        # The server keeps serving, and a small answer passes.
        upstream.route("GET", "/items", json=[{"id": 1}])
        assert http.get("/items").json() == [{"id": 1}]


def test_a_chunked_answer_is_cut_off_at_the_limit_too(upstream: RecordingUpstream) -> None:
    async def stream(request: object) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "application/json"}, b"[" + b'"xxxxxxxx",' * 20000 + b'"x"]'

    upstream.route("GET", "/items", handler=stream)
    with serve(upstream, max_body=32 * 1024) as api, api.client() as http:
        answer = http.get("/items")
    assert answer.status_code == 502
    assert answer.json()["type"] == "urn:naftiko:problem:upstream-too-large"


def test_a_large_mcp_result_is_cut_at_whole_items_and_says_how_to_page(upstream: RecordingUpstream) -> None:
    items = [{"id": n, "name": f"item {n}", "tags": ["a", "b"]} for n in range(5000)]
    upstream.route("GET", "/items", json=items)
    with serve(upstream, budget=10_000) as api:
        result = api.tool("list-items", {"limit": 5000})
    assert result["isError"] is False
    text, note = result["content"][0]["text"], result["content"][1]["text"]
    kept = json.loads(text)
    assert len(text) <= 10_000
    assert kept == items[: len(kept)] and 0 < len(kept) < 5000  # whole items, in order
    assert note.startswith(
        f"[Result cut to fit 10000 characters: $: kept the first {len(kept)} of 5000 items.]"
    )
    assert "call 'list-items' again with its paging inputs: offset, limit" in note
    assert result["structuredContent"] == {"result": kept}


def test_a_cut_result_stays_valid_against_its_output_schema(upstream: RecordingUpstream) -> None:
    page = {"total": 5000, "items": [{"id": n, "name": f"item {n}"} for n in range(5000)]}
    upstream.route("GET", "/items", json=page)
    with serve(upstream, budget=10_000) as api:
        listed = api.rpc("tools/list", {}).json()["result"]["tools"]
        result = api.tool("list-item-page", {"limit": 5000})
    schema = next(t for t in listed if t["name"] == "list-item-page")["outputSchema"]
    # The published schema says what a cut must keep: both members, and both members of every item.
    assert schema["required"] == ["total", "items"]
    assert schema["properties"]["items"]["type"] == "array"
    assert schema["properties"]["items"]["items"]["required"] == ["id", "name"]

    value = result["structuredContent"]
    assert result["isError"] is False
    assert value["total"] == 5000 and 0 < len(value["items"]) < 5000
    assert value["items"] == page["items"][: len(value["items"])]
    jsonschema.validate(value, schema)
    # Not vacuous: the same value without a required member, or with an item missing one, fails.
    for broken in (
        {"items": value["items"]},
        {"total": 5000, "items": [{"id": 0}, *value["items"][1:]]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)
    note = result["content"][1]["text"]
    assert f"$.items: kept the first {len(value['items'])} of 5000 items" in note
    assert "call 'list-item-page' again with its paging inputs: offset, limit" in note


def test_a_cut_result_of_a_tool_without_paging_inputs_says_so(upstream: RecordingUpstream) -> None:
    upstream.route(
        "GET", "/items/{id}", json={"id": 7, "history": [{"at": n, "what": "x" * 50} for n in range(900)]}
    )
    with serve(upstream, budget=2_000) as api:
        result = api.tool("get-item", {"item_id": "7"})
    value = result["structuredContent"]
    assert value["id"] == 7 and 0 < len(value["history"]) < 900
    assert "$.history: kept the first" in result["content"][1]["text"]
    assert "'get-item' has no paging inputs" in result["content"][1]["text"]


def test_a_result_within_budget_is_untouched(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items", json=[{"id": 1}])
    with serve(upstream, budget=10_000) as api:
        result = api.tool("list-items", {})
    assert result["content"] == [{"type": "text", "text": '[{"id":1}]'}]


def test_bounded_retry_of_a_throttled_idempotent_call_honours_retry_after(
    upstream: RecordingUpstream,
) -> None:
    upstream.enqueue(status=429, headers={"Retry-After": "1"}, path="/items/7")
    upstream.route("GET", "/items/{id}", json={"id": 7})
    with serve(upstream, retry_throttled=1) as api, api.client() as http:
        started = time.monotonic()
        answer = http.get("/items/7")
        took = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.json() == {"id": 7}
    seen = upstream.requests
    assert len(seen) == 2
    assert seen[1].received_at - seen[0].received_at >= 0.95
    assert took < 3


def test_a_retry_after_longer_than_the_wait_allowed_is_answered_not_waited(
    upstream: RecordingUpstream,
) -> None:
    upstream.route("GET", "/items/{id}", status=429, headers={"Retry-After": "60"})
    with serve(upstream, retry_throttled=3, retry_max_wait=5) as api, api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "60"
    assert len(upstream.requests) == 1


def test_no_retry_of_a_non_idempotent_call(upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/items", status=503, headers={"Retry-After": "0"})
    with serve(upstream, retry_throttled=2) as api, api.client() as http:
        answer = http.post("/items", json={"name": "a"})
    assert answer.status_code == 503
    assert len(upstream.requests) == 1


def test_the_note_finds_paging_inputs_whatever_their_spelling() -> None:
    cut = fit([1, 2, 3], 3)
    note = notice(cut, 3, "search", ["query", "maxResults", "page-token", "PER_PAGE"])
    assert note.endswith("call 'search' again with its paging inputs: PER_PAGE, page-token, maxResults.")
    assert "has no paging inputs" in notice(cut, 3, "search", ["query", "pages_read"])


def test_a_lone_large_item_is_cut_inside_rather_than_dropped(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items", json={"data": [{"id": 1, "body": "x" * 50_000}]})
    with serve(upstream, budget=2_000) as api:
        result = api.tool("list-items", {})
    value = result["structuredContent"]
    (item,) = value["data"]
    assert item["id"] == 1 and 0 < len(item["body"]) < 2_000 and set(item["body"]) == {"x"}
    assert "$.data[0].body: kept the first" in result["content"][1]["text"]
    assert len(result["content"][0]["text"]) <= 2_000
