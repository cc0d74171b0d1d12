"""Output shaping of a real upstream answer, in the spec's form and in the tutorial's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.upstream import RecordingUpstream

from .helpers import call, doc, running

ANSWER = {
    "id": 154548,
    "login": "ana",
    "titles": [
        {"text": {"content": "first", "author": "u1"}},
        {"text": {"content": "second", "author": "u2"}},
    ],
    "user details": {"email": "ana@example.org"},
    "imo-number": "IMO-1",
    "count": "42",
    "active": "true",
    "empty": [],
}


def shaped(
    upstream: RecordingUpstream, outputs: str, answer: Any = ANSWER, arguments: dict[str, Any] | None = None
) -> Any:
    upstream.route("GET", "/thing", json=answer)
    body = "\n".join("      " + line for line in outputs.strip("\n").splitlines())
    text = doc(
        f"""
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: thing
      path: /thing
      operations:
      - name: get
  exposes:
  - type: mcp
    namespace: tools
    port: 9000
    tools:
    - name: t
      description: shaped
      call: up.get
      outputParameters:
{body}
"""
    )
    return call(text, upstream.url, "t", arguments or {}).value


def test_no_output_parameters_is_the_decoded_answer(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/thing", json=ANSWER)
    text = doc(
        """
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            resources:
            - name: thing
              path: /thing
              operations:
              - name: get
        """
    )
    assert call(text, upstream.url, "up.get").value == ANSWER


@pytest.mark.parametrize("root", ["$", "$.", "'{{$}}'"])
def test_root_mappings(upstream: RecordingUpstream, root: str) -> None:
    assert shaped(upstream, f"- type: object\n  mapping: {root}") == ANSWER


def test_scalar_mapping_unwrapped(upstream: RecordingUpstream) -> None:
    assert shaped(upstream, "- type: string\n  mapping: $.login") == "ana"


def test_multi_match_is_an_array_and_no_match_is_null(upstream: RecordingUpstream) -> None:
    assert shaped(upstream, "- type: array\n  mapping: $.titles[*].text.content") == ["first", "second"]
    assert shaped(upstream, "- type: string\n  mapping: $.nope.deeper") is None
    assert shaped(upstream, "- type: array\n  mapping: $.nope[*]") in (None, [])


def test_hyphens_spaces_and_indexes_in_paths(upstream: RecordingUpstream) -> None:
    outputs = """
- name: imo
  type: string
  mapping: $.imo-number
- name: email
  type: string
  mapping: $['user details'].email
- name: second
  type: string
  mapping: $.titles[1].text.content
"""
    assert shaped(upstream, outputs) == {"imo": "IMO-1", "email": "ana@example.org", "second": "second"}


def test_several_outputs_are_an_object_keyed_by_name(upstream: RecordingUpstream) -> None:
    outputs = """
- name: userId
  type: number
  mapping: $.id
- name: username
  type: string
  mapping: $.login
- name: missing
  type: string
  mapping: $.nothing
"""
    assert shaped(upstream, outputs) == {"userId": 154548, "username": "ana", "missing": None}


def test_unnamed_outputs_are_keyed_by_the_last_path_name(upstream: RecordingUpstream) -> None:
    assert shaped(upstream, "- type: string\n  mapping: $.login\n- type: number\n  mapping: $.id") == {
        "login": "ana",
        "id": 154548,
    }


def test_declared_scalar_types_convert_when_nothing_is_lost(upstream: RecordingUpstream) -> None:
    outputs = """
- {name: count, type: number, mapping: $.count}
- {name: active, type: boolean, mapping: $.active}
- {name: id, type: string, mapping: $.id}
- {name: login, type: number, mapping: $.login}
"""
    assert shaped(upstream, outputs) == {"count": 42, "active": True, "id": "154548", "login": "ana"}


SPEC_FORM = """
- type: object
  mapping:
    properties:
      username:
        type: string
        mapping: $.login
      userId:
        type: number
        mapping: $.id
      titles:
        type: array
        mapping:
          items:
            type: object
            mapping:
              properties:
                name:
                  type: string
                  mapping: $.text.content
"""

TUTORIAL_FORM = """
- type: object
  properties:
    username:
      type: string
      mapping: $.login
    userId:
      type: number
      mapping: $.id
    titles:
      type: array
      mapping: $.titles
      items:
        type: object
        properties:
          name:
            type: string
            mapping: $.text.content
"""


def test_spec_form_mapping_properties_and_items(upstream: RecordingUpstream) -> None:
    assert shaped(upstream, SPEC_FORM) == {
        "username": "ana",
        "userId": 154548,
        "titles": [{"name": "first"}, {"name": "second"}],  # the property's own field
    }


def test_a_property_without_mapping_reads_the_field_of_its_name(upstream: RecordingUpstream) -> None:
    outputs = """
- type: object
  properties:
    login: {type: string}
    id: {type: number}
    absent: {type: string}
    details:
      type: object
      properties:
        email: {type: string, mapping: "$['user details'].email"}
"""
    assert shaped(upstream, outputs) == {
        "login": "ana",
        "id": 154548,
        "absent": None,
        "details": {"email": "ana@example.org"},  # a nested object reads its parent's source
    }


def test_spec_form_array_of_objects(upstream: RecordingUpstream) -> None:
    outputs = """
- type: array
  mapping:
    items:
      type: object
      mapping:
        properties:
          name:
            type: string
            mapping: $.text.content
          by:
            type: string
            mapping: $.text.author
"""
    answer = ANSWER["titles"]
    assert shaped(upstream, outputs, answer) == [
        {"name": "first", "by": "u1"},
        {"name": "second", "by": "u2"},
    ]


def test_tutorial_form_mapping_with_sibling_properties_and_items(upstream: RecordingUpstream) -> None:
    assert shaped(upstream, TUTORIAL_FORM) == {
        "username": "ana",
        "userId": 154548,
        "titles": [{"name": "first"}, {"name": "second"}],
    }


def test_tutorial_form_array_with_scalar_items(upstream: RecordingUpstream) -> None:
    outputs = """
- type: array
  mapping: $.titles
  items:
    type: string
    mapping: $.text.author
"""
    assert shaped(upstream, outputs) == ["u1", "u2"]


def test_object_mapping_selects_its_source_first(upstream: RecordingUpstream) -> None:
    outputs = """
- type: object
  mapping: $.titles[0].text
  properties:
    content: {type: string, mapping: $.content}
    author: {type: string, mapping: $.author}
"""
    assert shaped(upstream, outputs) == {"content": "first", "author": "u1"}


def test_object_mapping_with_no_match_is_null(upstream: RecordingUpstream) -> None:
    outputs = """
- type: object
  mapping: $.absent
  properties:
    content: {type: string, mapping: $.content}
"""
    assert shaped(upstream, outputs) is None


def test_empty_array_stays_empty(upstream: RecordingUpstream) -> None:
    outputs = "- type: array\n  mapping: $.empty\n  items: {type: string, mapping: $.x}"
    assert shaped(upstream, outputs) == []


def test_array_of_a_list_answer_at_the_root(upstream: RecordingUpstream) -> None:
    outputs = """
- type: array
  mapping: $
  items:
    type: object
    properties:
      id: {type: number, mapping: $.id}
"""
    assert shaped(upstream, outputs, [{"id": 1, "x": 0}, {"id": 2}]) == [{"id": 1}, {"id": 2}]


def test_static_and_template_values_beside_mappings(upstream: RecordingUpstream) -> None:
    outputs = """
- name: login
  type: string
  mapping: $.login
- name: greeting
  type: string
  value: "Hello, {{who}}!"
- name: version
  type: string
  value: v1
"""
    assert shaped(upstream, outputs, arguments={"who": "Ana"}) == {
        "login": "ana",
        "greeting": "Hello, Ana!",
        "version": "v1",
    }


def test_the_seed_shape_returns_the_whole_answer(upstream: RecordingUpstream) -> None:
    runs = [{"id": 1, "status": "Completed"}, {"id": 2, "status": "Pending"}]
    assert shaped(upstream, "- type: object\n  mapping: $.", runs) == runs


def test_output_schema_is_published_for_structured_outputs(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/thing", json=ANSWER)
    body = "\n".join("      " + line for line in TUTORIAL_FORM.strip("\n").splitlines())
    text = doc(
        f"""
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: thing
      path: /thing
      operations:
      - name: get
  exposes:
  - type: mcp
    namespace: tools
    port: 9000
    tools:
    - name: t
      description: shaped
      call: up.get
      outputParameters:
{body}
"""
    )

    async def go() -> Any:
        async with running(text, upstream.url) as rt:
            return rt.find("t").output_schema

    schema = asyncio.run(go())
    assert schema["type"] == "object"
    assert schema["properties"]["titles"]["type"] == "array"
    assert schema["properties"]["titles"]["items"]["properties"]["name"]["type"] == ["string", "null"]
