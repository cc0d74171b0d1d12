"""Each spec model, loaded from a small document: what a good one becomes, and where a bad one is
reported. Also how `with` values are classified and how output parameters are shaped."""

from __future__ import annotations

import pytest

from naftiko_runtime import Document, SpecError, loads
from naftiko_runtime.spec.models import (
    AuthApiKey,
    AuthBasic,
    AuthBearer,
    AuthDigest,
    AuthOAuth2,
    AuthUnsupported,
    BodyForm,
    BodyJson,
    BodyMultipart,
    BodyRaw,
    BodyText,
    ControlExpose,
    ControlLogs,
    InputRef,
    McpExpose,
    PathRef,
    RestExpose,
    SkillExpose,
    StaticValue,
    StepCall,
    StepLookup,
    StepScript,
    TemplateValue,
)

from .helpers import API, document, error_rules, line_of, mcp, only_error, report, rest, warnings


def load_doc(text: str) -> Document:
    return loads(text, "doc.yaml")


def consumes_with(operations: str = "", *, extra: str = "", resource_extra: str = "") -> str:
    """A consumes block with one resource; ``operations``/``extra`` are YAML at the right depth."""
    ops = operations or "- name: list-items\n  method: GET\n"
    indented_ops = "".join(f"      {line}\n" for line in ops.strip("\n").split("\n"))
    return (
        "consumes:\n- type: http\n  namespace: api\n  baseUri: https://api.example.com\n"
        + "".join(f"  {line}\n" for line in extra.strip("\n").split("\n") if extra)
        + "  resources:\n  - name: items\n    path: /items\n"
        + "".join(f"    {line}\n" for line in resource_extra.strip("\n").split("\n") if resource_extra)
        + "    operations:\n"
        + indented_ops
    )


# --- root: naftiko, info, binds -----------------------------------------------------------------


def test_document_root_fields() -> None:
    doc = load_doc(
        """\
naftiko: 1.0.0-alpha2
info:
  label: Weather
  description: Forecasts
  tags: [weather, 42]
  created: 2026-01-02
  stakeholders:
  - role: owner
    fullName: Ada Lovelace
    email: ada@example.com
"""
    )
    assert doc.naftiko == "1.0.0-alpha2"
    assert doc.title == "Weather"
    assert doc.info.tags == ("weather", "42")
    assert doc.info.created == "2026-01-02"
    (person,) = doc.info.stakeholders
    assert (person.role, person.full_name, person.email) == ("owner", "Ada Lovelace", "ada@example.com")
    assert doc.capability is None
    assert doc.all_consumes == ()


def test_a_capability_without_version_loads_with_a_warning() -> None:
    found = report("capability:\n  exposes: []\n")
    assert found.ok
    assert [p.rule for p in found.warnings] == ["version"]
    assert found.document.title == "Naftiko capability"


@pytest.mark.parametrize(("version", "word"), [("1.0.0-alpha1", "earlier"), ("9.9", "unknown")])
def test_other_versions_are_read_as_alpha2_with_a_warning(version: str, word: str) -> None:
    found = report(f"naftiko: {version}\ncapability: {{}}\n")
    assert found.ok
    (warning,) = found.warnings
    assert (warning.rule, warning.line, warning.path) == ("version", 1, "naftiko")
    assert word in warning.message


def test_binds_root_and_capability_level() -> None:
    doc = load_doc(
        """\
naftiko: 1.0.0-alpha2
binds:
- namespace: env
  keys:
    TOKEN: API_TOKEN
    EMPTY:
    PORT: 8080
capability:
  binds:
  - namespace: files
    location: file:///etc/secrets.yaml
    keys: {KEY: key}
"""
    )
    assert doc.binds[0].keys == {"TOKEN": "API_TOKEN", "EMPTY": "", "PORT": "8080"}
    assert doc.capability.binds[0].location == "file:///etc/secrets.yaml"
    assert [b.namespace for b in doc.all_binds] == ["env", "files"]


def test_bind_without_namespace_is_a_located_error() -> None:
    text = "naftiko: 1.0.0-alpha2\nbinds:\n- keys: {A: a}\n"
    problem = only_error(text)
    assert (problem.rule, problem.path, problem.line) == ("schema-type", "binds[0].namespace", 3)
    assert "missing required key 'namespace'" in problem.message


def test_binds_must_be_a_list() -> None:
    problem = only_error("naftiko: 1.0.0-alpha2\nbinds: {namespace: env}\n")
    assert (problem.path, problem.line) == ("binds", 2)


# --- consumes -----------------------------------------------------------------------------------


def test_consumes_http_with_resources_and_operations() -> None:
    doc = load_doc(
        document(
            consumes=consumes_with(
                """\
- name: list-items
  label: List
  description: All items
  outputRawFormat: XML
  outputSchema: 42
  outputParameters:
  - name: ids
    type: array
    value: $.items[*].id
  - name: first
    mapping: $.items[0]
""",
                extra="description: An API\ninputParameters:\n- name: Accept\n  in: header\n  value: json",
                resource_extra="label: Items\ninputParameters:\n- name: page\n  in: query",
            )
        )
    )
    (consumes,) = doc.capability.consumes
    assert (consumes.type, consumes.namespace, consumes.description) == ("http", "api", "An API")
    assert consumes.input_parameters[0].in_ == "header"
    (resource,) = consumes.resources
    assert (resource.name, resource.path, resource.label) == ("items", "/items", "Items")
    assert resource.input_parameters[0].name == "page"
    (operation,) = resource.operations
    assert operation.method == "GET"  # the default
    assert operation.output_raw_format == "xml"  # lower-cased
    assert operation.output_schema == "42"
    ids, first = operation.output_parameters
    assert (ids.name, ids.type, ids.value) == ("ids", "array", "$.items[*].id")
    assert first.value == "$.items[0]"  # `mapping` on a consumed output is its `value`
    assert doc.find_consumes("api") is consumes
    assert doc.find_consumes("other") is None
    assert consumes.find_operation("nothing") is None


def test_consumes_entry_without_type_is_read_as_http_with_a_warning() -> None:
    text = document(consumes=API.replace("- type: http\n  namespace", "- namespace"))
    found = report(text)
    assert found.ok
    assert any("no `type`; read as `http`" in p.message for p in found.warnings)


def test_consumed_parameter_in_defaults_to_query_and_locations_are_checked() -> None:
    ops = "- name: op\n  inputParameters:\n  - name: q\n  - name: h\n    in: HEADER\n"
    doc = load_doc(document(consumes=consumes_with(ops)))
    q, h = doc.capability.consumes[0].resources[0].operations[0].input_parameters
    assert (q.in_, h.in_) == ("query", "header")
    bad = document(consumes=consumes_with("- name: op\n  inputParameters:\n  - name: q\n    in: nowhere\n"))
    problem = only_error(bad)
    assert problem.rule == "schema-type"
    assert problem.path.endswith("operations[0].inputParameters[0].in")
    assert problem.line == line_of(bad, "in: nowhere")
    assert "got 'nowhere'" in problem.message


def test_consumed_operation_without_name_is_a_located_error() -> None:
    text = document(consumes=consumes_with("- method: GET\n  description: nameless\n"))
    problem = only_error(text)
    assert problem.path == "capability.consumes[0].resources[0].operations[0].name"
    assert problem.line == line_of(text, "- method: GET")
    assert "missing required key 'name'" in problem.message


@pytest.mark.parametrize(
    ("body", "kind", "data"),
    [
        ("{type: json, data: {a: 1}}", BodyJson, {"a": 1}),
        ("{a: 1}", BodyJson, {"a": 1}),  # a mapping without `type`/`data` is the JSON payload
        ("[1, 2]", BodyJson, [1, 2]),
        ('{data: "{\\"a\\": \\"{{x}}\\"}"}', BodyJson, '{"a": "{{x}}"}'),
        ("{type: text, data: hello}", BodyText, "hello"),
        ("{type: xml, data: <a/>}", BodyText, "<a/>"),
        ("{type: sparql, data: SELECT 1}", BodyText, "SELECT 1"),
        ("{type: formUrlEncoded, data: {a: 1}}", BodyForm, {"a": 1}),
        ("{type: raw, data: abc}", BodyRaw, "abc"),
        ("just text", BodyRaw, "just text"),
    ],
)
def test_request_bodies(body: str, kind: type, data: object) -> None:
    doc = load_doc(document(consumes=consumes_with(f"- name: op\n  method: POST\n  body: {body}\n")))
    loaded = doc.capability.consumes[0].resources[0].operations[0].body
    assert isinstance(loaded, kind)
    assert loaded.data == data


def test_multipart_body_parts() -> None:
    ops = (
        "- name: upload\n  method: POST\n  body:\n    type: multipartForm\n    data:\n"
        "    - {name: file, value: '{{content}}', filename: a.txt, contentType: text/plain}\n"
    )
    body = load_doc(document(consumes=consumes_with(ops))).capability.consumes[0].resources[0]
    body = body.operations[0].body
    assert isinstance(body, BodyMultipart)
    (part,) = body.data
    assert (part.name, part.filename, part.content_type) == ("file", "a.txt", "text/plain")


def test_unknown_body_type_is_sent_as_json_with_a_warning() -> None:
    text = document(consumes=consumes_with("- name: op\n  method: POST\n  body: {type: protobuf, data: x}\n"))
    found = report(text)
    assert found.ok
    assert isinstance(found.document.capability.consumes[0].resources[0].operations[0].body, BodyJson)
    assert any("unknown body type 'protobuf'" in p.message for p in found.warnings)


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "kind", "fields"),
    [
        ("{type: basic, username: u, password: 1234}", AuthBasic, {"username": "u", "password": "1234"}),
        ("{type: digest, username: u, password: p}", AuthDigest, {"username": "u"}),
        ("{type: bearer, token: '{{env.T}}'}", AuthBearer, {"token": "{{env.T}}"}),
        (
            "{type: apikey, key: X-Key, value: v, placement: QUERY}",
            AuthApiKey,
            {"key": "X-Key", "value": "v", "placement": "query"},
        ),
        ("{type: apikey, name: X-Key, in: header, value: v}", AuthApiKey, {"key": "X-Key"}),
        ("{type: apikey, header: X-Key, value: v}", AuthApiKey, {"key": "X-Key", "placement": "header"}),
        (
            "{type: oauth2, scopes: read write, clientId: c, clientSecret: s, tokenEndpoint: https://t}",
            AuthOAuth2,
            {"scopes": ("read", "write"), "client_id": "c", "token_endpoint": "https://t"},
        ),
        ("{type: oauth1, consumerKey: k}", AuthUnsupported, {"declared": "oauth1"}),
    ],
)
def test_authentication_schemes(auth: str, kind: type, fields: dict) -> None:
    binds = "- namespace: env\n  keys: {T: T}\n"
    doc = load_doc(document(binds=binds, consumes=consumes_with(extra=f"authentication: {auth}")))
    loaded = doc.capability.consumes[0].authentication
    assert isinstance(loaded, kind)
    for name, value in fields.items():
        assert getattr(loaded, name) == value


def test_apikey_placement_outside_header_or_query_is_an_error() -> None:
    text = document(consumes=consumes_with(extra="authentication: {type: apikey, key: k, placement: body}"))
    problem = only_error(text)
    assert problem.path == "capability.consumes[0].authentication.placement"
    assert "got 'body'" in problem.message


def test_authentication_that_is_not_a_mapping_is_ignored_with_a_warning() -> None:
    found = report(document(consumes=consumes_with(extra="authentication: token")))
    assert found.ok
    assert found.document.capability.consumes[0].authentication is None
    assert any(p.path == "capability.consumes[0].authentication" for p in found.warnings)


# --- REST adapter -------------------------------------------------------------------------------


def test_rest_adapter_resources_operations_and_parameters() -> None:
    doc = load_doc(
        document(
            exposes="""\
- type: rest
  namespace: items-rest
  address: 127.0.0.1
  port: 8080
  inputParameters:
  - {name: X-Tenant, in: header}
  resources:
  - path: /items/{id}
    name: item
    inputParameters:
    - {name: id, in: path, type: integer, pattern: '^[0-9]+$'}
    operations:
    - method: GET
      name: get-item
      call: api.get-item
      with: {id: items-rest.id}
    - method: POST
      name: echo
      inputParameters:
      - {name: note, in: body, type: string, required: true, value: $.note}
      outputParameters:
      - {type: string, value: ok}
  - path: /proxy
    forward:
      targetNamespace: api
      trustedHeaders: Authorization
"""
        )
    )
    (adapter,) = doc.capability.exposes
    assert isinstance(adapter, RestExpose)
    assert (adapter.namespace, adapter.address, adapter.port) == ("items-rest", "127.0.0.1", 8080)
    assert adapter.input_parameters[0].in_ == "header"
    item, proxy = adapter.resources
    (param,) = item.input_parameters
    assert (param.in_, param.type, param.pattern) == ("path", "integer", "^[0-9]+$")
    get_item, echo = item.operations
    assert get_item.mode == "call"
    assert get_item.with_ == {"id": InputRef(name="id")}
    assert echo.mode == "mock"
    assert echo.output_parameters[0].is_static
    (note,) = echo.input_parameters
    assert (note.in_, note.required, note.value) == ("body", True, "$.note")
    assert proxy.forward.target_namespace == "api"
    assert proxy.forward.trusted_headers == ("Authorization",)


def test_exposed_parameter_without_in_is_read_as_body_with_a_warning() -> None:
    text = document(exposes=rest("- method: POST\n  name: p\n  inputParameters:\n  - name: x\n"))
    found = report(text)
    assert found.ok
    assert found.document.capability.exposes[0].resources[0].operations[0].input_parameters[0].in_ == "body"
    assert any("no `in`; read as `body`" in p.message for p in found.warnings)


def test_rest_resource_without_path_is_a_located_error() -> None:
    text = document(exposes="- type: rest\n  namespace: r\n  port: 8080\n  resources:\n  - name: nopath\n")
    problem = only_error(text)
    assert problem.path == "capability.exposes[0].resources[0].path"
    assert problem.line == line_of(text, "- name: nopath")


def test_exposed_operation_method_outside_http_is_read_as_get_with_a_warning() -> None:
    text = document(exposes=rest("- method: FETCH\n  name: f\n  call: api.list-items\n"))
    found = report(text)
    assert found.ok
    assert found.document.capability.exposes[0].resources[0].operations[0].method == "GET"
    assert any("unknown HTTP method 'FETCH'" in p.message for p in found.warnings)


# --- MCP adapter --------------------------------------------------------------------------------


def test_mcp_tools_resources_and_prompts() -> None:
    doc = load_doc(
        document(
            exposes="""\
- type: mcp
  namespace: items-mcp
  port: 9090
  transport: HTTP
  tools:
  - name: list-items
    description: All items
    hints: {readOnlyHint: true, openWorld: 'false'}
    inputParameters:
    - {name: limit, type: int, description: How many}
    - {name: cursor, required: false}
    call: api.list-items
  resources:
  - name: readme
    uri: docs://readme
    mimeType: text/markdown
    location: file:///./README.md
  - name: item
    uri: data://items/{id}
    call: api.get-item
    with: {id: '{{id}}'}
  prompts:
  - name: summarise
    arguments:
    - {name: topic, required: true}
    template:
    - role: user
      content: Summarise {{topic}}
    - role: assistant
      content: {type: text, text: Sure.}
"""
        )
    )
    (adapter,) = doc.capability.exposes
    assert isinstance(adapter, McpExpose)
    assert adapter.transport == "http"
    (tool,) = adapter.tools
    assert (tool.hints.read_only, tool.hints.open_world, tool.hints.destructive) == (True, False, None)
    limit, cursor = tool.input_parameters
    assert (limit.type, limit.required, limit.description) == ("integer", True, "How many")
    assert (cursor.type, cursor.required) == ("string", False)
    readme, item = adapter.resources
    assert readme.is_static and not readme.is_template
    assert (readme.mime_type, readme.location) == ("text/markdown", "file:///./README.md")
    assert item.is_template and not item.is_static
    assert item.with_ == {"id": TemplateValue(template="{{id}}")}
    (prompt,) = adapter.prompts
    assert prompt.arguments[0].required is True
    user, assistant = prompt.template
    assert (user.role, user.content) == ("user", "Summarise {{topic}}")
    assert (assistant.role, assistant.content) == ("assistant", "Sure.")


def test_mcp_stdio_transport_ignores_the_port_with_a_warning() -> None:
    text = document(
        exposes=mcp("- name: t\n  call: api.list-items\n").replace("  port:", "  transport: stdio\n  port:")
    )
    found = report(text)
    assert found.ok
    assert found.document.capability.exposes[0].transport == "stdio"
    assert any("`port` is ignored" in p.message for p in found.warnings)


def test_mcp_transport_outside_http_or_stdio_is_an_error() -> None:
    text = document(exposes="- type: mcp\n  namespace: m\n  transport: websocket\n")
    problem = only_error(text)
    assert (problem.path, problem.line) == ("capability.exposes[0].transport", line_of(text, "websocket"))
    assert "expected 'http' or 'stdio', got 'websocket'" in problem.message


def test_mcp_tool_hint_that_is_not_a_boolean_is_dropped_with_a_warning() -> None:
    text = document(exposes=mcp("- name: t\n  call: api.list-items\n  hints: {readOnly: maybe}\n"))
    found = report(text)
    assert found.ok
    assert found.document.capability.exposes[0].tools[0].hints.read_only is None
    (warning,) = [p for p in found.warnings if p.rule == "type"]
    assert warning.path.endswith("hints.readOnly")


def test_mcp_resource_without_uri_is_a_located_error() -> None:
    text = document(
        exposes="- type: mcp\n  namespace: m\n  port: 9090\n  resources:\n  - name: r\n"
        "    call: api.list-items\n"
    )
    problem = only_error(text)
    assert problem.path == "capability.exposes[0].resources[0].uri"


def test_mcp_prompt_message_role_is_user_or_assistant() -> None:
    text = document(
        exposes="- type: mcp\n  namespace: m\n  port: 9090\n  prompts:\n  - name: p\n    template:\n"
        "    - {role: system, content: hi}\n"
    )
    problem = only_error(text)
    assert problem.path == "capability.exposes[0].prompts[0].template[0].role"
    assert "got 'system'" in problem.message


# --- skill and control adapters -----------------------------------------------------------------


def test_skill_adapter() -> None:
    doc = load_doc(
        document(
            exposes=rest("- method: GET\n  name: list\n  call: api.list-items\n", namespace="items-rest")
            + """\
- type: skill
  namespace: items-skills
  port: 8090
  skills:
  - name: items
    description: Work with items
    allowed-tools: [list, guide]
    argument-hint: an item id
    user-invocable: true
    location: file:///./skills/items
    tools:
    - name: list
      from: {sourceNamespace: items-rest, action: list}
    - name: guide
      instruction: guide.md
"""
        )
    )
    skills = doc.capability.exposes[1]
    assert isinstance(skills, SkillExpose)
    (skill,) = skills.skills
    assert skill.allowed_tools == "list guide"
    assert (skill.argument_hint, skill.user_invocable) == ("an item id", True)
    listing, guide = skill.tools
    assert (listing.from_.source_namespace, listing.from_.action) == ("items-rest", "list")
    assert (guide.from_, guide.instruction) == (None, "guide.md")


def test_skill_tool_from_needs_an_action() -> None:
    text = document(
        exposes="- type: skill\n  namespace: s\n  port: 8090\n  skills:\n  - name: k\n    tools:\n"
        "    - name: t\n      from: {sourceNamespace: r}\n"
    )
    problem = only_error(text)
    assert problem.path == "capability.exposes[0].skills[0].tools[0].from.action"


def test_control_adapter_defaults_and_management() -> None:
    doc = load_doc(
        document(
            consumes="",
            exposes="""\
- type: control
  port: 9190
  management:
    info: true
    logs: {level-control: false, max-subscribers: 2}
    scripting:
      defaultLanguage: python
      timeout: 3000
      allowedLanguages: [python]
  observability:
    traces: {sampling: 0.5, propagation: b3}
    exporters: {otlp: {endpoint: http://collector:4318}}
""",
        )
    )
    (control,) = doc.capability.exposes
    assert isinstance(control, ControlExpose)
    assert control.namespace == "control"  # the default
    management = control.management
    assert (management.health, management.info, management.reload) == (True, True, False)
    assert isinstance(management.logs, ControlLogs)
    assert (management.logs.level_control, management.logs.max_subscribers) == (False, 2)
    assert management.scripting.allowed_languages == ("python",)
    assert management.scripting.timeout == 3000
    traces = control.observability.traces
    assert (traces.sampling, traces.propagation) == (0.5, "b3")
    assert control.observability.exporters.otlp.endpoint == "http://collector:4318"


def test_control_trace_propagation_is_w3c_or_b3() -> None:
    text = document(
        consumes="",
        exposes="- type: control\n  port: 9190\n  observability:\n    traces: {propagation: zipkin}\n",
    )
    problem = only_error(text)
    assert problem.path == "capability.exposes[0].observability.traces.propagation"


# --- aggregates and steps -----------------------------------------------------------------------


def test_aggregate_functions_and_refs() -> None:
    doc = load_doc(
        document(
            aggregates="""\
- namespace: catalog
  label: Catalog
  functions:
  - name: list
    description: All items
    semantics: {safe: true, idempotent: true}
    inputParameters:
    - {name: limit, type: integer}
    call: api.list-items
    with: {limit: catalog.limit}
""",
            exposes=mcp("- ref: catalog.list\n"),
        )
    )
    (aggregate,) = doc.capability.aggregates
    (function,) = aggregate.functions
    assert (function.semantics.safe, function.semantics.cacheable) == (True, None)
    assert function.input_parameters[0].type == "integer"
    assert function.with_ == {"limit": InputRef(name="limit")}
    (tool,) = doc.capability.exposes[0].tools
    assert (tool.mode, tool.ref, tool.name) == ("ref", "catalog.list", None)


def test_steps_of_every_type_and_mappings() -> None:
    doc = load_doc(
        document(
            exposes=mcp(
                """\
- name: enrich
  description: Items with their owners
  steps:
  - type: call
    name: items
    call: api.list-items
    with: {limit: 10}
  - type: lookup
    name: owner
    index: items
    match: id
    lookupValue: $.owner-id
    outputParameters: [name, {name: email}]
  - name: score
    type: script
    language: python
    location: file:///./scripts
    file: score.py
    dependencies: [helpers.py]
  - name: again
    call: api.get-item
  mappings:
  - targetName: result.items
    value: '{{$.items}}'
  outputParameters:
  - {name: result, type: object, properties: {items: {type: array, items: {type: object}}}}
"""
            )
        )
    )
    (tool,) = doc.capability.exposes[0].tools
    assert tool.mode == "steps"
    call, lookup, script, untyped = tool.steps
    assert isinstance(call, StepCall) and call.target == ("api", "list-items")
    assert call.with_ == {"limit": StaticValue(value=10)}
    assert isinstance(lookup, StepLookup)
    assert (lookup.index, lookup.match, lookup.lookup_value) == ("items", "id", "$.owner-id")
    assert lookup.output_parameters == ("name", "email")
    assert isinstance(script, StepScript)
    assert (script.language, script.file, script.dependencies) == ("python", "score.py", ("helpers.py",))
    assert isinstance(untyped, StepCall)  # `type` inferred from `call`
    (mapping,) = tool.mappings
    assert (mapping.target_name, mapping.value) == ("result.items", "$.items")  # `{{ }}` removed


def test_step_without_a_type_it_can_infer_is_a_located_error() -> None:
    text = document(exposes=mcp("- name: t\n  steps:\n  - name: mystery\n    with: {a: 1}\n"))
    problem = only_error(text)
    assert problem.rule == "schema-type"
    assert problem.path == "capability.exposes[0].tools[0].steps[0]"
    assert problem.line == line_of(text, "- name: mystery")


def test_step_of_an_unknown_type_names_the_expected_ones() -> None:
    text = document(exposes=mcp("- name: t\n  steps:\n  - {type: loop, name: l}\n"))
    problem = only_error(text)
    assert "unknown `type` 'loop'" in problem.message
    assert "'call', 'lookup', 'script'" in problem.message


# --- `with` values ------------------------------------------------------------------------------


WITH_CASES = [
    ("tools-mcp.city", InputRef(name="city")),  # the adapter's own namespace
    ("tools.city", InputRef(name="city")),  # generated dialect
    ("rest.city", InputRef(name="city")),
    ("args.city", InputRef(name="city")),
    ("weather.city", StaticValue(value="weather.city")),  # not a known prefix: plain text
    ("'{{city}}'", TemplateValue(template="{{city}}")),
    ("'Hello {{env.NAME}}!'", TemplateValue(template="Hello {{env.NAME}}!")),
    ("$.step.city", PathRef(path="$.step.city")),
    ("$", PathRef(path="$")),
    ("$[0]", PathRef(path="$[0]")),
    ("'{{$.a}}'", PathRef(path="$.a")),
    ("'{{ $.a.b }}'", PathRef(path="$.a.b")),
    ("plain text", StaticValue(value="plain text")),
    ("42", StaticValue(value=42)),
    ("4.5", StaticValue(value=4.5)),
    ("true", StaticValue(value=True)),
    ("null", StaticValue(value=None)),
    ("[1, 2]", StaticValue(value=[1, 2])),
    ("{a: 1}", StaticValue(value={"a": 1})),
]


@pytest.mark.parametrize(("raw", "expected"), WITH_CASES, ids=[raw for raw, _ in WITH_CASES])
def test_with_values_are_classified_once(raw: str, expected: object) -> None:
    doc = load_doc(document(exposes=mcp(f"- name: t\n  call: api.list-items\n  with:\n    value: {raw}\n")))
    assert doc.capability.exposes[0].tools[0].with_["value"] == expected


def test_with_keys_become_text() -> None:
    doc = load_doc(document(exposes=mcp("- name: t\n  call: api.list-items\n  with: {404: a, true: b}\n")))
    assert list(doc.capability.exposes[0].tools[0].with_) == ["404", "true"]


def test_an_aggregate_namespace_is_a_reference_prefix_too() -> None:
    doc = load_doc(
        document(
            aggregates="- namespace: shared\n  functions:\n  - name: f\n    call: api.list-items\n",
            exposes=mcp("- name: t\n  call: api.list-items\n  with: {a: shared.x}\n"),
        )
    )
    assert doc.capability.exposes[0].tools[0].with_["a"] == InputRef(name="x")


# --- output parameters --------------------------------------------------------------------------


def _outputs(outputs: str):
    doc = load_doc(
        document(exposes=mcp(f"- name: t\n  call: api.list-items\n  outputParameters:\n{outputs}"))
    )
    return doc.capability.exposes[0].tools[0].output_parameters


def test_output_tutorial_shape_mapping_string_with_sibling_properties() -> None:
    (out,) = _outputs(
        "  - type: array\n    mapping: $.results\n    items:\n      type: object\n"
        "      properties:\n        id: {type: string, mapping: $.id}\n        name: $.title\n"
    )
    assert (out.type, out.mapping) == ("array", "$.results")
    assert out.items.type == "object"
    assert out.items.properties["id"].mapping == "$.id"
    assert out.items.properties["name"].mapping == "$.title"  # a bare string is a mapping


def test_output_spec_shape_mapping_object_is_read_as_siblings() -> None:
    text = document(
        exposes=mcp(
            "- name: t\n  call: api.list-items\n  outputParameters:\n  - type: object\n"
            "    mapping:\n      properties:\n        id: {type: string, mapping: $.id}\n"
            "  - name: many\n    mapping: {items: {type: string, mapping: $.x}}\n"
        )
    )
    found = report(text)
    first, many = found.document.capability.exposes[0].tools[0].output_parameters
    assert first.mapping is None and first.properties["id"].mapping == "$.id"
    assert first.type == "object"
    assert (many.type, many.items.mapping) == ("array", "$.x")  # type inferred from `items`
    (warning,) = [p for p in found.warnings if p.rule == "dialect:mapping-object"]
    assert "(2 places)" in warning.message


def test_output_type_is_inferred_from_properties() -> None:
    (out,) = _outputs("  - properties: {a: {mapping: $.a}}\n")
    assert out.type == "object"


def test_output_value_that_is_a_jsonpath_becomes_a_mapping() -> None:
    literal, path = _outputs("  - {name: a, type: string, value: hello}\n  - {name: b, value: '{{$.x}}'}\n")
    assert (literal.value, literal.mapping, literal.is_static) == ("hello", None, True)
    assert (path.value, path.mapping) == (None, "$.x")


def test_orchestrated_items_list_is_the_spec_form_and_one_entry_describes_the_element() -> None:
    text = document(
        exposes=mcp(
            "- name: t\n  steps:\n  - {type: call, name: s, call: api.list-items}\n"
            "  outputParameters:\n  - name: members\n    type: array\n    items:\n"
            "    - {name: login, type: string}\n    - {name: id, type: number}\n"
            "  - name: single\n    type: array\n    items:\n    - {type: string}\n"
            "  - name: labels\n    type: array\n    items:\n    - {name: label, type: string}\n"
        )
    )
    found = report(text)
    members, single, labels = found.document.capability.exposes[0].tools[0].output_parameters
    assert members.items.type == "object"
    assert list(members.items.properties) == ["login", "id"]
    assert members.items.properties["id"].type == "number"
    assert (single.items.type, single.items.properties) == ("string", None)
    # The spec requires a name on every entry: a lone scalar entry still describes a scalar element.
    assert (labels.items.type, labels.items.name, labels.items.properties) == ("string", "label", None)
    assert not [p for p in found.warnings if p.rule.startswith("dialect:")]


def test_output_parameter_with_a_wrong_type_is_read_as_string_with_a_warning() -> None:
    tool = "- name: t\n  call: api.list-items\n  outputParameters:\n  - {type: blob, mapping: $}\n"
    found = report(document(exposes=mcp(tool)))
    assert found.ok
    assert found.document.capability.exposes[0].tools[0].output_parameters[0].type == "string"
    assert any("unknown type 'blob'" in p.message for p in found.warnings)


# --- the library API ----------------------------------------------------------------------------


def test_loads_raises_one_exception_type_with_every_located_problem() -> None:
    text = document(exposes=mcp("- name: a\n  call: api.nope\n- name: b\n  call: nope.list-items\n"))
    with pytest.raises(SpecError) as caught:
        loads(text, "two.yaml")
    first, second = caught.value.errors
    assert (first.line, second.line) == (line_of(text, "api.nope"), line_of(text, "nope.list-items"))
    assert str(caught.value).splitlines() == [first.format(), second.format()]
    assert all(p.severity == "warning" for p in caught.value.problems if p not in caught.value.errors)


def test_load_of_a_missing_file_raises_spec_error(tmp_path) -> None:
    from naftiko_runtime import load

    with pytest.raises(SpecError) as caught:
        load(tmp_path / "absent.yaml")
    (problem,) = caught.value.errors
    assert (problem.rule, problem.message) == ("file", "file not found")
    assert problem.file == str(tmp_path / "absent.yaml")


def test_unknown_keys_are_warnings_at_their_line() -> None:
    text = document(exposes=mcp("- name: t\n  call: api.list-items\n  colour: blue\n"))
    found = report(text)
    assert found.ok
    (warning,) = [p for p in found.warnings if p.rule == "unknown-key"]
    assert warning.path == "capability.exposes[0].tools[0].colour"
    assert warning.line == line_of(text, "colour: blue")
    assert "unknown key 'colour' ignored" in warning.message


def test_duplicate_yaml_keys_are_warnings() -> None:
    text = "naftiko: 1.0.0-alpha2\ninfo:\n  label: a\n  label: b\n"
    found = report(text)
    assert found.ok
    assert found.document.info.label == "b"
    (warning,) = [p for p in found.warnings if p.rule == "duplicate-key"]
    assert (warning.path, warning.line) == ("info.label", 4)


def test_numbers_in_text_fields_are_read_as_text() -> None:
    doc = load_doc(
        document(
            consumes=consumes_with("- name: 404\n  description: 1.5\n"),
            exposes=mcp("- name: 200\n  call: api.404\n"),
        )
    )
    assert doc.capability.consumes[0].resources[0].operations[0].name == "404"
    assert doc.capability.exposes[0].tools[0].name == "200"


def test_error_rules_helper_sees_schema_type_errors() -> None:
    assert error_rules("naftiko: 1\ncapability:\n  exposes:\n  - {type: rest, port: 80}\n") == {"schema-type"}


def test_warnings_helper_returns_only_warnings() -> None:
    assert all(p.severity == "warning" for p in warnings("capability: {}\n"))
