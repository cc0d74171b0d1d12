"""What the generated dialect leaves implicit, made explicit: the typed inputs each unit serves.

A dialect document types and describes its *consumed* parameters (``type``, ``description``,
``required``), which the spec has no place for, and lets tools and REST operations infer their inputs
from them. The spec's place is the exposed unit: ``inputParameters`` with ``type`` and
``description``. So before the consumed extras go, every unit whose inputs they shape gets them
declared, exactly as the runtime serves them today (the runtime's own inference is the source, not
a re-derivation): an agent sees the same input schema before and after.

What the spec cannot say is left as it was and reported: an input whose type nothing declares (a
body template's ``{{x}}`` accepts any JSON value; every spec type would narrow it) keeps the unit
implicit and its consumed parameters' extras; a REST input required only by its consumed parameter
becomes optional (exposed parameters have no ``required``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..engine.contract import InputSpec
from ..runtime.core import Runtime
from ..spec.models import (
    AggregateFunction,
    ConsumedInputParameter,
    Document,
    ExposedOperation,
    McpTool,
    RestExpose,
)
from ..spec.models import McpExpose as _McpExpose
from ..spec.source import DocPath


@dataclass
class Explicit:
    """The inputs to declare, by the alpha2 path of their unit, and what could not be declared."""

    inputs: dict[DocPath, tuple[InputSpec, ...]] = field(default_factory=dict)
    rest_units: set[DocPath] = field(default_factory=set)
    # Where the request of each REST unit carries each input (query, header, path...), by name.
    locations: dict[DocPath, dict[str, str]] = field(default_factory=dict)
    kept_extras: set[str] = field(default_factory=set)  # qualified consumed operations
    notes: list[str] = field(default_factory=list)


def explicit_inputs(document: Document) -> Explicit:
    """Which units need their inputs declared once consumed parameters lose ``type``/``description``."""
    out = Explicit()
    if document.capability is None:
        return out
    before = dict(_unit_inputs(document, out.locations))
    for _ in range(4):  # keeping the extras of an operation changes nothing else; settles at once
        after = dict(_unit_inputs(_stripped(document, out.kept_extras)))
        forced = {path: before[path] for path in before if path in after and after[path] != before[path]}
        untyped = {
            path: inputs for path, inputs in forced.items() if any(spec.type is None for spec in inputs)
        }
        kept = {call for path in untyped for call in _calls(document, path)}
        if kept <= out.kept_extras:
            break
        out.kept_extras |= kept
    for path, inputs in forced.items():
        if path in untyped:
            names = ", ".join(s.name for s in inputs if s.type is None)
            out.notes.append(
                f"{_where(path)}: input(s) {names} accept any JSON value, which no spec type says; the "
                "unit keeps its inferred inputs and its consumed parameters their `type`/`description`"
            )
            continue
        out.inputs[path] = inputs
        if "resources" in path:
            out.rest_units.add(path)
            for spec in inputs:
                if spec.required and not spec.in_path:
                    out.notes.append(
                        f"{_where(path)}: input {spec.name!r} was required by its consumed parameter; "
                        "exposed REST parameters have no `required`, so it is now optional"
                    )
    return out


def _where(path: DocPath) -> str:
    return ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in path).replace(".[", "[")


def _unit_inputs(
    document: Document, locations: dict[DocPath, dict[str, str]] | None = None
) -> Iterator[tuple[DocPath, tuple[InputSpec, ...]]]:
    """``(path, inputs)`` of every unit that declares no ``inputParameters`` of its own; with
    ``locations``, where each REST unit's request carries its inputs is noted there too."""
    runtime = Runtime.for_reading(document)
    capability = document.capability
    assert capability is not None
    for a_index, aggregate in enumerate(capability.aggregates):
        for f_index, function in enumerate(aggregate.functions):
            if not function.input_parameters:
                unit = runtime.functions[f"{aggregate.namespace}.{function.name}"]
                yield ("capability", "aggregates", a_index, "functions", f_index), unit.inputs
    rest = iter(runtime.rest)
    mcp = iter(runtime.mcp)
    for e_index, expose in enumerate(capability.exposes):
        if isinstance(expose, RestExpose):
            routes = iter(next(rest).routes)
            for r_index, resource in enumerate(expose.resources):
                for o_index, operation in enumerate(resource.operations):
                    route = next(routes)
                    if _implicit(operation):
                        path = ("capability", "exposes", e_index, "resources", r_index, "operations", o_index)
                        if locations is not None:
                            locations[path] = {place.name: place.location for place in route.inputs}
                        yield path, route.unit.inputs
        elif isinstance(expose, _McpExpose):
            tools = next(mcp).tools
            for t_index, tool in enumerate(expose.tools):
                if _implicit(tool):
                    yield ("capability", "exposes", e_index, "tools", t_index), tools[t_index].inputs


def _implicit(unit: McpTool | ExposedOperation | AggregateFunction) -> bool:
    """No inputs of its own, and not a ``ref`` (whose inputs are its function's, declared there)."""
    return not unit.input_parameters and not unit.ref


def _calls(document: Document, path: DocPath) -> set[str]:
    node: object = document
    for part in path:
        node = node[part] if isinstance(part, int) else getattr(node, _attribute(part))  # type: ignore[index]
    unit = node
    calls = {unit.call} if getattr(unit, "call", None) else set()  # type: ignore[attr-defined]
    calls |= {step.call for step in getattr(unit, "steps", ()) if getattr(step, "call", None)}
    return calls


def _attribute(key: str) -> str:
    return {"inputParameters": "input_parameters"}.get(key, key)


def _stripped(document: Document, keep: set[str]) -> Document:
    """The document with its consumed parameters as the spec has them (no type, description, required),
    except those of the operations in ``keep``."""

    def plain(params: tuple[ConsumedInputParameter, ...]) -> tuple[ConsumedInputParameter, ...]:
        return tuple(
            p.model_copy(update={"type": None, "description": None, "required": None}) for p in params
        )

    consumes = []
    for entry in document.all_consumes:
        resources = []
        for resource in entry.resources:
            operations = tuple(
                operation
                if f"{entry.namespace}.{operation.name}" in keep
                else operation.model_copy(update={"input_parameters": plain(operation.input_parameters)})
                for operation in resource.operations
            )
            kept_here = any(f"{entry.namespace}.{op.name}" in keep for op in resource.operations)
            params = resource.input_parameters if kept_here else plain(resource.input_parameters)
            resources.append(
                resource.model_copy(update={"operations": operations, "input_parameters": params})
            )
        kept_any = any(f"{entry.namespace}.{op.name}" in keep for r in entry.resources for op in r.operations)
        params = entry.input_parameters if kept_any else plain(entry.input_parameters)
        consumes.append(entry.model_copy(update={"resources": tuple(resources), "input_parameters": params}))
    root = tuple(consumes[len(document.capability.consumes) :]) if document.capability else tuple(consumes)
    capability = document.capability
    if capability is not None:
        capability = capability.model_copy(update={"consumes": tuple(consumes[: len(capability.consumes)])})
    return document.model_copy(update={"capability": capability, "consumes": root})
