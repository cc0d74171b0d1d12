"""The adapter's OpenAPI 3.1 document: served at /openapi.json, exported by ``naftiko export openapi``,
accepted by openapi-spec-validator, and saying what the adapter actually reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from naftiko_runtime.binds import BindValues, Secret
from naftiko_runtime.cli import main
from naftiko_runtime.exposes.rest import build_openapi, build_rest_app
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load

from .conftest import CAPABILITIES, SEED, RestServer, Standin

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared").resolve()
RUNS = "/v1/api/prompts/{prompt-id}/versions/{version-id}/inference-runs"


def offline(path: Path, expose: int = 0) -> dict[str, Any]:
    document = load(str(path))
    binds = BindValues((b.namespace, v, Secret("")) for b in document.all_binds for v in b.keys or {})
    runtime = Runtime(document, binds, RuntimeOptions())
    return build_openapi(runtime.rest[expose], runtime.context)


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


# -- served --------------------------------------------------------------------------------------


def test_served_document_is_valid_and_names_this_server(seed_server: RestServer) -> None:
    answer = httpx.get(seed_server.url + "/openapi.json")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": seed_server.url}]
    assert set(document["paths"]) == {RUNS, RUNS + "/{inference-run-id}/cancel"}


def test_openapi_path_rejects_other_methods(seed: httpx.Client, standin: Standin) -> None:
    answer = seed.post("/openapi.json")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"


def test_seed_parameters_body_and_responses() -> None:
    document = offline(SEED)
    listing = document["paths"][RUNS]["get"]
    params = parameters(listing)
    assert params[("path", "prompt-id")] == {
        "name": "prompt-id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert params[("query", "project")]["schema"] == {"type": "integer"}
    assert params[("query", "ordering")]["description"] == "Which field to use when ordering the results."
    assert not any(name == "Authorization" for _, name in params)  # supplied by the consumer's credentials
    assert set(listing["responses"]) >= {"200", "400", "502", "504"}
    assert listing["responses"]["400"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }

    create = document["paths"][RUNS]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": True,
    }
    assert create["requestBody"]["required"] is False
    assert {"200", "201", "413", "415"} <= set(create["responses"])
    cancel = document["paths"][RUNS + "/{inference-run-id}/cancel"]["post"]
    assert [p["name"] for p in cancel["parameters"]] == ["inference-run-id", "prompt-id", "version-id"]
    assert "security" not in document
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert ids == ["list-inference-runs", "create-inference-run", "cancel-inference-run"]


def test_declared_inputs_in_every_location() -> None:
    document = offline(CAPABILITIES / "inputs.yaml")
    validate(document)
    item = document["paths"]["/items/{item-id}"]["get"]
    params = parameters(item)
    assert params[("path", "item-id")]["schema"] == {"type": "string", "pattern": "^[a-z0-9-]+$"}
    assert params[("query", "limit")]["required"] is True
    assert params[("query", "tags")]["schema"] == {"type": "array", "items": {}}
    assert params[("query", "tags")]["explode"] is True
    assert ("header", "X-Trace") in params and ("cookie", "session") in params
    assert item["summary"] == "Get an item" and item["tags"] == ["item"]

    create = document["paths"]["/items"]["post"]["requestBody"]
    assert create["required"] is True
    assert create["content"]["application/json"]["schema"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "labels": {"type": "array", "items": {}},
        },
        "required": ["name"],
    }
    users = document["paths"]["/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert users == {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                "required": ["id"],
            }
        },
        "required": ["user"],
    }
    assert "204" in document["paths"]["/noop"]["post"]["responses"]
    assert {t["name"] for t in document["tags"]} == {"item", "items", "users", "hello", "noop"}


def test_forward_resources_are_described() -> None:
    document = offline(CAPABILITIES / "forward.yaml")
    validate(document)
    notion = document["paths"]["/notion/{path}"]
    assert set(notion) == {"get", "post", "put", "patch", "delete"}
    assert notion["get"]["parameters"][0]["name"] == "path"
    opened = document["paths"]["/open"]
    assert opened["get"]["operationId"] == "open-info"  # the operation, not the forward
    assert opened["post"]["summary"] == "Forwarded to open"


@pytest.mark.parametrize(
    ("expose", "name", "scheme"),
    [
        (0, "bearerAuth", {"type": "http", "scheme": "bearer"}),
        (1, "apiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"}),
        (2, "apiKeyAuth", {"type": "apiKey", "in": "query", "name": "api_key"}),
        (3, "basicAuth", {"type": "http", "scheme": "basic"}),
        (4, "digestAuth", {"type": "http", "scheme": "digest"}),
    ],
)
def test_security_schemes(expose: int, name: str, scheme: dict[str, str]) -> None:
    document = offline(CAPABILITIES / "auth.yaml", expose)
    validate(document)
    assert document["components"]["securitySchemes"] == {name: scheme}
    assert document["security"] == [{name: []}]
    assert "401" in document["paths"]["/ping"]["get"]["responses"]
    assert document["servers"] == [{"url": f"http://localhost:{8091 + expose}"}]


# -- naftiko export openapi ----------------------------------------------------------------------


def test_export_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed.json"

    assert main(["export", "openapi", str(SEED), "-o", str(out)]) == 0

    import json

    document = json.loads(out.read_text())
    validate(document)
    assert document == offline(SEED)


def test_export_yaml_to_stdout_with_an_adapter_and_server(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "export",
            "openapi",
            str(CAPABILITIES / "auth.yaml"),
            "--adapter",
            "digest-api",
            "--format",
            "yaml",
            "--server",
            "https://api.example.com",
        ]
    )

    assert code == 0
    text = capsys.readouterr().out
    assert "&id" not in text
    document = yaml.safe_load(text)
    validate(document)
    assert document["servers"] == [{"url": "https://api.example.com"}]
    assert "digestAuth" in document["components"]["securitySchemes"]


def test_export_needs_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["export", "openapi", str(SEED), "-o", str(tmp_path / "x.yaml")]) == 0
    validate(yaml.safe_load((tmp_path / "x.yaml").read_text()))


def test_export_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "openapi", str(CAPABILITIES / "auth.yaml"), "--adapter", "nope"]) == 2
    assert "no REST adapter named 'nope'" in capsys.readouterr().err
    mcp_only = tmp_path / "mcp.yaml"
    mcp_only.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n    - type: mcp\n      namespace: m\n"
        "      port: 9000\n      tools:\n        - name: t\n          description: d\n"
        "          outputParameters:\n            - {name: v, type: string, value: x}\n"
    )
    assert main(["export", "openapi", str(mcp_only)]) == 2
    assert "no REST adapter" in capsys.readouterr().err
    assert main(["export", "openapi", str(tmp_path / "missing.yaml")]) == 2
    assert main(["export", "openapi", str(SEED), "-o", str(tmp_path / "no" / "dir.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


# -- the real-world corpus -----------------------------------------------------------------------


def corpus_exposes() -> Iterator[Any]:
    if not SHARED.is_dir():
        return
    for path in sorted(SHARED.glob("corpus/**/*.y*ml")) + sorted(SHARED.glob("conformance/**/*.y*ml")):
        yield pytest.param(path, id=str(path.relative_to(SHARED)))


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")
def test_corpus_rest_exposes_build_and_describe_themselves_validly() -> None:
    """Every REST expose of the corpus builds; one document in four is validated (the validator takes
    about 50 ms a document; all 342 passed when this was written)."""
    described = 0
    for index, param in enumerate(corpus_exposes()):
        path = param.values[0]
        try:
            document = load(str(path))
            binds = BindValues((b.namespace, v, Secret("")) for b in document.all_binds for v in b.keys or {})
            runtime = Runtime(document, binds, RuntimeOptions())
        except Exception:
            continue  # refused documents are pinned by tests/spec/test_corpus.py
        for plan in runtime.rest:
            build_rest_app(plan, runtime.context)
            if index % 4:
                continue
            try:
                validate(build_openapi(plan, runtime.context))
            except Exception as exc:  # pragma: no cover - the message names the file
                raise AssertionError(f"{path}: {plan.expose.namespace}: {exc}") from exc
            described += 1
    assert described > 60
