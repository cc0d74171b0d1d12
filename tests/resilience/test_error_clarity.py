"""Errors that say what failed: redirects, orchestrated steps, the capability's own credentials,
upstream error bodies for agents, retry guidance; and inputs that once crashed the runtime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.upstream import RecordingUpstream

from .conftest import TOKEN, Served, serve


@pytest.fixture(scope="module")
def served(upstream_server: RecordingUpstream) -> Iterator[Served]:
    with serve(upstream_server, single_flight=False) as running:
        yield running


@pytest.fixture
def api(served: Served, upstream: RecordingUpstream) -> Served:
    return served


def test_a_redirect_is_a_failure_naming_the_origin_on_rest_and_mcp(
    api: Served, upstream: RecordingUpstream
) -> None:
    upstream.route(
        "GET", "/items/{id}", status=302, headers={"Location": "https://elsewhere.example:8443/x?key=s3"}
    )
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 502
    problem = answer.json()
    assert problem["type"] == "urn:naftiko:problem:upstream-redirect"
    assert problem["upstream"] == "up.get-item"
    assert problem["upstream_status"] == 302
    assert problem["detail"] == (
        "upstream up.get-item answered 302 to https://elsewhere.example:8443; redirects are not followed"
    )
    assert "key=s3" not in answer.text

    result = api.tool("get-item", {"item_id": "7"})
    assert result["isError"] is True
    assert (
        "answered 302 to https://elsewhere.example:8443; redirects are not followed"
        in (result["content"][0]["text"])
    )
    # Never followed: the upstream saw the two calls, nothing went to the other origin.
    assert [r.path for r in upstream.requests] == ["/items/7", "/items/7"]


def test_a_redirect_with_a_body_is_not_a_decoding_error(api: Served, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=301, text="Moved", headers={"Location": "/items/8"})
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 502
    assert answer.json()["detail"].endswith("answered 301 to the same origin; redirects are not followed")


def test_an_orchestrated_failure_names_step_operation_status_and_carries_the_body(
    api: Served, upstream: RecordingUpstream
) -> None:
    upstream.route("GET", "/items/{id}", json={"id": 7, "owner": 99})
    upstream.route("GET", "/owners/{id}", status=404, json={"detail": "no owner 99", "code": "E404"})
    with api.client() as http:
        answer = http.get("/items/7/owner")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["step"] == "owner"
    assert problem["operation"] == "api.get-item-owner"
    assert problem["upstream"] == "up.get-owner"
    assert problem["upstream_status"] == 404
    assert problem["upstream_body"] == {"detail": "no owner 99", "code": "E404"}
    assert "no owner 99" in problem["detail"]

    result = api.tool("get-item-owner", {"item_id": 7})
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert text.startswith("Step 'owner' failed: Upstream up.get-owner answered HTTP 404: no owner 99")
    assert 'Upstream error body: {"detail":"no owner 99","code":"E404"}' in text


def test_upstream_401_on_the_capabilitys_own_credential_is_502_on_rest_and_mcp(
    api: Served, upstream: RecordingUpstream
) -> None:
    upstream.route("GET", "/items/{id}", status=401, json={"detail": f"bad token {TOKEN}"})
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 502
    problem = answer.json()
    assert problem["type"] == "urn:naftiko:problem:upstream-credentials-refused"
    assert "refused this capability's credentials" in problem["detail"]
    assert TOKEN not in answer.text
    assert "www-authenticate" not in answer.headers

    result = api.tool("get-item", {"item_id": "7"})
    assert result["isError"] is True
    assert "refused this capability's credentials" in result["content"][0]["text"]
    assert TOKEN not in result["content"][0]["text"]


def test_proxy_authentication_required_is_502(api: Served, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=407)
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 502
    assert answer.json()["upstream_status"] == 407


def test_mcp_error_results_carry_field_errors_bounded_and_scrubbed(
    api: Served, upstream: RecordingUpstream
) -> None:
    errors = [{"field": "item_id", "message": f"unknown item {n}"} for n in range(2000)]
    upstream.route(
        "GET", "/items/{id}", status=422, json={"message": f"invalid, key {TOKEN}", "errors": errors}
    )
    result = api.tool("get-item", {"item_id": "7"})
    text = result["content"][0]["text"]
    assert result["isError"] is True
    assert '"errors":[{"field":"item_id","message":"unknown item 0"}' in text
    assert TOKEN not in text
    assert len(text) < 4300  # the body is bounded, and says how much more there was
    assert "more characters)" in text


def test_429_passes_retry_after_and_rate_limit_headers(api: Served, upstream: RecordingUpstream) -> None:
    upstream.route(
        "GET",
        "/items/{id}",
        status=429,
        json={"detail": "slow down"},
        headers={"Retry-After": "7", "RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"},
    )
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.headers["ratelimit-remaining"] == "0"
    assert answer.headers["x-ratelimit-reset"] == "1700000000"
    assert answer.json() == {"detail": "slow down"}

    result = api.tool("get-item", {"item_id": "7"})
    assert "answered HTTP 429: slow down (retry after 7 s)" in result["content"][0]["text"]


def test_503_with_retry_after_is_503_with_retry_after(api: Served, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=503, headers={"Retry-After": "3"})
    with api.client() as http:
        answer = http.get("/items/7")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "3"
    assert answer.json()["retry_after"] == 3

    upstream.route("GET", "/items/{id}", status=503)  # no Retry-After: the upstream failed, 502
    with api.client() as http:
        assert http.get("/items/7").status_code == 502


def test_a_5000_digit_integer_path_value_is_400_not_500(api: Served, upstream: RecordingUpstream) -> None:
    with api.client() as http:
        answer = http.get("/items/" + "9" * 5000)
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["errors"][0]["name"] == "item-id"
    assert "more than 4000 digits" in problem["errors"][0]["reason"]
    assert upstream.requests == []

    result = api.tool("get-item-owner", {"item_id": "9" * 5000})
    assert result["isError"] is True
    assert "item_id" in result["content"][0]["text"]


def test_a_lone_surrogate_in_an_mcp_argument_is_invalid_params(
    api: Served, upstream: RecordingUpstream
) -> None:
    body = (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
        '"params":{"name":"get-item","arguments":{"item_id":"a\\ud800"}}}'
    )
    with api.client() as http:
        answer = http.post(
            "/mcp",
            content=body.encode(),
            headers={"accept": "application/json, text/event-stream", "content-type": "application/json"},
        )
    error = answer.json()["error"]
    assert error["code"] == -32602
    assert "item_id" in error["message"] and "surrogate" in error["message"]
    assert upstream.requests == []
