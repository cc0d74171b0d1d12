"""What used to pass ``validate`` and then fail at run time is refused at load, located (issue #15).

Duplicate identifiers (which stopped ``serve`` with a traceback), invalid JSONPath expressions, two
REST operations on one method and path, out-of-range ports, base URIs that are not URLs, integers
too long to read, and two adapters on one port across the files served together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.spec import check, check_files

from .helpers import assert_located, document, errors, line_of, mcp, only_error, rest

# --- identifiers -----------------------------------------------------------------------------------


def test_duplicate_mcp_tool_prompt_and_resource_uri_are_located_errors() -> None:
    text = document(
        exposes="- type: mcp\n  namespace: tools\n  port: 9090\n  tools:\n"
        "  - {name: list, description: a, call: api.list-items}\n"
        "  - {name: list, description: b, call: api.get-item}\n"
        "  prompts:\n"
        "  - {name: review, template: [{role: user, content: one}]}\n"
        "  - {name: review, template: [{role: user, content: two}]}\n"
        "  resources:\n"
        "  - {name: first, uri: 'data://runs', description: d, location: 'file:///tmp'}\n"
        "  - {name: second, uri: 'data://runs', description: d, location: 'file:///tmp'}\n"
    )
    tool, prompt, resource = errors(text)
    assert {p.rule for p in (tool, prompt, resource)} == {"duplicate-name"}
    assert (tool.path, tool.line) == ("capability.exposes[0].tools[1].name", line_of(text, "b, call"))
    assert "duplicate tool name 'list' in MCP adapter 'tools'" in tool.message
    assert (
        f"(first declared at capability.exposes[0].tools[0].name (doc.yaml:{line_of(text, 'a, call')}))"
        in (tool.message)
    )
    assert (prompt.path, prompt.line) == (
        "capability.exposes[0].prompts[1].name",
        line_of(text, "content: two"),
    )
    assert "duplicate prompt name 'review'" in prompt.message
    assert resource.path == "capability.exposes[0].resources[1].uri"
    assert "duplicate resource URI 'data://runs'" in resource.message


def test_a_tool_named_by_its_ref_collides_with_a_tool_of_that_name() -> None:
    text = document(
        exposes=mcp("- {name: crew, description: d, call: api.list-items}\n- {ref: fleet.crew}\n"),
        aggregates="- namespace: fleet\n  functions:\n  - {name: crew, description: d, call: api.get-item}\n",
    )
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("duplicate-name", "capability.exposes[0].tools[1].ref")


@pytest.mark.parametrize(
    ("piece", "where", "message"),
    [
        (
            "consumes",
            "capability.consumes[0].resources[0].operations[1].name",
            "duplicate operation name 'list-items' in consumes 'api'",
        ),
        ("steps", "capability.exposes[0].tools[0].steps[1].name", "duplicate step name 'first'"),
        ("inputs", "capability.exposes[0].tools[0].inputParameters[1].name", "duplicate input name 'q'"),
        ("functions", "capability.aggregates[0].functions[1].name", "duplicate function name 'f'"),
    ],
)
def test_every_identifier_that_is_looked_up_is_unique(piece: str, where: str, message: str) -> None:
    consumes = (
        "consumes:\n- type: http\n  namespace: api\n  baseUri: https://api.example.com\n  resources:\n"
        "  - name: items\n    path: /items\n    operations:\n    - {name: list-items, method: GET}\n"
        + ("    - {name: list-items, method: POST}\n" if piece == "consumes" else "")
    )
    tools = {
        "steps": "- name: t\n  steps:\n  - {type: call, name: first, call: api.list-items}\n"
        "  - {type: call, name: first, call: api.list-items}\n",
        "inputs": "- name: t\n  call: api.list-items\n  inputParameters:\n"
        "  - {name: q, type: string, description: d}\n  - {name: q, type: integer, description: d}\n",
    }.get(piece, "- {name: t, call: api.list-items}\n")
    aggregates = (
        "- namespace: agg\n  functions:\n" + "  - {name: f, call: api.list-items}\n" * 2
        if piece == "functions"
        else ""
    )
    problem = only_error(document(consumes=consumes, exposes=mcp(tools), aggregates=aggregates))
    assert (problem.rule, problem.path) == ("duplicate-name", where)
    assert message in problem.message


def test_two_rest_operations_on_one_method_and_path_shape() -> None:
    text = document(
        exposes="- type: rest\n  namespace: api-rest\n  port: 8080\n  resources:\n"
        "  - path: /items/{{id}}\n    operations:\n    - {method: GET, name: get, call: api.get-item}\n"
        "    - {method: DELETE, name: delete, call: api.get-item}\n"
        "  - path: /items/{key}\n    operations:\n    - {method: GET, name: again, call: api.get-item}\n"
    )
    problem = only_error(text)
    assert (problem.rule, problem.path) == (
        "duplicate-name",
        "capability.exposes[0].resources[1].operations[0].method",
    )
    assert problem.line == line_of(text, "name: again")
    assert "duplicate route GET /items/{} in REST adapter 'api-rest'" in problem.message


# --- expressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "where"),
    [
        (
            "- name: t\n  call: api.list-items\n  outputParameters:\n"
            "  - {type: string, mapping: '$.items[?(@.x =='}\n",
            "capability.exposes[0].tools[0].outputParameters[0].mapping",
        ),
        (
            "- name: t\n  steps:\n  - {type: call, name: s, call: api.list-items}\n"
            "  - {type: call, name: u, call: api.get-item, with: {id: '$.s[?(@.a'}}\n",
            "capability.exposes[0].tools[0].steps[1].with.id",
        ),
        (
            "- name: t\n  steps:\n  - {type: call, name: s, call: api.list-items}\n"
            "  mappings:\n  - {targetName: out, value: '$.s.items[1:2:3:4]'}\n",
            "capability.exposes[0].tools[0].mappings[0].value",
        ),
        (
            "- name: t\n  call: api.list-items\n  outputParameters:\n"
            "  - {type: number, mapping: '$.items.size()'}\n",
            "capability.exposes[0].tools[0].outputParameters[0].mapping",
        ),
    ],
    ids=["output-mapping", "with-path", "step-mapping", "unsupported-function"],
)
def test_an_invalid_jsonpath_is_a_located_error(tool: str, where: str) -> None:
    problem = only_error(document(exposes=mcp(tool)))
    assert (problem.rule, problem.path) == ("invalid-jsonpath", where)
    assert problem.message.startswith("invalid JSONPath ")
    assert_located(problem)


# --- addresses -------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [-1, 0, 65536, 99999])
def test_an_out_of_range_port_is_a_located_error(port: int) -> None:
    text = document(exposes=mcp("- {name: t, call: api.list-items}\n", port=port))
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("bad-port", "capability.exposes[0].port")
    assert problem.line == line_of(text, f"port: {port}")
    assert f"port {port} is out of range: a port is a number from 1 to 65535" in problem.message


@pytest.mark.parametrize(
    ("base", "reason"),
    [
        ("'http://[::1'", "Invalid IPv6 URL"),
        ("http://api.example.com:99999", "Port out of range"),
        ("http://api.example.com:port", "port can't be converted"),
        ("'http:///v1'", "it names no host"),
    ],
)
def test_a_base_uri_that_is_not_a_url_is_a_located_error(base: str, reason: str) -> None:
    consumes = f"consumes:\n- type: http\n  namespace: api\n  baseUri: {base}\n  resources: []\n"
    problem = only_error(document(consumes=consumes))
    assert (problem.rule, problem.path) == ("bad-base-uri", "capability.consumes[0].baseUri")
    assert "is not a valid URL (" in problem.message and reason in problem.message


def test_placeholders_in_a_base_uri_stand_for_a_host_or_a_port() -> None:
    consumes = (
        "consumes:\n- type: http\n  namespace: api\n  baseUri: 'http://{{env.HOST}}:{{env.PORT}}/{tenant}'\n"
        "  resources: []\n"
    )
    binds = "- namespace: env\n  keys: {HOST: HOST, PORT: PORT}\n"
    assert errors(document(consumes=consumes, binds=binds)) == []


def test_an_integer_literal_too_long_to_read_is_a_located_error() -> None:
    text = document(exposes=mcp("- {name: t, call: api.list-items}\n", port="9" * 5000))  # type: ignore[arg-type]
    (problem,) = errors(text)
    assert problem.line == line_of(text, "port: 999")
    assert "an integer of 5000 digits is longer than the 4300 digits a number may have" in problem.message


def test_two_adapters_on_one_port_across_files_served_together(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    two = tmp_path / "two.yaml"
    one.write_text(document(exposes=mcp("- {name: t, call: api.list-items}\n", port=9123)), encoding="utf-8")
    two.write_text(
        document(exposes=rest("- {method: GET, name: l, call: api.list-items}\n", port=9123)),
        encoding="utf-8",
    )
    first, second = check_files([one, two])
    assert first.ok and not second.ok
    (problem,) = second.errors
    assert (problem.file, problem.rule, problem.path) == (
        str(two),
        "port-conflict",
        "capability.exposes[0].port",
    )
    assert f"port 9123 is already used by the adapter at capability.exposes[0] ({one}:" in problem.message
    assert check(two).ok  # alone, the second file is fine
    assert all(report.ok for report in check_files([one, two], ports=False))  # serve --any-port


def test_an_operation_may_redeclare_a_resource_input() -> None:
    text = document(
        exposes="- type: rest\n  namespace: api-rest\n  port: 8080\n  resources:\n"
        "  - path: /items\n    inputParameters:\n    - {name: q, in: query, type: string, description: d}\n"
        "    operations:\n    - method: GET\n      name: search\n      call: api.list-items\n"
        "      inputParameters:\n      - {name: q, in: query, type: integer, description: own}\n"
    )
    assert errors(text) == []
