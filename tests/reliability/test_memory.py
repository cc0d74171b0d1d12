"""Memory returns after huge upstream answers (issue #12, item 1), on a real ``naftiko serve``.

The server runs with a small ``--max-upstream-body`` (1 MiB) over an upstream that answers 200 MiB,
with ``Content-Length`` and chunked, several times over REST and MCP. Every answer must be the
502 / ``isError`` naming the operation and the limit; the upstream must see its connection dropped
long before the end of the body; and the server's resident memory, read from ``/proc`` while the
calls run and after them, must stay within :data:`BOUND_MB` of what it was before. Reading one such
body whole would take 200 MB at least, so the bound fails on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mcp.engine import NaftikoServe

from .conftest import DOCUMENT, LONG, report
from .faulty import FaultyUpstream, dead_port

HUGE = 200 * 1024 * 1024
LIMIT = "1MiB"
LIMIT_BYTES = 1024 * 1024
ROUNDS = 10 if LONG else 3  # each round: REST and MCP, with Content-Length and chunked
BOUND_MB = 48.0
HEADERS = {"accept": "application/json", "mcp-protocol-version": "2025-11-25"}


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


class _Peak:
    """The largest resident set of a process, sampled every few milliseconds on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.kb = max(self.kb, _status_kb(self.pid, "VmRSS"))
            time.sleep(0.002)

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture(scope="module")
def huge_upstream() -> Iterator[FaultyUpstream]:
    with FaultyUpstream(huge_bytes=HUGE) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def bounded(huge_upstream: FaultyUpstream) -> Iterator[NaftikoServe]:
    base_uris = {"faulty": huge_upstream.url, "gone": f"http://127.0.0.1:{dead_port()}"}
    args = ["--max-upstream-body", LIMIT, "--read-timeout", "10", "--deadline", "30"]
    with NaftikoServe(DOCUMENT, base_uris=base_uris, extra_args=args, wait_port=None) as serve:
        yield serve


def _rest(serve: NaftikoServe, fault: str) -> httpx.Response:
    return httpx.get(serve.url(0, f"/faults/{fault}"), timeout=60)


def _mcp(serve: NaftikoServe, fault: str) -> dict[str, object]:
    params = {"name": "fault", "arguments": {"fault": fault}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    answer = httpx.post(serve.url(1, "/mcp"), json=body, headers=HEADERS, timeout=60)
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert isinstance(result, dict)
    return result


def _check_rest(answer: httpx.Response) -> None:
    assert answer.status_code == 502, answer.text[:300]
    problem = answer.json()
    assert problem["upstream"] == "faulty.get-fault"
    assert problem["max-upstream-body"] == LIMIT_BYTES
    assert "more than --max-upstream-body allows (1MiB" in problem["detail"]


def _check_mcp(result: dict[str, object]) -> None:
    assert result["isError"] is True
    content = result["content"]
    assert isinstance(content, list)
    text = content[0]["text"]
    assert "faulty.get-fault" in text and "more than --max-upstream-body allows (1MiB" in text, text


def test_memory_returns_after_huge_answers(bounded: NaftikoServe, huge_upstream: FaultyUpstream) -> None:
    assert bounded.proc is not None
    pid = bounded.proc.pid
    # Warm up both adapters (imports, pools, allocator arenas) on small answers, then measure.
    for _ in range(5):
        assert _rest(bounded, "ok").status_code == 200
        assert _mcp(bounded, "ok")["isError"] is False
    before = _status_kb(pid, "VmRSS")
    huge_upstream.huge_sent.clear()
    started = time.monotonic()
    with _Peak(pid) as peak:
        for _ in range(ROUNDS):
            for fault in ("huge", "huge-chunked"):
                _check_rest(_rest(bounded, fault))
                _check_mcp(_mcp(bounded, fault))
    took = time.monotonic() - started
    time.sleep(0.2)
    after = _status_kb(pid, "VmRSS")
    calls = 4 * ROUNDS
    # Still serving, and the upstream never got to send more than a sliver of any body.
    assert _rest(bounded, "ok").status_code == 200
    assert len(huge_upstream.huge_sent) == calls
    most_sent = max(huge_upstream.huge_sent)
    report(
        "memory after huge answers",
        calls=f"{calls} (REST and MCP, Content-Length and chunked)",
        body=f"{HUGE // (1024 * 1024)} MiB",
        limit=LIMIT,
        seconds=f"{took:.1f}",
        most_sent_mb=f"{most_sent / 1e6:.1f}",
        rss_before_mb=f"{before / 1024:.1f}",
        rss_peak_mb=f"{max(peak.kb, after) / 1024:.1f}",
        rss_after_mb=f"{after / 1024:.1f}",
        bound=f"+{BOUND_MB:.0f} MB",
    )
    assert most_sent < HUGE // 4, f"the upstream sent {most_sent} bytes of {HUGE}: the body was drained"
    assert (max(peak.kb, after) - before) / 1024 < BOUND_MB
    assert (after - before) / 1024 < BOUND_MB
