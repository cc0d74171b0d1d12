"""Ikanos documents (``ikanos: "1.0.0-beta5"`` and the versions between): read into the alpha2 models,
held to their own schema by ``--strict``, located at the user's own lines and keys.

The framework's own files are the proof: every tutorial step and test capability of
``shared/conformance/ikanos-1.0.0-beta5`` validates strict, its negative fixtures are refused with
the rule they test, and each tutorial step reads into exactly the model of its alpha2 twin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.spec import check, check_text, load

from .helpers import CONFORMANCE, FIXTURES, NO_SHARED, SHARED, assert_located, line_of
from .test_corpus import _IKANOS, _MIXED_FORMS

IKANOS = CONFORMANCE / "ikanos-1.0.0-beta5" / "modules"
ALPHA2_TUTORIAL = CONFORMANCE / "naftiko-framework-1.0.0-alpha2" / "src/main/resources/tutorial"
BETA5_TUTORIAL = IKANOS / "ikanos-docs" / "tutorial"
IMPORTS = FIXTURES / "ikanos"
needs_ikanos = pytest.mark.skipif(not IKANOS.is_dir(), reason=NO_SHARED)

_SPEC_TESTS = "ikanos-spec/src/test/resources/"
_ENGINE_TESTS = "ikanos-engine/src/test/resources/"
# Under --strict, every refusal of the folder, by file (relative to modules/), with its rules.
STRICT_REFUSALS: dict[str, frozenset[str]] = {
    # Written with alpha2 lists under `ikanos:` (the Java engine still reads them): both the schema
    # and the mixed-forms rule refuse them.
    **{name.removeprefix(_IKANOS): frozenset({"mixed-spec-forms", "schema-strict"}) for name in _MIXED_FORMS},
    _ENGINE_TESTS + "imports/invalid/empty-section.consumes.yml": frozenset({"schema-strict"}),
    _ENGINE_TESTS + "imports/invalid/malformed.yml": frozenset({"yaml-syntax"}),
    _ENGINE_TESTS + "aggregates/aggregate-invalid-ref.yaml": frozenset({"unknown-ref"}),
    "ikanos-spec/src/main/resources/schemas/examples/reverse-tunnel-ziti.yml": frozenset(
        {"unsupported-tunnel"}
    ),
    **{
        _SPEC_TESTS + f"rules/spectral-tunnel-{name}.yaml": frozenset({"unsupported-tunnel"})
        for name in ("fallback-direct-public", "identity-bound", "identity-unbound")
    },
    _SPEC_TESTS + "capabilities/capability-spurious-name.yml": frozenset({"schema-strict", "schema-type"}),
    _SPEC_TESTS + "imports/import-missing-fields.yaml": frozenset({"bad-import", "schema-strict"}),
    _SPEC_TESTS + "imports/import-from-self.yaml": frozenset({"bad-import"}),
    _SPEC_TESTS + "imports/standalone-with-imports.yaml": frozenset({"bad-import", "schema-strict"}),
    _SPEC_TESTS + "imports/import-duplicate-alias.yaml": frozenset({"duplicate-namespace", "bad-import"}),
    **{
        _SPEC_TESTS + f"imports/{name}": frozenset({"mixed-spec-forms", "schema-strict", "schema-type"})
        for name in (
            "exposes-namespace-missing.yaml",
            "capability-exposes-namespace-missing.yaml",
            "aggregates-namespace-missing.yaml",
            "capability-aggregates-namespace-missing.yaml",
        )
    },
    # [ikanos-aggregates-unique-function-name]: the rule it tests, besides its alpha2 keys and calls
    # to a namespace it does not declare.
    _SPEC_TESTS + "imports/aggregate-duplicate-function-name.yaml": frozenset(
        {"mixed-spec-forms", "schema-strict", "unknown-call", "duplicate-name"}
    ),
}


def _capabilities() -> list[Path]:
    """Every capability of the folder: tutorial steps, their shared consumes files, the test resources
    (not the OpenAPI inputs of the importer tests, the secrets files or the decoder samples)."""
    found = []
    for path in sorted(IKANOS.rglob("*")):
        relative = path.relative_to(IKANOS).as_posix()
        if path.suffix not in (".yaml", ".yml") or "/openapi/" in relative:
            continue
        if path.name in ("secrets.yaml", "sample-users.yaml"):
            continue
        found.append(path)
    return found


def _params() -> list[Any]:
    if not IKANOS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_SHARED), id="no-shared-folder")]
    return [pytest.param(p, id=p.relative_to(IKANOS).as_posix()) for p in _capabilities()]


@pytest.mark.parametrize("path", _params())
def test_every_ikanos_capability_validates_strict_or_is_refused_for_the_rule_it_tests(path: Path) -> None:
    relative = path.relative_to(IKANOS).as_posix()
    report = check(path, strict=True)
    for problem in report.problems:
        assert_located(problem)
    expected = STRICT_REFUSALS.get(relative)
    listing = "\n".join(p.format() for p in report.errors)
    if expected is None:
        assert report.ok, f"{relative} should validate strict, but:\n{listing}"
        return
    assert {p.rule for p in report.errors} == expected, listing


@needs_ikanos
def test_the_folder_holds_the_tutorial_and_the_test_capabilities() -> None:
    names = {p.relative_to(IKANOS).as_posix() for p in _capabilities()}
    assert len([n for n in names if n.startswith("ikanos-docs/tutorial/step-")]) == 11
    assert set(STRICT_REFUSALS) <= names
    assert len(names) > 60


# --- the same model as alpha2 ---------------------------------------------------------------------


def _comparable(document: Any) -> dict[str, Any]:
    data = document.model_dump(mode="json", exclude={"naftiko", "ikanos", "source_file"})
    for consumes in (data.get("capability") or {}).get("consumes", []):
        if consumes.get("origin"):
            consumes["origin"]["file"] = Path(consumes["origin"]["file"]).name
    return data


@needs_ikanos
@pytest.mark.parametrize("step", [f"step-{n}-" for n in range(1, 12)])
def test_each_tutorial_step_reads_into_the_model_of_its_alpha2_twin(step: str) -> None:
    (beta5,) = BETA5_TUTORIAL.glob(f"{step}*.yml")
    alpha2 = ALPHA2_TUTORIAL / beta5.name
    assert _comparable(load(beta5)) == _comparable(load(alpha2))
    assert load(beta5).spec_version == "1.0.0-beta5"


# --- located at the user's own keys ---------------------------------------------------------------

TOOL = """\
ikanos: "1.0.0-beta5"
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: https://api.example.com
      resources:
        items:
          path: /items
          operations:
            list-items:
              method: GET
  exposes:
    - type: mcp
      namespace: tools
      port: 9000
      tools:
        list-things:
          description: List
          call: api.list-thingz
        count-things:
          description: Count
          steps:
            fetch:
              type: call
              call: api.list-items
            again:
              type: lookup
              index: nowhere
              match: id
              lookupValue: $.fetch.id
              outputParameters: [name]
          mappings:
            - target: count
              value: $.fetch.length
"""


def test_an_error_inside_a_map_entry_names_its_key_in_the_path_and_points_at_its_line() -> None:
    report = check_text(TOOL, "tools.yml")
    by_rule = {p.rule: p for p in report.errors}
    call = by_rule["unknown-call"]
    assert call.path == "capability.exposes[0].tools.list-things.call"
    assert call.line == line_of(TOOL, "call: api.list-thingz")
    lookup = by_rule["lookup-index"]
    assert lookup.path == "capability.exposes[0].tools.count-things.steps.again.index"
    assert lookup.line == line_of(TOOL, "index: nowhere")


def test_a_problem_with_an_entry_itself_points_at_its_key() -> None:
    text = TOOL.replace("        list-things:\n          description: List\n", "        list-things:\n")
    text = text.replace("call: api.list-thingz", "call: api.list-items\n          ref: x.y")
    problem = next(p for p in check_text(text).errors if p.rule == "mode-conflict")
    assert problem.path == "capability.exposes[0].tools.list-things"
    assert (problem.line, problem.column) == (line_of(text, "list-things:"), 9)


def test_a_missing_required_key_in_a_map_entry_points_at_the_entry() -> None:
    text = TOOL.replace(
        "            list-items:\n              method: GET\n", "            list-items: {}\n"
    )
    text = text.replace("      baseUri: https://api.example.com\n", "")
    problem = next(p for p in check_text(text).errors)
    assert problem.rule == "empty-base-uri" or "baseUri" in problem.message
    assert problem.path.startswith("capability.consumes[0]")


# --- mixed forms ----------------------------------------------------------------------------------


def test_a_list_of_named_entries_in_an_ikanos_document_is_refused_at_its_key() -> None:
    listed = (
        "      tools:\n        - name: list-things\n          description: List\n"
        "          call: api.list-items\n"
    )
    text = TOOL.replace(
        "      tools:\n        list-things:\n          description: List\n          call: api.list-thingz\n",
        listed,
    )
    text = text.replace("        count-things:", "        - name: count-things").replace(
        "          description: Count\n          steps:", "          description: Count\n          steps:"
    )
    problem = next(p for p in check_text(text).errors if p.rule == "mixed-spec-forms")
    assert problem.path == "capability.exposes[0].tools"
    assert problem.line == line_of(text, "      tools:")
    assert "`tools` as a list of named entries is the Naftiko 1.0.0-alpha2 form" in problem.message
    assert "declares `ikanos: 1.0.0-beta5`" in problem.message
    assert "naftiko migrate" in problem.message


def test_an_ikanos_key_in_an_alpha2_document_is_refused() -> None:
    text = "naftiko: 1.0.0-alpha2\ninfo:\n  display: Weather\n  description: x\ncapability:\n  exposes: []\n"
    (problem,) = [p for p in check_text(text).errors if p.rule == "mixed-spec-forms"]
    assert (problem.path, problem.line) == ("info.display", 3)
    assert "`display` is the Ikanos form" in problem.message


def test_both_version_keys_are_refused() -> None:
    text = 'naftiko: 1.0.0-alpha2\nikanos: "1.0.0-beta5"\ncapability:\n  exposes: []\n'
    (problem,) = check_text(text).errors
    assert (problem.rule, problem.line) == ("mixed-spec-forms", 2)


def test_a_document_without_version_is_read_in_the_form_it_is_written_in() -> None:
    text = TOOL.replace('ikanos: "1.0.0-beta5"\n', "").replace("api.list-thingz", "api.list-items")
    text = text.replace("index: nowhere", "index: fetch")
    report = check_text(text)
    assert report.ok, [p.format() for p in report.errors]
    assert [t.name for t in report.document.capability.exposes[0].tools] == ["list-things", "count-things"]


def test_a_name_inside_an_entry_keyed_by_name_is_ignored_with_a_warning() -> None:
    text = TOOL.replace("        list-things:\n", "        list-things:\n          name: other\n")
    report = check_text(text)
    warning = next(p for p in report.warnings if p.rule == "unknown-key")
    assert warning.path == "capability.exposes[0].tools.list-things.name"
    assert "the key of the entry is its name" in warning.message


# --- versions -------------------------------------------------------------------------------------

VERSIONED = """\
ikanos: "{version}"
capability:
  exposes:
    - type: mcp
      namespace: tools
      port: 9000
      ttlMs: 60000
      tools:
        hello:
          description: Hello
          outputParameters:
            greeting:
              type: string
              value: hi
"""


@pytest.mark.parametrize("version", ["1.0.0-alpha3", "1.0.0-alpha4", "1.0.0-beta1", "1.0.0-beta3"])
def test_a_key_an_earlier_version_lacks_is_a_warning_and_a_strict_error(version: str) -> None:
    text = VERSIONED.format(version=version)
    report = check_text(text)
    assert report.ok
    (warning,) = [p for p in report.warnings if p.rule == "version"]
    assert warning.path == "capability.exposes[0].ttlMs"
    assert f"arrived in Ikanos 1.0.0-beta4; this document declares {version}" in warning.message
    (error,) = check_text(text, strict=True).errors
    assert (error.rule, error.line) == ("schema-strict", line_of(text, "ttlMs"))
    assert "added in 1.0.0-beta4" in error.message


@pytest.mark.parametrize("version", ["1.0.0-beta4", "1.0.0-beta5"])
def test_versions_that_have_the_key_validate_strict(version: str) -> None:
    report = check_text(VERSIONED.format(version=version), strict=True)
    assert report.ok and not report.warnings, [p.format() for p in report.problems]


def test_an_unknown_ikanos_version_is_read_as_beta5_with_a_warning() -> None:
    report = check_text(VERSIONED.format(version="2.0.0"))
    assert report.ok
    assert any(p.rule == "version" and "unknown Ikanos version '2.0.0'" in p.message for p in report.warnings)


def test_strict_holds_alpha2_documents_to_the_alpha2_schema() -> None:
    text = VERSIONED.format(version="1.0.0-beta5").replace('ikanos: "1.0.0-beta5"', "naftiko: 1.0.0-alpha2")
    errors = check_text(text, strict=True).errors
    assert {p.rule for p in errors} >= {"mixed-spec-forms", "schema-strict"}


# --- tunnel ---------------------------------------------------------------------------------------


def test_a_tunnel_is_refused_at_load_with_what_to_do_instead() -> None:
    text = (
        'ikanos: "1.0.0-beta5"\ncapability:\n  consumes:\n    - type: http\n      namespace: crm\n'
        "      baseUri: https://crm.internal\n      tunnel:\n        type: ziti\n        service: crm-api\n"
        "        identity: x\n"
    )
    (problem,) = check_text(text).errors
    assert (problem.rule, problem.path, problem.line) == (
        "unsupported-tunnel",
        "capability.consumes[0].tunnel",
        7,
    )
    assert "--base-uri crm=URL" in problem.message


# --- imports of every section ---------------------------------------------------------------------


@pytest.mark.parametrize("importer", ["importer.yml", "importer-alpha2.yml"])
def test_binds_consumes_exposes_and_aggregates_import_from_a_shared_file(importer: str) -> None:
    document = load(IMPORTS / importer)
    capability = document.capability
    (bind,) = document.all_binds
    assert bind.namespace == "weather-secrets"
    # A relative location of an imported entry names a file next to the file it came from.
    assert bind.location == (IMPORTS / "weather.env").resolve().as_uri()
    assert [c.namespace for c in capability.consumes] == ["weather-api"]
    assert [(a.namespace, [f.name for f in a.functions]) for a in capability.aggregates] == [
        ("forecast", ["get-forecast"])
    ]
    (mcp,) = capability.exposes
    assert mcp.namespace == ("forecast-mcp" if importer == "importer.yml" else "weather-mcp")
    assert [t.ref for t in mcp.tools] == ["forecast.get-forecast"]


def test_a_shared_file_validates_on_its_own_without_its_references_being_checked() -> None:
    # One section per shared file, as the schema has it; its `ref` names nothing in this file.
    report = check(IMPORTS / "shared-exposes.yml", strict=True)
    assert report.ok, [p.format() for p in report.problems]


def test_an_error_in_an_imported_expose_is_located_in_its_own_file_at_its_key() -> None:
    problems = check(IMPORTS / "importer-of-broken.yml").errors
    conflict = next(p for p in problems if p.rule == "mode-conflict")
    broken = IMPORTS / "broken-shared.yml"
    assert conflict.file == str(broken)
    assert conflict.path == "exposes[0].tools.lookup"
    assert conflict.line == line_of(broken.read_text(encoding="utf-8"), "lookup:")
    assert "(imported by" in conflict.message


def test_an_import_of_the_importing_file_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "self.yml"
    path.write_text(
        'ikanos: "1.0.0-beta5"\ncapability:\n  exposes:\n    - from: ./self.yml\n      import: x\n'
    )
    (problem,) = check(path).errors
    assert (problem.rule, problem.path) == ("bad-import", "capability.exposes[0].from")
    assert "names this very file" in problem.message


@pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
def test_the_tutorial_import_of_shared_consumes_uses_from() -> None:
    document = load(BETA5_TUTORIAL / "step-7-shipyard-orchestrated-lookup.yml")
    assert [c.namespace for c in document.capability.consumes] == ["registry", "legacy"]
    assert Path(document.capability.consumes[0].origin.file).name == "step7-registry-consumes.yml"


def test_a_max_binary_size_without_its_unit_is_a_located_error() -> None:
    text = VERSIONED.format(version="1.0.0-beta5").replace("ttlMs: 60000", "maxBinarySize: 10MB")
    (problem,) = check_text(text).errors
    assert (problem.path, problem.line) == ("capability.exposes[0].maxBinarySize", line_of(text, "10MB"))
    assert problem.message == (
        "maxBinarySize '10MB': expected a number and a unit (B, KiB, MiB or GiB), e.g. 5MiB"
    )


MEDIA_TYPES = """\
ikanos: "1.0.0-beta5"
capability:
  consumes:
    - type: http
      namespace: photos
      baseUri: http://photos.example
      resources:
        pictures:
          path: /pictures/{{id}}
          operations:
            get-picture:
              method: GET
              outputRawFormat: {format}
              outputMediaType: image/jpeg
  aggregates:
    - namespace: gallery
      flows:
        picture:
          call: photos.get-picture
          outputMediaType: image/png
"""


def test_an_output_media_type_on_a_parsed_answer_is_a_located_warning() -> None:
    text = MEDIA_TYPES.format(format="json")
    warnings = [p for p in check_text(text).problems if p.rule == "unapplied-media-type"]
    assert [(p.path, p.line) for p in warnings] == [
        (
            "capability.consumes[0].resources.pictures.operations.get-picture.outputMediaType",
            line_of(text, "image/jpeg"),
        ),
        ("capability.aggregates[0].flows.picture.outputMediaType", line_of(text, "image/png")),
    ]
    assert warnings[0].severity == "warning"


def test_an_output_media_type_on_a_binary_answer_is_applied_without_warning() -> None:
    report = check_text(MEDIA_TYPES.format(format="binary"))
    assert [p.rule for p in report.problems if p.rule == "unapplied-media-type"] == []
