"""JSON-RPC fuzzing of the MCP adapter through ``naftiko serve``: malformed bodies, batches, wrong
types, huge ids, odd headers, non-UTF-8 bytes, lone surrogates in arguments (hypothesis).

Every answer must be a protocol answer (2xx/4xx, a JSON-RPC message when there is a body), never a
5xx; the server log must hold no traceback; and the server must still answer a plain call after.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mcp.engine import NaftikoServe

from .conftest import SETTINGS, report

MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "server/discover",
    "notifications/initialized",
]
ANSWERED = {200, 202, 400, 404, 405, 406, 413, 415}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
# Text with lone surrogates: valid JSON escapes (``"\ud800"``) that are not valid Unicode.
odd_text = st.one_of(
    st.text(max_size=40), st.sampled_from(["\ud800", "a\udfffb", "\x00", "é" * 50, "9" * 5000])
)


@st.composite
def tool_params(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(["fault", "refused", "nope", "", "f" * 300]) | json_values)
    arguments = draw(
        st.one_of(
            st.fixed_dictionaries({"fault": odd_text}),
            st.dictionaries(odd_text, json_values, max_size=3),
            json_values,
        )
    )
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    meta = draw(st.sampled_from([None, ENVELOPE, {"progressToken": "t"}, "x", {}]))
    if meta is not None:
        params["_meta"] = meta
    return params


@st.composite
def messages(draw: st.DrawFn) -> Any:
    message: dict[str, Any] = {}
    if draw(st.booleans()) or draw(st.booleans()):
        message["jsonrpc"] = draw(st.sampled_from(["2.0"]) | scalars)
    if draw(st.booleans()) or draw(st.booleans()):
        message["id"] = draw(scalars)
    message["method"] = draw(st.sampled_from(METHODS) | scalars)
    if draw(st.booleans()):
        message["params"] = draw(tool_params() | json_values)
    return message


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["message", "batch", "bytes", "truncated", "latin-1", "scalar"]))
    if kind == "message":
        return json.dumps(draw(messages())).encode()
    if kind == "batch":
        return json.dumps(draw(st.lists(messages(), max_size=4))).encode()
    if kind == "truncated":
        encoded = json.dumps(draw(messages())).encode()
        return encoded[: draw(st.integers(0, max(len(encoded) - 1, 0)))]
    if kind == "latin-1":
        text = json.dumps(draw(messages()), ensure_ascii=False)
        return text.replace('"', '"\xff', 1).encode("latin-1", errors="replace")
    if kind == "scalar":
        return json.dumps(draw(json_values)).encode()
    return draw(st.binary(max_size=200))


header_values = st.sampled_from(
    [
        None,
        "application/json",
        "text/event-stream",
        "application/json, text/event-stream",
        "*/*",
        "text/html",
        "",
        "application/json; charset=latin-1",
        "\x7f",
        ",,,;;;",
    ]
)
versions = st.sampled_from([None, "2025-11-25", "2025-03-26", MODERN, "1999-01-01", "", "x" * 200])


@st.composite
def header_sets(draw: st.DrawFn) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, values in (
        ("accept", header_values),
        ("content-type", header_values),
        ("mcp-protocol-version", versions),
        ("mcp-method", st.sampled_from([None, "tools/call", "ping", "x"])),
        ("mcp-name", st.sampled_from([None, "fault", "other"])),
        ("mcp-session-id", st.sampled_from([None, "abc", "x" * 500])),
    ):
        value = draw(values)
        if value is not None:
            headers[name] = value
    return headers


def test_mcp_answers_every_message_without_a_5xx(served: NaftikoServe) -> None:
    url = served.url(1, "/mcp")
    seen = {"cases": 0, "5xx": 0}
    with httpx.Client(timeout=30) as client:

        @settings(
            max_examples=SETTINGS.fuzz_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )
        @given(body=bodies(), headers=header_sets())
        def probe(body: bytes, headers: dict[str, str]) -> None:
            response = client.post(url, content=body, headers=headers)
            seen["cases"] += 1
            if response.status_code >= 500:
                seen["5xx"] += 1
            assert response.status_code in ANSWERED, (body[:300], headers, response.text[:300])
            if response.text == "Invalid HTTP request received.":
                return  # not HTTP at all (a control character in a header): uvicorn's own 400
            if response.content:
                answer = response.text
                if response.headers.get("content-type") == "text/event-stream":
                    answer = answer.rsplit("data: ", 1)[-1]
                try:
                    assert json.loads(answer)["jsonrpc"] == "2.0"
                except ValueError:
                    raise AssertionError(
                        (body[:300], headers, response.status_code, response.text[:300])
                    ) from None

        try:
            probe()
        finally:
            tracebacks = served.log().count("Traceback")
            report(
                "fuzzing",
                target="MCP JSON-RPC",
                cases=seen["cases"],
                runtime_5xx=seen["5xx"],
                tracebacks=tracebacks,
            )
    assert tracebacks == 0, served.log()[-3000:]
    healthy = httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "fault", "arguments": {"fault": "ok"}},
        },
        headers={"accept": "application/json"},
    )
    assert healthy.json()["result"]["isError"] is False
