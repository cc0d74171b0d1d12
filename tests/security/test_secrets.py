"""#15 item 5: no client-visible byte and no log line carries a bind value, in any encoding it can
take on its way back; upstream errors name the operation and status, never the upstream's address;
log fields are escaped, so a request cannot forge a log line or drive the terminal.

The upstream here is hostile: every error it answers echoes the credentials it received, raw, bare
(without ``Token``), percent-encoded, base64 (standard and URL-safe), as basic-auth base64, and
past the 200th character of a long message (where the old scrubber had already cut the text)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from tests.support.servers import free_port
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .conftest import mcp_call, run_naftiko, serve, write

KEY = "Token secret-token-8d1f"
USER, PASSWORD = "svc-user", "pa:ss-9c3e"
QUERY_KEY = "qkey/5e77&x"
ENV = {"SEC_KEY": KEY, "SEC_USER": USER, "SEC_PASSWORD": PASSWORD, "SEC_QUERY_KEY": QUERY_KEY}

CAPABILITY = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys: {{KEY: SEC_KEY, USER: SEC_USER, PASSWORD: SEC_PASSWORD, QUERY_KEY: SEC_QUERY_KEY}}
capability:
  consumes:
    - type: http
      namespace: keyed
      baseUri: {upstream}/keyed
      authentication: {{type: apikey, key: Authorization, value: "{{{{KEY}}}}"}}
      resources:
        - {{name: echo, path: /echo, operations: [{{name: echo}}]}}
        - {{name: boom, path: /boom, operations: [{{name: boom}}]}}
    - type: http
      namespace: basic
      baseUri: {upstream}/basic
      authentication: {{type: basic, username: "{{{{USER}}}}", password: "{{{{env.PASSWORD}}}}"}}
      resources:
        - {{name: who, path: /who, operations: [{{name: who}}]}}
    - type: http
      namespace: queried
      baseUri: {upstream}/queried
      authentication: {{type: apikey, key: api_key, placement: query, value: "{{{{QUERY_KEY}}}}"}}
      resources:
        - {{name: search, path: /search, operations: [{{name: search}}]}}
    - type: http
      namespace: down
      baseUri: http://127.0.0.1:{closed}/v1
      authentication: {{type: apikey, key: api_key, placement: query, value: "{{{{QUERY_KEY}}}}"}}
      resources:
        - {{name: ping, path: /ping, operations: [{{name: ping}}]}}
  exposes:
    - type: rest
      namespace: leaky-rest
      port: 8080
      resources:
        - {{path: /echo, operations: [{{method: GET, name: echo, call: keyed.echo}}]}}
        - {{path: /boom, operations: [{{method: GET, name: boom, call: keyed.boom}}]}}
        - {{path: /who, operations: [{{method: GET, name: who, call: basic.who}}]}}
        - {{path: /search, operations: [{{method: GET, name: search, call: queried.search}}]}}
        - {{path: /ping, operations: [{{method: GET, name: ping, call: down.ping}}]}}
    - type: mcp
      namespace: leaky-mcp
      port: 9090
      tools:
        - {{name: echo, description: Echo, call: keyed.echo}}
        - {{name: boom, description: Boom, call: keyed.boom}}
        - {{name: who, description: Who, call: basic.who}}
        - {{name: search, description: Search, call: queried.search}}
        - {{name: ping, description: Ping, call: down.ping}}
"""
UNITS = ["echo", "boom", "who", "search", "ping"]


def spellings(value: str) -> set[str]:
    """Every encoding of ``value`` this test looks for (independently of the runtime's list)."""
    bare = value.split(" ", 1)[1] if value.startswith("Token ") else value
    forms: set[str] = set()
    for text in {value, bare}:
        raw = text.encode()
        encoded = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
        percent = quote(text, safe="")
        forms |= {text, percent, percent.lower(), quote_plus(text), json.dumps(text)[1:-1]}
        forms |= {*encoded, *(e.rstrip("=") for e in encoded)}
    return forms


FORBIDDEN = spellings(KEY) | spellings(PASSWORD) | spellings(QUERY_KEY) | spellings(f"{USER}:{PASSWORD}")


def hostile(request: RecordedRequest) -> tuple[int, dict[str, str], dict]:
    """Echo back what the request carried, in every spelling, as the error message."""
    received = request.headers.get("authorization") or request.query_param("api_key") or ""
    echoes = sorted(spellings(received) | {request.target, str(request.headers.get("authorization"))})
    if request.path.startswith("/basic/"):
        received = request.headers["authorization"].split(" ", 1)[1]
        echoes.append(base64.b64decode(received).decode())
    padding = "x" * 190
    message = (
        f"{padding} rejected http://{request.headers['host']}{request.target}?api_key={quote(received)} "
        + " ".join(echoes)
    )
    status = 500 if request.path.endswith("/boom") else 400
    return status, {"X-Echo": quote(received)}, {"message": message, "detail": message, "seen": echoes}


def leaks(text: str) -> list[str]:
    return sorted(form for form in FORBIDDEN if form in text)


def visible(answer: httpx.Response) -> str:
    """Every byte a client sees of an answer: status line, headers and body."""
    head = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    return f"{answer.status_code}\n{head}\n{answer.text}"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_client_visible_byte_or_log_line_carries_a_bind_value(
    tmp_path: Path, upstream: RecordingUpstream, log_format: str
) -> None:
    upstream.route("*", "/{rest:path}", handler=hostile)
    capability = write(tmp_path, CAPABILITY.format(upstream=upstream.url, closed=free_port()))
    seen: list[str] = []
    with serve(capability, "--log-format", log_format, "--log-level", "debug", env=ENV) as served:
        rest, mcp = served.url("leaky-rest"), served.url("leaky-mcp")
        for unit in UNITS:
            answer = httpx.get(f"{rest}/{unit}", timeout=30)
            assert answer.status_code >= 400
            seen.append(visible(answer))
            result = mcp_call(mcp, unit, {})
            seen.append(json.dumps(result))
            text = result["result"]["content"][0]["text"]
            assert result["result"]["isError"] is True
            # the operation and the status, never the upstream's address
            assert "127.0.0.1" not in text and "http://" not in text and str(upstream.port) not in text
        log = served.stop()
    for unit in UNITS:
        done = run_naftiko("call", str(capability), f"leaky-mcp.{unit}", env=ENV)
        assert done.returncode in (2, 3)
        seen.append(done.stdout + done.stderr)
    # Every unit really sent its credential, and the upstream really echoed it.
    assert {r.path.split("/")[1] for r in upstream.requests} == {"keyed", "basic", "queried"}
    assert all(leak == [] for leak in map(leaks, seen)), [leaks(s) for s in seen]
    assert leaks(log) == [], leaks(log)
    assert any("****" in text for text in seen)  # what the upstream said reached the client, masked


def test_an_upstream_message_is_scrubbed_whole_before_it_is_cut(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    """The reported case: the message was cut at 200 characters first, leaving
    ``?api_key=Token%20secret-to`` to the client and the log."""
    upstream.route("*", "/{rest:path}", handler=hostile)
    capability = write(tmp_path, CAPABILITY.format(upstream=upstream.url, closed=free_port()))
    done = run_naftiko("call", str(capability), "leaky-mcp.echo", env=ENV)
    assert done.returncode == 3
    assert "api_key=****" in done.stderr
    assert not re.search(r"api_key=Token%20secret-to", done.stderr)
    assert leaks(done.stderr) == []


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_request_cannot_forge_a_log_line_or_reach_the_terminal(
    tmp_path: Path, upstream: RecordingUpstream, log_format: str
) -> None:
    upstream.route("*", "/{rest:path}", json={})
    capability = write(tmp_path, CAPABILITY.format(upstream=upstream.url, closed=free_port()))
    forged = '2026-01-01 00:00:00 INFO    naftiko.access: 10.0.0.1 "GET /admin" 200'
    with serve(capability, "--log-format", log_format, env=ENV) as served:
        rest = served.url("leaky-rest")
        httpx.get(f"{rest}/echo%0a{quote(forged)}", timeout=20)
        httpx.get(f"{rest}/echo%0d%0a%1b[31mred%1b[0m%e2%80%a8x", timeout=20)
        log = served.stop()
    lines = log.splitlines()
    assert "\x1b" not in log and "\u2028" not in log and "\r" not in log
    assert not any(line.startswith(forged) for line in lines)
    records = [line for line in lines if line.startswith(("{", "20"))]  # after the startup banner
    if log_format == "json":
        access = [json.loads(line) for line in records if "naftiko.access" in line]
        assert [entry["path"] for entry in access] == [
            f"/echo\\n{forged}",
            "/echo\\r\\n\\x1b[31mred\\x1b[0m\\u2028x",
        ]
    else:
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]+ ", line) for line in records)
        assert f'"GET /echo\\n{forged}" 404' in log and "/echo\\r\\n\\x1b[31mred" in log
