"""JSONPath with Jayway's conventions: root forms, definite values, indefinite lists, length()."""

import pytest

from naftiko_runtime.expressions import JsonPathSyntaxError, compile_path

SHIP = {
    "imo_number": "IMO-9321483",
    "imo-number": "IMO-DASH",
    "vessel_name": "Northern Star",
    "year_built": 2015,
    "active": False,
    "retired": None,
    "dimensions": {"length_overall": 229},
    "assignedCrew": ["CREW-001", "CREW-003"],
    "user details": {"email": "ops@example.com"},
    "1st": "first",
    "$ref": "#/x",
}

NOTION = {
    "id": "154548",
    "titles": [{"text": {"content": "This is title[0].text.content", "author": "user1"}}],
    "created_time": "2024-06-01T12:00:00Z",
}

STEPS = {
    "get-ship": {"assignedCrew": ["CREW-001", "CREW-003"], "imo": "IMO-1"},
    "list-crew": [
        {"crewId": "CREW-001", "fullName": "Erik Lindström", "role": "captain", "years": 12},
        {"crewId": "CREW-002", "fullName": "Ana Souza", "role": "engineer", "years": 3},
        {"crewId": "CREW-003", "fullName": "Aiko Tanaka", "role": "cook", "years": 7},
    ],
}


def find(expression, data):
    return compile_path(expression).find(data)


# --- root -------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["", "$", "$.", "  $  ", "{{$}}", "{{ $. }}"])
def test_root_forms_select_the_document_itself(expression):
    path = compile_path(expression)
    assert path.is_root
    assert path.is_definite
    assert path.first_segment is None
    assert path.find(SHIP) is SHIP
    assert path.find([1, 2]) == [1, 2]


# --- definite paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$.id", "154548"),
        ("$.titles[0].text.content", "This is title[0].text.content"),
        ("$.titles[0]['text'].author", "user1"),
        ('$["titles"][0]["text"]["author"]', "user1"),
        ("$.titles[-1].text.author", "user1"),
        ("$.titles[ 0 ].text.author", "user1"),
    ],
)
def test_definite_paths_from_the_spec(expression, expected):
    path = compile_path(expression)
    assert path.is_definite
    assert not path.is_root
    assert path.find(NOTION) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$.imo-number", "IMO-DASH"),
        ("$.imo_number", "IMO-9321483"),
        ("$['user details'].email", "ops@example.com"),
        ("$.['user details'].email", "ops@example.com"),
        ("$.user details.email", "ops@example.com"),
        ("$.dimensions.length_overall", 229),
        ("$.assignedCrew[1]", "CREW-003"),
        ("$.1st", "first"),
        ("$.$ref", "#/x"),
        ("$['$ref']", "#/x"),
    ],
)
def test_definite_paths_with_unusual_names(expression, expected):
    assert find(expression, SHIP) == expected


def test_step_references_and_first_segment():
    path = compile_path("$.get-ship.assignedCrew")
    assert path.find(STEPS) == ["CREW-001", "CREW-003"]
    assert path.first_segment == "get-ship"
    assert compile_path("$['user details'].email").first_segment == "user details"
    assert compile_path("$[0]").first_segment is None
    assert compile_path("$..id").first_segment is None
    assert compile_path("$.list-crew[*].crewId").first_segment == "list-crew"
    assert compile_path("$.results.length()").first_segment == "results"


def test_index_at_the_root():
    assert find("$[0]", ["a", "b"]) == "a"
    assert find("$[-1]", ["a", "b"]) == "b"


def test_falsy_values_are_values_not_misses():
    assert find("$.active", SHIP) is False
    assert find("$.year_built", {"year_built": 0}) == 0
    assert find("$.name", {"name": ""}) == ""


@pytest.mark.parametrize(
    "expression",
    [
        "$.missing",
        "$.dimensions.missing.deeper",
        "$.assignedCrew[5]",
        "$.assignedCrew[-3]",
        "$.assignedCrew.first",  # a name on a list
        "$.dimensions[0]",  # an index on an object
        "$.vessel_name.length_overall",  # a name on a string
        "$.retired.x",  # through a JSON null
        "$.retired",
    ],
)
def test_missing_definite_path_is_none(expression):
    assert find(expression, SHIP) is None


def test_find_never_raises_on_odd_data():
    for data in (None, "text", 5, [], {}, ("a",)):
        assert find("$.a.b[0]", data) is None
        assert find("$.a[*].b", data) == []


def test_tuples_index_like_lists():
    assert find("$.a[1]", {"a": ("x", "y")}) == "y"


def test_returns_the_data_object_itself():
    assert find("$.dimensions", SHIP) is SHIP["dimensions"]


# --- compatibility spellings ---------------------------------------------------------------


def test_wrapped_and_unrooted_forms():
    assert find("{{$.id}}", NOTION) == "154548"
    assert find("{{ $.titles[0].text.author }}", NOTION) == "user1"
    assert find("id", NOTION) == "154548"
    assert find("titles[0].text.author", NOTION) == "user1"
    assert find("[1]", ["a", "b"]) == "b"
    assert find("@.id", NOTION) == "154548"


# --- indefinite paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$.list-crew[*].crewId", ["CREW-001", "CREW-002", "CREW-003"]),
        ("$.list-crew[?(@.role=='cook')].fullName", ["Aiko Tanaka"]),
        ('$.list-crew[?(@.role == "captain")].crewId', ["CREW-001"]),
        ("$.list-crew[?(@.years > 5)].crewId", ["CREW-001", "CREW-003"]),
        ("$.list-crew[?(@.years > 5 && @.role != 'cook')].crewId", ["CREW-001"]),
        ("$.list-crew[0:2].crewId", ["CREW-001", "CREW-002"]),
        ("$.list-crew[-1:].crewId", ["CREW-003"]),
        ("$.list-crew[0,2].role", ["captain", "cook"]),
        ("$..imo", ["IMO-1"]),
        ("$.get-ship.*", [["CREW-001", "CREW-003"], "IMO-1"]),
        ("$.get-ship.assignedCrew[*]", ["CREW-001", "CREW-003"]),
    ],
)
def test_indefinite_paths_give_every_match(expression, expected):
    path = compile_path(expression)
    assert not path.is_definite
    assert path.find(STEPS) == expected


def test_indefinite_paths_with_no_match_give_an_empty_list():
    assert find("$.list-crew[?(@.role=='pilot')].crewId", STEPS) == []
    assert find("$.nothing[*].id", STEPS) == []
    assert find("$..nowhere", STEPS) == []


def test_indefinite_paths_with_hyphen_and_space_names():
    data = {"rows": [{"imo-number": "A", "user name": "x"}, {"imo-number": "B", "user name": "y"}]}
    assert find("$.rows[*].imo-number", data) == ["A", "B"]
    assert find("$.rows[*].user name", data) == ["x", "y"]
    assert find("$.rows[*]['user name']", data) == ["x", "y"]
    assert find("$..imo-number", data) == ["A", "B"]


def test_indefinite_path_after_an_unusual_definite_prefix():
    data = {"user details": {"1st": [{"id": 1}, {"id": 2}]}}
    assert find("$.user details.1st[*].id", data) == [1, 2]


# --- length() ------------------------------------------------------------------------------


def test_length_function():
    assert find("$.assignedCrew.length()", SHIP) == 2
    assert find("$.vessel_name.length()", SHIP) == len("Northern Star")
    assert find("$.dimensions.length()", SHIP) == 1
    assert find("$.list-crew[*].length()", STEPS) == 3
    assert find("$.list-crew[?(@.years > 5)].length()", STEPS) == 2
    assert find("$.length()", [1, 2, 3]) == 3
    assert find("{{$.results.length()}}", {"results": [1]}) == 1


def test_length_of_missing_or_scalar_is_none():
    assert find("$.missing.length()", SHIP) is None
    assert find("$.year_built.length()", SHIP) is None


def test_length_path_is_definite():
    path = compile_path("$.list-crew[*].length()")
    assert path.is_definite
    assert not path.is_root


# --- errors and caching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["$.foo.", "$[", "$['a'", "$.a[]", "$..", "$.a[?(", "$.a.b(", "$.items.sum()", "$.a)b"],
)
def test_invalid_expressions_fail_at_compile_time(expression):
    with pytest.raises(JsonPathSyntaxError) as caught:
        compile_path(expression)
    assert caught.value.expression == expression
    assert expression in str(caught.value)


def test_syntax_error_is_a_value_error():
    assert issubclass(JsonPathSyntaxError, ValueError)
    with pytest.raises(JsonPathSyntaxError):
        compile_path(None)  # type: ignore[arg-type]


def test_unsupported_function_is_named():
    with pytest.raises(JsonPathSyntaxError, match=r"sum\(\)"):
        compile_path("$.items.sum()")


def test_compiled_once():
    assert compile_path("$.a.b") is compile_path("$.a.b")
    assert compile_path("$.a[*]") is compile_path("$.a[*]")
