"""``forward`` resources (tests/rest/capabilities/forward.yaml): what crosses the wire, both ways."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from naftiko_runtime.consumes.forward import PathEscape, remaining_path
from naftiko_runtime.exposes.rest import RestOptions
from tests.support.servers import ServerThread
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .conftest import CAPABILITIES, RestServer, serve_rest

FORWARD = CAPABILITIES / "forward.yaml"
TOKEN = "ntn-secret-42"


@pytest.fixture(scope="module")
def gateway_server(upstream_server: RecordingUpstream) -> Iterator[RestServer]:
    with serve_rest(
        FORWARD,
        base_uris={
            "notion": upstream_server.url + "/v1",
            "open": upstream_server.url + "/base",
            "legacy": upstream_server.url + "/legacy",
        },
        environ={"NOTION_TOKEN": TOKEN, "LEGACY_PASSWORD": "pw"},
        options=RestOptions(max_forward_body_bytes=4096),
    ) as server:
        yield server


@pytest.fixture
def gateway(gateway_server: RestServer, upstream: RecordingUpstream) -> Iterator[httpx.Client]:
    with gateway_server.client() as client:
        yield client


def test_path_query_trusted_headers_and_consumer_credentials(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    upstream.route(
        "GET", "/v1/pages", json={"ok": True}, headers={"X-Upstream": "yes", "Set-Cookie": "a=1"}, status=203
    )

    answer = gateway.get(
        "/notion/pages?filter=a%20b&filter=c&empty=",
        headers={
            "x-trace": "abc-123",
            "Accept": "application/json",
            "X-Untrusted": "nope",
            "Authorization": "Bearer caller-token",
            "Cookie": "session=1",
        },
    )

    assert answer.status_code == 203
    assert answer.json() == {"ok": True}
    assert answer.headers["x-upstream"] == "yes"
    assert answer.headers["set-cookie"] == "a=1"
    request = upstream.last
    assert (request.method, request.raw_path) == ("GET", "/v1/pages")
    assert request.raw_query == "filter=a%20b&filter=c&empty="
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["notion-version"] == "2025-09-03"
    assert request.headers["x-trace"] == "abc-123"
    assert request.headers["accept"] == "application/json"
    for absent in ("x-untrusted", "cookie"):
        assert absent not in request.headers
    assert request.headers["host"] == f"{upstream.host}:{upstream.port}"


def test_body_method_and_entity_headers_are_forwarded(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    upstream.route("PATCH", "/v1/pages/p1", json={"patched": True})

    answer = gateway.patch("/notion/pages/p1", json={"title": "new"})

    assert answer.status_code == 200
    request = upstream.last
    assert request.method == "PATCH"
    assert request.json == {"title": "new"}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["content-length"] == str(len(request.body))


def test_upstream_statuses_pass_through(gateway: httpx.Client, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/v1/missing", json={"object": "error"}, status=404)
    upstream.route("GET", "/v1/broken", text="oops", status=503)

    assert gateway.get("/notion/missing").status_code == 404
    broken = gateway.get("/notion/broken")
    assert broken.status_code == 503
    assert broken.text == "oops"


@pytest.mark.parametrize(
    "path",
    ["/notion/..%2Fadmin", "/notion/%2e%2E/admin", "/notion/a/..%5C..%5Cadmin", "/notion/./pages"],
)
def test_the_path_cannot_climb_above_the_base(
    gateway_server: RestServer, upstream: RecordingUpstream, path: str
) -> None:
    answer = raw_request(
        gateway_server, f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"application/problem+json" in answer
    assert upstream.requests == []


def test_encoded_slashes_stay_inside_their_segment(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    gateway.get("/notion/a%2Fb/c%20d")

    assert upstream.last.raw_path == "/v1/a%2Fb/c%20d"


def test_operation_wins_and_the_forward_takes_the_rest(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    assert gateway.get("/open").json() is True  # one output: its value, unwrapped
    assert upstream.requests == []

    gateway.post(
        "/open", content=b"raw", headers={"Content-Type": "text/plain", "Authorization": "Basic abc"}
    )
    gateway.get("/open/sub/path", headers={"X-Request-Id": "r-1"})

    posted, got = upstream.requests
    assert (posted.method, posted.raw_path, posted.body) == ("POST", "/base", b"raw")
    assert posted.headers["authorization"] == "Basic abc"  # trusted, and the consumer has no credentials
    assert (got.method, got.raw_path, got.headers["x-request-id"]) == ("GET", "/base/sub/path", "r-1")


def test_compressed_answers_are_relayed_decoded(gateway: httpx.Client, upstream: RecordingUpstream) -> None:
    payload = b'{"big": "' + b"z" * 5000 + b'"}'
    upstream.route(
        "GET",
        "/v1/zipped",
        body=gzip.compress(payload),
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )

    answer = gateway.get("/notion/zipped", headers={"Accept-Encoding": "identity"})

    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert answer.content == payload
    assert upstream.last.headers["accept-encoding"] == "identity"


def test_request_body_over_the_forward_limit_is_413(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    answer = gateway.post("/notion/pages", content=b"x" * 5000)

    assert answer.status_code == 413
    assert upstream.requests == []


def test_unreachable_target_is_502(upstream: RecordingUpstream) -> None:
    with (
        serve_rest(
            FORWARD,
            base_uris={"notion": "http://127.0.0.1:9/v1", "open": "http://127.0.0.1:9"},
            environ={"NOTION_TOKEN": TOKEN, "LEGACY_PASSWORD": "pw"},
        ) as server,
        server.client() as client,
    ):
        answer = client.get("/notion/pages")

    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["operation"] == "gateway.forward /notion/{{path}}"
    assert TOKEN not in answer.text


def test_the_answer_streams_without_buffering() -> None:
    release = threading.Event()

    async def slow(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first,"
            while not release.is_set():
                await asyncio.sleep(0.01)
            yield b"second"

        return StreamingResponse(body(), media_type="text/plain")

    upstream_app = Starlette(routes=[Route("/v1/stream", slow)])
    with (
        ServerThread(upstream_app) as slow_upstream,
        serve_rest(
            FORWARD,
            base_uris={"notion": slow_upstream.url + "/v1", "open": slow_upstream.url},
            environ={"NOTION_TOKEN": TOKEN, "LEGACY_PASSWORD": "pw"},
        ) as server,
        server.client() as client,
        client.stream("GET", "/notion/stream") as answer,
    ):
        assert answer.status_code == 200
        chunks = answer.iter_raw()
        assert next(chunks) == b"first,"  # arrives while the upstream is still holding the rest
        release.set()
        assert b"".join(chunks) == b"second"


def raw_request(server: RestServer, request: str) -> bytes:
    with socket.create_connection((server.server.host, server.server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


# -- the path rule on its own --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("pages", "pages"),
        ("a/b/", "a/b/"),
        ("a%2Fb", "a%2Fb"),
        ("caf%C3%A9", "caf%C3%A9"),
        ("a b", "a%20b"),
        ("x%ZZ", "x%25ZZ"),
        ("..foo/bar..", "..foo/bar.."),
    ],
)
def test_remaining_path_reencodes(raw: str, expected: str) -> None:
    assert remaining_path(raw) == expected


@pytest.mark.parametrize("raw", ["..", "a/..", "%2E%2E", "a/%2e", ".", "a/..%2F", "..%5Cx"])
def test_remaining_path_refuses_dot_segments(raw: str) -> None:
    with pytest.raises(PathEscape):
        remaining_path(raw)


def test_chunked_request_body_over_the_forward_limit_is_413(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    answer = gateway.post("/notion/pages", content=chunks())

    assert answer.status_code == 413
    assert all(len(request.body) < 5000 for request in upstream.requests)


def test_chunked_request_body_is_streamed_upstream(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"part-1;"
        yield b"part-2"

    answer = gateway.post("/notion/pages", content=chunks(), headers={"Content-Type": "text/plain"})

    assert answer.status_code == 200
    assert upstream.last.body == b"part-1;part-2"
    assert upstream.last.headers["content-type"] == "text/plain"


def test_credentials_that_need_a_round_trip_are_answered(
    gateway: httpx.Client, upstream: RecordingUpstream
) -> None:
    challenge = 'Digest realm="legacy", nonce="n0nce", qop="auth", algorithm=MD5'

    def digest_only(request: RecordedRequest) -> tuple[int, dict[str, str], object]:
        if not request.headers.get("authorization", "").startswith("Digest "):
            return 401, {"WWW-Authenticate": challenge}, {"detail": "challenge"}
        return 201, {"Content-Type": "application/json"}, {"got": request.text}

    upstream.route("POST", "/legacy/jobs", handler=digest_only)

    answer = gateway.post("/legacy/jobs", content=b"payload", headers={"Content-Type": "text/plain"})

    assert answer.status_code == 201
    assert answer.json() == {"got": "payload"}
    first, second = upstream.requests
    assert "authorization" not in first.headers
    assert second.headers["authorization"].startswith('Digest username="svc", realm="legacy"')
    assert second.body == b"payload"
