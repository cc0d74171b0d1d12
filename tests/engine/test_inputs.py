"""Inputs: inferred from the seed's ``with`` and consumed parameters, coerced by type, checked before
any upstream request (the upstream must see nothing when the arguments are wrong)."""

from __future__ import annotations

import asyncio
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.engine.contract import InputSpec
from naftiko_runtime.errors import InputError
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load, loads
from tests.support.upstream import RecordingUpstream

from .helpers import FAST, call, doc, failure

SEED = Path(__file__).resolve().parents[2] / "capabilities" / "label-studio-runs.yaml"
NS = "label-studio-subpackage-prompts-subpackage-prompts-runs"
TOOL = "get-inference-run-info"
RUNS = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
ENV = {"LABEL_STUDIO_API_KEY": "Token seed-test"}


def seed_call(upstream: RecordingUpstream, target: str, arguments: dict[str, Any]) -> Any:
    async def go() -> Any:
        runtime = Runtime.build(
            load(SEED), RuntimeOptions(base_uris={NS: upstream.url}, environ=ENV, transport=FAST)
        )
        try:
            return await runtime.invoke(target, arguments)
        finally:
            await runtime.aclose()

    return asyncio.run(go())


def seed_unit(name: str) -> Any:
    return Runtime.build(load(SEED), RuntimeOptions(environ=ENV)).find(name)


def test_seed_tool_inputs_are_inferred_with_types() -> None:
    unit = seed_unit(TOOL)
    inputs = {spec.name: (spec.type, spec.required, spec.in_path) for spec in unit.inputs}
    assert inputs == {
        "prompt_id": ("integer", True, True),
        "version_id": ("integer", True, True),
        "ordering": ("string", False, False),
        "parent_model": ("integer", False, False),
        "project": ("integer", False, False),
        "project_subset": ("string", False, False),
    }
    schema = unit.input_schema
    assert schema["required"] == ["prompt_id", "version_id"]
    assert schema["properties"]["project"] == {
        "type": "integer",
        "description": "The ID of the project this Inference Run makes predictions on",
    }
    assert "Authorization" not in schema["properties"]  # the credential is the capability's


def test_seed_create_takes_the_whole_body_as_an_object() -> None:
    runtime = Runtime.build(load(SEED), RuntimeOptions(environ=ENV))
    tool = runtime.find("run-prompt-inference")
    assert {s.name: (s.type, s.required) for s in tool.inputs}["body"] == ("object", False)
    # The REST operation on the same call carries it as the whole request body, and names its path
    # inputs as the route spells its placeholders.
    (create,) = [route for route in runtime.rest[0].routes if route.unit.name == "create"]
    placed = {place.name: place for place in create.inputs}
    assert (placed["body"].location, placed["body"].whole_body) == ("body", True)
    assert (placed["prompt_id"].location, placed["prompt_id"].wire) == ("path", "prompt-id")


def test_where_a_request_carries_an_input_is_not_in_the_engine_contract() -> None:
    # MCP, skill and the CLI see a unit's inputs; only the REST plan knows the HTTP request.
    assert {f.name for f in fields(InputSpec)} == {
        "name",
        "type",
        "required",
        "description",
        "in_path",
        "pattern",
        "default",
        "items",
    }


def test_strings_are_coerced_to_declared_types(upstream: RecordingUpstream) -> None:
    upstream.route("GET", RUNS, json=[])
    seed_call(upstream, TOOL, {"prompt_id": "5", "version_id": " 7 ", "project": 3.0, "parent_model": "+2"})
    assert upstream.last.raw_path == "/api/prompts/5/versions/7/inference-runs"
    assert upstream.last.query == {"project": ["3"], "parent_model": ["2"]}
    assert upstream.last.headers["authorization"] == "Token seed-test"


@pytest.mark.parametrize("bad", ["abc", "5.5", 5.5, True, [1], {"a": 1}, ""])
def test_a_non_integer_is_an_input_error_naming_parameter_and_type(
    upstream: RecordingUpstream, bad: Any
) -> None:
    with pytest.raises(InputError) as caught:
        seed_call(upstream, TOOL, {"prompt_id": bad, "version_id": 1})
    error = caught.value
    assert [p.name for p in error.problems] == ["prompt_id"]
    assert "integer" in error.problems[0].message
    assert "prompt_id" in str(error) and "integer" in str(error)
    assert TOOL in error.operation
    assert upstream.requests == []


def test_required_missing_is_an_input_error_before_any_request(upstream: RecordingUpstream) -> None:
    with pytest.raises(InputError) as caught:
        seed_call(upstream, TOOL, {"version_id": 1})
    assert [(p.name, p.message) for p in caught.value.problems] == [
        ("prompt_id", "required integer is missing")
    ]
    assert upstream.requests == []


def test_every_bad_argument_is_reported_at_once(upstream: RecordingUpstream) -> None:
    with pytest.raises(InputError) as caught:
        seed_call(upstream, TOOL, {"version_id": "x", "project": "three"})
    assert sorted(p.name for p in caught.value.problems) == ["project", "prompt_id", "version_id"]
    assert upstream.requests == []


def test_null_for_an_optional_argument_is_absent(upstream: RecordingUpstream) -> None:
    upstream.route("GET", RUNS, json=[])
    seed_call(upstream, TOOL, {"prompt_id": 1, "version_id": 1, "project": None, "ordering": None})
    assert upstream.last.raw_query == ""


def test_arguments_match_across_spellings(upstream: RecordingUpstream) -> None:
    upstream.route("GET", RUNS, json=[])
    seed_call(upstream, TOOL, {"prompt-id": "1", "Version_Id": 2, "project-subset": "HasGT"})
    assert upstream.last.raw_path == "/api/prompts/1/versions/2/inference-runs"
    assert upstream.last.query == {"project_subset": ["HasGT"]}


TYPED = doc(
    """
    capability:
      consumes:
      - type: http
        namespace: up
        baseUri: http://upstream.invalid
        resources:
        - name: things
          path: /things
          operations:
          - name: send
            method: POST
            inputParameters:
            - {name: ratio, in: body, type: number}
            - {name: enabled, in: body, type: boolean}
            - {name: tags, in: body, type: array}
            - {name: meta, in: body, type: object}
            - {name: code, in: body, type: string}
            - {name: anything, in: body}
      exposes:
      - type: rest
        namespace: api
        port: 8080
        resources:
        - path: /things/{id}
          operations:
          - method: POST
            name: send
            call: up.send
            inputParameters:
            - {name: id, in: path, type: string, pattern: "^[a-z]+-[0-9]+$"}
            - {name: ratio, in: body, type: number}
            - {name: enabled, in: body, type: boolean}
            - {name: tags, in: body, type: array}
            - {name: meta, in: body, type: object}
            - {name: code, in: body, type: string}
            - {name: anything, in: body, type: string}
    """
)


def test_every_type_is_coerced(upstream: RecordingUpstream) -> None:
    arguments = {
        "ratio": "2.5",
        "enabled": "true",
        "tags": '["a", 1]',
        "meta": '{"k": null}',
        "code": 7,
        "anything": [1],
    }
    call(TYPED, upstream.url, "up.send", arguments)
    assert upstream.last.json == {
        "ratio": 2.5,
        "enabled": True,
        "tags": ["a", 1],
        "meta": {"k": None},
        "code": "7",
        "anything": [1],
    }


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("ratio", "two", "number"),
        ("enabled", "yes", "boolean"),
        ("tags", "a,b", "array"),
        ("meta", "[1]", "object"),
        ("code", {"x": 1}, "string"),
    ],
)
def test_values_that_cannot_be_coerced(upstream: RecordingUpstream, name: str, value: Any, kind: str) -> None:
    error = failure(InputError, TYPED, upstream.url, "up.send", {name: value})
    assert [p.name for p in error.problems] == [name]
    assert kind in error.problems[0].message
    assert upstream.requests == []


def test_a_declared_pattern_is_checked(upstream: RecordingUpstream) -> None:
    error = failure(InputError, TYPED, upstream.url, "send", {"id": "ABC"})
    assert [p.name for p in error.problems] == ["id"]
    assert "pattern" in error.problems[0].message
    assert upstream.requests == []
    call(TYPED, upstream.url, "send", {"id": "abc-1", "ratio": 1})
    assert upstream.last.json == {"ratio": 1}


DECLARED_INTO_PATH = doc(
    """
    capability:
      consumes:
        - type: http
          namespace: api
          baseUri: http://placeholder
          resources:
            - name: items
              path: /owners/{{owner}}/items/{{id}}
              operations:
                - name: get-item
                  method: GET
                  inputParameters:
                    - {name: q, in: query}
      exposes:
        - type: mcp
          namespace: shop
          port: 9090
          tools:
            - name: by-name
              description: inputs flow into the URL under their own names
              inputParameters:
                - {name: owner, type: string, description: who}
                - {name: id, type: string, description: which}
                - {name: q, type: string, description: a search}
              call: api.get-item
            - name: through-with
              description: one input whole into the URL, one written into it
              inputParameters:
                - {name: item, type: string, description: which}
                - {name: who, type: string, description: whose}
              call: api.get-item
              with: {id: shop.item, owner: "team-{{who}}"}
            - name: steps
              description: an orchestration passing an input whole into the URL
              inputParameters:
                - {name: item, type: string, description: which}
              steps:
                - {type: call, name: fetch, call: api.get-item, with: {id: "{{item}}", owner: me}}
              mappings:
                - {targetName: found, value: $.fetch}
              outputParameters:
                - {name: found, type: object}
    """
)


def test_a_declared_input_passed_whole_into_the_url_is_published_non_empty(
    upstream: RecordingUpstream,
) -> None:
    """An empty path segment is refused on every call, so the published schema says ``minLength: 1``
    for a declared input exactly as for an inferred one; an input written into a longer text, or sent
    in the query, is not constrained."""
    built = Runtime.build(loads(DECLARED_INTO_PATH), RuntimeOptions())
    by_name = built.find("by-name").input_schema["properties"]
    assert by_name["owner"] == {"type": "string", "description": "who", "minLength": 1}
    assert by_name["id"] == {"type": "string", "description": "which", "minLength": 1}
    assert by_name["q"] == {"type": "string", "description": "a search"}
    through = built.find("through-with").input_schema["properties"]
    assert through["item"]["minLength"] == 1 and "minLength" not in through["who"]
    assert built.find("steps").input_schema["properties"]["item"]["minLength"] == 1
    error = failure(InputError, DECLARED_INTO_PATH, upstream.url, "through-with", {"item": "", "who": "x"})
    assert "a value is required for this path parameter" in str(error)
    assert upstream.requests == []
