"""The test infrastructure itself, exercised with real httpx requests over loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from .servers import ServerThread, free_port, port_is_open, wait_for_port, wait_for_port_closed
from .upstream import RecordedRequest, RecordingUpstream


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def shared_upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as server:
        yield server


@pytest.fixture
def upstream(shared_upstream: RecordingUpstream) -> RecordingUpstream:
    shared_upstream.reset()
    return shared_upstream


def hello_app() -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    async def slow(request: Request) -> PlainTextResponse:
        await asyncio.sleep(float(request.query_params.get("s", "0.3")))
        return PlainTextResponse("done")

    return Starlette(routes=[Route("/", hello), Route("/slow", slow)])


# -- servers.py ------------------------------------------------------------------------------------


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_for_port_and_port_is_open() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        wait_for_port("127.0.0.1", port, timeout=2)
        assert port_is_open("127.0.0.1", port)
    wait_for_port_closed("127.0.0.1", port, timeout=2)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}"):
        wait_for_port("127.0.0.1", port, timeout=0.2)
    assert time.monotonic() - started < 2


def test_server_thread_serves_and_stops() -> None:
    server = ServerThread(hello_app())
    with pytest.raises(RuntimeError):
        server.port  # noqa: B018 - chosen at start
    with server:
        assert server.running
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/").text == "hello"
    assert not server.running
    assert not port_is_open("127.0.0.1", server.port)
    server.stop()  # idempotent


def test_server_thread_restarts_on_the_same_port() -> None:
    with ServerThread(hello_app()) as server:
        port = server.port
        with httpx.Client() as client:  # a keep-alive connection must not block the restart
            assert client.get(server.url + "/").status_code == 200
            server.stop()
            with pytest.raises(httpx.ConnectError):
                client.get(server.url + "/")
            server.start()
            assert server.port == port
            assert client.get(server.url + "/").text == "hello"


def test_server_thread_on_an_explicit_port_and_a_taken_port() -> None:
    port = free_port()
    with ServerThread(hello_app(), port=port) as server:
        assert server.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        with pytest.raises(OSError):
            ServerThread(hello_app(), port=port).start()


def test_server_thread_reports_a_failed_startup() -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("lifespan exploded")
        yield  # pragma: no cover

    server = ServerThread(Starlette(lifespan=broken), lifespan="on")
    with pytest.raises(RuntimeError, match="failed to start"):
        server.start()
    assert not server.running


def test_server_thread_stop_is_graceful_for_in_flight_requests() -> None:
    with ServerThread(hello_app()) as server:
        results: list[httpx.Response] = []
        worker = threading.Thread(target=lambda: results.append(httpx.get(server.url + "/slow?s=0.4")))
        worker.start()
        time.sleep(0.15)  # the request is now in flight
        server.stop()
        worker.join(5)
    assert [r.text for r in results] == ["done"]


@pytest.mark.anyio
async def test_server_thread_from_an_async_test() -> None:
    with ServerThread(hello_app()) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            responses = await asyncio.gather(*(client.get("/") for _ in range(5)))
    assert {r.text for r in responses} == {"hello"}


# -- upstream.py: recording ------------------------------------------------------------------------


def test_records_path_exactly_as_on_the_wire(upstream: RecordingUpstream) -> None:
    # httpx keeps an already-encoded path as it is, so the wire carries %2F and %20 untouched.
    httpx.get(upstream.url + "/files/a%2Fb/IMO%209811000/caf%C3%A9")
    request = upstream.last
    assert request.raw_path == "/files/a%2Fb/IMO%209811000/caf%C3%A9"
    assert request.path == "/files/a/b/IMO 9811000/café"
    assert request.target == request.raw_path


def test_records_query_raw_and_parsed(upstream: RecordingUpstream) -> None:
    httpx.get(upstream.url + "/search?q=a%20b+c&tag=1&tag=2&empty=&flag")
    request = upstream.last
    assert request.raw_query == "q=a%20b+c&tag=1&tag=2&empty=&flag"
    assert request.query == {"q": ["a b c"], "tag": ["1", "2"], "empty": [""], "flag": [""]}
    assert request.query_items == (("q", "a b c"), ("tag", "1"), ("tag", "2"), ("empty", ""), ("flag", ""))
    assert request.query_param("tag") == "1"
    assert request.query_param("missing") is None
    assert request.target == "/search?q=a%20b+c&tag=1&tag=2&empty=&flag"


def test_records_headers_case_insensitive_and_multi_valued(upstream: RecordingUpstream) -> None:
    headers = [("Authorization", "Token abc123"), ("X-Tag", "one"), ("X-Tag", "two")]
    httpx.get(upstream.url + "/h", headers=headers)
    request = upstream.last
    assert request.headers["authorization"] == "Token abc123"
    assert request.headers["AUTHORIZATION"] == "Token abc123"
    assert request.headers.getlist("x-tag") == ["one", "two"]
    assert "cookie" not in request.headers


def test_records_body_json_and_form(upstream: RecordingUpstream) -> None:
    httpx.post(upstream.url + "/runs", json={"project": 1, "project_subset": "All"})
    first = upstream.last
    assert first.method == "POST"
    assert first.is_json and first.json == {"project": 1, "project_subset": "All"}
    assert first.content_type == "application/json"
    assert first.body == b'{"project":1,"project_subset":"All"}'

    httpx.put(upstream.url + "/form", data={"a": "1 2", "b": "x"})
    second = upstream.last
    assert second.form() == {"a": ["1 2"], "b": ["x"]}
    assert not second.is_json and second.json is None

    httpx.request("DELETE", upstream.url + "/raw", content=b"\xff\x00null")
    third = upstream.last
    assert third.body == b"\xff\x00null" and not third.is_json
    assert third.method == "DELETE"

    httpx.post(upstream.url + "/null", content=b"null", headers={"content-type": "application/json"})
    assert upstream.last.is_json and upstream.last.json is None


def test_records_arrival_times_in_order(upstream: RecordingUpstream) -> None:
    before = time.monotonic()
    httpx.get(upstream.url + "/1")
    time.sleep(0.05)
    httpx.get(upstream.url + "/2")
    one, two = upstream.requests
    assert before <= one.received_at < two.received_at <= time.monotonic()
    assert two.received_at - one.received_at >= 0.04
    assert abs(one.timestamp - time.time()) < 5
    assert one.client is not None and one.client[0] == "127.0.0.1"


def test_default_route_echoes_what_it_received(upstream: RecordingUpstream) -> None:
    response = httpx.post(
        upstream.url + "/anything/x%20y?a=1&a=2", json={"k": "v"}, headers={"X-Trace": "t1"}
    )
    assert response.status_code == 200
    echo = response.json()
    assert echo["method"] == "POST"
    assert echo["path"] == "/anything/x y"
    assert echo["raw_path"] == "/anything/x%20y"
    assert echo["query"] == {"a": ["1", "2"]}
    assert echo["headers"]["x-trace"] == "t1"
    assert echo["json"] == {"k": "v"}
    assert upstream.last.route is None


# -- upstream.py: programmed answers ---------------------------------------------------------------


def test_route_with_json_status_headers_and_path_params(upstream: RecordingUpstream) -> None:
    route = upstream.route(
        "GET", "/ships/{imo}", json={"name": "Ever Given"}, status=203, headers={"X-Source": "test"}
    )
    response = httpx.get(upstream.url + "/ships/IMO%209811000")
    assert response.status_code == 203
    assert response.json() == {"name": "Ever Given"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-source"] == "test"
    assert upstream.last.route == "/ships/{imo}"
    assert upstream.last.path_params == {"imo": "IMO 9811000"}
    assert route.hits == 1
    # Wrong method or a deeper path fall through to the echo.
    assert httpx.post(upstream.url + "/ships/1").json()["method"] == "POST"
    assert "path" in httpx.get(upstream.url + "/ships/1/crew").json()


def test_route_with_text_body_and_content_type(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/text", text="plain words")
    upstream.route("GET", "/xml", body="<a>1</a>", content_type="application/xml")
    upstream.route("GET", "/bytes", body=b"\x00\x01", status=202)
    upstream.route("GET", "/none", status=204)
    text = httpx.get(upstream.url + "/text")
    assert text.text == "plain words" and text.headers["content-type"].startswith("text/plain")
    xml = httpx.get(upstream.url + "/xml")
    assert xml.text == "<a>1</a>" and xml.headers["content-type"] == "application/xml"
    raw = httpx.get(upstream.url + "/bytes")
    assert raw.status_code == 202 and raw.content == b"\x00\x01" and "content-type" not in raw.headers
    assert httpx.get(upstream.url + "/none").status_code == 204


def test_route_path_wildcards_and_any_method(upstream: RecordingUpstream) -> None:
    upstream.route("*", "/proxy/{rest:path}", json={"proxied": True})
    assert httpx.delete(upstream.url + "/proxy/a/b/c").json() == {"proxied": True}
    assert upstream.last.path_params == {"rest": "a/b/c"}
    assert httpx.request("PATCH", upstream.url + "/proxy/x").json() == {"proxied": True}


def test_multi_valued_response_headers(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/cookies", text="ok", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    response = httpx.get(upstream.url + "/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_handlers_sync_async_and_failing(upstream: RecordingUpstream) -> None:
    def echo_imo(request: RecordedRequest) -> tuple[int, dict[str, str], object]:
        return 200, {"X-Seen": request.method}, {"imo": request.path_params["imo"]}

    async def created(request: RecordedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        await asyncio.sleep(0)
        return 201, [("Content-Type", "application/vnd.test")], request.body[::-1]

    def broken(request: RecordedRequest) -> tuple[int, None, str]:
        raise ValueError("boom")

    upstream.route("GET", "/ships/{imo}", handler=echo_imo)
    upstream.route("POST", "/reverse", handler=created)
    upstream.route("GET", "/broken", handler=broken)
    first = httpx.get(upstream.url + "/ships/42")
    assert first.json() == {"imo": "42"} and first.headers["x-seen"] == "GET"
    second = httpx.post(upstream.url + "/reverse", content=b"abc")
    assert (second.status_code, second.content, second.headers["content-type"]) == (
        201,
        b"cba",
        "application/vnd.test",
    )
    third = httpx.get(upstream.url + "/broken")
    assert third.status_code == 500 and "boom" in third.json()["error"]
    assert len(upstream.errors) == 1 and "ValueError: boom" in upstream.errors[0]


def test_queued_one_shot_answers_then_the_route(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/flaky", json={"ok": True})
    upstream.enqueue(status=503, json={"detail": "busy"})
    upstream.enqueue(status=502, text="bad gateway")
    assert upstream.pending == 2
    statuses = [httpx.get(upstream.url + "/flaky").status_code for _ in range(4)]
    assert statuses == [503, 502, 200, 200]
    assert upstream.pending == 0


def test_queued_answer_can_target_a_method_and_path(upstream: RecordingUpstream) -> None:
    upstream.enqueue(method="POST", path="/runs/{id}/cancel", status=409)
    assert httpx.get(upstream.url + "/other").status_code == 200  # not consumed
    assert httpx.post(upstream.url + "/runs/7/cancel").status_code == 409
    assert upstream.last.path_params == {"id": "7"}
    assert httpx.post(upstream.url + "/runs/7/cancel").status_code == 200


def test_route_times_and_newer_routes_override(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/x", json="base")
    limited = upstream.route("GET", "/x", json="twice", times=2)
    assert [httpx.get(upstream.url + "/x").json() for _ in range(3)] == ["twice", "twice", "base"]
    assert limited.hits == 2 and limited.exhausted
    upstream.route("GET", "/x", json="newest")
    assert httpx.get(upstream.url + "/x").json() == "newest"


def test_invalid_reply_arguments(upstream: RecordingUpstream) -> None:
    with pytest.raises(ValueError, match="at most one"):
        upstream.route("GET", "/x", json={}, text="also")
    with pytest.raises(ValueError, match="delay"):
        upstream.route("GET", "/x", delay=-1)


def test_delay_makes_a_client_time_out(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/slow", json={"late": True}, delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(upstream.url + "/slow", timeout=0.2)
    assert upstream.last.path == "/slow"  # recorded on arrival, before the delay
    upstream.route("GET", "/slow", json={"late": True}, delay=0.1)
    started = time.monotonic()
    assert httpx.get(upstream.url + "/slow").json() == {"late": True}
    assert time.monotonic() - started >= 0.1


def test_reset_and_clear_requests(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/r", json=1)
    upstream.enqueue(status=500)
    httpx.get(upstream.url + "/r")
    upstream.clear_requests()
    assert upstream.requests == [] and len(upstream.routes) == 1
    upstream.reset()
    assert upstream.routes == [] and upstream.pending == 0
    with pytest.raises(AssertionError, match="received no request"):
        upstream.last  # noqa: B018


def test_requests_for_filters_by_method_and_path(upstream: RecordingUpstream) -> None:
    httpx.get(upstream.url + "/ships/1")
    httpx.post(upstream.url + "/ships/2")
    httpx.get(upstream.url + "/crew/3")
    assert [r.path for r in upstream.requests_for("GET")] == ["/ships/1", "/crew/3"]
    assert [r.path for r in upstream.requests_for(path="/ships/{id}")] == ["/ships/1", "/ships/2"]
    assert [r.path for r in upstream.requests_for("post", "/ships/{id}")] == ["/ships/2"]


# -- upstream.py: down and back up, threads, async -------------------------------------------------


def test_stop_and_restart_on_the_same_port_keeps_routes_and_history() -> None:
    with RecordingUpstream() as upstream:
        url = upstream.url
        upstream.route("GET", "/health", json={"status": "ok"})
        assert httpx.get(url + "/health").status_code == 200
        upstream.stop()
        assert not upstream.running
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/health")
        upstream.start()
        assert upstream.url == url
        assert httpx.get(url + "/health").json() == {"status": "ok"}
        assert len(upstream.requests) == 2


def test_stop_does_not_wait_for_a_long_delay() -> None:
    upstream = RecordingUpstream().start()
    upstream.route("GET", "/hang", json={}, delay=30)
    worker = threading.Thread(target=lambda: _swallow(lambda: httpx.get(upstream.url + "/hang", timeout=10)))
    worker.start()
    upstream.wait_for_requests(1, timeout=5)
    started = time.monotonic()
    upstream.stop()
    worker.join(10)
    assert time.monotonic() - started < 5


def test_concurrent_requests_are_all_recorded(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/n/{i}", handler=lambda r: (200, None, {"i": int(r.path_params["i"])}))

    def call(i: int) -> int:
        return int(httpx.get(f"{upstream.url}/n/{i}").json()["i"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(call, range(40))) == list(range(40))
    assert len(upstream.requests) == 40
    assert {int(r.path_params["i"]) for r in upstream.requests} == set(range(40))


def test_wait_for_requests(upstream: RecordingUpstream) -> None:
    timer = threading.Timer(0.1, lambda: httpx.get(upstream.url + "/later"))
    timer.start()
    try:
        arrived = upstream.wait_for_requests(1, timeout=5)
    finally:
        timer.join()
    assert arrived[0].path == "/later"
    with pytest.raises(TimeoutError, match="1 of 2 requests"):
        upstream.wait_for_requests(2, timeout=0.1)


@pytest.mark.anyio
async def test_upstream_from_an_async_test(upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/api/prompts/{prompt}/runs", json={"id": 1}, status=201)
    async with httpx.AsyncClient(base_url=upstream.url) as client:
        responses = await asyncio.gather(
            *(client.post(f"/api/prompts/{i}/runs", json={"project": i}) for i in range(5))
        )
    assert [r.status_code for r in responses] == [201] * 5
    recorded = await upstream.wait_for_requests_async(5, timeout=5)
    assert sorted(r.json["project"] for r in recorded) == [0, 1, 2, 3, 4]


def _swallow(call: Callable[[], object]) -> None:
    """Run ``call``, ignoring the client error a server shutting down causes."""
    with contextlib.suppress(httpx.HTTPError):
        call()
