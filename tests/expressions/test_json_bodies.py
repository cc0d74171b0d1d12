"""`render_json`: a value placed in a JSON body template is JSON, and the body stays valid."""

import json
import math

import pytest

from naftiko_runtime.expressions import MissingVariable, compile_template
from tests.expressions.doubles import FakeSecret

# The tutorial's create-voyage body (YAML block scalar, so it ends with a newline).
VOYAGE_BODY = """{
  "shipImo": "{{shipImo}}",
  "departurePort": "{{departurePort}}",
  "arrivalPort": "{{arrivalPort}}",
  "crewIds": {{crewIds}},
  "cargoIds": {{cargoIds}}
}
"""

NASTY_STRINGS = [
    '"',
    "\\",
    'He said "hi"\nthen left',
    "\r\n\t\b\f",
    "\x00\x1f\x7f",
    "</script>",
    "{{shipImo}}",
    "Lindström 🚢",
    "\u2028\u2029",
    '","admin":true,"x":"',
]


def body(text, context, **options):
    return compile_template(text).render_json(context, **options)


def test_voyage_body_with_a_list_and_a_missing_optional_list():
    context = {
        "shipImo": "IMO-9321483",
        "departurePort": "Oslo",
        "arrivalPort": "Rotterdam",
        "crewIds": ["CREW-001", "CREW-003"],
    }
    rendered = body(VOYAGE_BODY, context)
    assert json.loads(rendered) == {
        "shipImo": "IMO-9321483",
        "departurePort": "Oslo",
        "arrivalPort": "Rotterdam",
        "crewIds": ["CREW-001", "CREW-003"],
        "cargoIds": None,
    }
    assert rendered.endswith("}\n")


def test_exact_bytes_for_a_plain_string_value():
    # RestNamespaceRefWithResolutionTest: the upstream receives exactly this text.
    assert body('{"shipImo": "{{shipImo}}"}\n', {"shipImo": "IMO-9321483"}) == '{"shipImo": "IMO-9321483"}\n'


def test_compact_block_template():
    rendered = body('{"id":"{{userId}}","name":"{{userName}}"}', {"userId": "123", "userName": "Alice"})
    assert rendered == '{"id":"123","name":"Alice"}'


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_values_inside_a_string_literal_are_escaped(value):
    rendered = body('{"note": "{{note}}", "tail": "ok"}', {"note": value})
    assert json.loads(rendered) == {"note": value, "tail": "ok"}


@pytest.mark.parametrize("value", NASTY_STRINGS)
def test_string_values_outside_a_literal_are_quoted(value):
    rendered = body('{"note": {{note}}}', {"note": value})
    assert json.loads(rendered) == {"note": value}


def test_value_inside_a_string_next_to_other_text():
    rendered = body('{"q": "name:{{name}} AND x", "n": {{n}}}', {"name": 'O"Brien', "n": 2})
    assert json.loads(rendered) == {"q": 'name:O"Brien AND x', "n": 2}


def test_typed_values_outside_string_literals():
    context = {"n": 5, "f": 2.5, "whole": 42.0, "yes": True, "no": False, "none": None, "obj": {"a": [1]}}
    rendered = body(
        '{"n": {{n}}, "f": {{f}}, "whole": {{whole}}, "yes": {{yes}}, "no": {{no}}, '
        '"none": {{none}}, "obj": {{obj}}, "missing": {{missing}}}',
        context,
    )
    assert json.loads(rendered) == {
        "n": 5,
        "f": 2.5,
        "whole": 42,
        "yes": True,
        "no": False,
        "none": None,
        "obj": {"a": [1]},
        "missing": None,
    }
    assert '"whole": 42,' in rendered


def test_typed_values_inside_string_literals_become_their_text():
    context = {"n": 5, "yes": True, "none": None, "ids": ["a", "b"]}
    rendered = body(
        '{"n": "{{n}}", "yes": "{{yes}}", "none": "{{none}}", "ids": "{{ids}}", "m": "{{m}}"}', context
    )
    assert json.loads(rendered) == {"n": "5", "yes": "true", "none": "", "ids": '["a","b"]', "m": ""}


def test_arrays_of_placeholders_and_top_level_value():
    assert json.loads(body("[{{a}}, {{b}}, {{c}}]", {"a": 1, "b": "two"})) == [1, "two", None]
    assert json.loads(body("{{payload}}", {"payload": {"k": ["v"]}})) == {"k": ["v"]}


def test_escaped_quote_before_a_placeholder_keeps_the_string_state():
    rendered = body('{"a": "say \\"{{word}}\\"", "b": {{n}}}', {"word": 'x"y', "n": [1]})
    assert json.loads(rendered) == {"a": 'say "x"y"', "b": [1]}


def test_placeholder_as_an_object_key():
    assert json.loads(body('{"{{key}}": {{value}}}', {"key": 'we"ird', "value": 1})) == {'we"ird': 1}


def test_non_finite_floats_become_null():
    rendered = body('{"a": {{a}}, "b": {{b}}}', {"a": math.nan, "b": math.inf})
    assert json.loads(rendered) == {"a": None, "b": None}


def test_non_ascii_is_kept_as_utf8_text():
    rendered = body('{"name": "{{name}}", "other": {{name}}}', {"name": "Erik Lindström"})
    assert "Lindström" in rendered
    assert json.loads(rendered) == {"name": "Erik Lindström", "other": "Erik Lindström"}


def test_secrets_are_revealed_into_the_body():
    rendered = body(
        '{"token": "{{TOKEN}}", "raw": {{TOKEN}}, "list": {{list}}}',
        {
            "TOKEN": FakeSecret('s"1'),
            "list": [FakeSecret("s2")],
        },
    )
    assert json.loads(rendered) == {"token": 's"1', "raw": 's"1', "list": ["s2"]}


def test_dotted_step_references_in_a_body():
    context = {"get-ship": {"assignedCrew": ["CREW-001"], "imo": "IMO-1"}}
    rendered = body('{"imo": "{{get-ship.imo}}", "crew": {{get-ship.assignedCrew}}}', context)
    assert json.loads(rendered) == {"imo": "IMO-1", "crew": ["CREW-001"]}


def test_strict_json_rendering_raises():
    with pytest.raises(MissingVariable) as caught:
        body('{"a": "{{a}}", "b": {{b}}}', {}, strict=True)
    assert caught.value.names == ("a", "b")
