"""The access line, the log writer, metrics and the coalescing transport, in process.

The fast access line is formatted by hand (no ``LogRecord``); these tests hold it to what the
``logging`` path writes for the same request, in text and JSON, and check that a bind value a client
put in the path is masked.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from naftiko_runtime.binds import Secret
from naftiko_runtime.observability import AccessLog, Metrics, configure, note_unit
from naftiko_runtime.observability import logs as logs_module
from naftiko_runtime.observability.context import add_upstream_ms
from naftiko_runtime.observability.logs import ACCESS, JsonFormatter, LineWriter
from naftiko_runtime.runtime.server import CoalescingTransport

SECRET = "Token s3cret-value"


async def _unit_app(scope: Any, receive: Any, send: Any) -> None:
    note_unit("demo-rest.get-item")
    add_upstream_ms(1.25)
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "client": ("10.0.0.7", 5555), "headers": []}


async def _call(app: AccessLog, path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    await app(_scope(path), receive, send)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """``configure`` writing to a buffer; logger state restored afterwards."""
    stream = io.StringIO()
    monkeypatch.setattr(logs_module, "WRITER", LineWriter(stream))
    saved = {
        name: (
            logging.getLogger(name).handlers,
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in ("naftiko", "uvicorn", "uvicorn.error", "mcp")
    }
    try:
        yield stream
    finally:
        logs_module.WRITER.flush()
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(level)
        monkeypatch.setattr(logs_module, "_access_format", None)


def _access_lines(stream: io.StringIO) -> list[str]:
    logs_module.WRITER.flush()
    return [line for line in stream.getvalue().splitlines() if "naftiko.access" in line]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_fast_access_line_matches_the_logging_path(captured: io.StringIO, fmt: str) -> None:
    configure("info", fmt, [Secret(SECRET)])
    metrics = Metrics()
    app = AccessLog(_unit_app, "rest:demo-rest", metrics)
    asyncio.run(_call(app, "/items/42"))
    fast = _access_lines(captured)

    # The same request through ``logging``: a handler on naftiko.access turns the fast path off.
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    ACCESS.addHandler(handler)
    try:
        asyncio.run(_call(app, "/items/42"))
    finally:
        ACCESS.removeHandler(handler)
    slow = handler.stream.getvalue().splitlines()  # type: ignore[attr-defined]

    assert len(fast) == 1 and len(slow) == 1
    if fmt == "json":
        a, b = json.loads(fast[0]), json.loads(slow[0])
        for entry in (a, b):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("ts"))
            entry.pop("latency_ms")
            entry["message"] = re.sub(r" [\d.]+ms upstream", " Nms upstream", entry["message"])
        assert a == b
        assert a["status"] == 201 and a["unit"] == "demo-rest.get-item" and a["upstream_ms"] == 1.25
        assert list(a) == list(b)  # same keys in the same order
    else:

        def shape(line: str) -> str:
            line = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "<ts> ", line)
            return re.sub(r" [\d.]+ms upstream", " Nms upstream", line)

        assert shape(fast[0]) == shape(slow[0])
        assert shape(fast[0]) == (
            '<ts> INFO    naftiko.access: 10.0.0.7 "GET /items/42" 201 Nms upstream=1.2ms demo-rest.get-item'
        )
    assert metrics.requests == {("rest:demo-rest", "demo-rest.get-item", "201"): 2}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_bind_value_in_the_path_is_masked(captured: io.StringIO, fmt: str) -> None:
    configure("info", fmt, [Secret(SECRET)])
    app = AccessLog(_unit_app, "rest:demo-rest")
    asyncio.run(_call(app, f"/echo/{SECRET}/x"))
    asyncio.run(_call(app, "/echo/Token%20s3cret-value/x"))
    lines = _access_lines(captured)
    assert len(lines) == 2
    assert all("s3cret" not in line for line in lines)
    assert all("/echo/****/x" in line for line in lines)


def test_no_access_line_below_info(captured: io.StringIO) -> None:
    configure("warning", "text")
    asyncio.run(_call(AccessLog(_unit_app, "rest:demo-rest"), "/items/1"))
    assert _access_lines(captured) == []


def test_other_records_are_still_fully_redacted(captured: io.StringIO) -> None:
    configure("info", "json", [Secret(SECRET)])
    logging.getLogger("naftiko.test").warning("upstream said %s", SECRET, extra={"fields": {"echo": SECRET}})
    logs_module.WRITER.flush()
    text = captured.getvalue()
    assert "upstream said ****" in text and "s3cret" not in text


def test_line_writer_keeps_order_on_and_off_the_loop() -> None:
    stream = io.StringIO()
    writer = LineWriter(stream, interval=0.01, max_pending=3)
    writer.write("a\n")  # off the loop: handed over at once

    async def on_loop() -> None:
        for name in "bcdefg":
            writer.write(f"{name}\n")
        await asyncio.sleep(0.05)  # the timer hands over the rest

    asyncio.run(on_loop())
    writer.flush()
    assert stream.getvalue() == "a\nb\nc\nd\ne\nf\ng\n"


def test_metrics_render_counts_and_histograms() -> None:
    metrics = Metrics()
    recorder = metrics.for_adapter("rest:a")
    recorder.record("a.get", 200, 0.002, 0.001)
    recorder.record("a.get", 200, 0.2, None)
    recorder.record("-", 404, 0.0001, None)
    text = metrics.render()
    assert 'naftiko_requests_total{adapter="rest:a",unit="a.get",status="200"} 2' in text
    assert 'naftiko_requests_total{adapter="rest:a",unit="-",status="404"} 1' in text
    assert 'naftiko_request_duration_seconds_count{adapter="rest:a",unit="a.get"} 2' in text
    assert 'naftiko_upstream_duration_seconds_count{adapter="rest:a",unit="a.get"} 1' in text
    assert 'naftiko_upstream_duration_seconds_count{adapter="rest:a",unit="-"}' not in text
    assert 'naftiko_request_duration_seconds_bucket{adapter="rest:a",unit="a.get",le="0.0025"} 1' in text


class _RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0


def test_coalescing_transport_sends_one_write_per_loop_iteration() -> None:
    async def scenario() -> _RecordingTransport:
        real = _RecordingTransport()
        transport = CoalescingTransport(real)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        assert real.writes == [] and transport.get_write_buffer_size() == 40
        await asyncio.sleep(0)
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        transport.write(b"x" * (64 * 1024))  # large writes go out at once
        assert len(real.writes) == 2
        transport.write(b"last")
        transport.close()  # what is pending is sent before closing
        assert real.writes[-1] == b"last" and real.closed
        assert transport.get_extra_info("peername") == ("127.0.0.1", 1)
        return real

    asyncio.run(scenario())
