"""The tolerant reader: every generated-dialect form is rewritten into the canonical model and reported
once per file, as one warning at its first use that counts the places."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from naftiko_runtime.spec.models import (
    AuthApiKey,
    BodyForm,
    BodyMultipart,
    Document,
    InputRef,
    PathRef,
)
from naftiko_runtime.spec.normalize import _DIALECT_TEXT

from .helpers import document, mcp, report, rest


@dataclass(frozen=True)
class Form:
    text: str
    places: int
    needle: str  # the first use: the warning points at the start of this text
    check: Callable[[Document], None]
    occurrence: int = 1


def _position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not found")


def _consumes(*, auth: str = "", operations: str = "", namespace: str = "api") -> str:
    ops = operations or "    - name: op\n      method: GET\n"
    return (
        f"- type: http\n  namespace: {namespace}\n  baseUri: https://{namespace}.example.com\n{auth}"
        f"  resources:\n  - name: items\n    path: /items\n    operations:\n{ops}"
    )


def _two_consumes(first: str, second: str) -> str:
    return "consumes:\n" + first + second


def _tools(doc: Document, index: int = 0):
    return doc.capability.exposes[index].tools


def _rest_ops(doc: Document):
    return [op for r in doc.capability.exposes[0].resources for op in r.operations]


def _consumed_ops(doc: Document):
    return [op for c in doc.capability.consumes for r in c.resources for op in r.operations]


def _check_info_title(doc: Document) -> None:
    assert doc.info.label == "Weather"


def _check_param_extras(doc: Document) -> None:
    first, second = _consumed_ops(doc)[0].input_parameters
    assert (first.type, first.required, first.description) == ("integer", True, "the page")
    assert (second.type, second.required) == ("string", False)


def _check_with_prefix(doc: Document) -> None:
    assert _rest_ops(doc)[0].with_ == {"page": InputRef(name="page")}
    assert _tools(doc, 1)[0].with_ == {"page": InputRef(name="page")}


def _check_dollar_dot(doc: Document) -> None:
    first, second = _consumed_ops(doc)
    assert first.output_parameters[0].value == "$"
    assert second.output_parameters[0].value == "$"


def _check_wrapped(doc: Document) -> None:
    (tool,) = _tools(doc)
    assert tool.steps[1].with_ == {"id": PathRef(path="$.first.id")}
    assert tool.mappings[0].value == "$.second"


def _check_rest_description(doc: Document) -> None:
    assert [e.description for e in doc.capability.exposes] == ["one", "two"]


def _check_capability_binds(doc: Document) -> None:
    assert doc.capability.binds[0].namespace == "env"
    assert doc.all_binds[0].keys == {"TOKEN": "TOKEN"}


def _check_auth_key(doc: Document) -> None:
    assert [c.authentication.type for c in doc.capability.consumes] == ["bearer", "basic"]


def _check_auth_alias(doc: Document) -> None:
    first, second = (c.authentication for c in doc.capability.consumes)
    assert isinstance(first, AuthApiKey) and isinstance(second, AuthApiKey)
    assert (first.key, second.key) == ("X-Key", "X-Other")


def _check_mapping_object(doc: Document) -> None:
    first, second = _tools(doc)[0].output_parameters
    assert first.properties["id"].mapping == "$.id"
    assert second.items.mapping == "$.name"


def _check_items_list(doc: Document) -> None:
    first, second = _tools(doc)[0].output_parameters
    assert list(first.items.properties) == ["login"]
    assert list(second.items.properties) == ["id"]


def _check_prompt_messages(doc: Document) -> None:
    first, second = doc.capability.exposes[0].prompts
    assert first.template[0].content == "Hello {{who}}"
    assert second.template[0].role == "assistant"


def _check_body_alias(doc: Document) -> None:
    first, second = _consumed_ops(doc)
    assert isinstance(first.body, BodyForm)
    assert isinstance(second.body, BodyMultipart)


def _check_param_type_alias(doc: Document) -> None:
    count, flag = _tools(doc)[0].input_parameters
    assert (count.type, flag.type) == ("integer", "boolean")


def _check_method_case(doc: Document) -> None:
    assert [op.method for op in _consumed_ops(doc)] == ["GET", "POST"]


def _check_skill_from(doc: Document) -> None:
    first, second = doc.capability.exposes[1].skills[0].tools
    assert (first.from_.source_namespace, first.from_.action) == ("api-rest", "list")
    assert (second.from_.source_namespace, second.from_.action) == ("api-rest", "second")  # `name` default


def _check_allowed_tools(doc: Document) -> None:
    assert [s.allowed_tools for s in doc.capability.exposes[0].skills] == ["a b", "c"]


def _check_port_string(doc: Document) -> None:
    assert [e.port for e in doc.capability.exposes] == [8080, 9090]


def _check_operation_id(doc: Document) -> None:
    assert [op.name for op in _consumed_ops(doc)] == ["first", "second"]


def _check_operation_path(doc: Document) -> None:
    assert [op.path for op in _consumed_ops(doc)] == ["/{{id}}", "/{{id}}/tags"]


_OUTPUT_OPS = (
    "    - name: first\n      outputParameters:\n      - {name: all, value: $.}\n"
    "    - name: second\n      outputParameters:\n      - {name: all, value: $.}\n"
)

FORMS: dict[str, Form] = {
    "info-title": Form(
        "naftiko: 1.0.0-alpha2\ninfo:\n  title: Weather\ncapability: {}\n", 1, "title", _check_info_title
    ),
    "consumed-param-extras": Form(
        document(
            consumes="consumes:\n"
            + _consumes(
                operations="    - name: op\n      inputParameters:\n"
                "      - {name: page, in: query, type: integer, required: true, description: the page}\n"
                "      - {name: q, in: query, type: string, required: false}\n"
            )
        ),
        2,
        "{name: page",
        _check_param_extras,
    ),
    "with-dialect-prefix": Form(
        document(
            exposes=rest("- method: GET\n  name: l\n  call: api.list-items\n  with: {page: rest.page}\n")
            + mcp("- name: t\n  call: api.list-items\n  with: {page: tools.page}\n"),
        ),
        2,
        "page: rest.page",
        _check_with_prefix,
    ),
    "dollar-dot-root": Form(
        document(consumes="consumes:\n" + _consumes(operations=_OUTPUT_OPS)),
        2,
        "value: $.",
        _check_dollar_dot,
    ),
    "wrapped-jsonpath": Form(
        document(
            exposes=mcp(
                "- name: t\n  steps:\n  - {type: call, name: first, call: api.list-items}\n"
                "  - type: call\n    name: second\n    call: api.get-item\n"
                "    with:\n      id: '{{$.first.id}}'\n"
                "  mappings:\n  - {targetName: out, value: '{{$.second}}'}\n"
            )
        ),
        2,
        "id: '{{$.first.id}}'",
        _check_wrapped,
    ),
    "rest-description": Form(
        document(
            exposes="- {type: rest, namespace: r1, port: 8080, description: one}\n"
            "- {type: rest, namespace: r2, port: 8081, description: two}\n"
        ),
        2,
        "description: one",
        _check_rest_description,
    ),
    "capability-binds": Form(
        "naftiko: 1.0.0-alpha2\ncapability:\n  binds:\n  - namespace: env\n    keys: {TOKEN: TOKEN}\n",
        1,
        "binds:",
        _check_capability_binds,
    ),
    "auth-key": Form(
        document(
            consumes=_two_consumes(
                _consumes(auth="  auth: {type: bearer, token: t}\n"),
                _consumes(auth="  auth: {type: basic, username: u}\n", namespace="other"),
            )
        ),
        2,
        "auth:",
        _check_auth_key,
    ),
    "auth-type-alias": Form(
        document(
            consumes=_two_consumes(
                _consumes(auth="  authentication: {type: apiKey, key: X-Key, value: v}\n"),
                _consumes(auth="  authentication: {type: header, key: X-Other, value: v}\n", namespace="o"),
            )
        ),
        2,
        "type: apiKey",
        _check_auth_alias,
    ),
    "mapping-object": Form(
        document(
            exposes=mcp(
                "- name: t\n  call: api.list-items\n  outputParameters:\n"
                "  - type: object\n    mapping:\n      properties: {id: {type: string, mapping: $.id}}\n"
                "  - type: array\n    mapping:\n      items: {type: string, mapping: $.name}\n"
            )
        ),
        2,
        "mapping:",
        _check_mapping_object,
    ),
    "orchestrated-items-list": Form(
        document(
            exposes=mcp(
                "- name: t\n  steps:\n  - {type: call, name: s, call: api.list-items}\n  outputParameters:\n"
                "  - name: members\n    type: array\n    items:\n    - {name: login, type: string}\n"
                "  - name: ids\n    type: array\n    items:\n    - {name: id, type: number}\n"
            )
        ),
        2,
        "items:",
        _check_items_list,
    ),
    "prompt-messages": Form(
        document(
            exposes="- type: mcp\n  namespace: m\n  port: 9090\n  prompts:\n"
            "  - name: greet\n    messages:\n    - {role: user, content: 'Hello {{who}}'}\n"
            "  - name: answer\n    messages:\n    - {role: assistant, content: Sure}\n"
        ),
        2,
        "messages:",
        _check_prompt_messages,
    ),
    "body-type-alias": Form(
        document(
            consumes="consumes:\n"
            + _consumes(
                operations="    - name: a\n      method: POST\n      body: {type: form, data: {x: 1}}\n"
                "    - name: b\n      method: POST\n"
                "      body: {type: multipart, data: [{name: f, value: v}]}\n"
            )
        ),
        2,
        "type: form",
        _check_body_alias,
    ),
    "param-type-alias": Form(
        document(
            exposes=mcp(
                "- name: t\n  call: api.list-items\n  inputParameters:\n"
                "  - {name: count, type: int}\n  - {name: flag, type: bool}\n"
            )
        ),
        2,
        "type: int",
        _check_param_type_alias,
    ),
    "method-case": Form(
        document(
            consumes="consumes:\n"
            + _consumes(operations="    - name: a\n      method: get\n    - name: b\n      method: post\n")
        ),
        2,
        "method: get",
        _check_method_case,
    ),
    "skill-from-wiki": Form(
        document(
            exposes=rest(
                "- {method: GET, name: list, call: api.list-items}\n"
                "- {method: POST, name: second, call: api.list-items}\n",
                namespace="api-rest",
            )
            + "- type: skill\n  namespace: s\n  port: 8090\n  skills:\n  - name: k\n    tools:\n"
            "    - name: list\n      from: {namespace: api-rest, name: list}\n"
            "    - name: second\n      from: {namespace: api-rest}\n"
        ),
        2,
        "from: {namespace: api-rest, name: list}",
        _check_skill_from,
    ),
    "allowed-tools-list": Form(
        document(
            exposes="- type: skill\n  namespace: s\n  port: 8090\n  skills:\n"
            "  - {name: one, allowed-tools: [a, b]}\n  - {name: two, allowed-tools: [c]}\n"
        ),
        2,
        "allowed-tools: [a, b]",
        _check_allowed_tools,
    ),
    "port-string": Form(
        document(
            exposes="- {type: rest, namespace: r, port: '8080'}\n- {type: mcp, namespace: m, port: '9090'}\n"
        ),
        2,
        "port: '8080'",
        _check_port_string,
    ),
    "operation-id": Form(
        document(
            consumes="consumes:\n"
            + _consumes(
                operations="    - id: first\n      method: GET\n    - id: second\n      method: GET\n"
            )
        ),
        2,
        "id: first",
        _check_operation_id,
    ),
    "operation-path": Form(
        document(
            consumes="consumes:\n"
            + _consumes(
                operations="    - name: a\n      path: /{{id}}\n    - name: b\n      path: /{{id}}/tags\n"
            )
        ),
        2,
        "path: /{{id}}",
        _check_operation_path,
    ),
}


def test_every_dialect_form_has_a_case() -> None:
    assert set(FORMS) == set(_DIALECT_TEXT)


@pytest.mark.parametrize("form", list(FORMS))
def test_dialect_form_is_rewritten_and_reported_once(form: str) -> None:
    case = FORMS[form]
    found = report(case.text, "dialect.yaml")
    assert found.ok, "\n".join(p.format() for p in found.errors)
    case.check(found.document)
    reported = [p for p in found.warnings if p.rule == f"dialect:{form}"]
    assert len(reported) == 1, [p.format() for p in found.warnings]
    (warning,) = reported
    places = "1 place" if case.places == 1 else f"{case.places} places"
    assert warning.message == f"generated dialect: {_DIALECT_TEXT[form]} ({places}); accepted"
    assert (warning.line, warning.column) == _position(case.text, case.needle, case.occurrence)
    assert warning.path
    assert warning.format().startswith(f"dialect.yaml:{warning.line}:{warning.column}: warning: ")


def test_a_canonical_document_has_no_dialect_warnings() -> None:
    text = document(
        exposes=mcp("- name: t\n  call: api.list-items\n  with: {page: tools-mcp.page}\n")
        + rest("- method: GET\n  name: l\n  call: api.list-items\n")
    )
    found = report(text)
    assert found.ok
    assert not [p for p in found.warnings if p.rule.startswith("dialect:")]
