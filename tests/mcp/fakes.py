"""Hand-made units for the few adapter tests that a capability document cannot express.

Everything else in tests/mcp runs on the real engine (tests/mcp/engine.py). What is left here:
:class:`FakeInvocable` implements the ``Invocable`` contract (schema from ``InputSpec``s or given
as is, validation before anything runs, a coroutine for the work), for tests that need a unit to
raise an exception the engine never raises, to wait on a gate the test opens, or to carry a
schema the engine never builds. Each such test says why in its docstring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from naftiko_runtime.engine.contract import Hints, InputSpec, Result
from naftiko_runtime.errors import InputError, InputProblem

Runner = Callable[[dict[str, Any]], Awaitable[Result]]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def schema_of(inputs: Sequence[InputSpec]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for spec in inputs:
        prop: dict[str, Any] = {"type": spec.type} if spec.type else {}
        if spec.description:
            prop["description"] = spec.description
        properties[spec.name] = prop
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    required = [spec.name for spec in inputs if spec.required]
    if required:
        schema["required"] = required
    return schema


def coerce(name: str, inputs: Sequence[InputSpec], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Required and typed, as the engine promises."""
    problems: list[InputProblem] = []
    out = dict(arguments)
    for spec in inputs:
        value = arguments.get(spec.name)
        if value is None:
            if spec.required:
                problems.append(InputProblem(spec.name, "is required"))
            continue
        if spec.type and not isinstance(value, _JSON_TYPES[spec.type]):
            problems.append(InputProblem(spec.name, f"must be of type {spec.type}"))
    if problems:
        raise InputError(problems, operation=name)
    return out


@dataclass
class FakeInvocable:
    """An ``Invocable`` whose work is ``runner(coerced_arguments)``."""

    name: str
    runner: Runner
    description: str | None = None
    title: str | None = None
    inputs: tuple[InputSpec, ...] = ()
    hints: Hints | None = None
    output_schema: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None  # an explicit input schema (else built from ``inputs``)
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.schema if self.schema is not None else schema_of(self.inputs)

    def coerce(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return coerce(self.name, self.inputs, arguments)

    async def invoke(self, arguments: Mapping[str, Any]) -> Result:
        values = self.coerce(arguments)
        self.calls.append(values)
        return await self.runner(values)


def constant(value: Any, content_type: str = "application/json") -> Runner:
    async def run(arguments: dict[str, Any]) -> Result:
        return Result(value=value, content_type=content_type)

    return run


def failing(exc: Exception) -> Runner:
    async def run(arguments: dict[str, Any]) -> Result:
        raise exc

    return run
