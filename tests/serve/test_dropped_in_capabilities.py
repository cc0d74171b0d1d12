"""Capabilities a user writes from the spec, served against a recording upstream (issue #15).

Each case the issue reproduced, rerun: what reached the upstream, what the caller got back, or the
located error that now stops the document before anything is served. Crashes and refusals of the
command line run ``naftiko`` itself (a subprocess, or ``main`` in process for ``call``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from naftiko_runtime.cli import main
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.mcp.engine import EngineServer
from tests.mcp.test_http_protocol import rpc
from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

NAFTIKO = Path(sys.executable).parent / "naftiko"


def capability(consumes: str, exposes: str, *, extra: str = "") -> str:
    """A document with one consumed namespace ``api`` (its resources given) and the given adapters."""
    return (
        "naftiko: 1.0.0-alpha2\ninfo: {label: dropped in}\n"
        + textwrap.dedent(extra)
        + "capability:\n  consumes:\n  - type: http\n    namespace: api\n    baseUri: http://api.invalid\n"
        + textwrap.indent(textwrap.dedent(consumes), "    ")
        + "  exposes:\n"
        + textwrap.indent(textwrap.dedent(exposes), "  ")
    )


@contextlib.contextmanager
def served(tmp_path: Path, text: str, upstream: RecordingUpstream, namespace: str) -> Iterator[str]:
    """Adapter ``namespace`` of ``text`` on a loopback port, its consumes pointed at ``upstream``."""
    path = tmp_path / "capability.yaml"
    path.write_text(text, encoding="utf-8")
    runtime = Runtime.build(load(path), RuntimeOptions(base_uris={"api": upstream.url}))
    with EngineServer(runtime, runtime.asgi_app(namespace)) as server:
        yield server.url


def tool_call(url: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    response = rpc(url + "/mcp", "tools/call", {"name": name, "arguments": arguments}).json()
    return response["result"]


# --- 8. the body rule -------------------------------------------------------------------------------

GITHUB_ISSUES = """\
resources:
- name: issues
  path: /repos/{{owner}}/{{repo}}/issues
  operations:
  - name: create-issue
    method: POST
    inputParameters:
    - {name: title, in: body}
    - {name: body, in: body}
"""


def test_github_issue_payload_title_and_body_reaches_the_upstream_as_members(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        GITHUB_ISSUES,
        """\
        - type: rest
          namespace: issues-rest
          port: 8080
          resources:
          - path: /repos/{{owner}}/{{repo}}/issues
            operations:
            - method: POST
              name: create-issue
              call: api.create-issue
              inputParameters:
              - {name: owner, in: path, type: string, description: owner}
              - {name: repo, in: path, type: string, description: repository}
              - {name: title, in: body, type: string, description: title}
              - {name: body, in: body, type: string, description: text of the issue}
        """,
    )
    upstream.route("POST", "/repos/octo/hello/issues", status=201, json={"number": 7})
    with served(tmp_path, text, upstream, "issues-rest") as url:
        answer = httpx.post(f"{url}/repos/octo/hello/issues", json={"title": "Crash", "body": "Steps: 1"})
        openapi = httpx.get(f"{url}/openapi.json").json()
    assert answer.status_code == 201, answer.text
    assert upstream.last.json == {"title": "Crash", "body": "Steps: 1"}
    schema = openapi["paths"]["/repos/{owner}/{repo}/issues"]["post"]["requestBody"]["content"]
    body = schema["application/json"]["schema"]
    assert body["type"] == "object"
    assert set(body["properties"]) == {"title", "body"}
    assert body["properties"]["body"]["type"] == "string"


# --- 9. output shaping per the schema ----------------------------------------------------------------


def test_const_is_not_used_at_run_time_and_value_takes_precedence_over_mapping(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "resources:\n- name: runs\n  path: /runs/1\n  operations:\n  - {name: get-run, method: GET}\n",
        """\
        - type: rest
          namespace: runs-rest
          port: 8080
          resources:
          - path: /runs/1
            operations:
            - method: GET
              name: get-run
              call: api.get-run
              outputParameters:
              - {name: status, type: string, mapping: $.status, const: completed}
              - {name: source, type: string, mapping: $.source, value: naftiko}
        """,
    )
    upstream.route("GET", "/runs/1", json={"status": "failed", "source": "upstream"})
    with served(tmp_path, text, upstream, "runs-rest") as url:
        got = httpx.get(f"{url}/runs/1").json()
    assert got == {"status": "failed", "source": "naftiko"}


# --- 10. scalar arrays, ref inputs, unset optionals -----------------------------------------------------


def test_a_scalar_array_in_an_orchestrated_output_stays_a_scalar_array(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "resources:\n- name: issue\n  path: /issues/1\n  operations:\n  - {name: get-issue, method: GET}\n",
        """\
        - type: mcp
          namespace: issues-mcp
          port: 9090
          tools:
          - name: issue-labels
            description: labels of issue 1
            steps:
            - {type: call, name: fetch, call: api.get-issue}
            mappings:
            - {targetName: labels, value: $.fetch.labels}
            outputParameters:
            - name: labels
              type: array
              items:
              - {name: label, type: string}
        """,
    )
    upstream.route("GET", "/issues/1", json={"labels": ["bug", "ui"]})
    with served(tmp_path, text, upstream, "issues-mcp") as url:
        got = tool_call(url, "issue-labels", {})
    assert got["isError"] is False
    assert got["structuredContent"] == {"labels": ["bug", "ui"]}


def test_a_rest_operation_with_ref_enforces_the_functions_required_input(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "resources:\n- name: issues\n  path: /issues\n  operations:\n"
        "  - name: list-issues\n    method: GET\n    inputParameters:\n    - {name: state, in: query}\n",
        """\
        - type: rest
          namespace: issues-rest
          port: 8080
          resources:
          - path: /issues
            operations:
            - method: GET
              ref: issues.list-issues
              inputParameters:
              - {name: state, in: query, type: string, description: open or closed}
        """,
        extra="",
    ).replace(
        "  exposes:\n",
        "  aggregates:\n  - namespace: issues\n    functions:\n    - name: list-issues\n"
        "      description: issues by state\n      call: api.list-issues\n"
        "      with: {state: issues.state}\n      inputParameters:\n"
        "      - {name: state, type: string, description: open or closed}\n  exposes:\n",
    )
    upstream.route("GET", "/issues", json=[])
    with served(tmp_path, text, upstream, "issues-rest") as url:
        refused = httpx.get(f"{url}/issues")
        accepted = httpx.get(f"{url}/issues?state=open")
    assert refused.status_code == 400
    assert "state" in refused.text
    assert accepted.status_code == 200
    assert [r.target for r in upstream.requests] == ["/issues?state=open"]  # the refused one never went out


UNSET = """\
resources:
- name: forecasts
  path: /forecasts
  operations:
  - name: json-text
    method: POST
    inputParameters:
    - {name: since, in: query}
    - {name: X-Trace, in: header}
    body: '{"city": "{{city}}", "days": {{days}}, "unit": "{{unit}}", "note": "in {{unit}}"}'
  - name: json-object
    method: POST
    body: {type: json, data: {city: "{{city}}", days: "{{days}}", unit: "{{unit}}"}}
  - name: form
    method: POST
    body: {type: formUrlEncoded, data: "city={{city}}&days={{days}}&unit={{unit}}"}
"""


@pytest.mark.parametrize("operation", ["json-text", "json-object", "form"])
def test_unset_optional_inputs_are_left_out_of_every_request_part(
    tmp_path: Path, upstream: RecordingUpstream, operation: str
) -> None:
    text = capability(
        UNSET,
        f"""\
        - type: mcp
          namespace: weather-mcp
          port: 9090
          tools:
          - name: forecast
            description: forecast
            call: api.{operation}
            inputParameters:
            - {{name: city, type: string, description: city}}
            - {{name: days, type: integer, description: days, required: false}}
            - {{name: unit, type: string, description: unit, required: false}}
            - {{name: since, type: string, description: since, required: false}}
            - {{name: X-Trace, type: string, description: trace, required: false}}
        """,
    )
    with served(tmp_path, text, upstream, "weather-mcp") as url:
        assert tool_call(url, "forecast", {"city": "Oslo"})["isError"] is False
        assert tool_call(url, "forecast", {"city": "Oslo", "days": 3, "unit": None})["isError"] is False
    first, second = upstream.requests
    assert first.raw_query == "" and "x-trace" not in first.headers
    if operation == "form":
        assert (first.form(), second.form()) == ({"city": ["Oslo"]}, {"city": ["Oslo"], "days": ["3"]})
    else:
        expected = {"city": "Oslo", "note": "in "} if operation == "json-text" else {"city": "Oslo"}
        assert first.json == expected
        assert second.json == {**expected, "days": 3}


def test_an_optional_prompt_argument_left_out_is_empty_text(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "resources: []\n",
        """\
        - type: mcp
          namespace: weather-mcp
          port: 9090
          prompts:
          - name: forecast
            description: ask for a forecast
            arguments:
            - {name: city, description: city, required: true}
            - {name: days, description: days, required: false}
            template:
            - {role: user, content: "Forecast for {{city}} over {{days}} days"}
        """,
    )
    with served(tmp_path, text, upstream, "weather-mcp") as url:
        response = rpc(
            url + "/mcp", "prompts/get", {"name": "forecast", "arguments": {"city": "Oslo"}}
        ).json()
    assert response["result"]["messages"][0]["content"]["text"] == "Forecast for Oslo over  days"


# --- 11. forward, call targets, --base-uri ----------------------------------------------------------------


def test_the_forward_proxy_keeps_the_consumers_cookie_and_answers_with_one_date(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "inputParameters:\n- {name: session, in: cookie, value: s-42}\nresources: []\n",
        """\
        - type: rest
          namespace: proxy
          port: 8080
          resources:
          - path: /api/{{path}}
            forward: {targetNamespace: api, trustedHeaders: [Cookie]}
        """,
    )
    upstream.route("GET", "/things", json={"ok": True}, headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"})
    with served(tmp_path, text, upstream, "proxy") as url:
        answer = httpx.get(f"{url}/api/things", headers={"Cookie": "theme=dark; session=caller"})
    assert answer.status_code == 200
    assert upstream.last.headers["cookie"] == "theme=dark; session=s-42"
    assert len(answer.headers.get_list("date")) == 1
    assert answer.headers["date"] != "Mon, 01 Jan 2024 00:00:00 GMT"


AMBIGUOUS = capability(
    "resources:\n- name: items\n  path: /items\n  operations:\n  - {name: list-items, method: GET}\n",
    """\
    - type: mcp
      namespace: tools
      port: 9090
      tools:
      - {name: list, description: list items, call: api.list-items}
    - type: rest
      namespace: api-rest
      port: 8080
      resources:
      - path: /items
        operations:
        - {method: GET, name: list, call: api.list-items}
    """,
)


def call(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``naftiko call`` on AMBIGUOUS, in process: the exit code and what it printed on stderr."""
    path = tmp_path / "capability.yaml"
    path.write_text(AMBIGUOUS, encoding="utf-8")
    capsys.readouterr()
    code = main(["call", str(path), *argv])
    return code, capsys.readouterr().err


def test_an_ambiguous_call_target_is_an_error_listing_the_qualified_names(
    tmp_path: Path, upstream: RecordingUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = call(tmp_path, capsys, "list", "--base-uri", f"api={upstream.url}")
    assert code == 2
    assert "'list' names 2 units: MCP tool tools.list, REST operation api-rest.list" in err
    assert upstream.requests == []
    upstream.route("GET", "/items", json=["a"])
    assert call(tmp_path, capsys, "api-rest.list", "--base-uri", f"api={upstream.url}")[0] == 0
    assert [r.path for r in upstream.requests] == ["/items"]


def test_a_base_uri_naming_an_unknown_namespace_is_an_error_naming_the_known_ones(
    tmp_path: Path, upstream: RecordingUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = call(tmp_path, capsys, "tools.list", "--base-uri", f"apx={upstream.url}")
    assert code == 2
    assert "--base-uri names no consumed namespace 'apx' (consumed namespaces: api)" in err
    assert upstream.requests == []


# --- 12. a typed mock tool ------------------------------------------------------------------------------


def test_a_typed_mock_tool_advertises_the_output_schema_its_structured_content_follows(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    text = capability(
        "resources: []\n",
        """\
        - type: mcp
          namespace: mock-mcp
          port: 9090
          tools:
          - name: greet
            description: a greeting
            inputParameters:
            - {name: who, type: string, description: who}
            outputParameters:
            - {name: greeting, type: string, value: "Hello {{who}}"}
            - {name: count, type: integer, value: "3"}
          - name: hello
            description: one greeting
            outputParameters:
            - {name: greeting, type: string, value: Hello}
        """,
    )
    with served(tmp_path, text, upstream, "mock-mcp") as url:
        tools = {t["name"]: t for t in rpc(url + "/mcp", "tools/list").json()["result"]["tools"]}
        greet = tool_call(url, "greet", {"who": "Ada"})
        hello = tool_call(url, "hello", {})
    assert greet["structuredContent"] == {"greeting": "Hello Ada", "count": 3}
    jsonschema.validate(greet["structuredContent"], tools["greet"]["outputSchema"])
    assert tools["greet"]["outputSchema"]["properties"]["count"]["type"] == ["integer", "null"]
    assert hello["structuredContent"] == {"result": "Hello"}
    jsonschema.validate(hello["structuredContent"], tools["hello"]["outputSchema"])
    assert upstream.requests == []


# --- 7 and 13. refused before serving, located, never a traceback ---------------------------------------

DUPLICATE_TOOLS = capability(
    "resources:\n- name: items\n  path: /items\n  operations:\n  - {name: list-items, method: GET}\n",
    """\
    - type: mcp
      namespace: tools
      port: 9090
      tools:
      - {name: list, description: a, call: api.list-items}
      - {name: list, description: b, call: api.list-items}
    """,
)


def naftiko(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NAFTIKO), *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
    )


def test_serving_a_directory_with_duplicate_tool_names_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(AMBIGUOUS.replace("9090", "19090").replace("8080", "18080"))
    (tmp_path / "duplicate.yaml").write_text(DUPLICATE_TOOLS)
    result = naftiko("serve", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    line = next(n for n, text in enumerate(DUPLICATE_TOOLS.splitlines(), 1) if "description: b" in text)
    assert f"{tmp_path / 'duplicate.yaml'}:{line}:" in result.stderr
    assert "duplicate tool name 'list' in MCP adapter 'tools'" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("port: 9090", "port: -1"), "port -1 is out of range"),
        (("port: 9090", "port: " + "9" * 5000), "an integer of 5000 digits is longer than"),
        (("baseUri: http://api.invalid", "baseUri: 'http://[::1'"), "is not a valid URL (Invalid IPv6 URL)"),
    ],
    ids=["negative-port", "huge-integer", "ipv6-base-uri"],
)
def test_what_crashed_serve_call_and_inspect_is_a_located_error(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(AMBIGUOUS.replace(*change), encoding="utf-8")
    for args in (("validate", str(path)), ("inspect", str(path)), ("call", str(path), "tools.list")):
        result = naftiko(*args)
        output = result.stdout + result.stderr
        assert result.returncode != 0, args
        assert "Traceback" not in output, output
        assert f"{path}:" in output and message in output, output
    result = naftiko("serve", str(path), timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and message in result.stderr


def test_a_base_uri_filled_in_from_a_bind_is_checked_before_any_request(tmp_path: Path) -> None:
    path = tmp_path / "bound.yaml"
    text = AMBIGUOUS.replace("baseUri: http://api.invalid", "baseUri: '{{BASE}}'").replace(
        "info: {label: dropped in}\n",
        "info: {label: dropped in}\nbinds:\n- {namespace: env, keys: {BASE: BASE}}\n",
    )
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "BASE": "http://[::1"}
    for args in (("call", str(path), "tools.list"), ("serve", str(path))):
        result = subprocess.run([str(NAFTIKO), *args], capture_output=True, text=True, timeout=30, env=env)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "consumes 'api': the base URI is not a valid URL (Invalid IPv6 URL)" in result.stderr
        assert "[::1" not in result.stderr  # the value came from a bind: it is not shown
