"""Aggregate functions and ``ref``: field-level merge, semantics → hints, load-time refusals."""

from __future__ import annotations

import textwrap

import pytest

from naftiko_runtime.engine.contract import Hints
from naftiko_runtime.errors import SpecError
from naftiko_runtime.spec.loader import load

from .capabilities import capability

pytestmark = pytest.mark.anyio

CREW_FUNCTION = """
    - label: Crew Resolver
      namespace: crew-resolver
      functions:
        - name: resolve-crew-for-ship
          description: Resolve crew member names and roles for a given ship
          semantics: {semantics}
          inputParameters:
            - {{name: imo, type: string, required: true, description: IMO number}}
          steps:
            - {{type: call, name: get-ship, call: registry.get-ship, with: {{imo_number: crew-resolver.imo}}}}
            - {{type: call, name: list-crew, call: registry.list-crew}}
            - {{type: lookup, name: resolve-crew, index: list-crew, match: crewId,
               lookupValue: "$.get-ship.assignedCrew", outputParameters: [fullName, role]}}
          mappings:
            - {{targetName: name, value: "$.get-ship.vessel_name"}}
            - {{targetName: crew, value: "$.resolve-crew"}}
          outputParameters:
            - {{name: name, type: string}}
            - name: crew
              type: array
              items:
                - {{name: fullName, type: string}}
"""


def aggregates(semantics: str = "{safe: true, idempotent: true, cacheable: true}") -> str:
    return CREW_FUNCTION.format(semantics=semantics)


TOOLS = """
    - type: mcp
      namespace: tools
      tools:
        - ref: crew-resolver.resolve-crew-for-ship
        - ref: crew-resolver.resolve-crew-for-ship
          name: crew-of
          description: My own description
          hints: {readOnly: false, openWorld: true}
        - ref: crew-resolver.resolve-crew-for-ship
          name: names-only
          outputParameters:
            - {name: name, type: string}
        - name: plain
          description: no ref
          hints: {destructive: true}
          call: registry.list-crew
    - type: rest
      namespace: api-rest
      resources:
        - path: "/ships/{{imo}}/crew"
          name: crew
          operations:
            - ref: crew-resolver.resolve-crew-for-ship
              method: GET
              inputParameters:
                - {name: imo, in: path, type: string}
"""

# `crew` declares one scalar items entry: an array of names (each crew object's `fullName`).
EXPECTED = {
    "name": "Northern Star",
    "crew": ["Erik Lindström", "Aiko Tanaka"],
}


async def test_mcp_tools_inherit_what_they_do_not_set(build):
    async with build(capability(TOOLS, aggregates=aggregates())) as runtime:
        inherited, own, names_only, plain = runtime.mcp[0].tools
        assert inherited.name == "resolve-crew-for-ship"
        assert inherited.description == "Resolve crew member names and roles for a given ship"
        assert [i.name for i in inherited.inputs] == ["imo"] and inherited.input_schema["required"] == ["imo"]
        assert own.name == "crew-of" and own.description == "My own description"
        assert (await inherited.invoke({"imo": "IMO-9321483"})).value == EXPECTED
        assert (await own.invoke({"imo": "IMO-9321483"})).value == EXPECTED
        assert (await names_only.invoke({"imo": "IMO-9321483"})).value == {"name": "Northern Star"}
        assert plain.hints == Hints(destructive=True)


async def test_rest_operations_use_their_own_inputs_and_the_functions_steps(build, yard):
    async with build(capability(TOOLS, aggregates=aggregates())) as runtime:
        route = runtime.rest[0].routes[0]
        assert route.unit.name == "resolve-crew-for-ship"
        assert [(i.name, i.location) for i in route.inputs] == [("imo", "path")]
        assert [(i.name, i.in_path) for i in route.unit.inputs] == [("imo", True)]
        result = await route.unit.invoke({"imo": "IMO-9456781"})
    assert result.value["name"] == "Pacific Dawn"
    assert sorted(yard.registry.paths) == ["GET /crew", "GET /ships/IMO-9456781"]  # concurrent GETs


async def test_the_function_itself_is_a_unit(build):
    async with build(capability(TOOLS, aggregates=aggregates())) as runtime:
        function = runtime.functions["crew-resolver.resolve-crew-for-ship"]
        assert (await function.invoke({"imo": "IMO-9321483"})).value == EXPECTED


@pytest.mark.parametrize(
    ("semantics", "explicit", "expected"),
    [
        (
            "{safe: true, idempotent: true, cacheable: true}",
            None,
            Hints(read_only=True, destructive=False, idempotent=True),
        ),
        ("{safe: true}", None, Hints(read_only=True, destructive=False)),
        ("{safe: false}", None, Hints(read_only=False)),
        ("{idempotent: true}", None, Hints(read_only=False, idempotent=True)),  # safe absent = false
        ("{cacheable: true}", None, Hints(read_only=False)),  # cacheable is not mapped
        (
            "{safe: true, idempotent: true}",
            "{readOnly: false}",
            Hints(read_only=False, destructive=False, idempotent=True),
        ),
        ("{safe: true}", "{openWorld: true}", Hints(read_only=True, destructive=False, open_world=True)),
        (
            "{safe: false}",
            "{destructive: true, idempotent: false}",
            Hints(read_only=False, destructive=True, idempotent=False),
        ),
    ],
)
async def test_semantics_become_hints_and_explicit_hints_win_field_by_field(
    build, semantics, explicit, expected
):
    hints = f"\n          hints: {explicit}" if explicit else ""
    exposes = f"""
    - type: mcp
      namespace: tools
      tools:
        - ref: crew-resolver.resolve-crew-for-ship{hints}
"""
    async with build(capability(exposes, aggregates=aggregates(semantics))) as runtime:
        assert runtime.mcp[0].tools[0].hints == expected


def _problems(tmp_path, text: str) -> SpecError:
    path = tmp_path / "bad.yml"
    path.write_text(textwrap.dedent(text))
    (tmp_path / "secrets.yaml").write_text("registry-bearer-token: x\n")
    with pytest.raises(SpecError) as caught:
        load(path)
    return caught.value


def test_an_unknown_ref_is_refused_at_load_with_its_place(tmp_path):
    exposes = """
    - type: mcp
      namespace: tools
      tools:
        - ref: crew-resolver.no-such-function
"""
    error = _problems(tmp_path, capability(exposes, aggregates=aggregates()))
    [problem] = [p for p in error.errors if p.rule == "unknown-ref"]
    assert problem.path.endswith("tools[0].ref") or "ref" in problem.path
    assert problem.file.endswith("bad.yml") and problem.line > 0
    assert "crew-resolver.resolve-crew-for-ship" in problem.message  # what is available
    assert f"bad.yml:{problem.line}:" in str(error)


def test_a_chained_ref_is_refused_at_load(tmp_path):
    chained = (
        aggregates()
        + """
        - name: again
          description: a function that refs another
          ref: crew-resolver.resolve-crew-for-ship
"""
    )
    exposes = """
    - type: mcp
      namespace: tools
      tools:
        - ref: crew-resolver.again
"""
    error = _problems(tmp_path, capability(exposes, aggregates=chained))
    [problem] = [p for p in error.errors if p.rule == "chained-ref"]
    assert problem.line > 0 and "chained ref" in problem.message


async def test_a_mock_function_serves_rest_and_mcp_alike(build, yard):
    """The reference engine's AggregateSharedMockIntegrationTest: one mock, two adapters."""
    aggregates_block = """
    - label: Greetings
      namespace: greet
      functions:
        - name: hello
          description: Say hello
          semantics: {safe: true}
          inputParameters:
            - {name: name, type: string, required: true}
          outputParameters:
            - {name: message, type: string, value: "Hello, {{name}}!"}
            - {name: source, type: string, value: aggregate-mock}
"""
    exposes = """
    - type: mcp
      namespace: tools
      tools:
        - ref: greet.hello
    - type: rest
      namespace: api-rest
      resources:
        - path: /hello
          name: hello
          operations:
            - ref: greet.hello
              method: GET
              inputParameters:
                - {name: name, in: query, type: string}
"""
    async with build(capability(exposes, aggregates=aggregates_block)) as runtime:
        by_mcp = await runtime.mcp[0].tools[0].invoke({"name": "Nina"})
        by_rest = await runtime.rest[0].routes[0].unit.invoke({"name": "Nina"})
    assert by_mcp.value == by_rest.value == {"message": "Hello, Nina!", "source": "aggregate-mock"}
    assert by_rest.status == 200
    assert len(yard.registry) == 0


async def test_a_rest_operation_without_its_own_inputs_takes_the_functions(build, yard):
    exposes = """
    - type: rest
      namespace: api-rest
      resources:
        - path: "/crew-of/{{imo}}"
          name: crew
          operations:
            - ref: crew-resolver.resolve-crew-for-ship
              method: GET
"""
    async with build(capability(exposes, aggregates=aggregates())) as runtime:
        route = runtime.rest[0].routes[0]
        unit = route.unit
        assert [(i.name, i.location) for i in route.inputs] == [("imo", "path")]
        assert unit.description == "Resolve crew member names and roles for a given ship"
        assert (await unit.invoke({"imo": "IMO-9321483"})).value == EXPECTED
