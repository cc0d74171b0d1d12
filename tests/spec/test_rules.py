"""The semantic rules of issue §5, each with a document it refuses (at the offending node's line) and
one it accepts; deviations that are only warnings; readable model errors; never a traceback."""

from __future__ import annotations

import copy
import random
import textwrap
from pathlib import Path

import pytest
import yaml

from naftiko_runtime.spec import check_text

from .helpers import (
    API,
    SEED,
    assert_located,
    document,
    error_rules,
    errors,
    line_of,
    mcp,
    only_error,
    report,
    rest,
)

# --- not a Naftiko document ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("openapi: 3.0.0\ninfo: {title: x}\npaths: {}\n", "top-level keys info, openapi, paths"),
        ("- a\n- b\n", "a YAML list"),
        ("just text\n", "a YAML str"),
        ("", "an empty file"),
        ("# only a comment\n", "an empty file"),
    ],
)
def test_not_a_naftiko_document(text: str, found: str) -> None:
    problem = only_error(text)
    assert problem.rule == "not-naftiko"
    assert problem.line >= 1
    assert "expected a `naftiko`, `ikanos` or `capability` key" in problem.message
    assert found in problem.message


def test_the_root_error_points_at_the_first_node_after_comments() -> None:
    problem = only_error("# a profile\n# of something\nname: x\n")
    assert (problem.line, problem.column) == (3, 1)


@pytest.mark.parametrize("text", ["naftiko: 1.0.0-alpha2\n", "capability: {}\n"])
def test_either_key_makes_a_naftiko_document(text: str) -> None:
    assert report(text).ok


# --- calls --------------------------------------------------------------------------------------

# Every unit that can `call`: the offending value sits on a line containing `CALL`.
CALLERS = {
    "rest operation": rest("- method: GET\n  name: op\n  call: CALL\n"),
    "mcp tool": mcp("- name: t\n  description: d\n  call: CALL\n"),
    "call step": mcp("- name: t\n  steps:\n  - type: call\n    name: s\n    call: CALL\n"),
    "mcp resource": "- type: mcp\n  namespace: m\n  port: 9090\n  resources:\n"
    "  - name: r\n    uri: data://r\n    call: CALL\n",
    "prompt message": "- type: mcp\n  namespace: m\n  port: 9090\n  prompts:\n"
    "  - name: p\n    template:\n    - role: user\n      call: CALL\n",
}


def _caller_document(kind: str, call: str) -> str:
    if kind == "aggregate function":
        return document(aggregates=f"- namespace: agg\n  functions:\n  - name: f\n    call: {call}\n")
    return document(exposes=CALLERS[kind].replace("CALL", call))


CALLER_KINDS = [*CALLERS, "aggregate function"]


@pytest.mark.parametrize("kind", CALLER_KINDS)
def test_a_call_to_a_declared_operation_loads(kind: str) -> None:
    found = report(_caller_document(kind, "api.list-items"))
    assert found.ok, [p.format() for p in found.errors]


@pytest.mark.parametrize("kind", CALLER_KINDS)
@pytest.mark.parametrize(
    ("call", "says"),
    [
        (
            "api.delete-items",
            "namespace 'api' has no operation 'delete-items' (it declares: get-item, list-items)",
        ),
        ("nope.list-items", "no consumes namespace 'nope' (declared: api)"),
    ],
)
def test_a_call_naming_no_consumed_operation(kind: str, call: str, says: str) -> None:
    text = _caller_document(kind, call)
    problem = only_error(text)
    assert problem.rule == "unknown-call"
    assert problem.line == line_of(text, f"call: {call}")
    assert problem.path.endswith(".call")
    assert f"call {call!r} names no consumed operation" in problem.message
    assert says in problem.message


@pytest.mark.parametrize("call", ["list-items", "api.list.items", "api."])
def test_a_call_must_be_namespace_dot_operation(call: str) -> None:
    text = _caller_document("mcp tool", call)
    problem = only_error(text)
    assert problem.rule == "bad-call"
    assert "must have the form `namespace.operation`" in problem.message


def test_a_long_operation_listing_is_shortened() -> None:
    operations = "".join(f"    - name: op-{i:02d}\n" for i in range(20))
    consumes = (
        "consumes:\n- type: http\n  namespace: big\n  baseUri: https://big.example\n"
        "  resources:\n  - name: r\n    path: /r\n    operations:\n" + operations
    )
    problem = only_error(document(consumes=consumes, exposes=mcp("- name: t\n  call: big.nothing\n")))
    assert problem.message.endswith("op-11, …)")


# --- refs ---------------------------------------------------------------------------------------

AGGREGATE = "- namespace: catalog\n  functions:\n  - name: list\n    call: api.list-items\n"


def test_a_ref_to_an_aggregate_function_loads() -> None:
    assert report(document(aggregates=AGGREGATE, exposes=mcp("- ref: catalog.list\n"))).ok


@pytest.mark.parametrize("ref", ["catalog.missing", "other.list"])
def test_a_ref_naming_no_aggregate_function(ref: str) -> None:
    for unit in (mcp(f"- ref: {ref}\n"), rest(f"- method: GET\n  name: op\n  ref: {ref}\n")):
        text = document(aggregates=AGGREGATE, exposes=unit)
        problem = only_error(text)
        assert problem.rule == "unknown-ref"
        assert problem.line == line_of(text, f"ref: {ref}")
        assert problem.message == f"ref {ref!r} names no aggregate function (available: catalog.list)"


def test_a_chained_ref() -> None:
    text = document(aggregates=AGGREGATE + "  - name: alias\n    ref: catalog.list\n")
    problem = only_error(text)
    assert problem.rule == "chained-ref"
    assert problem.path == "capability.aggregates[0].functions[1].ref"
    assert problem.line == line_of(text, "ref: catalog.list")


# --- lookups ------------------------------------------------------------------------------------


def _lookup(steps: str) -> str:
    return document(exposes=mcp("- name: t\n  steps:\n" + textwrap.indent(steps, "  ")))


CALL_STEP = "- {type: call, name: items, call: api.list-items}\n"
LOOKUP = "- {type: lookup, name: owner, index: INDEX, match: id, lookupValue: $.x}\n"


def test_a_lookup_of_an_earlier_call_step_loads() -> None:
    assert report(_lookup(CALL_STEP + LOOKUP.replace("INDEX", "items"))).ok


@pytest.mark.parametrize(
    ("steps", "earlier"),
    [
        (LOOKUP.replace("INDEX", "items") + CALL_STEP, "none"),  # the call comes later
        (CALL_STEP + LOOKUP.replace("INDEX", "nothing"), "items"),
        (
            CALL_STEP
            + LOOKUP.replace("INDEX", "items").replace("owner", "first")
            + LOOKUP.replace("INDEX", "first"),
            "items",
        ),
    ],
    ids=["later-step", "unknown-step", "lookup-of-a-lookup"],
)
def test_a_lookup_index_naming_no_earlier_call_step(steps: str, earlier: str) -> None:
    text = _lookup(steps)
    problem = only_error(text)
    assert problem.rule == "lookup-index"
    assert problem.path.endswith(".index")
    assert f"(earlier call steps: {earlier})" in problem.message


# --- duplicate namespaces -----------------------------------------------------------------------


def test_duplicate_consumes_namespaces() -> None:
    second = "- type: http\n  namespace: api\n  baseUri: https://other.example\n"
    text = document(consumes=API + second)
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("duplicate-namespace", "capability.consumes[1].namespace")
    assert problem.line == line_of(text, "namespace: api", 2)
    first = line_of(text, "namespace: api")
    assert f"first declared at capability.consumes[0].namespace (doc.yaml:{first})" in problem.message


def test_duplicate_exposes_namespaces() -> None:
    text = document(
        exposes=rest("- {method: GET, name: a, call: api.list-items}\n", namespace="x")
        + mcp("- {name: t, call: api.list-items}\n", namespace="x")
    )
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("duplicate-namespace", "capability.exposes[1].namespace")
    assert "duplicate exposes namespace 'x'" in problem.message


def test_duplicate_aggregate_namespaces() -> None:
    text = document(aggregates=AGGREGATE + AGGREGATE)
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("duplicate-namespace", "capability.aggregates[1].namespace")


def test_duplicate_bind_namespaces_across_root_and_capability() -> None:
    text = (
        "naftiko: 1.0.0-alpha2\nbinds:\n- {namespace: env, keys: {A: A}}\n"
        "capability:\n  binds:\n  - {namespace: env, keys: {B: B}}\n"
    )
    problem = only_error(text)
    assert (problem.rule, problem.path, problem.line) == (
        "duplicate-namespace",
        "capability.binds[0].namespace",
        6,
    )


def test_one_name_in_different_kinds_is_not_a_duplicate() -> None:
    text = document(
        aggregates="- namespace: api\n  functions:\n  - {name: f, call: api.list-items}\n",
        exposes=mcp("- {name: t, call: api.list-items}\n", namespace="api"),
    )
    assert report(text).ok


def test_a_bind_namespace_that_is_also_a_consumes_namespace_is_a_warning() -> None:
    found = report(document(binds="- {namespace: api, keys: {A: A}}\n"))
    assert found.ok
    assert [p.rule for p in found.warnings] == ["namespace-collision"]


# --- bind variables -----------------------------------------------------------------------------

BINDS = "- namespace: env\n  keys:\n    TOKEN: API_TOKEN\n"


def _with_auth(token: str) -> str:
    consumes = (
        "consumes:\n- type: http\n  namespace: api\n  baseUri: https://api.example.com\n"
        f"  authentication: {{type: bearer, token: '{token}'}}\n"
    )
    return document(binds=BINDS, consumes=consumes)


@pytest.mark.parametrize("token", ["{{env.TOKEN}}", "{{ env.TOKEN }}", "{{TOKEN}}", "plain"])
def test_declared_bind_variables_and_other_templates_load(token: str) -> None:
    assert report(_with_auth(token)).ok


def test_an_undeclared_bind_variable() -> None:
    text = _with_auth("Bearer {{env.SECRET}}")
    problem = only_error(text)
    assert problem.rule == "undeclared-bind-variable"
    assert problem.path == "capability.consumes[0].authentication.token"
    assert problem.line == line_of(text, "{{env.SECRET}}")
    assert problem.message == "{{env.SECRET}}: bind 'env' declares no variable 'SECRET' (it declares: TOKEN)"


def test_undeclared_bind_variables_are_found_anywhere_in_the_document() -> None:
    text = document(
        binds=BINDS,
        exposes=mcp(
            "- name: t\n  description: uses {{env.NOPE}}\n  call: api.list-items\n"
            "  with: {a: 'x {{env.ALSO_NOPE}}'}\n"
        ),
    )
    found = errors(text)
    assert [p.rule for p in found] == ["undeclared-bind-variable"] * 2
    assert [p.line for p in found] == [line_of(text, "env.NOPE"), line_of(text, "env.ALSO_NOPE")]


def test_validate_checks_declarations_not_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The variable is not set and the bind file does not exist on this machine: still valid.
    monkeypatch.delenv("API_TOKEN", raising=False)
    text = (
        "naftiko: 1.0.0-alpha2\nbinds:\n- namespace: env\n  keys: {TOKEN: API_TOKEN}\n"
        f"- namespace: vault\n  location: file://{tmp_path}/absent-secrets.yaml\n  keys: {{KEY: key}}\n"
        "capability:\n  consumes:\n  - type: http\n    namespace: api\n    baseUri: https://api.example.com\n"
        "    authentication: {type: apikey, key: X-Key, value: '{{vault.KEY}}'}\n"
        "    inputParameters: [{name: Authorization, in: header, value: 'Bearer {{env.TOKEN}}'}]\n"
    )
    found = report(text)
    assert found.ok, [p.format() for p in found.errors]


# --- types, base URIs, adapters -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["grpc", "workers-kv", "GRAPHQL"])
def test_an_unsupported_consumes_type(kind: str) -> None:
    text = document(consumes=f"consumes:\n- type: {kind}\n  namespace: x\n")
    problem = only_error(text)
    assert (problem.rule, problem.path, problem.line) == (
        "unsupported-type",
        "capability.consumes[0].type",
        4,
    )
    assert f"unsupported consumes type {kind!r} (supported: http)" in problem.message


def test_consumes_type_is_case_insensitive() -> None:
    assert report(document(consumes=API.replace("type: http", "type: HTTP"))).ok


@pytest.mark.parametrize(
    ("entry", "shown", "path"),
    [
        ("- {type: graphql, namespace: g}\n", "type 'graphql'", "capability.exposes[0].type"),
        ("- {type: a2a, namespace: g}\n", "type 'a2a'", "capability.exposes[0].type"),
        ("- {namespace: g, port: 1}\n", "no type", "capability.exposes[0]"),
    ],
)
def test_an_unsupported_exposes_type(entry: str, shown: str, path: str) -> None:
    problem = only_error(document(exposes=entry))
    assert (problem.rule, problem.path) == ("unsupported-type", path)
    assert f"unsupported exposes {shown} (supported: rest, mcp, skill, control)" in problem.message


def test_an_unsupported_adapter_does_not_hide_the_others() -> None:
    text = document(exposes="- {type: graphql, namespace: g}\n" + mcp("- {name: t, call: api.nope}\n"))
    assert error_rules(text) == {"unsupported-type", "unknown-call"}


@pytest.mark.parametrize("base", ["''", "'   '", "null"])
def test_an_empty_base_uri(base: str) -> None:
    text = document(consumes=f"consumes:\n- type: http\n  namespace: api\n  baseUri: {base}\n")
    problem = only_error(text)
    assert (problem.rule, problem.path, problem.line) == (
        "empty-base-uri",
        "capability.consumes[0].baseUri",
        6,
    )
    assert "consumes 'api' has an empty `baseUri`; expected an http(s) URL" in problem.message


@pytest.mark.parametrize("base", ["https://api.example.com", "http://localhost:8080/v1", "{{env.BASE}}"])
def test_a_usable_base_uri(base: str) -> None:
    text = document(
        binds="- namespace: env\n  keys: {BASE: BASE}\n",
        consumes=f"consumes:\n- type: http\n  namespace: api\n  baseUri: '{base}'\n",
    )
    assert report(text).ok


def test_a_base_uri_that_is_not_http_is_a_warning() -> None:
    found = report(document(consumes="consumes:\n- type: http\n  namespace: api\n  baseUri: ftp://files\n"))
    assert found.ok
    assert any("is not an http(s) URL" in p.message for p in found.warnings)


def _adapters(*entries: str) -> str:
    return document(consumes="", exposes="".join(entries))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("", ""),  # both on every interface
        ("  address: 127.0.0.1\n", "  address: 127.0.0.1\n"),
        ("  address: 0.0.0.0\n", "  address: 127.0.0.1\n"),
        ("", "  address: localhost\n"),
    ],
)
def test_two_adapters_on_one_address_and_port(first: str, second: str) -> None:
    text = _adapters(
        f"- type: rest\n  namespace: a\n  port: 8080\n{first}",
        f"- type: mcp\n  namespace: b\n  port: 8080\n{second}",
    )
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("port-conflict", "capability.exposes[1].port")
    assert problem.line == line_of(text, "port: 8080", 2)
    assert "port 8080 is already used by the adapter at capability.exposes[0]" in problem.message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("  port: 8080\n", "  port: 8081\n"),
        ("  port: 8080\n  address: 127.0.0.1\n", "  port: 8080\n  address: 10.0.0.1\n"),
        ("  port: 8080\n", "  port: 8080\n  transport: stdio\n"),  # stdio listens on no port
    ],
)
def test_adapters_on_distinct_listeners_load(first: str, second: str) -> None:
    text = _adapters(f"- type: rest\n  namespace: a\n{first}", f"- type: mcp\n  namespace: b\n{second}")
    assert not errors(text)


def test_more_than_one_control_adapter() -> None:
    text = _adapters("- {type: control, port: 9190}\n", "- {type: control, port: 9191}\n")
    problem = only_error(text)
    assert (problem.rule, problem.path, problem.line) == (
        "multiple-control",
        "capability.exposes[1]",
        line_of(text, "9191"),
    )


def test_one_control_adapter_loads() -> None:
    assert report(_adapters("- {type: control, port: 9190}\n")).ok


# --- mode conflicts -----------------------------------------------------------------------------

CALL_STEP_FLOW = "{type: call, name: s, call: api.get-item}\n"


@pytest.mark.parametrize(
    ("unit", "first", "second"),
    [
        (mcp("- name: t\n  call: api.list-items\n  steps:\n  - " + CALL_STEP_FLOW), "call", "steps"),
        (mcp("- name: t\n  ref: catalog.list\n  call: api.list-items\n"), "ref", "call"),
        (
            rest("- method: GET\n  name: op\n  ref: catalog.list\n  steps:\n  - " + CALL_STEP_FLOW),
            "ref",
            "steps",
        ),
    ],
)
def test_a_unit_uses_exactly_one_mode(unit: str, first: str, second: str) -> None:
    text = document(aggregates=AGGREGATE, exposes=unit)
    problem = only_error(text)
    assert problem.rule == "mode-conflict"
    assert f"`{first}` together with `{second}`" in problem.message


def test_a_resource_with_location_and_call() -> None:
    text = document(
        exposes="- type: mcp\n  namespace: m\n  port: 9090\n  resources:\n"
        "  - name: r\n    uri: docs://r\n    location: file:///./r.md\n    call: api.list-items\n"
    )
    problem = only_error(text)
    assert (problem.rule, problem.path) == ("mode-conflict", "capability.exposes[0].resources[0]")
    assert problem.line == line_of(text, "- name: r")
    assert "`location` together with `call`/`steps`" in problem.message


def test_a_prompt_message_with_content_and_call() -> None:
    text = document(
        exposes="- type: mcp\n  namespace: m\n  port: 9090\n  prompts:\n"
        "  - name: p\n    template:\n    - {role: user, content: hi, call: api.list-items}\n"
    )
    assert error_rules(text) == {"mode-conflict"}


# --- warnings are not errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (document(exposes=mcp("- name: t\n  call: api.list-items\n  colour: blue\n")), "unknown-key"),
        ("naftiko: 1.0.0-alpha2\nmetadata: {owner: me}\ncapability: {}\n", "unknown-key"),
        (
            document(
                consumes="consumes:\n- type: http\n  namespace: api\n  baseUri: https://a.example\n"
                "  authentication: {type: aws-sig-v4, region: eu-west-1}\n"
            ),
            "unsupported-auth",
        ),
        (
            document(
                consumes="consumes:\n- type: http\n  namespace: api\n  baseUri: https://a.example\n"
                "  resources:\n  - name: r\n    path: /r\n    operations:\n"
                "    - {name: op, outputRawFormat: protobuf}\n"
            ),
            "unsupported-format",
        ),
        (
            document(
                exposes="- type: rest\n  namespace: r\n  port: 8080\n  resources:\n"
                "  - path: /p\n    forward: {targetNamespace: elsewhere}\n"
            ),
            "unknown-namespace",
        ),
        (
            document(
                exposes="- type: skill\n  namespace: s\n  port: 8090\n  skills:\n  - name: k\n"
                "    tools:\n    - {name: t, from: {sourceNamespace: nowhere, action: a}}\n"
            ),
            "unknown-namespace",
        ),
    ],
    ids=[
        "unknown-key",
        "unknown-root-key",
        "unsupported-auth",
        "unsupported-format",
        "forward-target",
        "skill-source",
    ],
)
def test_deviations_that_are_only_warnings(text: str, rule: str) -> None:
    found = report(text)
    assert found.ok, [p.format() for p in found.errors]
    assert rule in {p.rule for p in found.warnings}
    for problem in found.warnings:
        assert_located(problem)
        assert ": warning: " in problem.format()


def test_an_unsupported_auth_type_keeps_loading_without_credentials() -> None:
    text = document(
        consumes="consumes:\n- type: http\n  namespace: api\n  baseUri: https://a.example\n"
        "  authentication:\n    type: oauth1\n"
    )
    found = report(text)
    (warning,) = [p for p in found.warnings if p.rule == "unsupported-auth"]
    assert (warning.path, warning.line) == (
        "capability.consumes[0].authentication.type",
        line_of(text, "oauth1"),
    )
    assert "'oauth1' is not supported by this runtime; requests are sent without it" in warning.message


# --- model errors are located and readable ------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "needle", "path", "message"),
    [
        (
            "- type: rest\n  namespace: r\n  port: eighty\n",
            "eighty",
            "capability.exposes[0].port",
            "expected a valid integer, unable to parse string as an integer, got 'eighty'",
        ),
        (
            "- type: rest\n  namespace: r\n  port: 8080\n  resources: /items\n",
            "resources: /items",
            "capability.exposes[0].resources",
            "expected a list, got the text '/items'",
        ),
        (
            "- type: mcp\n  namespace: m\n  port: 9090\n  tools:\n  - name: t\n    hints: [readOnly]\n",
            "hints:",
            "capability.exposes[0].tools[0].hints",
            "expected a mapping, got list",
        ),
        (
            "- type: rest\n  namespace: r\n  port: 8080\n  resources:\n  - name: no-path\n",
            "- name: no-path",
            "capability.exposes[0].resources[0].path",
            "missing required key 'path'",
        ),
        (
            "- type: mcp\n  namespace: m\n  port: 9090\n  tools:\n  - name: t\n    steps:\n"
            "    - {type: call, name: s}\n",
            "{type: call, name: s}",
            "capability.exposes[0].tools[0].steps[0].call",
            "missing required key 'call'",
        ),
        (
            "- type: control\n  port: 9190\n  management:\n    logs: sometimes\n",
            "sometimes",
            "capability.exposes[0].management.logs",
            "expected a valid boolean, unable to interpret input, got 'sometimes' or expected a mapping, "
            "got the text 'sometimes'",
        ),
        (
            "- type: control\n  port: 9190\n  management:\n    logs: {max-subscribers: many}\n",
            "many",
            "capability.exposes[0].management.logs.max-subscribers",
            "expected a valid integer, unable to parse string as an integer, got 'many'",
        ),
    ],
    ids=[
        "int",
        "list",
        "mapping",
        "missing-key-named-like-a-tag",
        "missing-call",
        "plain-union",
        "plain-union-member",
    ],
)
def test_model_errors_are_located_and_readable(unit: str, needle: str, path: str, message: str) -> None:
    text = document(exposes=unit)
    problem = only_error(text)
    assert problem.rule == "schema-type"
    assert problem.path == path
    assert problem.message == message
    assert problem.line == line_of(text, needle)
    assert problem.format() == f"doc.yaml:{problem.line}:{problem.column}: error: {path}: {message}"


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    text = document(
        binds=BINDS,
        exposes=mcp(
            "- {name: a, call: api.nope}\n- {name: b, ref: x.y}\n"
            "- {name: c, description: '{{env.Z}}', call: z.q}\n"
        ),
    )
    assert error_rules(text) == {"unknown-call", "unknown-ref", "undeclared-bind-variable"}
    assert len(errors(text)) == 4
    lines = [p.line for p in errors(text)]
    assert lines == sorted(lines)


# --- never a traceback --------------------------------------------------------------------------

_REPLACEMENTS = [
    None,
    "",
    "x",
    0,
    -1,
    1.5,
    True,
    [],
    {},
    ["a"],
    {"a": 1},
    [{"a": 1}],
    [None],
    "{{env.X}}",
    "$.",
    "a.b",
    "{{$.a}}",
    {"kind": "input"},
    {"type": "unknown"},
]


def _nodes(data, path=()):
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _nodes(value, (*path, index))


def test_mutated_documents_never_raise() -> None:
    """Replace or delete nodes of the seed at random (fixed seed): every outcome is a report."""
    original = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    rng = random.Random(20261129)
    paths = [p for p in _nodes(original) if p]
    for _ in range(400):
        data = copy.deepcopy(original)
        for path in rng.sample(paths, 2):
            parent = data
            try:
                for part in path[:-1]:
                    parent = parent[part]
                if rng.random() < 0.2:
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = copy.deepcopy(rng.choice(_REPLACEMENTS))
            except (KeyError, IndexError, TypeError):
                continue
        result = check_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), "mutated.yaml")
        for problem in result.problems:
            assert_located(problem)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("naftiko: x\ncapability: &a\n  consumes: [*a]\n", "recursive alias"),
        (
            "naftiko: x\na: &a [x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "too many nodes",
        ),
        ("naftiko: 1\n---\nnaftiko: 2\n", "another document"),
        ("naftiko: [1\n", "YAML syntax error"),
        ("naftiko: '1\n", "YAML syntax error"),
        ("\tnaftiko: 1\n", "tab"),
    ],
    ids=["recursive-alias", "alias-bomb", "two-documents", "unclosed-flow", "unclosed-quote", "tab"],
)
def test_hostile_yaml_is_a_located_error(text: str, says: str) -> None:
    found = report(text)
    assert not found.ok
    (problem,) = found.errors
    assert problem.rule == "yaml-syntax"
    assert problem.line >= 1
    assert says in problem.message


def test_yaml_tags_are_never_constructed() -> None:
    found = report("naftiko: !!python/object/apply:os.system [echo]\ncapability: {info: !custom x}\n")
    assert found.ok  # the tagged values are read as plain data, nothing is run
    assert found.document.naftiko == "['echo']"


def test_an_entry_the_models_refuse_does_not_hide_the_rest_of_the_file() -> None:
    """Every problem of a file at once: entries the models refuse are reported and set aside, and
    the semantic rules still run on everything else, at the entries' original positions."""
    text = """
naftiko: 1.0.0-alpha2
info: {label: x, description: y}
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: http://h
      resources:
        - name: r
          path: /r
          operations:
            - method: GET
            - {name: ok, method: GET}
  exposes:
    - type: rest
      port: 8080
      resources: [{path: /a, operations: [{method: GET, call: api.ok}]}]
    - type: mcp
      namespace: m
      port: 9090
      tools:
        - {name: t1, description: d, call: api.missing}
        - {name: t2, description: d, call: nope.x}
"""
    report = check_text(text, "multi.yaml")
    found = {(p.rule, p.path) for p in report.errors}
    assert found == {
        ("schema-type", "capability.consumes[0].resources[0].operations[0].name"),
        ("schema-type", "capability.exposes[0].namespace"),
        ("unknown-call", "capability.exposes[1].tools[0].call"),
        ("unknown-call", "capability.exposes[1].tools[1].call"),
    }
    lines = {p.path: p.line for p in report.errors}
    assert lines["capability.exposes[1].tools[1].call"] == line_of(text, "nope.x")
