"""``mappings`` into the unit's outputs: JSONPath forms, nested targets, orchestrated output shapes."""

from __future__ import annotations

import textwrap

import pytest

from .capabilities import capability

pytestmark = pytest.mark.anyio

SHIP_STEP = """
          steps:
            - {type: call, name: get-ship, call: registry.get-ship, with: {imo_number: IMO-9321483}}
            - {type: call, name: crew, call: registry.list-crew}
            - {type: lookup, name: resolve-crew, index: crew, match: crewId,
               lookupValue: "$.get-ship.assignedCrew", outputParameters: [fullName, role]}
"""


def rest(mappings: str, outputs: str = "", steps: str = SHIP_STEP) -> str:
    def block(text: str, width: int) -> str:
        return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * width)

    output_block = f"              outputParameters:\n{block(outputs, 16)}" if outputs else ""
    return f"""
    - type: rest
      namespace: api-rest
      resources:
        - path: /ship
          name: ship
          operations:
            - name: get
              method: GET
{block(steps, 14)}
              mappings:
{block(mappings, 16)}
{output_block}
"""


async def test_plain_and_wrapped_jsonpath_values(build):
    mappings = """
            - {targetName: name, value: "$.get-ship.vessel_name"}
            - {targetName: length, value: "{{$.get-ship.dimensions.length_overall}}"}
            - {targetName: firstCrew, value: "$.get-ship.assignedCrew[0]"}
            - {targetName: roles, value: "$.resolve-crew[*].role"}
"""
    async with build(capability(rest(mappings))) as runtime:
        result = await runtime.invoke("api-rest.get", {})
    assert result.value == {
        "name": "Northern Star",
        "length": 229,
        "firstCrew": "CREW-001",
        "roles": ["captain", "cook"],
    }


async def test_dotted_targets_nest(build):
    mappings = """
            - {targetName: ship.name, value: "$.get-ship.vessel_name"}
            - {targetName: ship.specs.tonnage, value: "$.get-ship.gross_tonnage"}
            - {targetName: ship.flag, value: "$.get-ship.flag_code"}
"""
    async with build(capability(rest(mappings))) as runtime:
        result = await runtime.invoke("api-rest.get", {})
    assert result.value == {"ship": {"name": "Northern Star", "specs": {"tonnage": 42000}, "flag": "NO"}}


async def test_orchestrated_output_parameters_shape_the_mapped_object(build):
    """Named outputs select and convert; ``items`` given as a list of named fields (the tutorial's
    form) keeps just those fields of each element; an unmapped output is null; a mapping target
    that is not an output is dropped."""
    mappings = """
            - {targetName: name, value: "$.get-ship.vessel_name"}
            - {targetName: built, value: "$.get-ship.year_built"}
            - {targetName: crew, value: "$.crew"}
            - {targetName: route.from, value: "$.get-ship.flag_code"}
            - {targetName: ignored, value: "$.get-ship.imo_number"}
"""
    outputs = """
            - {name: name, type: string}
            - {name: built, type: string}
            - name: crew
              type: array
              items:
                - {name: fullName, type: string}
                - {name: role, type: string}
            - name: route
              type: object
              properties:
                from: {type: string}
            - {name: missing, type: number}
"""
    async with build(capability(rest(mappings, outputs))) as runtime:
        unit = runtime.find("api-rest.get")
        result = await unit.invoke({})
    assert result.value == {
        "name": "Northern Star",
        "built": "2015",
        "crew": [
            {"fullName": "Erik Lindström", "role": "captain"},
            {"fullName": "Maria Santos", "role": "first_officer"},
            {"fullName": "Aiko Tanaka", "role": "cook"},
            {"fullName": "Hans Mueller", "role": "engineer"},
        ],
        "route": {"from": "NO"},
        "missing": None,
    }
    assert unit.output_schema["type"] == "object"
    assert set(unit.output_schema["properties"]) == {"name", "built", "crew", "route", "missing"}


async def test_a_single_named_output_is_still_an_object(build):
    outputs = "            - {name: db_name, type: string}"
    async with build(
        capability(rest('            - {targetName: db_name, value: "$.get-ship.vessel_name"}', outputs))
    ) as runtime:
        result = await runtime.invoke("api-rest.get", {})
    assert result.value == {"db_name": "Northern Star"}


async def test_spec_form_reads_the_called_operations_output(build):
    """§3.14.4: ``value: "{{$.shipName}}"``, ``$`` being the consumed operation's named outputs.
    The reference engine only reads ``$.<step>.<field>`` [BUG]; we read both."""
    steps = """
          steps:
            - {type: call, name: fetch, call: registry.get-ship-summary, with: {imo_number: IMO-9456781}}
"""
    mappings = """
            - {targetName: ship_name, value: "{{$.shipName}}"}
            - {targetName: ids, value: "$.crewIds"}
            - {targetName: same, value: "$.fetch.shipName"}
"""
    async with build(capability(rest(mappings, steps=steps))) as runtime:
        result = await runtime.invoke("api-rest.get", {})
    assert result.value == {
        "ship_name": "Pacific Dawn",
        "ids": ["CREW-002", "CREW-004"],
        "same": "Pacific Dawn",
    }


async def test_mappings_read_inputs_and_templates(build):
    steps = """
          inputParameters:
            - {name: note, in: query, type: string}
          steps:
            - {type: call, name: get-ship, call: registry.get-ship, with: {imo_number: IMO-9321483}}
"""
    mappings = """
            - {targetName: note, value: "$.note"}
            - {targetName: label, value: "{{get-ship.vessel_name}} ({{get-ship.flag_code}})"}
"""
    async with build(capability(rest(mappings, steps=steps))) as runtime:
        result = await runtime.invoke("api-rest.get", {"note": "hi"})
    assert result.value == {"note": "hi", "label": "Northern Star (NO)"}


async def test_orchestrated_resources_and_prompt_messages(build):
    """The same core serves MCP resources and prompt messages in orchestrated mode."""
    exposes = """
    - type: mcp
      namespace: tools
      resources:
        - name: ship
          uri: "data://ships/{imo}"
          steps:
            - {type: call, name: get-ship, call: registry.get-ship, with: {imo_number: "{{imo}}"}}
          mappings:
            - {targetName: name, value: "$.get-ship.vessel_name"}
      prompts:
        - name: brief
          template:
            - role: user
              steps:
                - {type: call, name: crew, call: registry.list-crew}
              mappings:
                - {targetName: count, value: "$.crew.length()"}
"""
    async with build(capability(exposes)) as runtime:
        resource = runtime.mcp[0].dynamic_resources[0].unit
        assert (await resource.invoke({"imo": "IMO-9456781"})).value == {"name": "Pacific Dawn"}
        message = runtime.mcp[0].prompts[0].messages[0][1]
        assert (await message.invoke({})).value == {"count": 4}
