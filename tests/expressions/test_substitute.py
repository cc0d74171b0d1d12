"""Prompt text substitution: one pass, no re-interpolation, unknown placeholders kept."""

from naftiko_runtime.expressions import NameIndex, substitute


def test_double_brace_arguments():
    text = "Hello {{name}}, you have {{count}} tasks"
    assert substitute(text, {"name": "Alice", "count": "5"}) == "Hello Alice, you have 5 tasks"
    assert substitute(text, {"name": "Alice", "count": 5}) == "Hello Alice, you have 5 tasks"


def test_single_brace_arguments():
    assert substitute("Summarise {topic} for {audience}.", {"topic": "solar", "audience": "kids"}) == (
        "Summarise solar for kids."
    )
    assert substitute("{a} and {{b}}", {"a": "1", "b": "2"}) == "1 and 2"


def test_multiple_placeholders():
    args = {"first": "John", "last": "Doe", "age": "30"}
    assert substitute("Name: {{first}} {{last}}, Age: {{age}}", args) == "Name: John Doe, Age: 30"


def test_unknown_placeholders_are_left_as_written():
    assert substitute("Hello {{name}}, you have {{unknown}} items", {"name": "Bob"}) == (
        "Hello Bob, you have {{unknown}} items"
    )
    assert substitute("Format: {format}", {"name": "x"}) == "Format: {format}"


def test_values_are_never_reinterpolated():
    args = {"message": "Hi {{admin}} there", "admin": "ROOT", "other": "{message}"}
    assert substitute("You said: {{message}}", args) == "You said: Hi {{admin}} there"
    assert substitute("{other}|{{admin}}", args) == "{message}|ROOT"
    assert substitute("You said: {{message}}", {"message": "{{danger}}"}) == "You said: {{danger}}"


def test_dollar_and_backslash_in_values_are_plain_text():
    value = r"C:\Users\$HOME \1 \g<0> $0"
    assert substitute("Path: {{path}}", {"path": value}) == "Path: " + value


def test_json_and_code_in_the_text_are_untouched():
    text = 'Reply as {"name": "x", "items": [1, 2]} using {{tone}}; code: if (a) { b(); }'
    assert substitute(text, {"tone": "calm", "name": "N"}) == text.replace("{{tone}}", "calm")


def test_whitespace_inside_double_braces():
    assert substitute("Hi {{ name }}", {"name": "Ann"}) == "Hi Ann"


def test_argument_names_match_by_canonical_spelling():
    assert substitute(
        "{{participant-name}} / {Product_Name}", {"participant_name": "Alice", "product-name": "Naftiko"}
    ) == ("Alice / Naftiko")
    assert substitute("{{a_b}}", NameIndex({"A-B": "x"})) == "x"


def test_null_and_empty_inputs():
    assert substitute(None, {"a": "1"}) == ""
    assert substitute("", {"a": "1"}) == ""
    assert substitute("keep {{a}}", {}) == "keep {{a}}"
    assert substitute("keep {{a}}", None) == "keep {{a}}"


def test_value_formatting_matches_templates():
    assert substitute("{{flag}} {{n}} {{none}}|", {"flag": True, "n": 2.0, "none": None}) == "true 2 |"
