"""The `{{...}}` template language: lookup, formatting, missing names, typed single values."""

from collections import ChainMap
from decimal import Decimal
from enum import IntEnum, StrEnum
from types import MappingProxyType

import pytest

from naftiko_runtime.expressions import (
    MissingVariable,
    NameIndex,
    Template,
    compile_template,
    has_placeholders,
)
from tests.expressions.doubles import FakeSecret


def render(text, context=None, **options):
    return compile_template(text).render(context if context is not None else {}, **options)


# --- the Java engine's contract (notes §0) ---------------------------------------------------


def test_missing_variable_renders_empty():
    assert render("hello {{name}}/{{missing}}", {"name": "alice"}) == "hello alice/"


def test_null_values_render_empty():
    assert render("/api/v1/users/{{userId}}/posts/{{postId}}", {"userId": None, "x": 1}) == (
        "/api/v1/users//posts/"
    )


def test_numbers_and_repeated_variables():
    assert render("db{{id}}", {"id": 42}) == "db42"
    assert render("{{a}}-{{a}}", {"a": "x"}) == "x-x"


def test_empty_context_is_not_a_passthrough():
    # Java returns the template unrendered for an empty map; here every name is simply missing.
    assert render("/orders/{{orderId}}", {}) == "/orders/"


def test_lists_render_as_compact_json():
    assert render("{{ids}}", {"ids": ["a", "b"]}) == '["a","b"]'
    assert render("{{ids}}", {"ids": ("a", 1, True, None)}) == '["a",1,true,null]'


def test_mappings_render_as_compact_json():
    # Java prints a Map with toString() ({k=v}); JSON is the useful reading.
    assert render("{{m}}", {"m": {"k": "v", "n": [1]}}) == '{"k":"v","n":[1]}'
    assert render("{{m}}", {"m": MappingProxyType({"k": 1})}) == '{"k":1}'


def test_booleans_are_lowercase():
    assert render("{{t}}/{{f}}", {"t": True, "f": False}) == "true/false"


def test_integers_and_integral_floats_print_without_fraction():
    assert render("{{n}}", {"n": 5}) == "5"
    assert render("{{n}}", {"n": 5.0}) == "5"
    assert render("{{n}}", {"n": -0.0}) == "0"
    assert render("{{n}}", {"n": 2.5}) == "2.5"
    assert render("{{n}}", {"n": 0.1}) == "0.1"
    assert render("{{n}}", {"n": 1e20}) == "1e+20"
    assert render("{{n}}", {"n": 12345678901234567890}) == "12345678901234567890"


def test_strings_are_inserted_verbatim():
    assert render("q={{q}}", {"q": 'a "b" & <c> é'}) == 'q=a "b" & <c> é'


def test_secret_values_render_revealed():
    secret = FakeSecret("s3cr3t")
    assert render("Bearer {{TOKEN}}", {"TOKEN": secret}) == "Bearer s3cr3t"
    assert render("{{all}}", {"all": [secret]}) == '["s3cr3t"]'


# --- lookup -----------------------------------------------------------------------------------


def test_dotted_name_walks_into_a_step_result_with_hyphens():
    context = {"fetch-profile": {"region": "eu"}, "targetEmail": "bob@example.com"}
    assert render("/echo/{{fetch-profile.region}}", context) == "/echo/eu"


def test_exact_dotted_key_wins_over_the_walk():
    context = {"tools.name": "flat", "tools": {"name": "nested"}}
    assert render("{{tools.name}}", context) == "flat"


def test_longest_dotted_prefix_is_tried_first():
    context = {"a.b": {"c": "long"}, "a": {"b": {"c": "short"}}}
    assert render("{{a.b.c}}", context) == "long"
    assert render("{{a.b.c}}", {"a": {"b": {"c": "short"}}}) == "short"


def test_walk_indexes_lists():
    context = {"items": [{"id": "i-0"}, {"id": "i-1"}]}
    assert render("{{items.1.id}}", context) == "i-1"
    assert render("[{{items.5.id}}]", context) == "[]"
    assert render("{{m.0}}", {"m": {"0": "key zero"}}) == "key zero"


def test_walk_stops_at_scalars():
    assert render("[{{a.b}}]", {"a": "text"}) == "[]"
    assert render("[{{a.b.c}}]", {"a": {"b": None}}) == "[]"


def test_whitespace_inside_braces_is_tolerated():
    assert render("{{ name }}|{{name  }}|{{\tname}}", {"name": "x"}) == "x|x|x"


def test_triple_braces_are_the_same_placeholder():
    assert render("{{{name}}}", {"name": "<b>"}) == "<b>"


def test_canonical_spelling_fallback_for_the_first_segment():
    context = {"prompt-id": "p1", "Fetch_Profile": {"region": "eu", "Zone": "z"}}
    assert render("{{prompt_id}}", context) == "p1"
    assert render("{{PROMPT-ID}}", context) == "p1"
    assert render("{{fetch-profile.region}}", context) == "eu"
    # only the first segment is matched loosely; data inside a value keeps its exact keys
    assert render("[{{fetch-profile.zone}}]", context) == "[]"


def test_exact_spelling_is_preferred_to_canonical():
    assert render("{{user_id}}", {"user-id": "dash", "user_id": "underscore"}) == "underscore"


def test_name_index_and_chain_map_contexts():
    assert render("{{Prompt_ID}}", NameIndex({"prompt-id": "p"})) == "p"
    assert render("{{a.b}}", NameIndex({"A": {"b": 1}})) == "1"
    layered = ChainMap({"name": "arg"}, {"name": "bind", "API_KEY": "k"})
    assert render("{{name}}:{{api-key}}", layered) == "arg:k"


def test_mustache_tags_other_than_variables_stay_literal():
    text = "{{#items}}x{{/items}}{{! note}}{{>partial}}{{^none}}{{&raw}}"
    template = compile_template(text)
    assert template.is_literal
    assert template.variables == ()
    assert template.render({"items": [1]}) == text


def test_empty_braces_are_not_placeholders():
    assert render("{{}} {{ }}", {"": "x"}) == "{{}} {{ }}"


def test_text_without_placeholders_is_returned_as_is():
    template = compile_template("/ships")
    assert template.is_literal
    assert template.render({"x": 1}) == "/ships"
    assert template.render_json({}) == "/ships"


# --- strict mode --------------------------------------------------------------------------------


def test_strict_mode_names_every_missing_variable_once_in_order():
    template = compile_template("/{{b}}/{{a}}/{{b}}/{{present}}/{{c.d}}")
    with pytest.raises(MissingVariable) as caught:
        template.render({"present": 1}, strict=True)
    assert caught.value.names == ("b", "a", "c.d")
    assert "b, a, c.d" in str(caught.value)


def test_strict_mode_accepts_present_none():
    assert render("[{{x}}]", {"x": None}, strict=True) == "[]"


def test_strict_mode_error_never_holds_values():
    with pytest.raises(MissingVariable) as caught:
        render("{{TOKEN}} {{missing}}", {"TOKEN": "s3cr3t"}, strict=True)
    assert "s3cr3t" not in str(caught.value)


def test_missing_variable_is_a_lookup_error():
    assert issubclass(MissingVariable, LookupError)


# --- compile-time facts -----------------------------------------------------------------------


def test_variables_are_listed_once_in_order():
    template = compile_template("{{b}} {{a}} {{ b }} {{fetch-profile.region}}")
    assert template.variables == ("b", "a", "fetch-profile.region")
    assert not template.is_literal


def test_single_variable():
    assert compile_template("{{crewIds}}").single_variable == "crewIds"
    assert compile_template("{{ crewIds }}").single_variable == "crewIds"
    assert compile_template("{{{crewIds}}}").single_variable == "crewIds"
    assert compile_template("x{{crewIds}}").single_variable is None
    assert compile_template("{{crewIds}}\n").single_variable is None
    assert compile_template("{{a}}{{b}}").single_variable is None
    assert compile_template("crewIds").single_variable is None


def test_compiled_once():
    assert compile_template("/ships/{{imo}}") is compile_template("/ships/{{imo}}")
    assert isinstance(compile_template("x"), Template)


def test_has_placeholders():
    assert has_placeholders("/ships/{{imo}}")
    assert has_placeholders("{{ a.b }}")
    assert not has_placeholders("/ships/{imo}")
    assert not has_placeholders("{{}}")
    assert not has_placeholders("{{#section}}")
    assert not has_placeholders("plain")


# --- typed single values --------------------------------------------------------------------------


def test_render_value_keeps_the_type_of_a_single_placeholder():
    context = {"crewIds": ["CREW-001", "CREW-003"], "n": 5, "flag": False, "profile": {"region": "eu"}}
    assert compile_template("{{crewIds}}").render_value(context) == ["CREW-001", "CREW-003"]
    assert compile_template("{{ n }}").render_value(context) == 5
    assert compile_template("{{flag}}").render_value(context) is False
    assert compile_template("{{profile.region}}").render_value(context) == "eu"
    assert compile_template("{{profile}}").render_value(context) == {"region": "eu"}


def test_render_value_of_mixed_or_literal_text_is_text():
    context = {"crewIds": ["a"], "n": 5}
    assert compile_template("ids={{crewIds}}").render_value(context) == 'ids=["a"]'
    assert compile_template("static").render_value(context) == "static"


def test_render_value_missing():
    template = compile_template("{{crewIds}}")
    assert template.render_value({}) is None
    sentinel = object()
    assert template.render_value({}, default=sentinel) is sentinel
    assert template.render_value({"crewIds": None}, default=sentinel) is None
    with pytest.raises(MissingVariable) as caught:
        template.render_value({}, strict=True)
    assert caught.value.names == ("crewIds",)


def test_render_value_canonical_fallback_and_secret_identity():
    secret = FakeSecret("k")
    assert compile_template("{{imo_number}}").render_value({"imo-number": "IMO-1"}) == "IMO-1"
    assert compile_template("{{API_KEY}}").render_value({"API_KEY": secret}) is secret


def test_less_common_value_types():
    class Level(IntEnum):
        HIGH = 3

    class Mode(StrEnum):
        FAST = "fast"

    context = {"level": Level.HIGH, "mode": Mode.FAST, "price": Decimal("9.50"), "raw": b"abc", "tags": {"x"}}
    assert render("{{level}}/{{mode}}/{{price}}/{{raw}}/{{tags}}", context) == '3/fast/9.50/abc/["x"]'
    assert compile_template('{"p": {{price}}, "l": {{level}}}').render_json(context) == '{"p": 9.5, "l": 3}'
