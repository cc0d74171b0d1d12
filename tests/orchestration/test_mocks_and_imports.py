"""Mock capabilities (no ``consumes``) and shared consumes imported from other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.errors import SpecError
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec.loader import load

from .conftest import write

pytestmark = pytest.mark.anyio

MOCK = """
naftiko: "1.0.0-alpha2"
capability:
  exposes:
    - type: mcp
      namespace: tools
      tools:
        - name: greet
          description: mock
          inputParameters:
            - {name: name, type: string, required: true}
            - {name: count, type: number, required: false}
          outputParameters:
            - {name: message, type: string, value: "Hello, {{name}}!"}
            - {name: count, type: number, value: "{{count}}"}
            - name: meta
              type: object
              properties:
                source: {type: string, value: mock}
                greeting: {type: string, value: "Hi {{name}}"}
    - type: rest
      namespace: api-rest
      resources:
        - path: /ping
          name: ping
          operations:
            - name: ping
              method: GET
              outputParameters:
                - {type: string, value: pong}
"""


async def test_mock_outputs_render_static_values_and_templates_without_consumes(tmp_path):
    path = write(tmp_path, "mock.yml", MOCK)
    async with Runtime.build(load(path), RuntimeOptions(environ={})) as runtime:
        assert not runtime.calls
        greet = await runtime.invoke("greet", {"name": "Nina", "count": 3})
        ping = await runtime.invoke("api-rest.ping", {})
    assert greet.value == {
        "message": "Hello, Nina!",
        "count": 3,
        "meta": {"source": "mock", "greeting": "Hi Nina"},
    }
    assert ping.value == "pong" and ping.status == 200


def _consumes_file(directory: Path, name: str, namespace: str, base: str = "https://shared.invalid") -> Path:
    return write(
        directory,
        name,
        f"""
        naftiko: "1.0.0-alpha2"
        consumes:
          - namespace: {namespace}
            type: http
            baseUri: "{base}"
            resources:
              - name: ship
                path: "/ships/{{{{imo_number}}}}"
                operations:
                  - {{name: get-ship, method: GET}}
              - name: crew
                path: /crew
                operations:
                  - {{name: list-crew, method: GET}}
        """,
    )


def _importer(alias_line: str, location: str = "./shared/fleet.yaml", namespace: str = "registry") -> str:
    return f"""
    naftiko: "1.0.0-alpha2"
    capability:
      consumes:
        - import: fleet
          location: {location}
{alias_line}
      exposes:
        - type: mcp
          namespace: tools
          tools:
            - name: ship-name
              description: imported
              inputParameters:
                - {{name: imo, type: string}}
              steps:
                - {{type: call, name: ship, call: {namespace}.get-ship, with: {{imo_number: tools.imo}}}}
              mappings:
                - {{targetName: name, value: $.ship.vessel_name}}
    """


async def test_an_imported_consumes_block_is_renamed_by_as_and_resolved_next_to_the_file(tmp_path, yard):
    _consumes_file(tmp_path / "shared", "fleet.yaml", "fleet")
    path = write(tmp_path, "cap.yml", _importer("          as: registry"))
    document = load(path)
    [consumes] = document.capability.consumes
    assert consumes.namespace == "registry"
    assert consumes.origin.file == str((tmp_path / "shared" / "fleet.yaml").resolve())
    async with Runtime.build(document, RuntimeOptions(base_uris=yard.base_uris, environ={})) as runtime:
        result = await runtime.invoke("ship-name", {"imo": "IMO-9456781"})
    assert result.value == {"name": "Pacific Dawn"}
    assert yard.registry.paths == ["GET /ships/IMO-9456781"]


async def test_an_import_without_as_keeps_its_namespace(tmp_path, yard):
    _consumes_file(tmp_path / "shared", "fleet.yaml", "fleet", base=yard.registry_server.url)
    path = write(tmp_path, "cap.yml", _importer("", namespace="fleet"))
    async with Runtime.build(load(path), RuntimeOptions(environ={})) as runtime:
        assert set(runtime.calls) == {"fleet.get-ship", "fleet.list-crew"}
        assert (await runtime.invoke("ship-name", {"imo": "IMO-9321483"})).value == {"name": "Northern Star"}


def test_a_missing_namespace_names_both_files(tmp_path):
    _consumes_file(tmp_path / "shared", "fleet.yaml", "other")
    path = write(tmp_path, "cap.yml", _importer("          as: registry"))
    with pytest.raises(SpecError) as caught:
        load(path)
    text = str(caught.value)
    assert "cap.yml" in text and "fleet.yaml" in text and "'fleet'" in text and "other" in text


def test_a_missing_file_names_both_files(tmp_path):
    path = write(tmp_path, "cap.yml", _importer("", location="./shared/nowhere.yaml"))
    with pytest.raises(SpecError) as caught:
        load(path)
    text = str(caught.value)
    assert "cap.yml" in text and "nowhere.yaml" in text and "not found" in text


def test_an_error_inside_the_imported_file_is_located_there(tmp_path):
    write(
        tmp_path / "shared",
        "fleet.yaml",
        """
        naftiko: "1.0.0-alpha2"
        consumes:
          - namespace: fleet
            type: http
            baseUri: ""
            resources:
              - name: ship
                path: /ships
                operations:
                  - {name: get-ship, method: GET}
        """,
    )
    path = write(tmp_path, "cap.yml", _importer("          as: registry"))
    with pytest.raises(SpecError) as caught:
        load(path)
    [problem] = caught.value.errors
    assert problem.file.endswith("fleet.yaml") and problem.line == 6
    assert "baseUri" in problem.message and "imported by" in problem.message and "cap.yml" in problem.message
