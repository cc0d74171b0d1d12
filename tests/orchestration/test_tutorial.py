"""The tutorial's capabilities (steps 1, 5, 7, 9, 11) against the Shipyard stand-ins, in both specs
(Naftiko 1.0.0-alpha2 and its Ikanos 1.0.0-beta5 twin).

The documents are read as published, from ``shared/conformance/.../tutorial``: imports and the
``shared/secrets.yaml`` bind resolve next to them; only the consumed base URIs are pointed at the
stand-ins. Units are invoked directly, so the MCP ``authentication`` plays no part.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from naftiko_runtime.engine.contract import Hints
from naftiko_runtime.runtime import AmbiguousTarget, Runtime, RuntimeOptions
from naftiko_runtime.spec.loader import load

from .conftest import TUTORIAL

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not TUTORIAL.is_dir(), reason="the tutorial files are not next to this checkout"),
]

CREW = [{"fullName": "Erik Lindström", "role": "captain"}, {"fullName": "Aiko Tanaka", "role": "cook"}]
SHIP_WITH_CREW = {
    "imo": "IMO-9321483",
    "name": "Northern Star",
    "type": "cargo",
    "flag": "NO",
    "status": "active",
    "yearBuilt": 2015,
    "tonnage": 42000,
    "length": 229,
    "crew": CREW,
}
VOYAGE = {
    "shipImo": "IMO-9321483",
    "departurePort": "Oslo",
    "arrivalPort": "Singapore",
    "departureDate": "2026-04-10",
    "arrivalDate": "2026-05-02",
    "crewIds": ["CREW-001", "CREW-003"],
    "cargoIds": ["CARGO-2024-0451"],
}


# The framework publishes the tutorial in both specs; each test runs on both, with the same answers.
BETA5_TUTORIAL = TUTORIAL.parents[4] / "ikanos-1.0.0-beta5/modules/ikanos-docs/tutorial"


@pytest.fixture(params=[TUTORIAL, BETA5_TUTORIAL], ids=["alpha2", "beta5"])
def tutorial(request: pytest.FixtureRequest, yard) -> Callable[[str], AsyncIterator[Runtime]]:
    folder = request.param

    @asynccontextmanager
    async def open_step(file: str) -> AsyncIterator[Runtime]:
        async with Runtime.build(
            load(folder / file), RuntimeOptions(base_uris=yard.base_uris, environ={})
        ) as rt:
            yield rt

    return open_step


def _tool(runtime: Runtime, name: str):
    return next(t for t in runtime.mcp[0].tools if t.name == name)


async def test_step_1_mock_serves_without_consumes(tutorial, yard):
    async with tutorial("step-1-shipyard-mock.yml") as runtime:
        [tool] = runtime.mcp[0].tools
        assert (tool.name, tool.description) == ("get-ship", "Retrieve a ship's details by IMO number")
        assert runtime.calls == {}
        result = await tool.invoke({"imo_number": "IMO-9321483"})
    assert result.value == {
        "imo": "IMO-9321483",
        "name": "Northern Star",
        "type": "cargo",
        "flag": "NO",
        "status": "active",
    }
    assert len(yard.registry) == 0


async def test_step_5_two_sources_one_of_them_xml(tutorial, yard):
    async with tutorial("step-5-shipyard-multi-source.yml") as runtime:
        assert [t.name for t in runtime.mcp[0].tools] == ["list-ships", "get-ship", "list-legacy-vessels"]
        ships = (await runtime.invoke("list-ships", {})).value
        active = (await runtime.invoke("list-ships", {"status": "active"})).value
        ship = (await runtime.invoke("get-ship", {"imo": "IMO-9321483"})).value
        legacy = (await runtime.invoke("list-legacy-vessels", {})).value
        laid_up = (await runtime.invoke("list-legacy-vessels", {"status": "laid_up"})).value
    assert [s["imo"] for s in ships] == ["IMO-9321483", "IMO-9456781"]
    assert set(ships[0]) == {"imo", "name", "type", "flag", "status"}
    assert [s["status"] for s in active] == ["active"]
    assert ship["specs"] == {"yearBuilt": 2015, "tonnage": 42000, "length": 229}
    assert legacy == [
        {
            "vesselCode": "LEGACY-4012",
            "name": "Old Faithful",
            "type": "cargo",
            "flag": "GB",
            "status": "active",
        },
        {
            "vesselCode": "LEGACY-2087",
            "name": "Iron Maiden",
            "type": "bulk_carrier",
            "flag": "PA",
            "status": "laid_up",
        },
    ]
    assert laid_up == [legacy[1]]  # one <vessel> is still an array
    registry, dockyard = yard.registry.requests, yard.dockyard.requests
    assert [r.target for r in registry] == ["/ships", "/ships?status=active", "/ships/IMO-9321483"]
    assert all(r.headers["authorization"] == "Bearer dummy-token" for r in registry)
    assert all(r.headers["registry-version"] == "1.0.0-alpha2" for r in registry)
    assert [r.target for r in dockyard] == ["/vessels", "/vessels?status=laid_up"]
    assert all(r.headers["x-dock-key"] == "dummy-dockyard-key" for r in dockyard)


async def test_step_7_orchestrated_lookup(tutorial, yard):
    async with tutorial("step-7-shipyard-orchestrated-lookup.yml") as runtime:
        tool = _tool(runtime, "get-ship-with-crew")
        assert tool.input_schema["required"] == ["imo"]
        result = await tool.invoke({"imo": "IMO-9321483"})
    assert result.value == SHIP_WITH_CREW
    assert sorted(yard.registry.paths) == ["GET /crew", "GET /ships/IMO-9321483"]


async def test_step_9_aggregate_ref_with_derived_hints(tutorial, yard):
    async with tutorial("step-9-shipyard-aggregates.yml") as runtime:
        tool = _tool(runtime, "get-ship-with-crew")
        assert tool.description == "Get ship details with resolved crew names"  # its own wins
        assert tool.hints == Hints(read_only=True, destructive=False, idempotent=True)
        assert [i.name for i in tool.inputs] == ["imo"]
        create = _tool(runtime, "create-voyage")
        assert create.hints == Hints(read_only=False, destructive=False, idempotent=False, open_world=True)
        assert (await tool.invoke({"imo": "IMO-9321483"})).value == SHIP_WITH_CREW
        function = runtime.functions["crew-resolver.resolve-crew-for-ship"]
        assert (await function.invoke({"imo": "IMO-9321483"})).value == SHIP_WITH_CREW


async def test_step_11_voyage_manifest_over_mcp_and_rest(tutorial, yard):
    async with tutorial("step-11-shipyard-fleet-manifest.yml") as runtime:
        assert [t.name for t in runtime.mcp[0].tools][-2:] == ["get-ship-with-crew", "get-voyage-manifest"]
        with pytest.raises(
            AmbiguousTarget, match=re.escape("MCP tool shipyard-tools.get-voyage-manifest, REST operation")
        ):
            runtime.find("get-voyage-manifest")  # a tool and a REST operation of that name
        manifest = (
            await runtime.invoke("shipyard-tools.get-voyage-manifest", {"voyageId": "VOY-2026-042"})
        ).value
        requested = sorted(yard.registry.paths)
        yard.clear()
        flat = (await runtime.invoke("shipyard-api.get-voyage-manifest", {"voyageId": "VOY-2026-042"})).value
        created = await runtime.invoke("shipyard-api.create-voyage", VOYAGE)
    assert manifest == {
        "voyageId": "VOY-2026-042",
        "status": "planned",
        "route": {"from": "Oslo", "to": "Singapore"},
        "ship": {"name": "Northern Star", "type": "cargo", "flag": "NO"},
        "crew": CREW,
        "cargo": [
            {"type": "container", "description": "Electronics components", "weight": 12.5, "hazardous": False}
        ],
    }
    assert requested == ["GET /cargo", "GET /crew", "GET /ships", "GET /voyages/VOY-2026-042"]
    assert flat["shipName"] == "Northern Star" and flat["departurePort"] == "Oslo" and flat["crew"] == CREW
    assert created.status == 201
    assert created.value["voyageId"] == "VOY-2026-042"
    assert created.value["route"] == {"from": "Oslo", "to": "Singapore"}
    assert yard.registry.last.json["crewIds"] == ["CREW-001", "CREW-003"]
