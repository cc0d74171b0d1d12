"""Consumes imports: `location` + `import` (+ `as`), resolved relative to the importing file, from a
shared consumes file or from a whole capability; failures name both files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from naftiko_runtime import SpecError, load
from naftiko_runtime.spec import check, check_text

from .helpers import FIXTURES, line_of

IMPORTS = FIXTURES / "imports"
SHARED_CONSUMES = (IMPORTS / "shared" / "weather-consumes.yaml").resolve()
PLACES = (IMPORTS / "places-capability.yaml").resolve()


def test_imported_consumes_are_resolved_and_count_for_calls() -> None:
    doc = load(IMPORTS / "importer.yaml")
    consumes = doc.capability.consumes
    assert [c.namespace for c in consumes] == ["weather", "places", "alerts"]
    weather, places, alerts = consumes
    assert weather.base_uri == "https://api.weather.example"
    assert weather.find_operation("get-forecast") is not None
    assert (weather.origin.file, weather.origin.imported, weather.origin.alias) == (
        str(SHARED_CONSUMES),
        "weather",
        None,
    )
    # A whole capability can be a target: its consumes block is taken, its adapters are not.
    assert (places.origin.file, places.origin.imported, places.origin.alias) == (str(PLACES), "geo", "places")
    assert places.find_operation("find-place") is not None
    assert alerts.origin.file == str(SHARED_CONSUMES)  # `file:///./...` is relative too
    assert [t.call for t in doc.capability.exposes[0].tools] == [
        "weather.get-forecast",
        "places.find-place",
        "alerts.list-alerts",
    ]


def test_imports_resolve_relative_to_the_importing_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert check(IMPORTS / "importer.yaml").ok


def test_an_alias_replaces_the_imported_name(tmp_path: Path) -> None:
    text = (IMPORTS / "importer.yaml").read_text(encoding="utf-8")
    text = text.replace("call: places.find-place", "call: geo.find-place")
    path = tmp_path / "importer.yaml"
    path.write_text(text, encoding="utf-8")
    shutil.copytree(IMPORTS / "shared", tmp_path / "shared")
    shutil.copy(PLACES, tmp_path / PLACES.name)
    (problem,) = check(path).errors
    assert problem.rule == "unknown-call"
    assert problem.line == line_of(text, "call: geo.find-place")
    assert "no consumes namespace 'geo' (declared: alerts, places, weather)" in problem.message


def test_an_absolute_file_url_location(tmp_path: Path) -> None:
    text = (
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n"
        f"  - import: weather\n    location: file://{SHARED_CONSUMES}\n"
    )
    path = tmp_path / "abs.yaml"
    path.write_text(text, encoding="utf-8")
    assert load(path).capability.consumes[0].origin.file == str(SHARED_CONSUMES)


def test_loads_resolves_imports_against_base_dir() -> None:
    text = (
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n"
        "  - {import: weather, location: weather-consumes.yaml}\n"
    )
    report = check_text(text, "<memory>", base_dir=IMPORTS / "shared")
    assert report.ok
    assert report.document.capability.consumes[0].namespace == "weather"


def test_a_missing_file_names_both_files() -> None:
    importer = IMPORTS / "importer-missing-file.yaml"
    text = importer.read_text(encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(importer)
    missing, call = caught.value.errors
    assert missing.rule == "bad-import"
    assert (missing.file, missing.line) == (str(importer), line_of(text, "no-such-file.yaml"))
    assert missing.path == "capability.consumes[0].location"
    assert str((IMPORTS / "shared" / "no-such-file.yaml").resolve()) in missing.message
    # The call that needed the import is reported too, at its own line.
    assert (call.rule, call.line) == ("unknown-call", line_of(text, "call: weather.get-forecast"))


def test_a_missing_namespace_names_both_files_and_what_the_target_declares() -> None:
    importer = IMPORTS / "importer-missing-namespace.yaml"
    (problem,) = check(importer).errors
    assert problem.rule == "bad-import"
    assert (problem.file, problem.path) == (str(importer), "capability.consumes[0].import")
    assert problem.line == line_of(importer.read_text(encoding="utf-8"), "import: tides")
    assert f"namespace 'tides' not found in {SHARED_CONSUMES}" in problem.message
    assert "(it declares: alerts, weather)" in problem.message


def test_an_error_inside_an_imported_block_is_located_in_that_file() -> None:
    importer = IMPORTS / "importer-of-broken.yaml"
    target = (IMPORTS / "shared" / "broken-consumes.yaml").resolve()
    (problem,) = check(importer).errors
    assert problem.rule == "empty-base-uri"
    assert (problem.file, problem.line) == (
        str(target),
        line_of(target.read_text(encoding="utf-8"), "baseUri"),
    )
    assert f"(imported by {importer}:4)" in problem.message


def test_a_yaml_error_in_an_imported_file_is_located_in_that_file() -> None:
    importer = IMPORTS / "importer-of-tabbed.yaml"
    target = (IMPORTS / "shared" / "tabbed-consumes.yaml").resolve()
    report = check(importer)
    assert not report.ok
    (problem,) = report.errors
    assert (problem.rule, problem.file, problem.line) == ("yaml-syntax", str(target), 4)
    assert "tab" in problem.message
    assert f"(imported by {importer}:4)" in problem.message


def test_an_import_without_location_is_an_error() -> None:
    text = "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n  - import: weather\n"
    report = check_text(text, "doc.yaml", base_dir=IMPORTS)
    (problem,) = report.errors
    assert (problem.rule, problem.path, problem.line) == ("bad-import", "capability.consumes[0]", 4)
    assert "needs `location` and `import`" in problem.message


def test_a_target_without_a_consumes_block_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("naftiko: 1.0.0-alpha2\ninfo: {label: nothing}\n", encoding="utf-8")
    text = "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n  - {import: x, location: empty.yaml}\n"
    (problem,) = check_text(text, "doc.yaml", base_dir=tmp_path).errors
    assert problem.rule == "bad-import"
    assert "declares no consumes block" in problem.message
    assert str((tmp_path / "empty.yaml").resolve()) in problem.message


def test_duplicate_namespaces_count_imported_consumes() -> None:
    text = (
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n"
        "  - {import: weather, location: weather-consumes.yaml}\n"
        "  - {type: http, namespace: weather, baseUri: https://other.example}\n"
    )
    (problem,) = check_text(text, "doc.yaml", base_dir=IMPORTS / "shared").errors
    assert problem.rule == "duplicate-namespace"
    assert problem.line == 5
