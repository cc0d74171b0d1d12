"""#15 item 1 (and the variable cases of 13): every ``{{name}}`` is a bind, an input or a step, known
at load; a name nothing declares is a located error; and no argument of any adapter can ever fill a
bind-resolved template."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.support.upstream import RecordingUpstream

from .conftest import mcp_call, run_naftiko, serve, write


def validate(tmp_path: Path, text: str) -> list[str]:
    """``naftiko validate FILE``: the error lines it printed (it must have exited 1)."""
    capability = write(tmp_path, text)
    done = run_naftiko("validate", str(capability))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if ": error: " in line]


def located(line: str, tmp_path: Path) -> tuple[int, int]:
    match = re.match(re.escape(str(tmp_path / "capability.yaml")) + r":(\d+):(\d+): error: ", line)
    assert match, line
    return int(match.group(1)), int(match.group(2))


GITHUB = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys:
      GITHUB_TOKN: GITHUB_TOKEN
capability:
  consumes:
    - type: http
      namespace: github
      baseUri: https://api.github.com
      authentication:
        type: bearer
        token: "{{GITHUB_TOKEN}}"
      resources:
        - name: issues
          path: /repos/{{owner}}/issues
          operations:
            - name: list-issues
  exposes:
    - type: mcp
      namespace: issues-mcp
      port: 9090
      tools:
        - name: list-issues
          description: Issues of a repository
          call: github.list-issues
"""


SPELT_RIGHT = GITHUB.replace('token: "{{GITHUB_TOKEN}}"', 'token: "{{GITHUB_TOKN}}"')


def test_a_misspelt_bind_in_a_token_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    [line] = validate(tmp_path, GITHUB)
    assert located(line, tmp_path) == (13, 16)  # the token's line and column
    assert "capability.consumes[0].authentication.token" in line
    assert "{{GITHUB_TOKEN}}: no bind declares GITHUB_TOKEN" in line
    assert "did you mean {{GITHUB_TOKN}}?" in line


def test_a_bare_credential_variable_with_no_binds_at_all_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "capabilities" / "label-studio-runs.yaml").read_text(
        encoding="utf-8"
    )
    text = text.replace(
        "binds:\n- namespace: env\n  keys:\n    LABEL_STUDIO_API_KEY: LABEL_STUDIO_API_KEY\n", ""
    )
    text = text.replace("{{env.LABEL_STUDIO_API_KEY}}", "{{LABEL_STUDIO_API_KEY}}")
    [line] = validate(tmp_path, text)
    assert located(line, tmp_path) == (125, 14)
    assert "authentication.value: {{LABEL_STUDIO_API_KEY}}: no bind declares LABEL_STUDIO_API_KEY" in line


def test_a_with_reference_to_an_input_the_tool_does_not_declare(tmp_path: Path) -> None:
    text = SPELT_RIGHT.replace(
        "          call: github.list-issues\n",
        "          inputParameters:\n"
        "            - {name: owner, type: string}\n"
        "            - {name: number, type: integer}\n"
        "          call: github.list-issues\n"
        "          with: {owner: issues-mcp.owner, number: issues-mcp.numbr}\n",
    )
    [line] = validate(tmp_path, text)
    assert "tools[0].with.number" in line
    assert "`with` reads input 'numbr', which the unit does not declare" in line
    assert "did you mean 'number'?" in line


def test_a_path_placeholder_no_parameter_feeds_beside_an_in_path_parameter(tmp_path: Path) -> None:
    text = SPELT_RIGHT.replace(
        "          path: /repos/{{owner}}/issues\n          operations:\n            - name: list-issues\n",
        "          path: /repos/{{owner}}/issues/{{num}}\n"
        "          operations:\n"
        "            - name: list-issues\n"
        "              inputParameters:\n"
        "                - {name: owner, in: path}\n"
        "                - {name: number, in: path}\n",
    )
    [line] = validate(tmp_path, text)
    assert located(line, tmp_path)[0] == 16  # the resource path
    assert "path placeholder {{num}} is fed by no parameter" in line
    assert "did you mean {{number}}?" in line


def test_an_in_path_parameter_missing_from_a_url_whose_base_holds_an_unfed_placeholder(
    tmp_path: Path,
) -> None:
    """The URL is ``baseUri`` + path: a placeholder in the base counts as one in the path (so moving
    a base path into the resource path, as ``naftiko migrate`` does, changes no verdict); the error
    points at the parameter no placeholder takes."""
    text = SPELT_RIGHT.replace(
        "baseUri: https://api.github.com\n", "baseUri: https://api.github.com/{tenant}\n"
    ).replace(
        "            - name: list-issues\n",
        "            - name: list-issues\n"
        "              inputParameters:\n"
        "                - {name: owner, in: path}\n"
        "                - {name: number, in: path}\n",
    )
    [line] = validate(tmp_path, text)
    assert located(line, tmp_path)[0] == 21  # the `number` parameter
    assert "inputParameters[1]" in line
    assert "'number' is in neither the path nor the `baseUri`" in line
    assert "placeholder {{tenant}} is fed by no parameter" in line
    moved = text.replace("api.github.com/{tenant}\n", "api.github.com\n").replace(
        "path: /repos/", "path: /{tenant}/repos/"
    )
    [line] = validate(tmp_path, moved)
    assert "path placeholder {{tenant}} is fed by no parameter" in line


def test_a_mapping_and_a_lookup_reading_steps_that_do_not_exist(tmp_path: Path) -> None:
    text = SPELT_RIGHT.replace(
        "          call: github.list-issues\n",
        "          steps:\n"
        "            - {type: call, name: fetch-issues, call: github.list-issues}\n"
        "            - {type: lookup, name: find, index: fetch-issues, match: id,\n"
        "               lookupValue: $.fetch-isues.id}\n"
        "          mappings:\n"
        "            - {targetName: title, value: $.fetch-isues.title}\n",
    )
    lines = validate(tmp_path, text)
    assert len(lines) == 2
    assert "steps[1].lookupValue" in lines[0] and "no input or step is named 'fetch-isues'" in lines[0]
    assert "mappings[0].value" in lines[1] and "did you mean 'fetch-issues'?" in lines[1]


def test_an_unclosed_placeholder_is_never_sent_as_the_credential(tmp_path: Path) -> None:
    text = GITHUB.replace('token: "{{GITHUB_TOKEN}}"', 'token: "{{env.GITHUB_TOKN"')
    [line] = validate(tmp_path, text)
    assert "authentication.token" in line
    assert "`{{env.GITHUB_TOKN`: this `{{` is never closed" in line


def test_a_bind_in_an_output_value_is_refused(tmp_path: Path) -> None:
    text = SPELT_RIGHT.replace(
        "          call: github.list-issues\n",
        "          outputParameters:\n"
        "            - {name: leak, type: string, value: 'token {{GITHUB_TOKN}}'}\n",
    )
    [line] = validate(tmp_path, text)
    assert "a bind variable cannot be used in an output value: its value would be sent to the caller" in line


# -- no argument of any adapter reaches a bind-resolved template -----------------------------------

BOUND = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys:
      API_TOKEN: SEC_API_TOKEN
      TRACE_ID: SEC_TRACE_ID
      TENANT: SEC_TENANT
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: {upstream}
      authentication: {{type: bearer, token: "{{{{API_TOKEN}}}}"}}
      inputParameters:
        - {{name: X-Trace, in: header, value: "trace-{{{{env.TRACE_ID}}}}"}}
      resources:
        - name: items
          path: /tenants/{{{{TENANT}}}}/items
          operations:
            - name: search
              method: POST
              inputParameters:
                - {{name: q, in: query}}
                - {{name: key, in: query, value: "{{{{API_TOKEN}}}}"}}
              body:
                type: json
                data: {{tenant: "{{{{TENANT}}}}", token: "{{{{env.API_TOKEN}}}}", q: "{{{{q}}}}"}}
  exposes:
    - type: rest
      namespace: api-rest
      port: 8080
      resources:
        - path: /search
          operations:
            - method: POST
              name: search
              call: api.search
              with: {{q: api-rest.q, label: "{{{{TRACE_ID}}}}"}}
    - type: mcp
      namespace: api-mcp
      port: 9090
      tools:
        - name: search
          description: Search items
          inputParameters:
            - {{name: q, type: string}}
            - {{name: API_TOKEN, type: string, required: false}}
          call: api.search
          with: {{q: api-mcp.q}}
    - type: skill
      namespace: api-skills
      port: 9091
      skills:
        - name: items
          description: Items
          tools:
            - {{name: search, description: Search items, from: {{sourceNamespace: api-mcp, action: search}}}}
"""
ENV = {"SEC_API_TOKEN": "bind-token-61f0", "SEC_TRACE_ID": "bind-trace-93ac", "SEC_TENANT": "bind-tenant"}
FORGED = "forged-by-caller"
NAMES = [
    "API_TOKEN",
    "env.API_TOKEN",
    "TRACE_ID",
    "env.TRACE_ID",
    "TENANT",
    "env",
    "env.TENANT",
    "key",
    "label",
]


def assert_binds_only(upstream: RecordingUpstream) -> None:
    """Every request the upstream received carries the binds' values, and nothing a caller sent."""
    assert upstream.requests
    for request in upstream.requests:
        wire = json.dumps(request.describe())
        assert FORGED not in wire
        assert request.headers["authorization"] == "Bearer bind-token-61f0"
        assert request.headers["x-trace"] == "trace-bind-trace-93ac"
        assert request.raw_path == "/tenants/bind-tenant/items"
        assert request.query["key"] == ["bind-token-61f0"]
        assert request.json["tenant"] == "bind-tenant" and request.json["token"] == "bind-token-61f0"


def test_no_argument_of_any_adapter_reaches_a_bind_resolved_template(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    capability = write(tmp_path, BOUND.format(upstream=upstream.url))
    forged = {name: FORGED for name in NAMES}
    with serve(capability, env=ENV) as served:
        rest, mcp, skills = served.url("api-rest"), served.url("api-mcp"), served.url("api-skills")
        # REST: in the query, the JSON body, headers and cookies.
        refused = httpx.post(f"{rest}/search", params={"q": "x", **forged}, timeout=20)
        assert refused.status_code == 400
        assert {e["name"] for e in refused.json()["errors"]} == set(NAMES)
        refused = httpx.post(f"{rest}/search", params={"q": "x"}, json=forged, timeout=20)
        assert refused.status_code == 400
        assert {e["name"] for e in refused.json()["errors"]} == set(NAMES)
        headers = {name.replace(".", "-"): FORGED for name in NAMES}
        cookies = {name: FORGED for name in NAMES}
        answer = httpx.post(f"{rest}/search", params={"q": "x"}, headers=headers, cookies=cookies, timeout=20)
        assert answer.status_code == 200, answer.text
        # MCP: every bind name as an argument is refused, naming them...
        result = mcp_call(mcp, "search", {"q": "x", **forged})["result"]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert all(f"{name}: unknown argument" in text for name in NAMES if name != "API_TOKEN")
        # ...and an input the tool declares under a bind's name still never fills the bind's slots.
        assert mcp_call(mcp, "search", {"q": "x", "API_TOKEN": FORGED})["result"]["isError"] is False
        # Skill: the catalog takes no arguments and calls nothing.
        assert httpx.get(f"{skills}/skills", params=forged, timeout=20).status_code == 200
    # naftiko call: refused by name, or dropped with --allow-unknown; never sent.
    arguments = [f"{name}={FORGED}" for name in NAMES]
    done = run_naftiko("call", str(capability), "api-mcp.search", "q=x", *arguments, env=ENV)
    assert done.returncode == 2 and "unknown argument" in done.stderr
    done = run_naftiko(
        "call", str(capability), "api-mcp.search", "q=x", *arguments, "--allow-unknown", env=ENV
    )
    assert done.returncode == 0, done.stderr
    done = run_naftiko("call", str(capability), "api.search", "q=x", "API_TOKEN=" + FORGED, env=ENV)
    assert done.returncode == 2 and "API_TOKEN" in done.stderr
    assert len(upstream.requests) == 3  # REST once, MCP once, naftiko call --allow-unknown once
    assert_binds_only(upstream)
