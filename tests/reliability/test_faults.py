"""The fault table: every upstream fault × REST and MCP, through ``naftiko serve``.

Each case asserts the status (REST) or the tool result (MCP) issue #12 specifies, a time bound
(the read timeout or the unit's deadline, plus a margin; never the client's own timeout), and that
the server keeps serving: a healthy call right after the fault answers at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.mcp.engine import NaftikoServe

from .conftest import SETTINGS, report
from .faulty import GZIPPED, OK_BODY

MARGIN = 1.5  # seconds over the configured bound: scheduling on a busy two-core machine
HEADERS = {"accept": "application/json", "mcp-protocol-version": "2025-11-25"}


@dataclass(frozen=True)
class Case:
    fault: str
    rest_status: int
    bound: float
    rest_check: Callable[[httpx.Response], bool] = lambda _: True
    mcp_error: bool = True
    mcp_check: Callable[[str], bool] = lambda _: True
    rest_marks: tuple[pytest.MarkDecorator, ...] = field(default=())
    mcp_marks: tuple[pytest.MarkDecorator, ...] = field(default=())


def _json_is(expected: Any) -> Callable[[httpx.Response], bool]:
    return lambda response: response.json() == expected


CASES = [
    Case("refused", 502, 2.0, lambda r: "gone.get-anything" in r.text, True, lambda t: "reached" in t),
    Case(
        "hang", 504, SETTINGS.read_timeout, lambda r: "did not answer" in r.text, True, lambda t: "time" in t
    ),
    Case("stall", 504, SETTINGS.read_timeout, lambda r: "did not answer" in r.text),
    Case("drip", 504, SETTINGS.deadline, lambda r: "faulty.get-fault" in r.text),
    Case("truncate", 502, 2.0, lambda r: "faulty.get-fault" in r.text),
    Case(
        "invalid-json", 502, 2.0, lambda r: "not valid json" in r.text, True, lambda t: "not valid json" in t
    ),
    Case(
        "huge",
        502,
        10.0,
        lambda r: "MiB" in r.text and "faulty.get-fault" in r.text,
        True,
        lambda t: "MiB" in t,
    ),
    Case(
        "huge-chunked",
        502,
        10.0,
        lambda r: "MiB" in r.text and "faulty.get-fault" in r.text,
        True,
        lambda t: "MiB" in t,
    ),
    Case("5xx", 502, 2.0, lambda r: "answered 500" in r.text, True, lambda t: "500" in t),
    Case(
        "429",
        429,
        2.0,
        lambda r: r.headers.get("retry-after") == "7",
        True,
        lambda t: "retry after 7 s" in t,
    ),
    Case(
        "redirect",
        502,
        2.0,
        lambda r: "302" in r.text and "redirects are not followed" in r.text,
        True,
        lambda t: "302" in t and "redirects are not followed" in t,
    ),
    Case("gzip", 200, 2.0, _json_is(GZIPPED), False, lambda t: '"compressed":true' in t),
    Case("204", 204, 2.0, lambda r: r.content == b"", False),
]


def _rest(served: NaftikoServe, fault: str) -> httpx.Response:
    path = "/refused" if fault == "refused" else f"/faults/{fault}"
    return httpx.get(served.url(0, path), timeout=30)


def _mcp(served: NaftikoServe, fault: str) -> dict[str, Any]:
    name, arguments = ("refused", {}) if fault == "refused" else ("fault", {"fault": fault})
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = httpx.post(served.url(1, "/mcp"), json=body, headers=HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _still_serving(served: NaftikoServe) -> float:
    """A healthy call on each adapter right after the fault; returns the slower one's seconds."""
    started = time.monotonic()
    assert _rest(served, "ok").json() == OK_BODY
    rest = time.monotonic() - started
    started = time.monotonic()
    assert _mcp(served, "ok")["isError"] is False
    return max(rest, time.monotonic() - started)


def _params(transport: str) -> list[Any]:
    marks = "rest_marks" if transport == "REST" else "mcp_marks"
    return [pytest.param(case, id=case.fault, marks=getattr(case, marks)) for case in CASES]


def _judge(
    case: Case,
    adapter: str,
    expected: object,
    got: object,
    right: bool,
    took: float,
    healthy: float,
    detail: str,
) -> None:
    """Record the case's row of the fault table, then assert it."""
    bound = case.bound + MARGIN
    verdict = right and took <= bound and healthy < 1.0
    report(
        "fault table",
        fault=case.fault,
        adapter=adapter,
        expected=expected,
        got=got,
        seconds=f"{took:.2f}",
        bound=f"{bound:.1f}",
        serving_after="yes" if healthy < 1.0 else f"slow ({healthy:.2f} s)",
        result="right" if verdict else "WRONG",
    )
    assert right, f"expected {expected}, got {got}: {detail}"
    assert took <= bound
    assert healthy < 1.0


@pytest.mark.parametrize("case", _params("REST"))
def test_rest_fault(served: NaftikoServe, case: Case) -> None:
    started = time.monotonic()
    response = _rest(served, case.fault)
    took = time.monotonic() - started
    right = response.status_code == case.rest_status and case.rest_check(response)
    healthy = _still_serving(served)
    _judge(case, "REST", case.rest_status, response.status_code, right, took, healthy, response.text[:500])


@pytest.mark.parametrize("case", _params("MCP"))
def test_mcp_fault(served: NaftikoServe, case: Case) -> None:
    started = time.monotonic()
    result = _mcp(served, case.fault)
    took = time.monotonic() - started
    text = " ".join(block.get("text", "") for block in result.get("content", []))
    right = result["isError"] is case.mcp_error and case.mcp_check(text)
    expected = "isError" if case.mcp_error else "result"
    got = "isError" if result["isError"] else "result"
    _judge(case, "MCP", expected, got, right, took, _still_serving(served), text[:500])
