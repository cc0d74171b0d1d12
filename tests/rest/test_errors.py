"""Upstream outcomes as HTTP answers: statuses kept, 4xx passed through, 5xx/unreachable 502, timeouts 504."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from naftiko_runtime.consumes.transport import TransportSettings
from tests.support.upstream import RecordingUpstream

from .conftest import CAPABILITIES, RestServer, serve_rest

INPUTS = CAPABILITIES / "inputs.yaml"
ITEM = "/items/{id}"


@pytest.fixture(scope="module")
def api_server(upstream_server: RecordingUpstream) -> Iterator[RestServer]:
    settings = TransportSettings(read_timeout=0.3, retries=0)
    with serve_rest(INPUTS, base_uris={"echo": upstream_server.url}, transport=settings) as server:
        yield server


@pytest.fixture
def api(api_server: RestServer, upstream: RecordingUpstream) -> Iterator[httpx.Client]:
    with api_server.client() as client:
        yield client


def get_item(api: httpx.Client) -> httpx.Response:
    return api.get("/items/k1", params={"limit": 1})


def assert_problem(answer: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:naftiko:problem:{kind}"
    assert problem["operation"] == "api.get-item"
    assert "Traceback" not in answer.text
    return problem


def test_success_keeps_the_upstream_status(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/items", json={"id": 9}, status=201)

    answer = api.post("/items", json={"name": "x"})

    assert answer.status_code == 201
    assert answer.json() == {"id": 9}
    assert answer.headers["content-type"] == "application/json"


def test_upstream_204_has_no_body(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("PUT", ITEM, status=204)

    answer = api.put("/items/k1", json={"a": 1})

    assert answer.status_code == 204
    assert answer.content == b""


def test_upstream_4xx_json_passes_through(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("GET", ITEM, json={"error": "gone", "code": 17}, status=410)

    answer = get_item(api)

    assert answer.status_code == 410
    assert answer.json() == {"error": "gone", "code": 17}
    assert answer.headers["content-type"] == "application/json"


def test_upstream_4xx_problem_json_keeps_its_media_type(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    upstream.route(
        "GET",
        ITEM,
        body=b'{"title":"nope","status":409}',
        content_type="application/problem+json",
        status=409,
    )

    answer = get_item(api)

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"title": "nope", "status": 409}


def test_upstream_4xx_text_passes_through_as_text(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("GET", ITEM, text="slow down", status=429)

    answer = get_item(api)

    assert answer.status_code == 429
    assert answer.text == "slow down"
    assert answer.headers["content-type"].startswith("text/plain")


def test_upstream_5xx_is_502_naming_the_operation_without_its_body(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    upstream.route("GET", ITEM, json={"trace": "internal secret stack"}, status=503)

    answer = get_item(api)

    problem = assert_problem(answer, 502, "upstream-error")
    assert problem["upstream"] == "echo.get-item"
    assert problem["upstream_status"] == 503
    assert "internal secret stack" not in answer.text


def test_upstream_timeout_is_504(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("GET", ITEM, json={}, delay=1.0)

    answer = get_item(api)

    problem = assert_problem(answer, 504, "upstream-timeout")
    assert problem["upstream"] == "echo.get-item"


def test_undecodable_upstream_answer_is_502(api: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("GET", ITEM, body=b"{not json", content_type="application/json")

    answer = get_item(api)

    assert_problem(answer, 502, "upstream-invalid-response")


def test_unreachable_upstream_is_502(upstream: RecordingUpstream) -> None:
    with (
        serve_rest(
            INPUTS,
            base_uris={"echo": "http://127.0.0.1:9"},
            transport=TransportSettings(retries=0, connect_timeout=1.0),
        ) as server,
        server.client() as client,
    ):
        answer = get_item(client)

    problem = assert_problem(answer, 502, "upstream-unavailable")
    assert problem["detail"] == "upstream operation echo.get-item could not be reached"
    assert "127.0.0.1" not in answer.text


def test_unit_deadline_is_504(upstream: RecordingUpstream) -> None:
    upstream.route("GET", ITEM, json={}, delay=0.5)
    with (
        serve_rest(
            INPUTS,
            base_uris={"echo": upstream.url},
            unit_deadline_s=0.2,
            transport=TransportSettings(retries=0),
        ) as server,
        server.client() as client,
    ):
        answer = get_item(client)

    assert answer.status_code == 504
    assert answer.json()["operation"] == "api.get-item"
