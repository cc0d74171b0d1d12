"""Catalogue §10a: the Naftiko tutorial, steps 1–11, over MCP, REST and Skill, through ``naftiko serve``.

Every step's YAML is served as published (``shared/conformance/.../tutorial``): imports and the
``shared/secrets.yaml`` bind resolve next to the file, and the MCP adapters keep their bearer
``authentication`` — clients send ``mcp-server-token`` from that file, as a user of the tutorial
would. Only the consumed ``baseUri`` values are pointed (``--base-uri``) at the Shipyard stand-ins
(``tests/support/shipyard.py``: the Maritime Registry in JSON and the Legacy Dockyard in XML,
with the data of the mock OpenAPI specs), which record every request they receive.

The Java harness (``AbstractShipyardMcpClientIntegrationTest``) strips the MCP authentication and
its registry mock ignores credentials; here both are exercised: a request without the token is
refused, and the stand-ins must receive the credentials the binds supply (the Java engine never
injects binds — a [BUG] in the notes, §2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.shipyard import DOCKYARD_API_KEY, REGISTRY_TOKEN, Shipyard, shipyard

from .framework import (
    HANDSHAKE_VERSION,
    Rpc,
    ServeGroup,
    body,
    mcp_client,
    requires_framework,
    scenario,
    secret,
    tool_json,
    tools_by_name,
    tutorial,
    unit,
)

pytestmark = [requires_framework, pytest.mark.anyio]

MCP_NS = "shipyard-tools"
SKILL_NS = "shipyard-skills"
REST_NS = "shipyard-api"
IMO = "IMO-9321483"
SHIP_FIELDS = {"imo", "name", "type", "flag", "status"}
VOYAGE = {
    "shipImo": IMO,
    "departurePort": "Oslo",
    "arrivalPort": "Singapore",
    "departureDate": "2026-04-10",
    "arrivalDate": "2026-05-02",
    "crewIds": ["CREW-001", "CREW-003"],
    "cargoIds": ["CARGO-2024-0451"],
}
CREW = [{"fullName": "Erik Lindström", "role": "captain"}, {"fullName": "Aiko Tanaka", "role": "cook"}]
STEPS = {
    1: "step-1-shipyard-mock.yml",
    2: "step-2-shipyard-wiring.yml",
    3: "step-3-shipyard-auth.yml",
    4: "step-4-shipyard-output-shaping.yml",
    5: "step-5-shipyard-multi-source.yml",
    6: "step-6-shipyard-write-operations.yml",
    7: "step-7-shipyard-orchestrated-lookup.yml",
    8: "step-8-shipyard-skill-groups.yml",
    9: "step-9-shipyard-aggregates.yml",
    10: "step-10-shipyard-rest-adapter.yml",
    11: "step-11-shipyard-fleet-manifest.yml",
}


# -- servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yard() -> Iterator[Shipyard]:
    with shipyard() as stand_ins:
        yield stand_ins


@pytest.fixture(scope="module")
def steps(yard: Shipyard, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeGroup]:
    """Every step's capability under ``naftiko serve``, started together."""
    group = ServeGroup(Path(tmp_path_factory.mktemp("tutorial")))
    for number, name in STEPS.items():
        group.add(f"step{number}", tutorial(name), base_uris=yard.base_uris)
    group.start()
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture
def stand_ins(yard: Shipyard) -> Shipyard:
    yard.clear()
    return yard


def token() -> str:
    return secret("mcp-server-token")


# -- shared checks ---------------------------------------------------------------------------------


def check_ship_summary(ship: dict[str, Any]) -> None:
    assert set(ship) >= SHIP_FIELDS, ship
    assert ship["imo"] and ship["name"], ship


async def check_list_and_get(client: Any, yard: Shipyard) -> None:
    """Step 2's expectations, repeated by steps 3–11: the list/get tools and what the registry saw."""
    with unit("tools/list: list-ships, get-ship schemas"):
        tools = tools_by_name(await client.list_tools())
        listed = tools["list-ships"]["inputSchema"]
        assert listed["properties"]["status"]["type"] == "string"
        assert "status" not in listed.get("required", [])
        got = tools["get-ship"]["inputSchema"]
        assert got["properties"]["imo"]["type"] == "string"
        assert got["required"] == ["imo"]
    with unit("list-ships {} ⇒ array of ship summaries"):
        yard.clear()
        ships = tool_json(await client.call_tool("list-ships", {}))
        assert isinstance(ships, list) and ships
        for ship in ships:
            check_ship_summary(ship)
        assert yard.registry.last.target == "/ships"
    with unit("list-ships {status: active} ⇒ only active ships (?status= sent)"):
        active = tool_json(await client.call_tool("list-ships", {"status": "active"}))
        assert active and all(ship["status"] == "active" for ship in active)
        assert yard.registry.last.query == {"status": ["active"]}
    with unit("get-ship {imo} ⇒ the ship"):
        ship = tool_json(await client.call_tool("get-ship", {"imo": IMO}))
        assert isinstance(ship, dict) and ship["imo"] == IMO
        check_ship_summary(ship)
        assert yard.registry.last.path == f"/ships/{IMO}"


def check_registry_credentials(yard: Shipyard) -> None:
    with unit("registry received the bound bearer token and Registry-Version"):
        seen = yard.registry.requests
        assert seen
        assert all(r.headers.get("authorization") == f"Bearer {REGISTRY_TOKEN}" for r in seen)
        assert all(r.headers.get("registry-version") == "1.0.0-alpha2" for r in seen)


def check_auth_enforced(url: str) -> None:
    with unit("MCP authentication: no token ⇒ 401, the secrets.yaml token ⇒ 200"):
        with Rpc(url) as rpc:
            assert rpc.initialize().status_code == 401
        with Rpc(url, {"authorization": "Bearer wrong"}) as rpc:
            assert rpc.initialize().status_code == 401
        with Rpc(url, {"authorization": f"Bearer {token()}"}) as rpc:
            assert rpc.initialize().status_code == 200


def check_tool_names(tools: dict[str, Any], expected: list[str]) -> None:
    assert list(tools) == expected, list(tools)


def check_create_voyage_schema(tools: dict[str, Any]) -> None:
    schema = tools["create-voyage"]["inputSchema"]
    required = {"shipImo", "departurePort", "arrivalPort", "departureDate", "arrivalDate", "crewIds"}
    assert set(schema["required"]) == required, schema
    assert schema["properties"]["crewIds"]["type"] == "array"
    assert schema["properties"]["cargoIds"]["type"] == "array"
    assert "cargoIds" not in schema["required"]


def check_voyage(voyage: dict[str, Any]) -> None:
    assert voyage["voyageId"], voyage
    assert voyage["shipImo"] == IMO
    assert voyage["route"] == {"from": "Oslo", "to": "Singapore"}
    assert voyage["dates"]["departure"] and voyage["dates"]["arrival"]
    assert isinstance(voyage["crewIds"], list) and voyage["crewIds"]
    assert isinstance(voyage["cargoIds"], list)
    assert voyage["status"]


def check_voyage_request(yard: Shipyard) -> None:
    seen = yard.registry.requests_for("POST", "/voyages")[-1]
    assert seen.is_json, seen.body
    assert seen.json["crewIds"] == VOYAGE["crewIds"]
    assert seen.json["cargoIds"] == VOYAGE["cargoIds"]
    assert seen.json["shipImo"] == IMO


def check_ship_with_crew(ship: dict[str, Any]) -> None:
    assert isinstance(ship, dict), ship
    assert ship["imo"] == IMO and ship["name"] and ship["status"]
    assert ship["crew"] == CREW


def check_skill_catalog(base: str) -> None:
    """Step 8's skill expectations, repeated by steps 10 and 11."""
    with unit("skill: GET /skills ⇒ fleet-ops and voyage-ops"):
        listing = httpx.get(f"{base}/skills").json()
        assert listing["count"] == 2
        assert [s["name"] for s in listing["skills"]] == ["fleet-ops", "voyage-ops"]
    with unit("skill: GET /skills/fleet-ops ⇒ 4 derived tools invoking shipyard-tools over MCP"):
        detail = httpx.get(f"{base}/skills/fleet-ops").json()
        assert len(detail["tools"]) == 4
        for tool in detail["tools"]:
            assert tool["type"] == "derived", tool
            ref = tool["invocationRef"]
            assert ref["targetNamespace"] == MCP_NS and ref["mode"] == "mcp" and ref["action"], ref


# -- 10a rows --------------------------------------------------------------------------------------


@scenario("10a", "Step1 mock (MCP)", java="T:tutorial/Step1ShipyardMcpClientIntegrationTest")
async def test_step_1_mock(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 1: a tool with static/templated output values and no consumes, served in mock mode.

    Spec-permitted difference: the Java server issues an ``Mcp-Session-Id``; this runtime is
    stateless and issues none (a session id is optional in Streamable HTTP), so the test asserts
    that the handshake and later calls work without one.
    """
    url = steps["step1"].url(MCP_NS)
    with unit("initialize ⇒ protocolVersion 2025-11-25, serverInfo.name shipyard-tools"), Rpc(url) as rpc:
        answer = rpc.initialize()
        assert answer.status_code == 200
        result = body(answer)["result"]
        assert result["protocolVersion"] == HANDSHAKE_VERSION
        assert result["serverInfo"]["name"] == MCP_NS
    async with mcp_client(url) as client:
        with unit("tools/list ⇒ get-ship only"):
            tools = tools_by_name(await client.list_tools())
            check_tool_names(tools, ["get-ship"])
            assert tools["get-ship"]["description"] == "Retrieve a ship's details by IMO number"
        with unit("get-ship ⇒ the mock ship, imo from the argument"):
            ship = tool_json(await client.call_tool("get-ship", {"imo_number": IMO}))
            assert ship == {
                "imo": IMO,
                "name": "Northern Star",
                "type": "cargo",
                "flag": "NO",
                "status": "active",
            }
    with unit("no upstream request in mock mode"):
        assert len(stand_ins.registry) == 0 and len(stand_ins.dockyard) == 0


@scenario("10a", "Step2 wiring (MCP)", java="T:tutorial/Step2ShipyardMcpClientIntegrationTest")
async def test_step_2_wiring(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 2: two tools wired to the registry with ``call`` + ``with``; ``?status=`` filters."""
    async with mcp_client(steps["step2"].url(MCP_NS)) as client:
        with unit("tools = [list-ships, get-ship] in order"):
            check_tool_names(tools_by_name(await client.list_tools()), ["list-ships", "get-ship"])
        await check_list_and_get(client, stand_ins)


@scenario("10a", "Step3 auth (MCP)", java="T:tutorial/Step3ShipyardMcpClientIntegrationTest")
async def test_step_3_auth(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 3: consumer bearer token and ``Registry-Version`` header from file binds; MCP bearer auth.

    [BUG] in Java: binds are never injected, so the registry receives ``Bearer `` / a literal
    ``{{REGISTRY_VERSION}}``. Asserted instead (spec): the registry receives ``Bearer dummy-token``
    and ``Registry-Version: 1.0.0-alpha2`` from ``shared/secrets.yaml``, and the MCP adapter
    accepts only the bound ``mcp-server-token``.
    """
    url = steps["step3"].url(MCP_NS)
    check_auth_enforced(url)
    async with mcp_client(url, token=token()) as client:
        with unit("tools = [list-ships, get-ship] in order"):
            check_tool_names(tools_by_name(await client.list_tools()), ["list-ships", "get-ship"])
        await check_list_and_get(client, stand_ins)
    check_registry_credentials(stand_ins)


@scenario("10a", "Step4 output shaping (MCP)", java="T:tutorial/Step4ShipyardMcpClientIntegrationTest")
async def test_step_4_output_shaping(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 4: nested ``specs`` object built from ``$.year_built``, ``$.gross_tonnage`` and
    ``$.dimensions.length_overall``, numbers kept numeric."""
    async with mcp_client(steps["step4"].url(MCP_NS), token=token()) as client:
        await check_list_and_get(client, stand_ins)
        with unit("get-ship ⇒ specs {yearBuilt, tonnage, length} numeric"):
            ship = tool_json(await client.call_tool("get-ship", {"imo": IMO}))
            assert all(ship[key] for key in ("name", "type", "flag", "status"))
            assert ship["specs"] == {"yearBuilt": 2015, "tonnage": 42000, "length": 229}
    check_registry_credentials(stand_ins)


@scenario("10a", "Step5 multi-source (MCP)", java="T:tutorial/Step5ShipyardMcpClientIntegrationTest")
async def test_step_5_multi_source(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 5: imported consumes (registry JSON, legacy dockyard XML with an API key header).

    [BUG] in Java: the ``{{DOCKYARD_API_KEY}}`` bind is never injected. Asserted instead: the
    dockyard receives ``X-Dock-Key: dummy-dockyard-key``.
    """
    async with mcp_client(steps["step5"].url(MCP_NS), token=token()) as client:
        with unit("tools = [list-ships, get-ship, list-legacy-vessels]; status optional"):
            tools = tools_by_name(await client.list_tools())
            check_tool_names(tools, ["list-ships", "get-ship", "list-legacy-vessels"])
            assert "status" not in tools["list-legacy-vessels"]["inputSchema"].get("required", [])
        await check_list_and_get(client, stand_ins)
        with unit("list-legacy-vessels ⇒ XML <vessel> rows shaped"):
            vessels = tool_json(await client.call_tool("list-legacy-vessels", {}))
            assert isinstance(vessels, list) and vessels
            for vessel in vessels:
                assert {"vesselCode", "name", "type", "flag", "status"} <= set(vessel), vessel
            assert vessels[0] == {
                "vesselCode": "LEGACY-4012",
                "name": "Old Faithful",
                "type": "cargo",
                "flag": "GB",
                "status": "active",
            }
        with unit("dockyard received the bound API key"):
            assert stand_ins.dockyard.last.headers.get("x-dock-key") == DOCKYARD_API_KEY
    check_registry_credentials(stand_ins)


@scenario(
    "10a",
    "Step6 write operations (MCP)",
    java="T:tutorial/Step6ShipyardMcpClientIntegrationTest",
)
async def test_step_6_write_operations(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 6: ``create-voyage`` POSTs a block-scalar JSON body with ``{{crewIds}}`` rendered as a
    JSON array; the answer is reshaped into route/dates objects."""
    async with mcp_client(steps["step6"].url(MCP_NS), token=token()) as client:
        with unit("tools: 4, create-voyage schema"):
            tools = tools_by_name(await client.list_tools())
            check_tool_names(tools, ["list-ships", "get-ship", "list-legacy-vessels", "create-voyage"])
            check_create_voyage_schema(tools)
        with unit("create-voyage ⇒ voyage shape; registry got a JSON body with arrays"):
            check_voyage(tool_json(await client.call_tool("create-voyage", VOYAGE)))
            check_voyage_request(stand_ins)


@scenario(
    "10a",
    "Step7 orchestrated lookup (MCP)",
    java="T:tutorial/Step7ShipyardMcpClientIntegrationTest",
)
async def test_step_7_orchestrated_lookup(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 7: steps get-ship → list-crew → lookup crewId, mapped into one object with ``crew``."""
    async with mcp_client(steps["step7"].url(MCP_NS), token=token()) as client:
        with unit("tools: 5, get-ship-with-crew requires imo"):
            tools = tools_by_name(await client.list_tools())
            assert len(tools) == 5 and list(tools)[-1] == "get-ship-with-crew", list(tools)
            assert tools["get-ship-with-crew"]["inputSchema"]["required"] == ["imo"]
        with unit("get-ship-with-crew ⇒ ship with crew names and roles"):
            stand_ins.clear()
            check_ship_with_crew(tool_json(await client.call_tool("get-ship-with-crew", {"imo": IMO})))
            assert sorted(stand_ins.registry.paths) == ["GET /crew", f"GET /ships/{IMO}"]


@scenario(
    "10a",
    "Step8 skill groups (MCP + Skill)",
    java="T:tutorial/Step8ShipyardMcpClientIntegrationTest",
)
async def test_step_8_skill_groups(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 8: the MCP tools as in step 7 (create-voyage schema and call) and a skill catalog whose
    derived tools point at the MCP adapter."""
    server = steps["step8"]
    async with mcp_client(server.url(MCP_NS), token=token()) as client:
        with unit("tools: 5, create-voyage schema"):
            tools = tools_by_name(await client.list_tools())
            assert len(tools) == 5, list(tools)
            check_create_voyage_schema(tools)
        with unit("create-voyage ⇒ voyage shape"):
            check_voyage(tool_json(await client.call_tool("create-voyage", VOYAGE)))
            check_voyage_request(stand_ins)
    check_skill_catalog(server.base(SKILL_NS))


@scenario("10a", "Step9 aggregates (MCP)", java="(no Java test; tutorial step 9, notes §7 aggregates)")
async def test_step_9_aggregates(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 9 has no Java test; asserted from the spec: ``get-ship-with-crew`` is a ``ref`` to the
    ``crew-resolver.resolve-crew-for-ship`` aggregate function, its MCP hints are derived from the
    function's semantics (safe ⇒ readOnly true / destructive false, idempotent ⇒ idempotent true)
    and calling it runs the function's steps."""
    async with mcp_client(steps["step9"].url(MCP_NS), token=token()) as client:
        tools = tools_by_name(await client.list_tools())
        with unit("get-ship-with-crew: hints derived from the function's semantics"):
            annotations = tools["get-ship-with-crew"]["annotations"]
            assert annotations["readOnlyHint"] is True
            assert annotations["destructiveHint"] is False
            assert annotations["idempotentHint"] is True
            assert tools["get-ship-with-crew"]["inputSchema"]["required"] == ["imo"]
        with unit("create-voyage keeps its explicit hints"):
            annotations = tools["create-voyage"]["annotations"]
            assert annotations["readOnlyHint"] is False and annotations["openWorldHint"] is True
        with unit("get-ship-with-crew ⇒ the aggregate's mapped result"):
            check_ship_with_crew(tool_json(await client.call_tool("get-ship-with-crew", {"imo": IMO})))


@scenario(
    "10a", "Step10 REST adapter (REST + Skill)", java="T:tutorial/Step10ShipyardRestAdapterIntegrationTest"
)
async def test_step_10_rest_adapter(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 10: the REST adapter next to MCP and skill; ``POST /voyages`` passes the upstream 201."""
    server = steps["step10"]
    rest = server.base(REST_NS)
    with unit("REST GET /ships ⇒ 200 array of ship summaries"):
        answer = httpx.get(f"{rest}/ships")
        assert answer.status_code == 200, answer.text
        ships = answer.json()
        assert isinstance(ships, list) and ships
        for ship in ships:
            check_ship_summary(ship)
    with unit("REST POST /voyages ⇒ 201 (upstream status) and the voyage shape"):
        answer = httpx.post(f"{rest}/voyages", json=VOYAGE)
        assert answer.status_code == 201, answer.text
        check_voyage(answer.json())
        check_voyage_request(stand_ins)
    check_skill_catalog(server.base(SKILL_NS))
    async with mcp_client(server.url(MCP_NS), token=token()) as client:
        await check_list_and_get(client, stand_ins)


@scenario(
    "10a",
    "Step11 fleet manifest (MCP + Skill + REST)",
    java="T:tutorial/Step11ShipyardFleetManifestIntegrationTest",
)
async def test_step_11_fleet_manifest(steps: ServeGroup, stand_ins: Shipyard) -> None:
    """Step 11: six MCP tools ending with ``get-voyage-manifest``; the voyage-ops skill lists it.

    The Java test does not call the manifest; it is called here too (MCP and REST), which exercises
    the consumed ``outputParameters`` projection (``imo-number`` added to each ship, notes §4c) and
    lookups over arrays.
    """
    server = steps["step11"]
    async with mcp_client(server.url(MCP_NS), token=token()) as client:
        tools = tools_by_name(await client.list_tools())
        with unit("tools: 6 in order, manifest last"):
            check_tool_names(
                tools,
                [
                    "list-ships",
                    "get-ship",
                    "list-legacy-vessels",
                    "create-voyage",
                    "get-ship-with-crew",
                    "get-voyage-manifest",
                ],
            )
        with unit("get-ship-with-crew imo / get-voyage-manifest voyageId: string, required"):
            for tool, name in (("get-ship-with-crew", "imo"), ("get-voyage-manifest", "voyageId")):
                schema = tools[tool]["inputSchema"]
                assert schema["properties"][name]["type"] == "string"
                assert schema["required"] == [name]
        with unit("get-voyage-manifest (MCP) ⇒ voyage, ship, crew and cargo resolved"):
            manifest = tool_json(await client.call_tool("get-voyage-manifest", {"voyageId": "VOY-2026-042"}))
            assert manifest["voyageId"] == "VOY-2026-042" and manifest["status"] == "planned"
            assert manifest["route"] == {"from": "Oslo", "to": "Singapore"}
            assert manifest["ship"] == {"name": "Northern Star", "type": "cargo", "flag": "NO"}
            assert manifest["crew"] == CREW
            assert [c["description"] for c in manifest["cargo"]] == ["Electronics components"]
    with unit("skill: GET /skills/voyage-ops ⇒ create-voyage and get-voyage-manifest"):
        detail = httpx.get(f"{server.base(SKILL_NS)}/skills/voyage-ops").json()
        assert [t["name"] for t in detail["tools"]] == ["create-voyage", "get-voyage-manifest"]
    with unit("REST GET /voyages/{voyageId}/manifest ⇒ the flat manifest"):
        answer = httpx.get(f"{server.base(REST_NS)}/voyages/VOY-2026-042/manifest")
        assert answer.status_code == 200, answer.text
        flat = answer.json()
        assert flat["shipName"] == "Northern Star" and flat["crew"] == CREW
