"""The seed capability: restored line for line, loaded with typed values, and its broken copies refused
with the file, the line and the offending value."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime import SpecError, load
from naftiko_runtime.cli import main
from naftiko_runtime.spec import check
from naftiko_runtime.spec.models import (
    AuthApiKey,
    ConsumesHttp,
    McpExpose,
    PathRef,
    RestExpose,
    StaticValue,
)
from naftiko_runtime.spec.models import InputRef as Ref
from naftiko_runtime.spec.models.base import whole_body

from .helpers import SEED, SEED_TEXT, line_of, needs_seed_text

NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@needs_seed_text
def test_seed_file_restores_the_seed_line_for_line() -> None:
    seed = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    markers = [i for i, line in enumerate(seed) if line.strip() == "Capability Spec"]
    assert len(markers) == 1, "the seed has exactly one `Capability Spec` line"
    expected = _stripped_lines("\n".join(seed[markers[0] + 1 :]))
    restored = [
        line for line in _stripped_lines(SEED.read_text(encoding="utf-8")) if not line.startswith("#")
    ]
    assert restored == expected


# --- the seed loads, with typed values ----------------------------------------------------------


@pytest.fixture(scope="module")
def seed():
    return load(SEED)


def test_seed_validates_with_warnings_only() -> None:
    report = check(SEED)
    assert report.ok
    assert report.errors == []
    # Only the generated dialect is reported, once per form.
    assert {p.rule for p in report.warnings} == {
        "dialect:consumed-param-extras",
        "dialect:rest-description",
        "dialect:with-dialect-prefix",
    }


def test_seed_header_and_binds(seed) -> None:
    assert seed.naftiko == "1.0.0-alpha2"
    assert seed.info.label == "API Reference — subpackage_prompts.subpackage_prompts/runs"
    assert seed.info.tags == ("Label Studio", "subpackage_prompts.subpackage_prompts/runs")
    assert seed.info.created == "2026-05-19"  # a date stays text
    (bind,) = seed.binds
    assert bind.namespace == "env"
    assert bind.keys == {"LABEL_STUDIO_API_KEY": "LABEL_STUDIO_API_KEY"}


def test_seed_consumes_three_operations_with_typed_parameters(seed) -> None:
    (consumes,) = seed.capability.consumes
    assert isinstance(consumes, ConsumesHttp)
    assert consumes.namespace == NAMESPACE
    assert consumes.base_uri == "http://localhost:8000"
    resource, listing = consumes.find_operation("list")
    assert resource.path == "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
    assert listing.method == "GET"
    assert listing.output_raw_format == "json"
    assert len(listing.input_parameters) == 7
    names = [p.name for p in listing.input_parameters]
    assert names == [
        "prompt_id",
        "version_id",
        "ordering",
        "parent_model",
        "project",
        "project_subset",
        "Authorization",
    ]
    prompt_id = listing.input_parameters[0]
    assert (prompt_id.in_, prompt_id.type, prompt_id.required) == ("path", "integer", True)
    assert listing.input_parameters[2].required is None
    (result,) = listing.output_parameters
    assert (result.name, result.type, result.value) == ("result", "object", "$")  # `$.` read as `$`
    _, create = consumes.find_operation("create")
    assert create.method == "POST"
    body = create.input_parameters[-1]
    assert (body.name, body.in_, body.required) == ("body", "body", False)
    # The single body parameter, named `body`: the whole request body.
    assert whole_body((p.name, p.in_) for p in create.input_parameters) == "body"
    _, cancel = consumes.find_operation("cancel")
    assert cancel.input_parameters[0].name == "inference_run_id"


def test_seed_authentication_is_an_apikey_header_from_a_bind(seed) -> None:
    auth = seed.capability.consumes[0].authentication
    assert isinstance(auth, AuthApiKey)
    assert (auth.type, auth.key, auth.placement) == ("apikey", "Authorization", "header")
    assert auth.value == "{{env.LABEL_STUDIO_API_KEY}}"


def test_seed_rest_adapter_wires_inputs_to_operations(seed) -> None:
    rest = seed.capability.exposes[0]
    assert isinstance(rest, RestExpose)
    assert rest.port == 8080
    assert [r.path for r in rest.resources] == [
        "/v1/api/prompts/{prompt-id}/versions/{version-id}/inference-runs",
        "/v1/api/prompts/{prompt-id}/versions/{version-id}/inference-runs/{inference-run-id}/cancel",
    ]
    listing, create = rest.resources[0].operations
    assert (listing.method, listing.name, listing.call) == ("GET", "list", f"{NAMESPACE}.list")
    assert listing.call_target == (NAMESPACE, "list")
    assert listing.mode == "call"
    # `rest.prompt_id` means "this operation's own input prompt_id".
    assert listing.with_["prompt_id"] == Ref(name="prompt_id")
    assert all(isinstance(v, Ref) for v in listing.with_.values())
    assert list(create.with_) == ["prompt_id", "version_id", "Authorization", "body"]
    (output,) = listing.output_parameters
    assert (output.type, output.mapping) == ("object", "$")


def test_seed_mcp_adapter_has_three_tools_with_hints(seed) -> None:
    mcp = seed.capability.exposes[1]
    assert isinstance(mcp, McpExpose)
    assert (mcp.port, mcp.transport) == (9090, "http")
    tools = {tool.name: tool for tool in mcp.tools}
    assert list(tools) == ["get-inference-run-info", "run-prompt-inference", "cancel-inference-run-api"]
    info = tools["get-inference-run-info"]
    assert info.call == f"{NAMESPACE}.list"
    assert (info.hints.read_only, info.hints.destructive, info.hints.idempotent) == (True, False, True)
    assert info.hints.open_world is None
    assert tools["run-prompt-inference"].hints.read_only is False
    assert info.with_["Authorization"] == Ref(name="Authorization")
    assert not any(isinstance(v, (PathRef, StaticValue)) for v in info.with_.values())


def test_seed_models_are_immutable(seed) -> None:
    with pytest.raises(Exception, match="frozen"):
        seed.capability.consumes[0].namespace = "other"  # type: ignore[misc]


# --- broken copies ------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[Path, str]:
    text = SEED.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, count)
    path = tmp_path / "label-studio-runs.yaml"
    path.write_text(broken, encoding="utf-8")
    return path, broken


BROKEN = {
    "bad-call": (
        f"call: {NAMESPACE}.create",
        f"call: {NAMESPACE}.crate",
        "unknown-call",
        f"{NAMESPACE}.crate",
        "capability.exposes[0].resources[0].operations[1].call",
        (f"call: {NAMESPACE}.crate", 1),
    ),
    "undeclared-bind-variable": (
        "'{{env.LABEL_STUDIO_API_KEY}}'",
        "'{{env.LABEL_STUDIO_TOKEN}}'",
        "undeclared-bind-variable",
        "{{env.LABEL_STUDIO_TOKEN}}",
        "capability.consumes[0].authentication.value",
        ("value: '{{env.LABEL_STUDIO_TOKEN}}'", 1),
    ),
    "duplicate-namespace": (
        "  exposes:\n",
        f"  - type: http\n    namespace: {NAMESPACE}\n    baseUri: http://localhost:8001\n  exposes:\n",
        "duplicate-namespace",
        NAMESPACE,
        "capability.consumes[1].namespace",
        (f"namespace: {NAMESPACE}", 2),  # the second declaration; the first is named in the message
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_copy_is_refused_naming_file_line_and_value(tmp_path: Path, case: str) -> None:
    old, new, rule, offending, path_in_doc, (needle, occurrence) = BROKEN[case]
    path, text = _broken_copy(tmp_path, old, new)
    with pytest.raises(SpecError) as caught:
        load(path)
    (problem,) = caught.value.errors
    assert problem.rule == rule
    assert problem.file == str(path)
    assert problem.line == line_of(text, needle, occurrence)
    assert problem.path == path_in_doc
    assert offending in problem.message
    assert str(path) in str(caught.value)


def test_duplicate_namespace_also_names_the_first_declaration(tmp_path: Path) -> None:
    old, new, *_ = BROKEN["duplicate-namespace"]
    path, text = _broken_copy(tmp_path, old, new)
    (problem,) = check(path).errors
    first = line_of(text, f"namespace: {NAMESPACE}")
    assert f"capability.consumes[0].namespace ({path.name}:{first})" in problem.message


def test_tab_indented_line_is_a_located_yaml_error(tmp_path: Path) -> None:
    path, text = _broken_copy(tmp_path, "        method: GET\n", "\t\tmethod: GET\n")
    with pytest.raises(SpecError) as caught:
        load(path)
    (problem,) = caught.value.errors
    assert problem.rule == "yaml-syntax"
    assert problem.file == str(path)
    assert problem.line == line_of(text, "\t\tmethod: GET")
    assert problem.column == 1
    assert "tab" in problem.message and "spaces" in problem.message
    assert problem.format().startswith(f"{path}:{problem.line}:1: error: YAML syntax error")


@pytest.mark.parametrize("case", [*BROKEN, "tab"])
def test_broken_copy_via_the_cli(tmp_path: Path, capsys, case: str) -> None:
    if case == "tab":
        path, _ = _broken_copy(tmp_path, "        method: GET\n", "\t\tmethod: GET\n")
        rule_text = "YAML syntax error"
    else:
        old, new, _, _, path_in_doc, _ = BROKEN[case]
        path, _ = _broken_copy(tmp_path, old, new)
        rule_text = f"{path_in_doc}: "
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    error_lines = [line for line in out.splitlines() if ": error: " in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"{path}:")
    assert rule_text in error_lines[0]
    assert out.rstrip().splitlines()[-1].startswith("1 file: 0 ok, 1 with errors (1 error, ")
    assert "Traceback" not in out
