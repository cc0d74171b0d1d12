import pytest

from naftiko_runtime.expressions import NameIndex, canonical
from naftiko_runtime.expressions.names import Spellings, spellings


def test_spellings_that_differ_in_case_and_dash_are_one_name():
    assert canonical("prompt-id") == canonical("Prompt_ID") == canonical("prompt_id") == "prompt_id"


def test_canonical_does_not_merge_different_names():
    assert canonical("promptid") != canonical("prompt_id")
    assert canonical("prompt.id") != canonical("prompt_id")


def test_name_index_finds_any_spelling_and_keeps_the_original_key():
    index = NameIndex({"prompt-id": 7})
    assert index["prompt_id"] == 7
    assert index["PROMPT-ID"] == 7
    assert "Prompt_Id" in index
    assert list(index) == ["prompt-id"]
    assert index.original("prompt_id") == "prompt-id"
    assert dict(index) == {"prompt-id": 7}


def test_name_index_missing_name():
    index = NameIndex({"a": 1})
    with pytest.raises(KeyError):
        index["b"]
    assert index.get("b") is None
    assert index.get("b", 0) == 0
    assert index.original("b") is None
    assert "b" not in index
    assert 3 not in index


def test_exact_key_wins_and_first_key_wins_canonically():
    index = NameIndex([("user-id", "dash"), ("user_id", "underscore")])
    assert index["user-id"] == "dash"
    assert index["user_id"] == "underscore"
    assert index["USER_ID"] == "dash"
    assert len(index) == 2


def test_the_expected_spellings_of_a_name():
    assert spellings("project_subset") == ("project_subset", "project-subset")
    assert spellings("Prompt-ID") == ("Prompt-ID", "prompt_id", "prompt-id")
    assert spellings("imo") == ("imo",)


def test_spellings_say_which_declared_name_a_wire_name_means():
    declared = Spellings(["imo_number", "crewIds"])
    assert declared.get("imo_number") == "imo_number"
    assert declared.get("imo-number") == "imo_number"
    assert declared.get("IMO-Number") == "imo_number"  # any case: the canonical rule
    assert declared.get("CREWIDS") == "crewIds"
    assert declared.get("crew_ids") is None  # not the same name
    assert declared.names == ("imo_number", "crewIds")


def test_spellings_an_exact_name_wins_then_the_first_declared():
    declared = Spellings(["user-id", "user_id"])
    assert declared.get("user-id") == "user-id"
    assert declared.get("user_id") == "user_id"
    assert declared.get("USER_ID") == "user-id"


def test_name_index_is_read_only_mapping():
    index = NameIndex({"a": 1})
    with pytest.raises(TypeError):
        index["a"] = 2  # type: ignore[index]
