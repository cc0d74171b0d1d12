"""``with``: references across spellings, templates over arguments and binds, statics, pass-through.

Body fields are used where the type on the wire matters: JSON shows whether ``5`` stayed a number.
"""

from __future__ import annotations

import asyncio

from naftiko_runtime.errors import InputError
from tests.support.upstream import RecordingUpstream

from .helpers import call, doc, failure, running

ENV = {"REGION": "eu-west", "API_TOKEN": "tok-123"}


def wired(with_block: str, *, inputs: str = "") -> str:
    """An MCP tool ``t`` calling ``up.send`` (POST /prompts/{prompt_id}) with ``with_block``."""
    with_lines = "\n".join("          " + line for line in with_block.strip("\n").splitlines())
    input_lines = "\n".join("          " + line for line in inputs.strip("\n").splitlines())
    declared = f"      inputParameters:\n{input_lines}\n" if inputs else ""
    return doc(
        f"""
binds:
- namespace: env
  keys:
    REGION: REGION
    API_TOKEN: API_TOKEN
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: prompts
      path: /prompts/{{{{prompt_id}}}}
      operations:
      - name: send
        method: POST
        inputParameters:
        - {{name: prompt_id, in: path}}
        - {{name: q, in: query}}
        - {{name: X-Region, in: header}}
        - {{name: count, in: body}}
        - {{name: tags, in: body}}
        - {{name: label, in: body}}
        - {{name: flag, in: body}}
        - {{name: extra, in: body}}
  exposes:
  - type: mcp
    namespace: tools
    port: 9000
    tools:
    - name: t
      description: test tool
      call: up.send
{declared}      with:
{with_lines}
"""
    )


def test_references_match_across_spellings(upstream: RecordingUpstream) -> None:
    text = wired("prompt_id: tools.prompt-id\nlabel: tools.Label_Text")
    call(text, upstream.url, "t", {"prompt_id": 4, "label-text": "hello"}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/4"
    assert upstream.last.json == {"label": "hello"}

    text = wired("prompt-id: tools.prompt_id")  # the with key in another spelling than the param
    call(text, upstream.url, "t", {"Prompt-ID": 5}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/5"


def test_dialect_prefixes_rest_and_tools_are_references(upstream: RecordingUpstream) -> None:
    text = wired("prompt_id: rest.pid\nlabel: tools.name")
    call(text, upstream.url, "t", {"pid": 6, "name": "n"}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/6"
    assert upstream.last.json == {"label": "n"}


def test_a_missing_reference_leaves_the_parameter_unset(upstream: RecordingUpstream) -> None:
    text = wired("prompt_id: tools.pid\nlabel: tools.name\nq: tools.query")
    call(text, upstream.url, "t", {"pid": 1}, environ=ENV)
    assert upstream.last.raw_query == ""  # not "q=" and not "q=None"
    assert upstream.last.body == b""  # no body field was given: no body at all


def test_an_argument_named_like_a_mapped_parameter_is_not_an_input(upstream: RecordingUpstream) -> None:
    # `label` is fed by `with` from the input `name`; the unit does not take `label` itself.
    text = wired("prompt_id: tools.pid\nlabel: tools.name")
    error = failure(InputError, text, upstream.url, "t", {"pid": 1, "label": "direct"}, environ=ENV)
    assert [p.name for p in error.problems] == ["label"]
    assert "unknown argument" in error.problems[0].message
    assert upstream.requests == []


def test_templates_over_arguments_and_binds(upstream: RecordingUpstream) -> None:
    text = wired(
        """
prompt_id: tools.pid
X-Region: "{{env.REGION}}"
label: "{{name}} in {{REGION}} (#{{pid}})"
q: "{{name}}"
"""
    )
    call(text, upstream.url, "t", {"pid": 2, "name": "Ana"}, environ=ENV)
    got = upstream.last
    assert got.headers["x-region"] == "eu-west"
    assert got.json == {"label": "Ana in eu-west (#2)"}
    assert got.raw_query == "q=Ana"


def test_a_lone_placeholder_keeps_the_value_type(upstream: RecordingUpstream) -> None:
    text = wired('prompt_id: tools.pid\ncount: "{{n}}"\ntags: "{{list}}"\nflag: "{{on}}"\nextra: "{{obj}}"')
    arguments = {"pid": 1, "n": 5, "list": ["a", "b"], "on": False, "obj": {"k": [1, 2]}}
    call(text, upstream.url, "t", arguments, environ=ENV)
    assert upstream.last.json == {"count": 5, "tags": ["a", "b"], "flag": False, "extra": {"k": [1, 2]}}


def test_a_lone_placeholder_with_no_value_leaves_the_parameter_unset(upstream: RecordingUpstream) -> None:
    text = wired('prompt_id: tools.pid\ncount: "{{n}}"\nq: "{{missing}}"')
    call(text, upstream.url, "t", {"pid": 1}, environ=ENV)
    assert upstream.last.raw_query == ""
    assert upstream.last.body == b""


def test_statics_keep_their_yaml_type(upstream: RecordingUpstream) -> None:
    text = wired(
        """
prompt_id: 12
count: 100
flag: true
tags: [a, 2]
label: "007"
extra: {nested: 1.5}
q: plain text
"""
    )
    call(text, upstream.url, "t", {}, environ=ENV)
    got = upstream.last
    assert got.raw_path == "/prompts/12"
    assert got.raw_query == "q=plain%20text"
    assert got.json == {
        "count": 100,
        "tags": ["a", 2],
        "label": "007",
        "flag": True,
        "extra": {"nested": 1.5},
    }


def test_a_static_string_that_looks_like_a_reference_to_nobody_is_a_literal(
    upstream: RecordingUpstream,
) -> None:
    text = wired("prompt_id: tools.pid\nlabel: location\nq: some.thing")
    call(text, upstream.url, "t", {"pid": 1}, environ=ENV)
    assert upstream.last.json == {"label": "location"}
    assert upstream.last.raw_query == "q=some.thing"


def test_unmapped_arguments_pass_through_to_parameters_and_templates(upstream: RecordingUpstream) -> None:
    text = wired('prompt_id: tools.pid\nlabel: "{{title}}"')
    call(
        text,
        upstream.url,
        "t",
        {"pid": 3, "title": "T", "q": "direct", "X-Region": "us", "count": 2},
        environ=ENV,
    )
    got = upstream.last
    assert got.raw_query == "q=direct"
    assert got.headers["x-region"] == "us"
    assert got.json == {"count": 2, "label": "T"}


def test_a_parameter_fixed_by_with_cannot_be_given(upstream: RecordingUpstream) -> None:
    text = wired("prompt_id: tools.pid\nq: fixed")
    error = failure(InputError, text, upstream.url, "t", {"pid": 3, "q": "caller"}, environ=ENV)
    assert [p.name for p in error.problems] == ["q"]
    call(text, upstream.url, "t", {"pid": 3}, environ=ENV)
    assert upstream.last.raw_query == "q=fixed"


def test_inputs_are_inferred_from_with(upstream: RecordingUpstream) -> None:
    text = wired('prompt_id: tools.pid\nlabel: "{{name}} x"\nq: fixed\ncount: "{{n}}"')

    async def go() -> dict[str, tuple[str | None, bool]]:
        async with running(text, upstream.url, environ=ENV) as rt:
            return {spec.name: (spec.type, spec.required) for spec in rt.find("t").inputs}

    inputs = asyncio.run(go())
    assert inputs["pid"] == (None, True)  # feeds a path parameter, which is required
    assert inputs["name"] == ("string", False)  # written into text
    assert inputs["n"] == (None, False)  # passed on with its own type
    assert "q" not in inputs and "REGION" not in inputs  # fixed by with; a bind is not an input
    assert "tags" in inputs  # consumed parameters nobody maps stay askable


def test_a_required_reference_missing_is_an_input_error_before_any_request(
    upstream: RecordingUpstream,
) -> None:
    text = wired("prompt_id: tools.pid")
    error = failure(InputError, text, upstream.url, "t", {}, environ=ENV)
    assert [p.name for p in error.problems] == ["pid"]
    assert upstream.requests == []


def test_declared_tool_inputs_are_coerced_before_with(upstream: RecordingUpstream) -> None:
    text = wired(
        'prompt_id: tools.pid\ncount: "{{n}}"',
        inputs="- {name: pid, type: integer, required: true, description: id}\n"
        "- {name: n, type: number, description: how many}",
    )
    call(text, upstream.url, "t", {"pid": "8", "n": "2.5"}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/8"
    assert upstream.last.json == {"count": 2.5}


def test_a_reference_reaches_a_declared_input_spelled_otherwise(upstream: RecordingUpstream) -> None:
    # Declared `prompt-id`, referenced as `Prompt_ID`, given as `PROMPT_ID`: one name, resolved
    # when the unit is built.
    text = wired(
        "prompt_id: tools.Prompt_ID\nlabel: tools.label_text",
        inputs="- {name: prompt-id, type: integer, required: true, description: id}\n"
        "- {name: label-text, type: string, description: label}",
    )
    call(text, upstream.url, "t", {"PROMPT_ID": "8", "label_text": "hi"}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/8"
    assert upstream.last.json == {"label": "hi"}


def test_the_exact_spelling_of_an_argument_wins_over_another(upstream: RecordingUpstream) -> None:
    text = wired(
        "prompt_id: tools.prompt-id",
        inputs="- {name: prompt-id, type: integer, required: true, description: id}",
    )
    call(text, upstream.url, "t", {"Prompt_ID": 3, "prompt-id": 9}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/9"
    call(text, upstream.url, "t", {"prompt-id": 9, "Prompt_ID": 3}, environ=ENV)
    assert upstream.last.raw_path == "/prompts/9"
