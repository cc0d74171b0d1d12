"""Every endpoint group of the spec's control adapter, over a real socket: off by default where the
schema says so, on when declared, behind the adapter's authentication, and answering as documented.

Reload and ``PUT /scripting`` need a serving process that can swap what it serves: they are in
``tests/reload``; here the adapter is mounted alone (its reload answers 409).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.observability.log_stream import LogHub
from naftiko_runtime.observability.trace_buffer import FinishedSpan, local_buffer
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.servers import ServerThread
from tests.support.test_support import anyio_backend

__all__ = ["anyio_backend"]

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
TOKEN = "control-s3cret-token"

BASE = """\
naftiko: 1.0.0-alpha2
info: {{label: Control test}}
{binds}capability:
  consumes:
    - type: http
      namespace: api
      baseUri: http://127.0.0.1:9
      resources:
        - name: items
          path: /items
          operations:
            - {{name: list-items, method: GET}}
  exposes:
    - type: rest
      namespace: shop
      port: 1
      resources:
        - path: /items
          operations:
            - {{method: GET, name: list-items, call: api.list-items}}
    - type: control
      port: 2
{control}"""


def document(control: str = "", binds: str = "") -> str:
    return BASE.format(control=textwrap.indent(textwrap.dedent(control), "      "), binds=binds)


@contextlib.contextmanager
def control(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """The control adapter of ``text`` on a loopback port, and a client for it."""
    path = tmp_path / "capability.yaml"
    path.write_text(text, encoding="utf-8")
    runtime = Runtime.build(load(path), RuntimeOptions(environ=environ or {}))
    with ServerThread(runtime.asgi_app("control")) as server, httpx.Client(base_url=server.url) as client:
        yield client


# -- every flag: off by default where the schema says so, on when declared ------------------------

FLAGS = [
    # (declaration, endpoint probed, method, on by default)
    ("management: {health: false}", "/health/live", "GET", True),
    ("management: {info: true}", "/status", "GET", False),
    ("management: {info: true}", "/config", "GET", False),
    ("management: {validate: true}", "/config/validate", "POST", False),
    ("management: {reload: true}", "/config/reload", "POST", False),
    ("management: {logs: true}", "/logs", "GET", False),
    ("management: {logs: {level-control: false, stream: true}}", "/logs/stream", "GET", False),
    ("management: {scripting: {enabled: true}}", "/scripting", "GET", False),
    ("observability: {metrics: {local: {enabled: false}}}", "/metrics", "GET", True),
    ("observability: {traces: {local: {enabled: true}}}", "/traces", "GET", False),
]


@pytest.mark.parametrize(("declared", "endpoint", "method", "default_on"), FLAGS)
def test_each_flag_is_off_by_default_where_the_schema_says_and_follows_the_declaration(
    tmp_path: Path, declared: str, endpoint: str, method: str, default_on: bool
) -> None:
    with control(tmp_path, document()) as client:
        default = client.request(method, endpoint, content=b"")
    with control(tmp_path, document(declared)) as client:
        if endpoint == "/logs/stream":
            with client.stream("GET", endpoint) as response:
                declared_status = response.status_code
        else:
            declared_status = client.request(method, endpoint, content=b"").status_code
    # A flag that is on by default is declared off above, and the other way round.
    assert (default.status_code != 404) is default_on, (endpoint, default.status_code)
    assert (declared_status != 404) is (not default_on), (endpoint, declared_status)


def test_logs_object_form_defaults_level_control_on_and_stream_off(tmp_path: Path) -> None:
    with control(tmp_path, document("management: {logs: {}}")) as client:
        assert client.get("/logs").status_code == 200
        assert client.get("/logs/stream").status_code in (404, 405)  # only PUT /logs/{logger} there


def test_observability_disabled_turns_metrics_and_traces_off(tmp_path: Path) -> None:
    with control(tmp_path, document("observability: {enabled: false}")) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/traces").status_code == 404


def test_every_endpoint_is_behind_the_adapters_authentication(tmp_path: Path) -> None:
    text = document(
        f"""\
        authentication: {{type: bearer, token: "{TOKEN}"}}
        management: {{info: true, validate: true, reload: true, logs: true, scripting: {{}}}}
        observability: {{traces: {{local: {{enabled: true}}}}}}
        """
    )
    endpoints = [
        ("GET", "/health/ready"), ("GET", "/status"), ("GET", "/config"), ("POST", "/config/validate"),
        ("POST", "/config/reload"), ("GET", "/logs"), ("PUT", "/logs/naftiko"), ("GET", "/logs/stream"),
        ("GET", "/scripting"), ("PUT", "/scripting"), ("GET", "/metrics"), ("GET", "/traces"),
        ("GET", "/traces/0af7651916cd43dd8448eb211c80319c"),
    ]  # fmt: skip
    with control(tmp_path, text) as client:
        for method, endpoint in endpoints:
            assert client.request(method, endpoint).status_code == 401, endpoint
        assert client.get("/config", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# -- /config -------------------------------------------------------------------------------------


def test_config_reports_each_capability_with_hash_adapters_units_and_masked_binds(tmp_path: Path) -> None:
    binds = "binds:\n  - namespace: env\n    keys: {API_TOKEN: API_TOKEN}\n"
    text = document("management: {info: true}", binds=binds)
    with control(tmp_path, text, environ={"API_TOKEN": "tok-very-secret"}) as client:
        response = client.get("/config")
    assert response.status_code == 200
    assert "tok-very-secret" not in response.text
    body = response.json()
    [capability] = body["capabilities"]
    assert capability["source"].endswith("capability.yaml")
    assert len(capability["sha256"]) == 64
    assert capability["label"] == "Control test"
    assert capability["binds"] == {"env": {"location": "environment", "keys": {"API_TOKEN": "****"}}}
    rest = next(a for a in capability["adapters"] if a["type"] == "rest")
    assert rest["namespace"] == "shop"
    assert [unit["name"] for unit in rest["units"]] == ["GET /items"]
    assert body["reloadable"] is False


# -- /config/validate ----------------------------------------------------------------------------

BROKEN = """\
naftiko: 1.0.0-alpha2
info: {label: Broken}
capability:
  exposes:
    - type: rest
      namespace: shop
      port: 70000
      resources:
        - path: /items
          operations:
            - {method: GET, name: list-items, call: nowhere.list-items}
"""


@pytest.mark.parametrize("text", [BROKEN, document()], ids=["broken", "valid"])
def test_validate_answers_exactly_what_naftiko_validate_format_json_prints(tmp_path: Path, text: str) -> None:
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(text, encoding="utf-8")
    printed = subprocess.run(
        [NAFTIKO, "validate", "--format", "json", str(candidate)], capture_output=True, text=True, check=False
    )
    expected = json.loads(printed.stdout.replace(str(candidate), "<request body>"))
    with control(tmp_path, document("management: {validate: true}")) as client:
        response = client.post("/config/validate", content=text.encode())
        again = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == expected
    assert again.status_code == 200  # nothing served changed
    if text is BROKEN:
        problems = response.json()["files"][0]["problems"]
        assert any(p["line"] == 7 and p["path"].endswith("port") for p in problems), problems


def test_validate_takes_json_too_and_refuses_a_body_over_the_limit(tmp_path: Path) -> None:
    import yaml

    as_json = json.dumps(yaml.safe_load(document()))
    with control(tmp_path, document("management: {validate: true}")) as client:
        ok = client.post("/config/validate", content=as_json, headers={"content-type": "application/json"})
        huge = client.post("/config/validate", content=b"#" * (1 << 20 + 1))
    assert ok.json()["summary"] == {
        "files": 1,
        "ok": 1,
        "errors": 0,
        "warnings": ok.json()["summary"]["warnings"],
    }
    assert huge.status_code == 413
    assert "1048576 bytes" in huge.json()["detail"]


# -- /logs ---------------------------------------------------------------------------------------


def test_logs_lists_levels_and_sets_one_with_400_on_an_unknown_level(tmp_path: Path) -> None:
    with control(tmp_path, document("management: {logs: true}")) as client:
        listing = client.get("/logs").json()
        set_ok = client.put("/logs/naftiko.test-level", json={"level": "debug"})
        bad = client.put("/logs/naftiko", json={"level": "loud"})
        foreign = client.put("/logs/sqlalchemy", json={"level": "DEBUG"})
    assert {"naftiko", "uvicorn", "mcp"} <= {logger["name"] for logger in listing["loggers"]}
    assert set_ok.status_code == 200
    assert set_ok.json() == {"name": "naftiko.test-level", "level": "DEBUG", "effectiveLevel": "DEBUG"}
    assert logging.getLogger("naftiko.test-level").level == logging.DEBUG
    assert bad.status_code == 400 and "loud" in bad.json()["detail"]
    assert foreign.status_code == 404


def _read_events(response: httpx.Response, count: int, timeout: float = 5.0) -> list[dict]:
    events = []
    deadline = time.monotonic() + timeout
    for line in response.iter_lines():
        if line.startswith("data:"):
            events.append(json.loads(line[5:]))
            if len(events) >= count:
                break
        assert time.monotonic() < deadline
    return events


def test_log_stream_sends_records_as_json_events_with_secrets_scrubbed(tmp_path: Path) -> None:
    binds = "binds:\n  - namespace: env\n    keys: {API_TOKEN: API_TOKEN}\n"
    text = document("management: {logs: {stream: true, max-subscribers: 1}}", binds=binds)
    with control(tmp_path, text, environ={"API_TOKEN": "tok-very-secret"}) as client:
        with client.stream("GET", "/logs/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            second = client.get("/logs/stream")  # max-subscribers: 1
            logging.getLogger("naftiko.test-stream").warning("upstream said tok-very-secret is wrong")
            [event] = _read_events(response, 1)
        third_status = None
        deadline = time.monotonic() + 5
        while third_status != 200 and time.monotonic() < deadline:  # free once the server saw it go
            with client.stream("GET", "/logs/stream") as again:
                third_status = again.status_code
            time.sleep(0.05)
    assert second.status_code == 503
    assert "max-subscribers" in second.json()["detail"]
    assert third_status == 200
    assert event["logger"] == "naftiko.test-stream"
    assert event["level"] == "warning"
    assert "tok-very-secret" not in json.dumps(event)
    assert "****" in event["message"] or "[REDACTED]" in event["message"] or "***" in event["message"]


@pytest.mark.anyio
async def test_a_subscriber_that_stops_reading_is_dropped_and_holds_a_bounded_queue() -> None:
    hub = LogHub(max_subscribers=2, queue_size=16)
    slow = hub.subscribe()
    fast = hub.subscribe()
    record = logging.LogRecord("naftiko.x", logging.INFO, __file__, 1, "line %d", (0,), None)
    for _ in range(16):
        hub.emit(record)
        fast.queue.get_nowait()  # this one keeps up
    assert not slow.dropped and slow.queue.qsize() == 16
    hub.emit(record)
    assert slow.dropped and slow not in hub.subscribers
    assert slow.queue.qsize() == 16  # never more than its bound
    assert fast in hub.subscribers
    hub.unsubscribe(fast)
    assert hub not in logging.getLogger("naftiko").handlers  # nobody listens: no handler, no cost


def test_a_stream_client_that_never_reads_is_dropped_over_the_wire(tmp_path: Path) -> None:
    text = document("management: {logs: {stream: true, max-subscribers: 1}}")
    path = tmp_path / "capability.yaml"
    path.write_text(text, encoding="utf-8")
    runtime = Runtime.build(load(path), RuntimeOptions(environ={}))
    with ServerThread(runtime.asgi_app("control")) as server:
        stuck = socket.create_connection((server.host, server.port))
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(f"GET /logs/stream HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode())
        time.sleep(0.3)
        noisy = logging.getLogger("naftiko.test-noisy")
        payload = "x" * 2000
        with httpx.Client(base_url=server.url) as client:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                for _ in range(200):
                    noisy.warning(payload)
                with client.stream("GET", "/logs/stream", timeout=2) as probe:
                    if probe.status_code == 200:
                        break  # the stuck subscriber's slot was freed
                time.sleep(0.05)
            else:
                pytest.fail("a subscriber that never reads was never dropped")
        stuck.close()


# -- /scripting ----------------------------------------------------------------------------------


def test_scripting_shows_the_settings_and_refuses_a_bad_change(tmp_path: Path) -> None:
    text = document("management: {scripting: {timeout: 5000, defaultLanguage: python}}")
    with control(tmp_path, text) as client:
        shown = client.get("/scripting").json()
        bad = client.put("/scripting", json={"timeout": 0})
        unknown = client.put("/scripting", json={"memory": 12})
        alone = client.put("/scripting", json={"timeout": 100})
    assert shown["timeout"] == 5000 and shown["defaultLanguage"] == "python" and shown["enabled"] is True
    assert bad.status_code == 400 and bad.json()["parameter"] == "timeout"
    assert unknown.status_code == 400 and "memory" in unknown.json()["detail"]
    assert alone.status_code == 409  # mounted alone: nothing to rebuild it with


# -- /traces -------------------------------------------------------------------------------------


def _span(
    trace: str, span: str, parent: str | None, name: str, start: int, end: int, **kw: object
) -> FinishedSpan:
    return FinishedSpan(trace, span, parent, name, start, end, **kw)  # type: ignore[arg-type]


def test_traces_lists_filters_and_shows_one_trace_as_a_span_tree(tmp_path: Path) -> None:
    text = document("observability: {traces: {local: {buffer-size: 10}}}")
    with control(tmp_path, text) as client:
        buffer = local_buffer(10)
        ok_id, failed_id = "a" * 32, "b" * 32
        t0 = 1_764_900_000_000_000_000
        # Children end before their root, as a span processor sees them.
        buffer.add(
            _span(ok_id, "2" * 16, "1" * 16, "api.list-items", t0 + 1_000_000, t0 + 5_000_000, kind="client")
        )
        buffer.add(_span(ok_id, "1" * 16, None, "GET /items", t0, t0 + 6_000_000, root=True, kind="server"))
        buffer.add(
            _span(failed_id, "4" * 16, "3" * 16, "tools/call get-item", t0, t0 + 1_000_000, error=True)
        )
        buffer.add(_span(failed_id, "3" * 16, None, "POST /mcp", t0, t0 + 2_000_000, root=True))
        listing = client.get("/traces").json()
        errors = client.get("/traces", params={"status": "error"}).json()
        by_operation = client.get("/traces", params={"operation": "GET /items"}).json()
        one = client.get(f"/traces/{ok_id}").json()
        missing = client.get(f"/traces/{'c' * 32}")
    assert [t["traceId"] for t in listing["traces"]][:2] == [failed_id, ok_id]  # newest first
    assert listing["bufferSize"] == 10
    first = next(t for t in listing["traces"] if t["traceId"] == ok_id)
    assert first == {
        "traceId": ok_id,
        "operation": "GET /items",
        "durationMs": 6.0,
        "status": "OK",
        "spanCount": 2,
        "timestamp": "2025-12-05T02:00:00.000Z",
    }
    assert [t["traceId"] for t in errors["traces"]] == [failed_id]
    assert [t["traceId"] for t in by_operation["traces"]] == [ok_id]
    [root] = one["spans"]
    assert root["name"] == "GET /items" and root["kind"] == "server"
    assert [child["name"] for child in root["children"]] == ["api.list-items"]
    assert missing.status_code == 404


def test_the_trace_buffer_keeps_only_the_last_buffer_size_traces() -> None:
    from naftiko_runtime.observability.trace_buffer import TraceBuffer

    buffer = TraceBuffer(10)
    for index in range(25):
        trace = f"{index:032x}"
        buffer.add(_span(trace, "1" * 16, None, f"op-{index}", index, index + 1, root=True))
    kept = [trace.operation for trace in buffer.traces()]
    assert kept == [f"op-{index}" for index in range(24, 14, -1)]
    assert buffer.get(f"{0:032x}") is None and buffer.get(f"{24:032x}") is not None
    for index in range(100):  # roots that never end cannot hold memory without bound
        buffer.add(_span(f"f{index:031x}", "2" * 16, "1" * 16, "orphan", 0, 1))
    assert len(buffer._open) <= 40
