"""GET /skills and GET /skills/{name}: the conformance fixture, every optional field, derived tools
that do and do not resolve, and the tutorial's skill groups (steps 8, 10 and 11)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import (
    CAPABILITIES,
    TUTORIAL,
    SkillServer,
    make_skill_dir,
    needs_tutorial,
    place_capability,
    serve_skill,
)


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SkillServer]:
    """SkillIntegrationTest's capability, its skill directory next to it."""
    directory = tmp_path_factory.mktemp("orders")
    make_skill_dir(directory / "order-management")
    with serve_skill(place_capability(CAPABILITIES / "skill-capability.yaml", directory)) as server:
        yield server


@pytest.fixture(scope="module")
def catalog() -> Iterator[SkillServer]:
    with serve_skill(CAPABILITIES / "catalog.yaml") as server:
        yield server


def get(server: SkillServer, path: str) -> httpx.Response:
    with server.client() as client:
        return client.get(path)


def assert_problem(answer: httpx.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# -- the conformance fixture (SkillIntegrationTest) -----------------------------------------------


def test_catalog_lists_both_skills_in_document_order(orders: SkillServer) -> None:
    answer = get(orders, "/skills")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "count": 2,
        "skills": [
            {
                "name": "order-management",
                "description": "Tools for managing orders",
                "tools": ["list-orders", "order-guide"],
            },
            {
                "name": "onboarding-guide",
                "description": "A purely descriptive skill with no tools",
                "tools": [],
            },
        ],
    }


def test_detail_has_frontmatter_derived_and_instruction_tools(orders: SkillServer) -> None:
    body = get(orders, "/skills/order-management").json()
    assert body["name"] == "order-management"
    assert body["description"] == "Tools for managing orders"
    assert body["allowed-tools"] == "list-orders"
    assert body["argument-hint"] == "Use for order operations"
    for absent in ("license", "compatibility", "user-invocable", "disable-model-invocation", "metadata"):
        assert absent not in body
    derived, instruction = body["tools"]
    assert derived == {
        "name": "list-orders",
        "description": "List all orders in the system",
        "type": "derived",
        "invocationRef": {
            "targetNamespace": "orders-rest",
            "action": "list-orders",
            "mode": "rest",
            "method": "GET",
            "path": "/orders",
        },
        "resolved": True,
        "inputSchema": {"type": "object", "properties": {}},
    }
    assert instruction == {
        "name": "order-guide",
        "description": "Guide for working with orders",
        "type": "instruction",
        "instruction": "order-guide.md",
    }
    # The directory holds a SKILL.md: the detail points at it, and it is served.
    assert body["instructions"] == "SKILL.md"
    skill_md = get(orders, "/skills/order-management/contents/SKILL.md")
    assert skill_md.status_code == 200
    assert skill_md.text.startswith("---\nname: order-management\n")


def test_instruction_file_is_served(orders: SkillServer) -> None:
    tool = get(orders, "/skills/order-management").json()["tools"][1]
    answer = get(orders, f"/skills/order-management/contents/{tool['instruction']}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.text.startswith("# Working with orders")


def test_descriptive_skill_has_no_tools_no_location(orders: SkillServer) -> None:
    body = get(orders, "/skills/onboarding-guide").json()
    assert body == {
        "name": "onboarding-guide",
        "description": "A purely descriptive skill with no tools",
        "tools": [],
    }
    for path in ("contents", "contents/SKILL.md", "download"):
        problem = assert_problem(get(orders, f"/skills/onboarding-guide/{path}"), 404)
        assert problem["detail"] == "skill 'onboarding-guide' declares no location"


@pytest.mark.parametrize("path", ["", "/contents", "/contents/order-guide.md", "/download"])
def test_unknown_skill_is_404_problem(orders: SkillServer, path: str) -> None:
    problem = assert_problem(get(orders, f"/skills/no-such-skill{path}"), 404)
    assert problem["type"] == "urn:naftiko:problem:unknown-skill"
    assert problem["detail"] == "no skill named 'no-such-skill'"


def test_unknown_routes_and_methods_are_problems(orders: SkillServer) -> None:
    assert_problem(get(orders, "/"), 404)
    assert_problem(get(orders, "/skills/order-management/other"), 404)
    with orders.client() as client:
        for method in ("POST", "PUT", "DELETE"):
            answer = client.request(method, "/skills/order-management")
            assert_problem(answer, 405)
            assert answer.headers["allow"] == "GET, HEAD"
        head = client.head("/skills")
        assert head.status_code == 200 and head.content == b""


# -- every optional field, and targets that do not resolve -------------------------------------------


def test_every_optional_field_with_the_spec_spellings(catalog: SkillServer) -> None:
    listing = get(catalog, "/skills").json()
    assert listing["skills"][0] == {
        "name": "full",
        "description": "Every optional field",
        "license": "Apache-2.0",
        "tools": ["get-ship", "read-ship"],
    }
    body = get(catalog, "/skills/full").json()
    assert {k: v for k, v in body.items() if k != "tools"} == {
        "name": "full",
        "description": "Every optional field",
        "label": "Full skill",
        "license": "Apache-2.0",
        "compatibility": "Needs network access to the registry",
        "argument-hint": "[imo]",
        "allowed-tools": "get-ship read-ship",
        "user-invocable": False,
        "disable-model-invocation": True,
        "metadata": {"author": "naftiko", "category": "maritime"},
    }


def test_derived_tools_carry_the_target_units_input_schema(catalog: SkillServer) -> None:
    mcp_tool, rest_tool = get(catalog, "/skills/full").json()["tools"]
    assert mcp_tool["invocationRef"] == {"targetNamespace": "ship-tools", "action": "get-ship", "mode": "mcp"}
    assert mcp_tool["resolved"] is True
    assert mcp_tool["inputSchema"] == {
        "type": "object",
        "properties": {
            "imo": {"type": "string", "description": "IMO number"},
            "verbose": {"type": "boolean"},
        },
        "required": ["imo"],
    }
    assert rest_tool["invocationRef"] == {
        "targetNamespace": "ship-api",
        "action": "read-ship",
        "mode": "rest",
        "method": "GET",
        "path": "/ships/{imo}",
    }
    assert rest_tool["inputSchema"]["required"] == ["imo"]
    # No description on the skill tool: the target unit's own is used.
    assert rest_tool["description"] == "Read one ship"


def test_unresolved_tools_stay_in_the_catalog(catalog: SkillServer) -> None:
    assert get(catalog, "/skills").json()["skills"][1]["tools"] == [
        "elsewhere",
        "missing-action",
        "ping",
        "nowhere",
    ]
    elsewhere, missing, ping, nowhere = get(catalog, "/skills/loose-ends").json()["tools"]
    assert elsewhere["type"] == "derived" and elsewhere["resolved"] is False
    assert elsewhere["invocationRef"] == {
        "targetNamespace": "other-tools",
        "action": "get-ship",
        "mode": "unknown",
    }
    assert "inputSchema" not in elsewhere
    assert missing["resolved"] is False
    assert missing["invocationRef"]["mode"] == "mcp"  # the adapter exists; its unit does not
    # The specification's older form (name alone) resolves among this capability's MCP tools.
    assert ping["resolved"] is True
    assert ping["invocationRef"] == {"targetNamespace": "ship-tools", "action": "ping", "mode": "mcp"}
    assert nowhere["resolved"] is False and nowhere["invocationRef"]["targetNamespace"] is None


def test_summary_counts_unresolved_tools(catalog: SkillServer) -> None:
    from naftiko_runtime.exposes.skill import build_catalog

    runtime = catalog.runtime
    assert build_catalog(runtime.skills[0], runtime.base_dir).summary() == "2 skills, 6 tools, 3 unresolved"


# -- the tutorial (steps 8, 10, 11), loaded in place: its skills declare no location ---------------


@pytest.fixture(scope="module", params=["step-8", "step-10", "step-11"])
def tutorial(request: pytest.FixtureRequest) -> Iterator[tuple[str, SkillServer]]:
    step = request.param
    path = next(TUTORIAL.glob(f"{step}-*.yml"))
    with serve_skill(path) as server:
        yield step, server


@needs_tutorial
def test_tutorial_catalog(tutorial: tuple[str, SkillServer]) -> None:
    _, server = tutorial
    listing = get(server, "/skills").json()
    assert listing["count"] == 2
    assert [s["name"] for s in listing["skills"]] == ["fleet-ops", "voyage-ops"]


@needs_tutorial
def test_tutorial_fleet_ops_tools_derive_from_mcp(tutorial: tuple[str, SkillServer]) -> None:
    _, server = tutorial
    tools = get(server, "/skills/fleet-ops").json()["tools"]
    assert [t["name"] for t in tools] == [
        "list-ships",
        "get-ship",
        "list-legacy-vessels",
        "get-ship-with-crew",
    ]
    for tool in tools:
        assert tool["type"] == "derived"
        assert tool["invocationRef"]["targetNamespace"] == "shipyard-tools"
        assert tool["invocationRef"]["mode"] == "mcp"
        assert tool["invocationRef"]["action"].strip()
        assert tool["resolved"] is True
        assert tool["inputSchema"]["type"] == "object"
    get_ship = tools[1]
    assert get_ship["inputSchema"]["required"] == ["imo"]


@needs_tutorial
def test_tutorial_voyage_ops(tutorial: tuple[str, SkillServer]) -> None:
    step, server = tutorial
    tools = get(server, "/skills/voyage-ops").json()["tools"]
    names = [t["name"] for t in tools]
    if step == "step-11":
        assert len(tools) == 2
        assert {"create-voyage", "get-voyage-manifest"} <= set(names)
        manifest = tools[names.index("get-voyage-manifest")]
        assert manifest["resolved"] is True
        assert manifest["inputSchema"]["required"] == ["voyageId"]
    else:
        assert names == ["create-voyage"]
    create = tools[names.index("create-voyage")]
    assert set(create["inputSchema"]["required"]) == {
        "shipImo",
        "departurePort",
        "arrivalPort",
        "departureDate",
        "arrivalDate",
        "crewIds",
    }


@needs_tutorial
def test_tutorial_skills_without_location_have_no_contents(tutorial: tuple[str, SkillServer]) -> None:
    _, server = tutorial
    assert "instructions" not in get(server, "/skills/fleet-ops").json()
    for path in ("contents", "download"):
        problem = assert_problem(get(server, f"/skills/fleet-ops/{path}"), 404)
        assert problem["detail"] == "skill 'fleet-ops' declares no location"
