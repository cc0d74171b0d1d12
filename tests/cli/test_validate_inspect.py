"""`naftiko validate` and `naftiko inspect`, in-process (main([...]) + capsys) and once as the real
console script: exit codes, per-file lines, the summary, JSON for tools, --strict, directories."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from naftiko_runtime.cli import main
from tests.spec.helpers import FIXTURES, SEED, line_of

MINIMAL = FIXTURES / "minimal.yaml"
STRICT_VIOLATIONS = FIXTURES / "strict-violations.yaml"
SEED_NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"
NAFTIKO = Path(sys.executable).parent / "naftiko"


@pytest.fixture(autouse=True)
def seed_bind_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed validated where it would be served: its API key bind has a value (``validate`` warns
    at a credential that would render empty, tests/cli/test_validate_credentials.py)."""
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "test-key-9f2c")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def broken(tmp_path: Path, name: str = "broken.yaml") -> Path:
    text = SEED.read_text(encoding="utf-8").replace(f"call: {SEED_NAMESPACE}.cancel", "call: nowhere.cancel")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- validate -----------------------------------------------------------------------------------


def test_validate_a_good_file(capsys) -> None:
    code, out, err = run(capsys, "validate", str(SEED))
    assert code == 0
    lines = out.splitlines()
    assert f"{SEED}: ok (3 warnings)" in lines
    assert lines[-1] == "1 file: 1 ok, 0 with errors (0 errors, 3 warnings)"
    assert sum(": warning: " in line for line in lines) == 3
    assert err == ""


def test_quiet_hides_warnings_but_not_the_verdict(capsys) -> None:
    code, out, _ = run(capsys, "validate", "-q", str(SEED))
    assert code == 0
    assert out.splitlines() == [
        f"{SEED}: ok (3 warnings)",
        "1 file: 1 ok, 0 with errors (0 errors, 3 warnings)",
    ]


def test_a_file_without_warnings_is_just_ok(capsys) -> None:
    code, out, _ = run(capsys, "validate", str(MINIMAL))
    assert code == 0
    assert out.splitlines() == [f"{MINIMAL}: ok", "1 file: 1 ok, 0 with errors (0 errors, 0 warnings)"]


def test_one_bad_file_among_good_ones_fails_the_run(capsys, tmp_path: Path) -> None:
    bad = broken(tmp_path)
    code, out, _ = run(capsys, "validate", "-q", str(MINIMAL), str(bad))
    assert code == 1
    lines = out.splitlines()
    line = line_of(bad.read_text(encoding="utf-8"), "call: nowhere.cancel")
    assert lines[0] == f"{MINIMAL}: ok"
    assert lines[1].startswith(f"{bad}:{line}:")
    assert ": error: capability.exposes[0].resources[1].operations[0].call: call 'nowhere.cancel'" in lines[1]
    assert f"{bad}: ok" not in out
    assert lines[-1] == "2 files: 1 ok, 1 with errors (2 errors, 3 warnings)"
    assert len(lines) == 4  # two errors (REST + MCP), no `ok` line for the bad file, the summary


def test_errors_come_out_one_per_line_in_file_order(capsys, tmp_path: Path) -> None:
    bad = broken(tmp_path)
    _, out, _ = run(capsys, "validate", str(bad))
    problem_lines = [int(line.split(":")[1]) for line in out.splitlines() if line.startswith(f"{bad}:")]
    assert problem_lines == sorted(problem_lines)
    assert "Traceback" not in out


def test_a_missing_file_is_reported_not_raised(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    code, out, err = run(capsys, "validate", str(missing), str(MINIMAL))
    assert code == 1
    assert f"{missing}: error: file not found" in out.splitlines()
    assert out.splitlines()[-1] == "2 files: 1 ok, 1 with errors (1 error, 0 warnings)"
    assert err == ""


def test_a_directory_argument_validates_its_yaml_files(capsys, tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    shutil.copy(MINIMAL, tmp_path / "a.yaml")
    # Files of one directory are served together: the copy listens on a port of its own.
    (tmp_path / "nested" / "b.yml").write_text(
        MINIMAL.read_text(encoding="utf-8").replace("port: 9090", "port: 9091"), encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not yaml: [", encoding="utf-8")
    broken(tmp_path / "nested", "c.yaml")
    code, out, _ = run(capsys, "validate", "-q", str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'a.yaml'}: ok" in out
    assert f"{tmp_path / 'nested' / 'b.yml'}: ok" in out
    assert "notes.txt" not in out
    assert out.splitlines()[-1].startswith("3 files: 2 ok, 1 with errors (2 errors, ")


def test_json_format_for_tools(capsys, tmp_path: Path) -> None:
    bad = broken(tmp_path)
    code, out, _ = run(capsys, "validate", "--format", "json", str(SEED), str(bad))
    assert code == 1
    report = json.loads(out)
    assert report["summary"] == {"files": 2, "ok": 1, "errors": 2, "warnings": 6}
    good, refused = report["files"]
    assert (good["file"], good["ok"]) == (str(SEED), True)
    assert {p["severity"] for p in good["problems"]} == {"warning"}
    assert refused["ok"] is False
    error = next(p for p in refused["problems"] if p["severity"] == "error")
    assert set(error) == {"file", "line", "column", "severity", "rule", "path", "message"}
    assert error["rule"] == "unknown-call"
    assert error["line"] == line_of(bad.read_text(encoding="utf-8"), "call: nowhere.cancel")
    assert error["path"] == "capability.exposes[0].resources[1].operations[0].call"


def test_json_format_of_a_good_file_exits_zero(capsys) -> None:
    code, out, _ = run(capsys, "validate", "--format", "json", str(MINIMAL))
    assert code == 0
    assert json.loads(out)["summary"] == {"files": 1, "ok": 1, "errors": 0, "warnings": 0}


def test_strict_reports_schema_violations_with_lines(capsys) -> None:
    text = STRICT_VIOLATIONS.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(STRICT_VIOLATIONS))
    assert code == 0  # without --strict the document loads
    code, out, _ = run(capsys, "validate", "--strict", "--format", "json", str(STRICT_VIOLATIONS))
    assert code == 1
    (entry,) = json.loads(out)["files"]
    violations = [p for p in entry["problems"] if p["rule"] == "schema-strict"]
    assert all(p["severity"] == "error" for p in violations)
    by_path = {p["path"]: p for p in violations}
    assert by_path["capability.consumes[0].resources[0].name"]["line"] == line_of(text, '"all_notes"')
    assert "does not match" in by_path["capability.consumes[0].resources[0].name"]["message"]
    extra = by_path["capability.consumes[0].resources[0].operations[0]"]
    assert extra["line"] == line_of(text, '- name: "list-notes"')
    assert "'cacheSeconds' was unexpected" in extra["message"]
    assert by_path["info"]["line"] == line_of(text, 'label: "Notes"')
    assert "'description' is a required property" in by_path["info"]["message"]


def test_strict_accepts_a_schema_clean_document(capsys) -> None:
    code, out, _ = run(capsys, "validate", "--strict", str(MINIMAL))
    assert code == 0
    assert out.splitlines()[0] == f"{MINIMAL}: ok"


def test_strict_text_output_is_compiler_style(capsys) -> None:
    code, out, _ = run(capsys, "validate", "--strict", "-q", str(STRICT_VIOLATIONS))
    assert code == 1
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 3
    assert all(line.startswith(f"{STRICT_VIOLATIONS}:") and ": schema: " in line for line in errors)


def test_validate_needs_a_file(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["validate"])
    assert exit_.value.code == 2
    assert "FILE" in capsys.readouterr().err


# --- inspect ------------------------------------------------------------------------------------


def test_inspect_text_describes_the_seed(capsys) -> None:
    code, out, _ = run(capsys, "inspect", str(SEED))
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "API Reference — subpackage_prompts.subpackage_prompts/runs  (naftiko 1.0.0-alpha2)"
    assert any(
        line.startswith(f"consumes {SEED_NAMESPACE}  http://localhost:8000")
        and "auth: apikey header Authorization" in line
        for line in lines
    )
    consumed = [line.split() for line in lines if line.startswith("  GET ") or line.startswith("  POST ")]
    assert ["GET", "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs", "list"] in consumed
    assert f"rest {SEED_NAMESPACE}-rest  :8080" in lines
    assert f"mcp {SEED_NAMESPACE}-mcp  :9090" in lines
    tools = {line.split()[1]: line for line in lines if line.startswith("  tool ")}
    assert set(tools) == {"get-inference-run-info", "run-prompt-inference", "cancel-inference-run-api"}
    assert f"→ {SEED_NAMESPACE}.list" in tools["get-inference-run-info"]
    assert tools["get-inference-run-info"].endswith("[read-only, not destructive, idempotent]")
    assert f"→ {SEED_NAMESPACE}.cancel" in tools["cancel-inference-run-api"]


def test_inspect_json_describes_the_seed(capsys) -> None:
    code, out, _ = run(capsys, "inspect", "--format", "json", str(SEED))
    assert code == 0
    summary = json.loads(out)
    assert summary["naftiko"] == "1.0.0-alpha2"
    (consumes,) = summary["consumes"]
    assert consumes["namespace"] == SEED_NAMESPACE
    assert consumes["authentication"] == "apikey header Authorization"
    assert [op["name"] for op in consumes["operations"]] == ["list", "create", "cancel"]
    assert consumes["operations"][2]["path"].endswith("/inference-runs/{inference_run_id}/cancel")
    rest, mcp = summary["exposes"]
    assert (rest["type"], rest["port"], mcp["type"], mcp["port"]) == ("rest", 8080, "mcp", 9090)
    assert [(r["method"], r["name"], r["call"]) for r in rest["routes"]] == [
        ("GET", "list", f"{SEED_NAMESPACE}.list"),
        ("POST", "create", f"{SEED_NAMESPACE}.create"),
        ("POST", "cancel", f"{SEED_NAMESPACE}.cancel"),
    ]
    assert [(t["name"], t["call"]) for t in mcp["tools"]] == [
        ("get-inference-run-info", f"{SEED_NAMESPACE}.list"),
        ("run-prompt-inference", f"{SEED_NAMESPACE}.create"),
        ("cancel-inference-run-api", f"{SEED_NAMESPACE}.cancel"),
    ]
    assert mcp["tools"][0]["hints"] == ["read-only", "not destructive", "idempotent"]
    assert mcp["transport"] == "http"


def test_inspect_names_where_imported_consumes_come_from(capsys) -> None:
    code, out, _ = run(capsys, "inspect", "--format", "json", str(FIXTURES / "imports" / "importer.yaml"))
    assert code == 0
    origins = {c["namespace"]: c["importedFrom"] for c in json.loads(out)["consumes"]}
    assert origins["places"] == str((FIXTURES / "imports" / "places-capability.yaml").resolve())


def test_inspect_of_a_broken_file_prints_its_errors(capsys, tmp_path: Path) -> None:
    bad = broken(tmp_path)
    code, out, err = run(capsys, "inspect", str(bad))
    assert code == 2
    assert out == ""
    assert all(line.startswith(f"{bad}:") and ": error: " in line for line in err.splitlines())
    assert len(err.splitlines()) == 2


def test_inspect_of_a_missing_file(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "inspect", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert err.strip() == f"{tmp_path / 'absent.yaml'}: error: file not found"


# --- the real console script --------------------------------------------------------------------


@pytest.mark.skipif(not NAFTIKO.exists(), reason=f"console script not installed at {NAFTIKO}")
def test_console_script_validate_and_inspect(tmp_path: Path) -> None:
    def naftiko(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(NAFTIKO), *argv], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
        )

    good = naftiko("validate", str(SEED))
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[-1] == "1 file: 1 ok, 0 with errors (0 errors, 3 warnings)"

    bad_file = broken(tmp_path)
    bad = naftiko("validate", "-q", str(bad_file), str(tmp_path / "missing.yaml"))
    assert bad.returncode == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    assert f"{tmp_path / 'missing.yaml'}: error: file not found" in bad.stdout
    assert bad.stdout.splitlines()[-1] == "2 files: 0 ok, 2 with errors (3 errors, 3 warnings)"

    tabbed = tmp_path / "tabbed.yaml"
    tabbed.write_text("naftiko: 1.0.0-alpha2\ncapability:\n\tconsumes: []\n", encoding="utf-8")
    yaml_error = naftiko("validate", str(tabbed))
    assert yaml_error.returncode == 1
    assert yaml_error.stdout.startswith(f"{tabbed}:3:1: error: YAML syntax error")
    assert "Traceback" not in yaml_error.stderr

    described = naftiko("inspect", "--format", "json", str(SEED))
    assert described.returncode == 0
    assert len(json.loads(described.stdout)["exposes"][1]["tools"]) == 3
