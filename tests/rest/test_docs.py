"""What a REST user gets besides the API: ``/docs`` (Swagger UI over the adapter's own description,
every file served by the adapter: no CDN), ``/openapi.yaml``, and a description typed client
generators accept (unique, descriptive operationIds; free-form bodies as ``additionalProperties``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
import yaml
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Mount

from naftiko_runtime.exposes.rest import build_rest_app
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.servers import ServerThread

from .conftest import RestServer, serve_rest
from .test_openapi import offline

NAMED = """
naftiko: 1.0.0-alpha2
info: {label: Fleet, description: operation names}
capability:
  exposes:
    - type: rest
      namespace: fleet
      port: 8080
      resources:
        - path: /v2/ships
          operations:
            - {method: GET, name: list, outputParameters: [{type: string, value: ships}]}
            - {method: POST, name: create, outputParameters: [{type: string, value: made}]}
        - path: /v2/ships/{imo}
          operations:
            - {method: GET, name: get, outputParameters: [{type: string, value: ship}]}
            - {method: DELETE, name: delete, outputParameters: [{type: string, value: gone}]}
        - path: /v2/companies/{id}/ships
          operations:
            # a declared name that a bare verb elsewhere also becomes: the second gets a suffix
            - {method: GET, name: list-ships, outputParameters: [{type: string, value: fleet}]}
        - path: /crew
          operations:
            - {method: GET, name: list-crew-members, outputParameters: [{type: string, value: crew}]}
        - path: /hello
          operations:
            - {method: GET, name: hello, outputParameters: [{type: string, value: hi}]}
        - path: /docs-note
          operations:
            - {method: GET, name: note, outputParameters: [{type: string, value: note}]}
"""

OWN_DOCS = """
naftiko: 1.0.0-alpha2
info: {label: Own docs, description: a declared /docs route}
capability:
  exposes:
    - type: rest
      namespace: own-docs
      port: 8080
      resources:
        - path: /docs
          operations:
            - {method: GET, name: docs, outputParameters: [{type: string, value: mine}]}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    path = tmp_path_factory.mktemp("docs") / "fleet.yaml"
    path.write_text(NAMED, encoding="utf-8")
    with serve_rest(path) as server:
        yield server


def test_docs_page_and_every_file_it_loads_come_from_the_adapter(fleet: RestServer) -> None:
    with fleet.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "//" not in re.sub(r"<!DOCTYPE[^>]*>", "", page.text)  # no absolute URL: no CDN
        base = str(page.url)
        loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert {"docs/swagger-ui-bundle.js", "docs/init.js", "docs/swagger-ui.css"} <= set(loaded)
        for reference in loaded:
            asset = client.get(urljoin(base, reference))
            assert asset.status_code == 200, reference
            assert asset.content, reference
        bundle = client.get(urljoin(base, "docs/swagger-ui-bundle.js"))
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert "SwaggerUIBundle" in bundle.text and len(bundle.content) > 500_000
        init = client.get(urljoin(base, "docs/init.js")).text
        described = re.search(r'url: "([^"]+)"', init).group(1)  # type: ignore[union-attr]
        document = client.get(urljoin(base, described))
        assert document.headers["content-type"] == "application/json"
        validate(document.json())
        assert client.head("/docs").status_code == 200
        assert client.post("/docs").status_code == 405
        slash = client.get("/docs/")
        assert slash.status_code == 308 and urljoin(str(slash.url), slash.headers["location"]).endswith(
            "/docs"
        )
        assert client.get("/docs/missing.js").status_code == 404


def test_behind_a_path_prefix_the_page_still_finds_its_files(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(NAMED, encoding="utf-8")
    runtime = Runtime.build(load(path), RuntimeOptions(environ={}))
    mounted = Starlette(routes=[Mount("/fleet", app=build_rest_app(runtime.rest[0], runtime.context))])
    with ServerThread(mounted) as server, httpx.Client(timeout=10) as client:
        page = client.get(server.url + "/fleet/docs")
        for reference in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            assert client.get(urljoin(str(page.url), reference)).status_code == 200
        assert client.get(server.url + "/fleet/openapi.json").json()["servers"] == [
            {"url": server.url + "/fleet"}
        ]


def test_a_declared_docs_route_wins(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(OWN_DOCS, encoding="utf-8")
    with serve_rest(path) as server, server.client() as client:
        assert client.get("/docs").json() == "mine"
        assert client.get("/docs/swagger-ui.css").status_code == 200  # the files are still there


def test_openapi_yaml_is_the_same_document(fleet: RestServer) -> None:
    with fleet.client() as client:
        as_json = client.get("/openapi.json").json()
        answer = client.get("/openapi.yaml")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/yaml"
    assert yaml.safe_load(answer.text) == as_json
    assert answer.text.startswith("openapi: 3.1.0\n")


def test_operation_ids_are_unique_and_descriptive(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(NAMED, encoding="utf-8")
    document = offline(path)
    validate(document)
    ids = {
        (route, method): operation["operationId"]
        for route, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert ids == {
        ("/v2/ships", "get"): "list-ships",
        ("/v2/ships", "post"): "create-ship",
        ("/v2/ships/{imo}", "get"): "get-ship",
        ("/v2/ships/{imo}", "delete"): "delete-ship",
        ("/v2/companies/{id}/ships", "get"): "list-ships-2",
        ("/crew", "get"): "list-crew-members",
        ("/hello", "get"): "hello",
        ("/docs-note", "get"): "note-docs-note",
    }


def test_a_free_form_body_accepts_any_object(tmp_path: Path) -> None:
    from .conftest import SEED

    document = offline(SEED)
    create = document["paths"]["/v1/api/prompts/{prompt-id}/versions/{version-id}/inference-runs"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": True,
    }
    # Objects with declared properties are left as declared.
    inputs = offline(Path(__file__).with_name("capabilities") / "inputs.yaml")
    body = inputs["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "additionalProperties" not in body and body["properties"]
