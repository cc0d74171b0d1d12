"""Call and lookup steps over the Shipyard stand-ins: ``with`` forms, step outputs, scheduling,
one deadline, errors that name the step."""

from __future__ import annotations

import time

import pytest

from naftiko_runtime.errors import StepError, UnitDeadlineExceeded, UpstreamError, UpstreamTimeout

from .capabilities import capability

pytestmark = pytest.mark.anyio


def tool(steps: str, mappings: str = "", inputs: str = "", outputs: str = "", name: str = "t") -> str:
    return f"""
    - type: mcp
      namespace: tools
      tools:
        - name: {name}
          description: test tool
          inputParameters:
{inputs or "            - {name: imo, type: string, required: false}"}
          steps:
{steps}
{"          mappings:" + chr(10) + mappings if mappings else ""}
{"          outputParameters:" + chr(10) + outputs if outputs else ""}
"""


async def test_with_takes_inputs_earlier_outputs_and_static_values(build, yard):
    steps = """
            - {type: call, name: by-ref, call: registry.get-ship, with: {imo_number: tools.imo}}
            - {type: call, name: by-template, call: registry.get-ship, with: {imo_number: "{{imo}}"}}
            - {type: call, name: by-step, call: registry.get-ship,
               with: {imo_number: "{{by-ref.imo_number}}"}}
            - {type: call, name: by-path, call: registry.get-ship,
               with: {imo_number: "$.by-template.imo_number"}}
            - {type: call, name: static, call: registry.get-ship, with: {imo_number: IMO-9456781}}
"""
    mappings = """
            - {targetName: ref, value: "$.by-ref.vessel_name"}
            - {targetName: template, value: "$.by-template.vessel_name"}
            - {targetName: step, value: "$.by-step.vessel_name"}
            - {targetName: path, value: "$.by-path.vessel_name"}
            - {targetName: static, value: "$.static.vessel_name"}
"""
    async with build(capability(tool(steps, mappings))) as runtime:
        result = await runtime.invoke("t", {"imo": "IMO-9321483"})
    assert result.value == {
        "ref": "Northern Star",
        "template": "Northern Star",
        "step": "Northern Star",
        "path": "Northern Star",
        "static": "Pacific Dawn",
    }
    # Steps that run at once with the same request share one upstream call (single flight).
    assert set(yard.registry.paths) == {"GET /ships/IMO-9321483", "GET /ships/IMO-9456781"}
    assert all(r.headers["authorization"] == "Bearer dummy-token" for r in yard.registry.requests)


async def test_dependencies_are_read_from_with(build):
    steps = """
            - {type: call, name: a, call: registry.get-ship, with: {imo_number: tools.imo}}
            - {type: call, name: b, call: registry.list-crew}
            - {type: call, name: c, call: registry.get-ship, with: {imo_number: "{{a.imo_number}}"}}
            - {type: lookup, name: d, index: b, match: crewId, lookupValue: "$.a.assignedCrew",
               outputParameters: [fullName]}
            - {type: call, name: e, call: registry.create-voyage, with: {shipImo: "IMO-9321483",
               departurePort: X, arrivalPort: Y, crewIds: []}}
            - {type: call, name: f, call: registry.list-cargo}
"""
    async with build(capability(tool(steps))) as runtime:
        orchestration = runtime.find("t").executor
        assert orchestration.dependencies("a") == []
        assert orchestration.dependencies("b") == []
        assert orchestration.dependencies("c") == ["a"]
        assert orchestration.dependencies("d") == ["a", "b"]
        assert orchestration.dependencies("e") == ["a", "b", "c", "d"]  # POST: waits for everything
        assert orchestration.dependencies("f") == ["e"]  # and everything after waits for it


async def test_step_outputs_are_shaped_by_the_consumed_output_parameters(build):
    steps = """
            - {type: call, name: summary, call: registry.get-ship-summary, with: {imo_number: tools.imo}}
            - {type: call, name: crew, call: registry.list-crew}
            - {type: lookup, name: names, index: crew, match: crewId, lookupValue: "$.summary.crewIds",
               outputParameters: [fullName]}
"""
    mappings = """
            - {targetName: ship, value: "$.summary.shipName"}
            - {targetName: summary, value: "$.summary"}
            - {targetName: crew, value: "$.names"}
"""
    async with build(capability(tool(steps, mappings))) as runtime:
        result = await runtime.invoke("t", {"imo": "IMO-9321483"})
    assert result.value == {
        "ship": "Northern Star",
        "summary": {"shipName": "Northern Star", "crewIds": ["CREW-001", "CREW-003"]},
        "crew": [{"fullName": "Erik Lindström"}, {"fullName": "Aiko Tanaka"}],
    }


async def test_array_answers_keep_their_fields_and_gain_the_projected_ones(build):
    """The tutorial's step 11 looks ships up by ``imo-number``, a field only the projection adds."""
    steps = """
            - {type: call, name: ships, call: registry.list-ship-ids}
            - {type: lookup, name: ship, index: ships, match: imo-number, lookupValue: tools.imo,
               outputParameters: [vessel_name, imo-number]}
"""
    async with build(capability(tool(steps, "            - {targetName: ship, value: $.ship}"))) as runtime:
        result = await runtime.invoke("t", {"imo": "IMO-9456781"})
    assert result.value == {"ship": {"vessel_name": "Pacific Dawn", "imo-number": "IMO-9456781"}}


async def test_xml_steps_are_decoded_by_output_raw_format(build, yard):
    """The reference engine parses step answers as JSON only, so XML steps store nothing [BUG]; we decode."""
    steps = """
            - {type: call, name: vessels, call: legacy.list-vessels}
            - {type: lookup, name: found, index: vessels, match: vesselCode, lookupValue: "{{code}}",
               outputParameters: [vesselName, flagState]}
"""
    inputs = "            - {name: code, type: string}"
    async with build(
        capability(tool(steps, "            - {targetName: vessel, value: $.found}", inputs))
    ) as runtime:
        result = await runtime.invoke("t", {"code": "LEGACY-2087"})
    assert result.value == {"vessel": {"vesselName": "Iron Maiden", "flagState": "PA"}}
    assert yard.dockyard.paths == ["GET /vessels"]


async def test_lookup_results_feed_later_calls(build, yard):
    """Lookup results are visible to templates (the reference engine only exposes them to ``$.``)."""
    steps = """
            - {type: call, name: ships, call: registry.list-ships}
            - {type: lookup, name: pick, index: ships, match: vessel_name, lookupValue: "{{name}}",
               outputParameters: [imo_number]}
            - {type: call, name: ship, call: registry.get-ship, with: {imo_number: "{{pick.imo_number}}"}}
"""
    inputs = "            - {name: name, type: string}"
    mappings = "            - {targetName: tonnage, value: $.ship.gross_tonnage}"
    async with build(capability(tool(steps, mappings, inputs))) as runtime:
        result = await runtime.invoke("t", {"name": "Pacific Dawn"})
    assert result.value == {"tonnage": 55000}
    assert yard.registry.paths == ["GET /ships", "GET /ships/IMO-9456781"]


@pytest.mark.parametrize(
    ("lookup_value", "expected"),
    [
        (
            '"$.ship.assignedCrew"',
            [{"role": "captain", "crewId": "CREW-001"}, {"role": "cook", "crewId": "CREW-003"}],
        ),
        (
            "ship.assignedCrew",
            [{"role": "captain", "crewId": "CREW-001"}, {"role": "cook", "crewId": "CREW-003"}],
        ),
        (
            '"{{$.ship.assignedCrew}}"',
            [{"role": "captain", "crewId": "CREW-001"}, {"role": "cook", "crewId": "CREW-003"}],
        ),
        ("tools.crewId", {"role": "engineer", "crewId": "CREW-004"}),
        ('"{{crewId}}"', {"role": "engineer", "crewId": "CREW-004"}),
        ("CREW-002", {"role": "first_officer", "crewId": "CREW-002"}),
        ("NOBODY", None),
    ],
)
async def test_lookup_value_forms(build, lookup_value, expected):
    steps = f"""
            - {{type: call, name: ship, call: registry.get-ship, with: {{imo_number: IMO-9321483}}}}
            - {{type: call, name: crew, call: registry.list-crew}}
            - {{type: lookup, name: found, index: crew, match: crewId, lookupValue: {lookup_value},
               outputParameters: [role, crewId]}}
"""
    inputs = "            - {name: crewId, type: string, required: false}"
    async with build(
        capability(tool(steps, "            - {targetName: found, value: $.found}", inputs))
    ) as runtime:
        result = await runtime.invoke("t", {"crewId": "CREW-004"})
    assert result.value == {"found": expected}


async def test_a_list_lookup_skips_values_with_no_match(build):
    steps = """
            - {type: call, name: crew, call: registry.list-crew}
            - {type: lookup, name: found, index: crew, match: crewId, lookupValue: "{{ids}}",
               outputParameters: [fullName]}
"""
    inputs = "            - {name: ids, type: array}"
    async with build(
        capability(tool(steps, "            - {targetName: names, value: $.found}", inputs))
    ) as runtime:
        result = await runtime.invoke("t", {"ids": ["CREW-004", "CREW-999", "CREW-002"]})
    assert result.value == {"names": [{"fullName": "Hans Mueller"}, {"fullName": "Maria Santos"}]}


async def test_a_failing_step_is_named_with_its_status_and_what_it_was_given(build):
    steps = """
            - {type: call, name: crew, call: registry.list-crew}
            - type: call
              name: get-ship
              call: registry.get-ship
              with:
                imo_number: tools.imo
                Authorization: "Bearer {{REGISTRY_TOKEN}}"
"""
    async with build(capability(tool(steps))) as runtime:
        with pytest.raises(StepError) as caught:
            await runtime.invoke("t", {"imo": "IMO-0000000"})
    error = caught.value
    assert error.step == "get-ship"
    assert isinstance(error.cause, UpstreamError) and error.cause.status == 404
    assert error.given == {"imo_number": "IMO-0000000"}
    text = f"{error} {error.given!r}"
    assert "get-ship" in text and "404" in text and "IMO-0000000 not found" in text
    assert "dummy-token" not in text  # never a bind value


def _delayed(upstream, *, delay: float = 0.2) -> None:
    upstream.route("GET", "/a", json={"id": "A", "next": "c-1"}, delay=delay)
    upstream.route("GET", "/b", json={"id": "B"}, delay=delay)
    upstream.route("GET", "/c/{id}", json={"id": "C"}, delay=delay)
    upstream.route("POST", "/p", json={"id": "P"}, delay=delay)


API = """
    - namespace: api
      type: http
      baseUri: "https://api.invalid"
      resources:
        - name: r
          path: /
          operations:
            - {name: get-a, method: GET, path: a}
            - {name: get-b, method: GET, path: b}
            - {name: get-c, method: GET, path: "c/{{id}}"}
            - {name: post-p, method: POST, path: p}
"""


async def test_independent_safe_calls_run_concurrently(build, upstream):
    _delayed(upstream)
    steps = """
            - {type: call, name: a, call: api.get-a}
            - {type: call, name: b, call: api.get-b}
            - {type: call, name: c, call: api.get-c, with: {id: "{{a.next}}"}}
"""
    mappings = """
            - {targetName: ids, value: "$.c.id"}
            - {targetName: first, value: "$.a.id"}
"""
    async with build(
        capability(tool(steps, mappings), consumes=API), base_uris={"api": upstream.url}
    ) as runtime:
        started = time.monotonic()
        result = await runtime.invoke("t", {})
        elapsed = time.monotonic() - started
    assert result.value == {"ids": "C", "first": "A"}
    a, b, c = (upstream.requests_for(path=p)[0] for p in ("/a", "/b", "/c/c-1"))
    assert abs(a.received_at - b.received_at) < 0.1  # a and b together
    assert c.received_at >= a.received_at + 0.19  # c after a answered
    assert elapsed < 0.55, elapsed  # three 0.2 s calls, two rounds


async def test_unsafe_calls_are_barriers(build, upstream):
    _delayed(upstream, delay=0.1)
    steps = """
            - {type: call, name: a, call: api.get-a}
            - {type: call, name: p, call: api.post-p}
            - {type: call, name: b, call: api.get-b}
"""
    async with build(capability(tool(steps), consumes=API), base_uris={"api": upstream.url}) as runtime:
        await runtime.invoke("t", {})
    a, p, b = (upstream.requests_for(path=x)[0] for x in ("/a", "/p", "/b"))
    assert a.received_at + 0.09 <= p.received_at <= b.received_at - 0.09


async def test_semantics_safe_lets_any_method_run_concurrently(build, upstream):
    _delayed(upstream, delay=0.2)
    aggregates = """
    - label: Api
      namespace: agg
      functions:
        - name: both
          description: two posts
          semantics: {safe: true}
          steps:
            - {type: call, name: p1, call: api.post-p}
            - {type: call, name: p2, call: api.post-p}
"""
    exposes = """
    - type: mcp
      namespace: tools
      tools:
        - ref: agg.both
"""
    async with build(
        capability(exposes, aggregates=aggregates, consumes=API), base_uris={"api": upstream.url}
    ) as runtime:
        await runtime.invoke("both", {})
    first, second = upstream.requests_for(path="/p")
    assert abs(first.received_at - second.received_at) < 0.1


async def test_without_mappings_the_last_declared_step_answers(build, upstream):
    upstream.route("GET", "/a", json={"id": "A"}, delay=0.3)
    upstream.route("GET", "/b", json={"id": "B"})
    steps = """
            - {type: call, name: a, call: api.get-a}
            - {type: call, name: b, call: api.get-b}
"""
    async with build(capability(tool(steps), consumes=API), base_uris={"api": upstream.url}) as runtime:
        result = await runtime.invoke("t", {})
    assert result.value == {"id": "B"}  # b finished first; declared order decides


async def test_one_deadline_for_the_whole_unit(build, upstream):
    upstream.route("GET", "/a", json={"id": "A"}, delay=0.15)
    upstream.route("GET", "/c/{id}", json={"id": "C"}, delay=5)
    steps = """
            - {type: call, name: a, call: api.get-a}
            - {type: call, name: slow, call: api.get-c, with: {id: "{{a.id}}"}}
"""
    runtime = build(
        capability(tool(steps), consumes=API), base_uris={"api": upstream.url}, unit_deadline_s=0.4
    )
    async with runtime:
        started = time.monotonic()
        with pytest.raises(StepError) as caught:
            await runtime.invoke("t", {})
        elapsed = time.monotonic() - started
    assert caught.value.step == "slow"
    assert isinstance(caught.value.cause, (UnitDeadlineExceeded, UpstreamTimeout))
    assert elapsed < 1.0, elapsed
