"""Circuit breaking, concurrency caps, single flight and the TTL cache, per consumed namespace."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.servers import free_port
from tests.support.upstream import RecordingUpstream

from .conftest import serve


def test_the_circuit_opens_fails_fast_shows_degraded_and_closes_after_a_probe(
    upstream: RecordingUpstream,
) -> None:
    down = RecordingUpstream(port=free_port())  # never started: connections are refused
    with serve(down, circuit_failures=2, circuit_cooldown=0.5) as api, api.client() as http:
        assert http.get("/items/1").json()["type"] == "urn:naftiko:problem:upstream-unavailable"
        assert http.get("/items/1").status_code == 502
        started = time.monotonic()
        fast = http.get("/items/1")
        assert time.monotonic() - started < 0.2
        assert fast.status_code == 503
        assert fast.headers["retry-after"] == "1"
        problem = fast.json()
        assert problem["type"] == "urn:naftiko:problem:upstream-circuit-open"
        assert problem["upstream"] == "up.get-item"
        assert "cannot connect" in problem["detail"]

        result = api.tool("get-item", {"item_id": "1"})
        assert result["isError"] is True
        assert "up is failing" in result["content"][0]["text"]
        assert "retry after" in result["content"][0]["text"]

        ready = http.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "DEGRADED"
        assert ready.json()["upstreams"][0]["namespace"] == "up"
        assert ready.json()["upstreams"][0]["circuit"] == "open"
        assert http.get("/status").json()["upstreams"][0]["circuit"] == "open"
        assert 'naftiko_upstream_circuit_state{namespace="up"} 2' in http.get("/metrics").text
        assert 'naftiko_upstream_circuit_opened_total{namespace="up"} 1' in http.get("/metrics").text

        down.start()  # the upstream is back; after the cool-down one probe closes the circuit
        try:
            down.route("GET", "/items/{id}", json={"id": 1})
            time.sleep(0.6)
            assert http.get("/items/1").json() == {"id": 1}
            assert http.get("/health/ready").json()["status"] == "UP"
            assert 'naftiko_upstream_circuit_state{namespace="up"} 0' in http.get("/metrics").text
        finally:
            down.stop()


def test_a_failed_probe_opens_the_circuit_again(upstream: RecordingUpstream) -> None:
    down = RecordingUpstream(port=free_port())
    with serve(down, circuit_failures=1, circuit_cooldown=0.3) as api, api.client() as http:
        assert http.get("/items/1").status_code == 502
        assert http.get("/items/1").status_code == 503
        time.sleep(0.35)
        assert http.get("/items/1").status_code == 502  # the probe: still down
        assert http.get("/items/1").status_code == 503


def test_http_error_statuses_do_not_open_the_circuit(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", status=500)
    with serve(upstream, circuit_failures=2) as api, api.client() as http:
        statuses = [http.get("/items/1").status_code for _ in range(4)]
    assert statuses == [502] * 4
    assert len(upstream.requests) == 4


def test_concurrency_cap_with_a_bounded_queue_refuses_beyond_it(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", json={"ok": True}, delay=0.5)
    with serve(upstream, max_concurrent=1, queue=1, single_flight=False) as api:

        def get(n: int) -> httpx.Response:
            with api.client() as http:
                return http.get(f"/items/{n}")

        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(get, [1, 2, 3]))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 503]
    refused = next(a for a in answers if a.status_code == 503)
    assert refused.json()["type"] == "urn:naftiko:problem:upstream-busy"
    assert refused.headers["retry-after"] == "1"
    assert len(upstream.requests) == 2
    # the two admitted calls went one after the other
    first, second = sorted(r.received_at for r in upstream.requests)
    assert second - first >= 0.45


def test_identical_concurrent_calls_share_one_upstream_request(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", json={"id": 5}, delay=0.4)
    with serve(upstream) as api:

        def get(_: int) -> httpx.Response:
            with api.client() as http:
                return http.get("/items/5")

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, range(8)))
        with api.client() as http:
            shared = http.get("/metrics").text
    assert [a.json() for a in answers] == [{"id": 5}] * 8
    assert len(upstream.requests) == 1
    assert 'naftiko_upstream_shared_total{namespace="up"} 7' in shared


def test_calls_with_different_header_values_are_not_shared(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items", json=[], delay=0.3)
    with serve(upstream) as api:

        def get(tenant: str) -> httpx.Response:
            with api.client() as http:
                return http.get("/items", headers={"X-Tenant": tenant})

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(get, ["a", "b", "a", "b"]))
    assert sorted(r.headers["x-tenant"] for r in upstream.requests) == ["a", "b"]


def test_the_opt_in_cache_honours_its_ttl_and_cache_control(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/1", json={"id": 1})
    upstream.route("GET", "/items/2", json={"id": 2}, headers={"Cache-Control": "no-store"})
    upstream.route("GET", "/items/3", json={"id": 3}, headers={"Cache-Control": "private, max-age=60"})
    upstream.route("GET", "/items/4", json={"id": 4}, headers={"Cache-Control": "max-age=0"})
    with serve(upstream, cache_ttl=0.5) as api, api.client() as http:
        for n in (1, 2, 3, 4):
            for _ in range(3):
                assert http.get(f"/items/{n}").json() == {"id": n}
        time.sleep(0.55)
        http.get("/items/1")  # expired: asked again
        hits = http.get("/metrics").text
    counts = {n: len(upstream.requests_for("GET", f"/items/{n}")) for n in (1, 2, 3, 4)}
    assert counts == {1: 2, 2: 3, 3: 3, 4: 3}
    assert 'naftiko_upstream_cache_hits_total{namespace="up"} 2' in hits


def test_no_cache_without_opting_in(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/items/{id}", json={"id": 1})
    with serve(upstream) as api, api.client() as http:
        for _ in range(3):
            http.get("/items/1")
    assert len(upstream.requests) == 3
