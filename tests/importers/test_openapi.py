"""``naftiko_runtime.importers.openapi``: what a description becomes, construct by construct.

Small descriptions written here, each imported; the document must validate strict with nothing to
say, and where the point is what goes on the wire, it is served and called against a recording
upstream.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from naftiko_runtime.importers import ImportFailed, to_yaml
from naftiko_runtime.spec import check_text
from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

from .serving import call_tool, described, imported, operation, served, tool

__all__ = ["upstream", "upstream_server"]


def api(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    document = {"openapi": "3.0.3", "info": {"title": "Test API", "version": "1.0"}}
    document["servers"] = [{"url": "https://api.example.com/v1"}]
    document.update(extra)
    document["paths"] = paths
    return document


def post(schema: dict[str, Any], **operation_fields: Any) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": schema}}}
    return {"post": {"operationId": "createThing", "requestBody": body, **operation_fields, "responses": {}}}


def strict_valid(document: dict[str, Any]) -> None:
    report = check_text(to_yaml(document), "imported.yaml", strict=True)
    assert report.problems == [], [p.format() for p in report.problems]


def inputs(document: dict[str, Any], name: str = "create-thing") -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in tool(document, name).get("inputParameters", [])}


# -- references ------------------------------------------------------------------------------------


def test_local_file_and_remote_references_are_resolved(tmp_path: Path, upstream: RecordingUpstream) -> None:
    upstream.route(
        "GET",
        "/shared/common.json",
        json={
            "components": {
                "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}}
            }
        },
    )
    (tmp_path / "schemas.yaml").write_text(
        yaml.safe_dump(
            {
                "Pet": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "owner": {"$ref": "#/Owner"}},
                },
                "Owner": {"type": "object", "properties": {"id": {"type": "integer"}}},
            }
        ),
        encoding="utf-8",
    )
    paths = {
        "/pets": post(
            {"$ref": "schemas.yaml#/Pet"},
            parameters=[{"$ref": f"{upstream.url}/shared/common.json#/components/parameters/Limit"}],
        )
    }
    document, warnings = imported(described(tmp_path, api(paths)))

    assert warnings == []
    found = inputs(document)
    assert found["limit"]["type"] == "integer"
    assert found["name"] == {
        "name": "name",
        "type": "string",
        "description": "Field name of the request body.",
        "required": True,
    }
    assert found["owner"]["description"] == "Object with fields id (integer)."
    strict_valid(document)


def test_a_description_fetched_over_http_resolves_relative_refs_there_and_never_reads_files(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    (tmp_path / "secret.json").write_text('{"Pet": {"type": "object"}}', encoding="utf-8")
    paths = {
        "/pets": post({"$ref": "models.json#/Pet"}),
        "/local": {
            "get": {
                "operationId": "local",
                "parameters": [{"$ref": f"{(tmp_path / 'secret.json').as_uri()}#/P"}],
            }
        },
    }
    upstream.route("GET", "/api/openapi.json", json=api(paths))
    upstream.route(
        "GET", "/api/models.json", json={"Pet": {"type": "object", "properties": {"tag": {"type": "string"}}}}
    )

    document, warnings = imported(f"{upstream.url}/api/openapi.json")

    assert list(inputs(document)) == ["tag"]
    [refused] = [w for w in warnings if w.rule == "ref-unresolved"]
    assert refused.pointer == "#/paths/~1local/get/parameters/0"
    assert "only http(s) documents may be referenced" in refused.message
    strict_valid(document)


def test_a_recursive_schema_is_cut_with_a_note(tmp_path: Path) -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    document, warnings = imported(
        described(
            tmp_path,
            api(
                {"/nodes": post({"$ref": "#/components/schemas/Node"})},
                components={"schemas": {"Node": node}},
            ),
        )
    )
    assert warnings == []
    assert "recursive: Node" in inputs(document)["children"]["description"]
    strict_valid(document)


def test_a_ref_that_comes_back_to_itself_is_a_located_warning(tmp_path: Path) -> None:
    schemas = {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    document, warnings = imported(
        described(
            tmp_path, api({"/x": post({"$ref": "#/components/schemas/A"})}, components={"schemas": schemas})
        )
    )
    [cycle] = warnings
    assert cycle.rule == "ref-cycle"
    assert cycle.pointer == "#/paths/~1x/post/requestBody/content/application~1json/schema"
    strict_valid(document)


# -- schemas ---------------------------------------------------------------------------------------


def test_all_of_is_merged_and_one_of_keeps_the_widest_safe_type(tmp_path: Path) -> None:
    schema = {
        "allOf": [
            {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
            {
                "type": "object",
                "properties": {"amount": {"oneOf": [{"type": "integer"}, {"type": "number"}]}},
            },
        ],
        "properties": {
            "ref": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "maybe": {"type": "string", "nullable": True},
            "kind": {"type": ["string", "null"], "enum": ["a", "b", None]},
        },
    }
    document, _ = imported(described(tmp_path, api({"/things": post(schema)})))
    found = inputs(document)
    assert {name: p["type"] for name, p in found.items()} == {
        "ref": "string",
        "maybe": "string",
        "kind": "string",
        "id": "integer",
        "amount": "number",
    }
    assert found["id"]["required"] is True
    assert "One of: string | integer." in found["ref"]["description"]
    assert "One of: integer | number." in found["amount"]["description"]
    assert found["maybe"]["description"].endswith("May be null.")
    assert 'Allowed values: "a", "b". May be null.' in found["kind"]["description"]
    strict_valid(document)


def test_inputs_spell_out_enums_formats_defaults_examples_and_nested_shapes(tmp_path: Path) -> None:
    parameters = [
        {
            "name": "sort",
            "in": "query",
            "description": "<p>Sort <b>order</b>.</p>",
            "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
        },
        {
            "name": "since",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "example": "2024-01-01T00:00:00Z",
        },
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    ]
    body = {
        "type": "object",
        "properties": {
            "address": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            },
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    document, _ = imported(described(tmp_path, api({"/things": post(body, parameters=parameters)})))
    found = inputs(document)
    assert found["sort"]["description"] == 'Sort order. Allowed values: "asc", "desc". Default: "asc".'
    assert found["since"]["description"] == 'Format: date-time. Example: "2024-01-01T00:00:00Z".'
    assert found["limit"]["description"] == "Minimum 1; maximum 100."
    assert found["address"]["description"] == "Object with fields city (string, required), zip (string)."
    assert found["tags"]["description"] == "Array of string."
    assert found["address"]["type"] == "object" and found["tags"]["type"] == "array"


def test_a_body_that_is_not_an_object_is_one_body_input(tmp_path: Path) -> None:
    document, _ = imported(
        described(tmp_path, api({"/things": post({"type": "array", "items": {"type": "integer"}})}))
    )
    assert inputs(document) == {
        "body": {"name": "body", "type": "array", "description": "Array of integer.", "required": False}
    }
    assert operation(document, "create-thing")["body"] == {"type": "json", "data": "{{body}}"}


# -- names -----------------------------------------------------------------------------------------


def test_names_from_operation_ids_or_method_and_path_unique_and_at_most_64_characters(tmp_path: Path) -> None:
    long_id = "get" + "VeryLongOperationIdentifier" * 4
    paths = {
        "/users/{userId}/repos": {
            "get": {
                "operationId": "listUserRepos",
                "parameters": [
                    {"name": "userId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            },
            "post": {},
        },
        "/a": {"get": {"operationId": long_id}},
        "/b": {"get": {"operationId": long_id}},
        "/c": {"get": {"operationId": "list_user_repos"}},
    }
    document, _ = imported(described(tmp_path, api(paths)))
    names = [t["name"] for t in document["capability"]["exposes"][1]["tools"]]
    assert names[:2] == ["list-user-repos", "post-users-user-id-repos"]
    assert len(set(names)) == len(names) == 5
    assert all(len(n) <= 64 for n in names)
    assert names[4] == "list-user-repos-2"
    strict_valid(document)


def test_wire_names_the_spec_cannot_hold_are_renamed_for_callers_and_kept_upstream(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    body = {
        "type": "object",
        "properties": {
            "@type": {"type": "string"},
            "first name": {"type": "string"},
            "id": {"type": "integer"},
        },
    }
    paths = {
        "/items/{item.id}": post(
            body,
            parameters=[{"name": "item.id", "in": "path", "required": True, "schema": {"type": "string"}}],
        )
    }
    document, warnings = imported(described(tmp_path, api(paths)))
    assert warnings == []
    assert list(inputs(document)) == ["item_id", "type", "first_name", "id"]
    strict_valid(document)
    with served(document, tmp_path, base_uri=upstream.url) as urls:
        result = call_tool(
            urls["mcp"], "create-thing", {"item_id": "a/b", "type": "T", "first_name": "Ann", "id": 3}
        )
    assert not result.get("isError"), result
    assert upstream.last.raw_path == "/items/a%2Fb"
    assert upstream.last.json == {"@type": "T", "first name": "Ann", "id": 3}


# -- security --------------------------------------------------------------------------------------

SCHEMES = {
    "header": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "query": {"type": "apiKey", "in": "query", "name": "api_key"},
    "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "basic": {"type": "http", "scheme": "basic"},
    "machine": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {"read": "Read"}}
        },
    },
}


@pytest.mark.parametrize(
    ("scheme", "authentication", "variables"),
    [
        (
            "header",
            {"type": "apikey", "key": "X-Api-Key", "value": "{{TEST_API_KEY}}", "placement": "header"},
            ["TEST_API_KEY"],
        ),
        (
            "query",
            {"type": "apikey", "key": "api_key", "value": "{{TEST_API_KEY}}", "placement": "query"},
            ["TEST_API_KEY"],
        ),
        ("bearer", {"type": "bearer", "token": "{{TEST_TOKEN}}"}, ["TEST_TOKEN"]),
        (
            "basic",
            {"type": "basic", "username": "{{TEST_USERNAME}}", "password": "{{TEST_PASSWORD}}"},
            ["TEST_USERNAME", "TEST_PASSWORD"],
        ),
        ("machine", {"type": "bearer", "token": "{{TEST_ACCESS_TOKEN}}"}, ["TEST_ACCESS_TOKEN"]),
    ],
)
def test_security_schemes_become_authentication_with_secrets_from_the_environment(
    tmp_path: Path, scheme: str, authentication: dict[str, str], variables: list[str]
) -> None:
    description = api(
        {"/x": {"get": {"operationId": "getX"}}},
        security=[{scheme: []}],
        components={"securitySchemes": {scheme: SCHEMES[scheme]}},
    )
    document, warnings = imported(described(tmp_path, description))
    assert document["capability"]["consumes"][0]["authentication"] == authentication
    assert document["binds"] == [
        {
            "namespace": "test-env",
            "description": "Credentials for Test API, read from the environment.",
            "keys": {v: v for v in variables},
        }
    ]
    if scheme == "machine":
        [advice] = warnings
        assert advice.pointer == "#/components/securitySchemes/machine"
        assert (
            "TEST_ACCESS_TOKEN" in advice.message
            and "clientCredentials at https://auth.example.com/token (scopes: read)" in advice.message
        )
    else:
        assert warnings == []
    strict_valid(document)


def test_operations_with_other_schemes_send_them_as_parameters_on_the_wire(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    paths = {
        "/a": {"get": {"operationId": "a", "security": [{"header": []}]}},
        "/b": {"get": {"operationId": "b", "security": [{"header": []}]}},
        "/c": {"get": {"operationId": "c", "security": [{"query": [], "cookie": []}]}},
        "/d": {"get": {"operationId": "d", "security": [{"bearer": []}]}},
    }
    document, warnings = imported(described(tmp_path, api(paths, components={"securitySchemes": SCHEMES})))
    assert warnings == []
    assert document["capability"]["consumes"][0]["authentication"]["key"] == "X-Api-Key"
    environment = {
        "TEST_HEADER_API_KEY": "h-key",
        "TEST_QUERY_API_KEY": "q key",
        "TEST_COOKIE_API_KEY": "c;key",
        "TEST_TOKEN": "tok",
    }
    assert sorted(document["binds"][0]["keys"]) == sorted(environment)
    strict_valid(document)
    with served(document, tmp_path, base_uri=upstream.url, env=environment) as urls:
        for name in ("a", "c", "d"):
            assert not call_tool(urls["mcp"], name, {}).get("isError")
    first, third, fourth = upstream.requests
    assert first.headers["x-api-key"] == "h-key"
    assert third.query_items == (("api_key", "q key"),) and third.headers["cookie"] == "session=c%3Bkey"
    assert fourth.headers["authorization"] == "Bearer tok"


def test_fern_header_extension_names_the_variable_and_its_prefix(tmp_path: Path) -> None:
    scheme = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "x-fern-header": {"env": "ACME_KEY", "prefix": "Token "},
    }
    description = api(
        {"/x": {"get": {"operationId": "x"}}},
        security=[{"key": []}],
        components={"securitySchemes": {"key": scheme}},
    )
    document, _ = imported(described(tmp_path, description))
    assert document["capability"]["consumes"][0]["authentication"]["value"] == "Token {{ACME_KEY}}"
    assert document["binds"][0]["keys"] == {"ACME_KEY": "ACME_KEY"}


# -- what cannot be carried ------------------------------------------------------------------------


def test_what_cannot_be_carried_is_one_located_warning_each(tmp_path: Path) -> None:
    paths = {
        "/projects": {
            "post": {
                "operationId": "createProject",
                "requestBody": {"content": {"application/xml": {"schema": {"type": "object"}}}},
                "callbacks": {"onDone": {"{$request.body#/url}": {"post": {"responses": {}}}}},
                "responses": {},
            },
            "head": {"responses": {}},
        },
        "/upload": {
            "put": {
                "operationId": "upload",
                "requestBody": {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
            }
        },
    }
    description = api(
        paths,
        webhooks={"newPet": {"post": {"responses": {}}}},
        openapi="3.1.0",
        components={"securitySchemes": {"tls": {"type": "mutualTLS"}}},
        security=[{"tls": []}],
    )
    document, warnings = imported(described(tmp_path, description))
    by_rule = {w.rule: w.pointer for w in warnings}
    assert by_rule == {
        "security-unsupported": "#/components/securitySchemes/tls",
        "method": "#/paths/~1projects/head",
        "callback": "#/paths/~1projects/post/callbacks/onDone",
        "xml-body": "#/paths/~1projects/post/requestBody",
        "binary-body": "#/paths/~1upload/put/requestBody",
        "webhook": "#/webhooks/newPet",
    }
    assert "body" not in operation(document, "create-project")
    assert "body" not in operation(document, "upload")
    strict_valid(document)


def test_an_xml_body_with_fields_is_built_as_escaped_elements(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
    }
    paths = {
        "/ships": {
            "post": {
                "operationId": "addShip",
                "requestBody": {"content": {"application/xml": {"schema": schema}}},
            }
        }
    }
    document, warnings = imported(described(tmp_path, api(paths)))
    assert [w.rule for w in warnings] == ["xml-body"]
    assert operation(document, "add-ship")["body"] == {
        "type": "xml",
        "data": "<request><name>{{name}}</name><size>{{size}}</size></request>",
    }
    strict_valid(document)


def test_strict_makes_every_warning_an_error(tmp_path: Path) -> None:
    description = api({"/x": {"get": {"operationId": "x", "callbacks": {"c": {}}}}})
    with pytest.raises(ImportFailed, match=r"1 construct not imported \(--strict\)") as failure:
        imported(described(tmp_path, description), strict=True)
    assert [d.rule for d in failure.value.diagnostics] == ["callback"]


def test_warnings_name_the_line_in_a_yaml_description(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        yaml.safe_dump(api({"/x": {"get": {"operationId": "x", "callbacks": {"c": {}}}}}), sort_keys=False),
        encoding="utf-8",
    )
    [warning] = imported(path)[1]
    line = path.read_text().splitlines()[warning.line - 1]
    assert line.strip() == "c: {}"
    assert warning.format().startswith(f"{path}:{warning.line}:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "no `openapi` or `swagger` key"),
        ("openapi: 4.0.0\npaths: {}", "version '4.0.0'"),
        ("paths: [\n", "YAML syntax error"),
        ("- a list", "the document is not a mapping"),
    ],
)
def test_what_is_not_an_openapi_description_is_refused_with_why(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        imported(path)


def test_a_missing_file_and_an_unreachable_url_say_so(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no such file"):
        imported(tmp_path / "nope.json")
    with pytest.raises(ImportFailed, match="cannot be fetched"):
        imported("http://127.0.0.1:9/openapi.json")


# -- servers, Swagger 2.0, selection, adapters -----------------------------------------------------


def test_server_variables_take_their_defaults_and_base_uri_overrides(tmp_path: Path) -> None:
    servers = [
        {
            "url": "https://{region}.example.com:{port}/{base}",
            "variables": {
                "region": {"default": "eu"},
                "port": {"enum": ["8443", "443"]},
                "base": {"default": "v2"},
            },
        }
    ]
    source = described(tmp_path, api({"/x": {"get": {}}}, servers=servers))
    assert imported(source)[0]["capability"]["consumes"][0]["baseUri"] == "https://eu.example.com:8443/v2"
    assert (
        imported(source, base_uri="http://localhost:1234")[0]["capability"]["consumes"][0]["baseUri"]
        == "http://localhost:1234"
    )


def test_without_a_server_the_base_uri_is_localhost_and_says_how_to_set_it(tmp_path: Path) -> None:
    description = api({"/x": {"get": {}}})
    del description["servers"]
    document, [warning] = imported(described(tmp_path, description))
    assert document["capability"]["consumes"][0]["baseUri"] == "http://localhost"
    assert warning.pointer == "#/servers" and "--base-uri" in warning.message


def test_swagger_2_form_bodies_and_hosts(tmp_path: Path, upstream: RecordingUpstream) -> None:
    description = {
        "swagger": "2.0",
        "info": {"title": "Forms", "version": "1"},
        "host": "forms.example.com",
        "basePath": "/api",
        "schemes": ["http", "https"],
        "paths": {
            "/login": {
                "post": {
                    "operationId": "login",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "user", "in": "formData", "type": "string", "required": True},
                        {"name": "remember", "in": "formData", "type": "boolean"},
                    ],
                }
            }
        },
    }
    document, warnings = imported(described(tmp_path, description))
    assert warnings == []
    assert document["capability"]["consumes"][0]["baseUri"] == "https://forms.example.com/api"
    assert operation(document, "login")["body"] == {
        "type": "formUrlEncoded",
        "data": {"user": "{{user}}", "remember": "{{remember}}"},
    }
    with served(document, tmp_path, base_uri=upstream.url) as urls:
        assert not call_tool(urls["mcp"], "login", {"user": "a&b=c", "remember": True}).get("isError")
    assert upstream.last.form() == {"user": ["a&b=c"], "remember": ["true"]}


def test_selection_by_tags_operations_and_methods(tmp_path: Path) -> None:
    paths = {
        "/pets": {
            "get": {"operationId": "listPets", "tags": ["pets"]},
            "post": {"operationId": "addPet", "tags": ["pets"]},
        },
        "/store": {"get": {"operationId": "inventory", "tags": ["store"]}},
        "/admin": {"delete": {"operationId": "purge", "tags": ["admin", "pets"]}},
    }
    source = described(tmp_path, api(paths))

    def tools(**options: Any) -> list[str]:
        document, _ = imported(source, **options)
        return [t["name"] for t in document["capability"]["exposes"][-1]["tools"]]

    assert tools(include_tags="pets") == ["list-pets", "add-pet", "purge"]
    assert tools(include_tags=["pets"], exclude_tags=["admin"]) == ["list-pets", "add-pet"]
    assert tools(methods="GET") == ["list-pets", "inventory"]
    assert tools(operations="addPet,inventory") == ["add-pet", "inventory"]
    with pytest.raises(
        ImportFailed, match=r"no operation 'nope' \(operations: addPet, inventory, listPets, purge\)"
    ):
        tools(operations="nope")
    with pytest.raises(
        ImportFailed,
        match=r"4 operations selected, more than --max-tools 3; narrow with --include-tags "
        r"\(tags: pets \(3\), store \(1\), admin \(1\)\)",
    ):
        tools(max_tools=3)


def test_more_than_forty_tools_is_a_warning_that_says_how_to_narrow(tmp_path: Path) -> None:
    paths = {f"/r{i}": {"get": {"operationId": f"r{i}", "tags": ["a" if i % 2 else "b"]}} for i in range(41)}
    _, [warning] = imported(described(tmp_path, api(paths)))
    assert warning.rule == "many-tools"
    assert warning.message.startswith(
        "41 tools: agents choose worse among more than 40; narrow with --include-tags (tags: b (21), a (20))"
    )


def test_hints_from_the_method_and_descriptions_from_summary_and_description(tmp_path: Path) -> None:
    paths = {
        "/x/{id}": {
            method: {
                "operationId": f"{method}X",
                "summary": f"{method} it",
                "description": "<p>More <i>words</i>.</p>",
            }
            for method in ("get", "put", "post", "patch", "delete")
        }
    }
    paths["/x/{id}"]["parameters"] = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    document, _ = imported(described(tmp_path, api(paths)))
    hints = {t["name"]: t["hints"] for t in document["capability"]["exposes"][1]["tools"]}
    assert hints["get-x"] == {"readOnly": True, "destructive": False, "idempotent": True}
    assert hints["put-x"] == {"readOnly": False, "destructive": False, "idempotent": True}
    assert hints["delete-x"] == {"readOnly": False, "destructive": True, "idempotent": True}
    assert (
        hints["post-x"] == hints["patch-x"] == {"readOnly": False, "destructive": False, "idempotent": False}
    )
    assert tool(document, "get-x")["description"] == "get it.\n\nMore words."


def test_expose_and_ports_choose_the_adapters(tmp_path: Path) -> None:
    source = described(tmp_path, api({"/x": {"get": {}}}))
    document, _ = imported(source, expose="mcp", mcp_port=3010)
    [only] = document["capability"]["exposes"]
    assert (only["type"], only["port"]) == ("mcp", 3010)
    with pytest.raises(ImportFailed, match="rest-port and mcp-port are both 8080"):
        imported(source, mcp_port=8080)
    with pytest.raises(ImportFailed, match="unknown import option"):
        imported(source, colour="blue")


def test_shape_maps_the_documented_answer_fields(tmp_path: Path, upstream: RecordingUpstream) -> None:
    run = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "owner": {"type": "object", "properties": {"login": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    answer = {
        "200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"type": "array", "items": run}}},
        }
    }
    document, _ = imported(
        described(tmp_path, api({"/runs": {"get": {"operationId": "listRuns", "responses": answer}}})),
        shape=True,
    )
    assert tool(document, "list-runs")["outputParameters"] == [
        {
            "type": "array",
            "mapping": "$",
            "items": {
                "type": "object",
                "mapping": "$",
                "properties": {
                    "id": {"type": "number", "mapping": "$.id"},
                    "status": {"type": "string", "mapping": "$.status"},
                    "owner": {
                        "type": "object",
                        "properties": {"login": {"type": "string", "mapping": "$.owner.login"}},
                    },
                    "tags": {
                        "type": "array",
                        "mapping": "$.tags",
                        "items": {"type": "string", "mapping": "$"},
                    },
                },
            },
        }
    ]
    strict_valid(document)
    upstream.route(
        "GET",
        "/runs",
        json=[{"id": 1, "status": "done", "secret": "x", "owner": {"login": "ann"}, "tags": ["a"]}],
    )
    with served(document, tmp_path, base_uri=upstream.url) as urls:
        result = call_tool(urls["mcp"], "list-runs", {})
    assert json.loads(result["content"][0]["text"]) == [
        {"id": 1, "status": "done", "owner": {"login": "ann"}, "tags": ["a"]}
    ]
