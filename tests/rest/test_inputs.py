"""Declared inputs in every location, body handling and input errors (tests/rest/capabilities/inputs.yaml).

Each test talks HTTP to the adapter and asserts what reached the recording upstream, or that nothing
did.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from naftiko_runtime.exposes.rest import RestOptions
from tests.support.upstream import RecordingUpstream

from .conftest import CAPABILITIES, RestServer, serve_rest

INPUTS = CAPABILITIES / "inputs.yaml"


@pytest.fixture(scope="module")
def api_server(upstream_server: RecordingUpstream) -> Iterator[RestServer]:
    with serve_rest(
        INPUTS, base_uris={"echo": upstream_server.url}, options=RestOptions(max_body_bytes=1024)
    ) as server:
        yield server


@pytest.fixture
def api(api_server: RestServer, upstream: RecordingUpstream) -> Iterator[httpx.Client]:
    with api_server.client() as client:
        yield client


def problem_errors(answer: httpx.Response) -> list[tuple[str, str | None]]:
    assert answer.headers["content-type"] == "application/problem+json"
    return [(e["name"], e.get("in")) for e in answer.json()["errors"]]


# -- path, query, header, cookie -----------------------------------------------------------------


def test_every_location_reaches_the_upstream(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.get(
        "/items/abc-1",
        params=[("limit", "5"), ("tags", "red"), ("tags", "blue green")],
        headers={"X-Trace": "t-1", "X-Other": "not declared", "Cookie": "other=x; session=a%20b"},
    )

    assert answer.status_code == 200
    request = upstream.last
    assert request.raw_path == "/items/abc-1"
    assert request.query_items == (("limit", "5"), ("tags", "red"), ("tags", "blue green"))
    assert request.headers["x-trace"] == "t-1"
    assert "x-other" not in request.headers
    assert request.headers["cookie"] == "session=a%20b"


def test_percent_encoded_path_values_are_decoded_once_and_re_encoded(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    upstream.route("DELETE", "/items/{id}", status=204)

    answer = api.delete("/items/a%2Fb%20c")

    assert answer.status_code == 204
    assert answer.content == b""
    assert upstream.last.raw_path == "/items/a%2Fb%20c"


def test_required_query_missing_and_pattern_mismatch_are_named(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    answer = api.get("/items/NOT_OK", params={"verbose": "maybe"})

    assert answer.status_code == 400
    assert problem_errors(answer) == [("item-id", "path"), ("limit", "query"), ("verbose", "query")]
    reasons = {e["name"]: e["reason"] for e in answer.json()["errors"]}
    assert reasons["item-id"] == "does not match the pattern ^[a-z0-9-]+$"
    assert reasons["limit"] == "required integer is missing"
    assert answer.json()["operation"] == "api.get-item"
    assert upstream.requests == []


def test_first_value_wins_for_a_repeated_scalar_and_json_arrays_are_accepted(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    answer = api.get("/items/x", params=[("limit", "1"), ("limit", "2"), ("tags", '["a","b"]')])

    assert answer.status_code == 200
    assert upstream.last.query_items == (("limit", "1"), ("tags", "a"), ("tags", "b"))


# -- bodies --------------------------------------------------------------------------------------


def test_body_fields_are_read_from_a_json_object(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", json={"name": "bolt", "count": "3", "labels": ["m6"]})

    assert answer.status_code == 200
    assert upstream.last.json == {"name": "bolt", "count": 3, "labels": ["m6"]}


def test_form_bodies_are_415_never_sent_on_as_json(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", data={"name": "nut", "count": "2"})

    assert answer.status_code == 415
    assert answer.headers["accept-post"] == "application/json"
    assert upstream.requests == []


def test_json_path_extraction_from_the_body(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/users", json={"user": {"id": "123", "name": "Alice"}})

    assert answer.status_code == 200
    assert upstream.last.json == {"id": "123", "name": "Alice"}


def test_whole_body_input(api: httpx.Client, upstream: RecordingUpstream) -> None:
    document = {"title": "x", "nested": {"list": [1, 2]}}

    answer = api.put("/items/k1", json=document)

    assert answer.status_code == 200
    assert upstream.last.method == "PUT"
    assert upstream.last.json == document


def test_missing_required_body_field(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", json={"count": 1})

    assert answer.status_code == 400
    assert problem_errors(answer) == [("name", "body")]
    assert upstream.requests == []


def test_wrong_type_in_body(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", json={"name": "x", "count": "many", "labels": "not-a-list"})

    assert answer.status_code == 400
    assert problem_errors(answer) == [("count", "body"), ("labels", "body")]
    assert upstream.requests == []


def test_malformed_json_is_400(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", content=b'{"name": ', headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    assert problem_errors(answer) == [("body", "body")]
    assert answer.json()["errors"][0]["reason"].startswith("malformed JSON")
    assert upstream.requests == []


def test_a_body_that_is_not_an_object_is_400_for_field_inputs(
    api: httpx.Client, upstream: RecordingUpstream
) -> None:
    answer = api.post("/items", json=[1, 2])

    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"name": "body", "in": "body", "reason": "expected a JSON object, got an array"}
    ]


def test_unsupported_media_type_is_415(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", content=b"<item/>", headers={"Content-Type": "application/xml"})

    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["operation"] == "api.create-item"
    assert upstream.requests == []


def test_body_over_the_limit_is_413_by_content_length(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.post("/items", json={"name": "x" * 2000})

    assert answer.status_code == 413
    assert answer.json()["status"] == 413
    assert upstream.requests == []


def test_chunked_body_over_the_limit_is_413(api_server: RestServer, upstream: RecordingUpstream) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    with api_server.client() as client:
        answer = client.post("/items", content=chunks(), headers={"Content-Type": "application/json"})

    assert answer.status_code == 413
    assert upstream.requests == []


def test_required_whole_body_missing(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.put("/items/k1")

    assert answer.status_code == 400
    assert problem_errors(answer) == [("body", "body")]


def test_a_text_body_is_415_whatever_the_method(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.request(
        "GET", "/items/x?limit=1", content=b"{not json", headers={"Content-Type": "text/plain"}
    )

    assert answer.status_code == 415
    assert upstream.requests == []


# -- mocks ---------------------------------------------------------------------------------------


def test_mock_output_renders_inputs(api: httpx.Client, upstream: RecordingUpstream) -> None:
    answer = api.get("/hello", params={"name": "Nina"})

    assert answer.status_code == 200
    assert answer.json() == {"message": "Hello, Nina!", "source": "mock"}
    assert upstream.requests == []


def test_mock_without_output_is_204(api: httpx.Client) -> None:
    answer = api.post("/noop")

    assert answer.status_code == 204
    assert answer.content == b""
    assert "content-type" not in answer.headers


# -- raw wire details ----------------------------------------------------------------------------


def raw_request(server: RestServer, request: bytes) -> bytes:
    with socket.create_connection((server.server.host, server.server.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_dot_segments_are_not_normalised_into_another_route(
    api_server: RestServer, upstream: RecordingUpstream
) -> None:
    answer = raw_request(
        api_server, b"GET /items/../hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 404")
    assert upstream.requests == []
