"""``naftiko migrate``: the converter as a user and an importer see it.

The command keeps comments and key order, writes notes on stderr, refuses a document that does not
load (exit 2, located errors) and picks the other version by default. The library converts plain
mappings too. The generated dialect comes out in spec form: typed inputs declared where the spec
puts them, ``rest.x`` as the adapter's own namespace, ``info.title`` as the label, an operation's own
path as a resource.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from naftiko_runtime.cli import main
from naftiko_runtime.migrate import MigrationError, migrate_data, migrate_file, migrate_text
from naftiko_runtime.spec import check, check_text, load

from ..spec.helpers import SHARED

STEP_7 = "step-7-shipyard-orchestrated-lookup.yml"
BETA5_STEP_7 = SHARED / "conformance/ikanos-1.0.0-beta5/modules/ikanos-docs/tutorial" / STEP_7
ALPHA2_STEP_7 = SHARED / "conformance/naftiko-framework-1.0.0-alpha2/src/main/resources/tutorial" / STEP_7
needs_tutorials = pytest.mark.skipif(not BETA5_STEP_7.is_file(), reason="the conformance folders are absent")

DIALECT = textwrap.dedent(
    """\
    # The weather capability, written by a generator.
    naftiko: 1.0.0-alpha2
    info:
      title: Weather  # the dialect's `title`
      description: Forecasts
    capability:
      consumes:
      - namespace: weather
        baseUri: https://api.weather.example.com
        auth:
          type: apiKey
          name: X-Key
          value: '{{WEATHER_KEY}}'
        resources:
        - name: forecast
          path: /forecast
          operations:
          - name: get-forecast
            method: get
            inputParameters:
            - name: city
              in: query
              type: string
              required: true
              description: City name
            - name: days
              in: query
              type: int
      exposes:
      - type: mcp
        namespace: weather-mcp
        port: 9100
        tools:
        # The agent's way in.
        - name: forecast
          description: Forecast for a city
          call: weather.get-forecast
          with:
            city: tools.city
            days: tools.days
          outputParameters:
          - name: temperature
            type: number
            mapping: '{{$.temp}}'
          - name: sky
            type: string
            mapping: $.sky
      - type: rest
        namespace: weather-rest
        port: 9101
        description: The REST face
        resources:
        - name: forecasts
          path: /forecasts
          operations:
          - name: get-forecast
            method: GET
            path: /{city}
            call: weather.get-forecast
            with:
              city: rest.city
    binds:
    - namespace: env
      keys:
        WEATHER_KEY: WEATHER_KEY
    """
)


@pytest.fixture
def dialect(tmp_path: Path) -> Path:
    path = tmp_path / "weather.yaml"
    path.write_text(DIALECT, encoding="utf-8")
    return path


def _strict_ok(text: str, base: Path) -> None:
    report = check_text(text, "migrated.yaml", base_dir=base, strict=True)
    assert report.ok, "\n".join(p.format() for p in report.errors)


def test_the_dialect_comes_out_in_spec_form_and_validates_strict_both_ways(dialect: Path) -> None:
    beta5 = migrate_file(dialect, "1.0.0-beta5")
    _strict_ok(beta5.text, dialect.parent)
    data = yaml.safe_load(beta5.text)
    assert next(iter(data)) == "ikanos" and data["ikanos"] == "1.0.0-beta5"
    assert data["info"]["display"] == "Weather"
    consumes = data["capability"]["consumes"][0]
    assert consumes["authentication"] == {"type": "apikey", "key": "X-Key", "value": "{{WEATHER_KEY}}"}
    operation = consumes["resources"]["forecast"]["operations"]["get-forecast"]
    assert operation["method"] == "GET"
    # Types and descriptions leave the consumed parameters for the tool's declared inputs.
    assert operation["inputParameters"] == {"city": {"in": "query"}, "days": {"in": "query"}}
    mcp, rest = data["capability"]["exposes"]
    tool = mcp["tools"]["forecast"]
    assert tool["inputParameters"] == {
        "city": {"type": "string", "description": "City name", "required": True},
        "days": {"type": "integer", "description": "", "required": False},
    }
    assert tool["with"] == {"city": "weather-mcp.city", "days": "weather-mcp.days"}
    # Two named outputs of a call are the one object the runtime returned.
    assert tool["outputParameters"] == [
        {
            "type": "object",
            "properties": {
                "temperature": {"type": "number", "mapping": "$.temp"},
                "sky": {"type": "string", "mapping": "$.sky"},
            },
        }
    ]
    # An operation's own path is a resource of its own.
    assert list(rest["resources"]) == ["forecasts-city"]
    split = rest["resources"]["forecasts-city"]
    assert split["path"] == "/forecasts/{city}"
    assert split["operations"]["get-forecast"]["with"] == {"city": "weather-rest.city"}
    assert "description" not in rest
    assert any("REST adapter has no `description`" in note for note in beta5.notes)
    back = migrate_text(beta5.text, "1.0.0-alpha2", base_dir=dialect.parent)
    _strict_ok(back.text, dialect.parent)
    assert yaml.safe_load(back.text)["naftiko"] == "1.0.0-alpha2"


def test_comments_and_key_order_are_kept(dialect: Path) -> None:
    text = migrate_file(dialect).text
    assert text.startswith("# The weather capability, written by a generator.\nikanos: 1.0.0-beta5\n")
    assert "display: Weather # the dialect's `title`" in text
    assert "# The agent's way in." in text
    assert "# description: The REST face" in text
    keys = list(yaml.safe_load(text))
    assert keys == ["ikanos", "info", "capability", "binds"]


@needs_tutorials
def test_the_tutorial_migrates_to_its_published_twin() -> None:
    """The framework wrote step 7 in both specs: the migration of either is the other (as data)."""
    to_beta5 = yaml.safe_load(migrate_file(ALPHA2_STEP_7, "1.0.0-beta5").text)
    to_alpha2 = yaml.safe_load(migrate_file(BETA5_STEP_7, "1.0.0-alpha2").text)
    assert to_beta5 == yaml.safe_load(BETA5_STEP_7.read_text(encoding="utf-8"))
    assert to_alpha2 == yaml.safe_load(ALPHA2_STEP_7.read_text(encoding="utf-8"))


def test_plain_mappings_are_migrated_in_place(tmp_path: Path) -> None:
    data = yaml.safe_load(DIALECT)
    notes = migrate_data(data, "1.0.0-beta5", base_dir=tmp_path)
    assert data["ikanos"] == "1.0.0-beta5" and "naftiko" not in data
    assert list(data["capability"]["exposes"][0]["tools"]) == ["forecast"]
    assert notes
    report = check_text(yaml.safe_dump(data, sort_keys=False), base_dir=tmp_path, strict=True)
    assert report.ok, [p.format() for p in report.errors]


def test_a_document_that_does_not_load_is_refused_with_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        DIALECT.replace("call: weather.get-forecast\n      with:", "call: weather.nope\n      with:")
    )
    with pytest.raises(MigrationError) as caught:
        migrate_file(path)
    assert {p.rule for p in caught.value.problems} == {"unknown-call"}


def test_what_alpha2_cannot_say_is_kept_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "cached.yml"
    path.write_text(
        'ikanos: "1.0.0-beta5"\ncapability:\n  exposes:\n    - type: mcp\n      namespace: m\n'
        "      port: 9000\n      ttlMs: 5000\n      tools:\n        hi:\n          description: Hi\n"
        "          outputParameters:\n            greeting: {type: string, value: hello}\n"
    )
    migration = migrate_file(path, "1.0.0-alpha2")
    assert yaml.safe_load(migration.text)["capability"]["exposes"][0]["ttlMs"] == 5000
    assert any("`ttlMs`: no 1.0.0-alpha2 form; kept" in note for note in migration.notes)
    assert load(path).capability.exposes[0].ttl_ms == 5000


# --- the command ----------------------------------------------------------------------------------


def test_cli_writes_the_other_version_by_default_and_notes_on_stderr(
    dialect: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "weather.beta5.yaml"
    assert main(["migrate", str(dialect), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "note: " in captured.err and "(1.0.0-beta5)" in captured.err
    assert check(out, strict=True).ok
    assert main(["migrate", str(out), "-q"]) == 0  # an Ikanos document goes back to alpha2
    captured = capsys.readouterr()
    assert captured.out.startswith("# The weather capability") and "naftiko: 1.0.0-alpha2" in captured.out
    assert captured.err == ""


def test_cli_refuses_a_broken_document_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n  - type: mcp\n    tools: []\n")
    result = subprocess.run(
        [Path(sys.executable).with_name("naftiko"), "migrate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{path}:4:" in result.stderr and "namespace" in result.stderr
    assert result.stdout == ""
