"""Orchestrated units: ``steps`` (call, lookup, script) and ``mappings`` into named outputs.

Each step's result is stored under its name and is visible to later steps as ``{{step.field}}``
and ``$.step.field`` (lookup results too: the reference engine hides them from templates, which
makes lookups useless to later calls). A call step's result is its answer decoded by the consumed
operation's ``outputRawFormat`` and projected by its named ``outputParameters``.

Call steps that do not depend on a step still running, and are safe (GET/HEAD/OPTIONS, or the
function's ``semantics.safe``), run concurrently; results keep their declared order. One deadline
covers the whole unit; each upstream call gets what is left of it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..consumes.operation import ConsumedCall
from ..errors import InvocationError, StepError, UnitDeadlineExceeded
from ..expressions import canonical, compile_path, compile_template
from ..spec.models import (
    OutputParameter,
    PathRef,
    StepCall,
    StepLookup,
    StepOutputMapping,
    StepScript,
    TemplateValue,
)
from .units import Outcome
from .wiring import WithPlan

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DOTTED_REF = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_*-]+)")


@dataclass(frozen=True, slots=True)
class ScriptSettings:
    """Defaults and limits for script steps (from the control adapter's ``management.scripting``)."""

    enabled: bool = True
    timeout_ms: int = 60_000
    memory_mb: int = 256
    statement_limit: int = 100_000
    default_location: str | None = None
    default_language: str | None = None
    allowed_languages: tuple[str, ...] | None = None
    base_dir: Path | None = None


@dataclass
class _Step:
    name: str
    kind: str
    depends_on: frozenset[str] = frozenset()
    concurrent: bool = False
    spec: Any = None
    call: ConsumedCall | None = None
    plan: WithPlan | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Orchestration:
    """The executor of a unit in orchestrated mode."""

    def __init__(
        self,
        steps: Sequence[Any],
        mappings: Sequence[StepOutputMapping],
        outputs: Sequence[OutputParameter],
        calls: Mapping[str, ConsumedCall],
        binds: Mapping[str, Any],
        *,
        scripting: ScriptSettings,
        unit: str,
        safe: bool = False,
    ) -> None:
        self.unit = unit
        self.binds = binds
        self.scripting = scripting
        names = [s.name for s in steps]
        self._steps = [self._compile(step, names[:i], calls, safe) for i, step in enumerate(steps)]
        self._mappings = [(m.target_name.split("."), compile_path(m.value)) for m in mappings]

    def _compile(self, step: Any, earlier: list[str], calls: Mapping[str, ConsumedCall], safe: bool) -> _Step:
        depends = frozenset(_references(step) & set(earlier))
        if isinstance(step, StepCall):
            call = calls[step.call]
            return _Step(
                step.name,
                "call",
                depends,
                safe or call.method in _SAFE_METHODS,
                step,
                call,
                WithPlan(step.with_, self.binds),
            )
        if isinstance(step, StepLookup):
            return _Step(
                step.name,
                "lookup",
                frozenset(earlier),
                False,
                step,
                extra={"value": _lookup_value(step.lookup_value)},
            )
        if isinstance(step, StepScript):
            from .scripts import ScriptStepRunner

            runner = ScriptStepRunner(step, self.scripting, unit=self.unit)
            return _Step(
                step.name,
                "script",
                frozenset(earlier),
                False,
                step,
                plan=WithPlan(step.with_, self.binds),
                extra={"runner": runner},
            )
        raise TypeError(f"unknown step {step!r}")  # pragma: no cover - closed union

    async def run(self, arguments: Mapping[str, Any], deadline: float) -> Outcome:
        results: dict[str, Any] = {}
        last: Outcome | None = None
        running: dict[str, asyncio.Task[Outcome]] = {}
        for step in self._steps:
            pending_deps = step.depends_on & running.keys()
            if not step.concurrent or pending_deps:
                last = await self._drain(running, results, last) or last
            if step.kind == "call" and step.concurrent:
                running[step.name] = asyncio.create_task(self._call(step, arguments, results, deadline))
                continue
            if step.kind == "call":
                last = await self._call(step, arguments, results, deadline)
                results[step.name] = last.value
            elif step.kind == "lookup":
                results[step.name] = self._lookup(step, arguments, results)
            else:
                results[step.name] = await self._script(step, arguments, results, deadline)
        last = await self._drain(running, results, last) or last
        if self._mappings:
            return Outcome(
                self._map({**arguments, **results}),
                200,
                "application/json",
                last.upstream_ms if last else 0.0,
            )
        if last is None:
            return Outcome(None, 200)
        return last

    async def _drain(
        self, running: dict[str, asyncio.Task[Outcome]], results: dict[str, Any], last: Outcome | None
    ) -> Outcome | None:
        if not running:
            return None
        names = list(running)
        try:
            outcomes = await asyncio.gather(*running.values())
        except BaseException:
            for task in running.values():
                task.cancel()
            raise
        finally:
            running.clear()
        for name, outcome in zip(names, outcomes, strict=True):
            results[name] = outcome.value
        return outcomes[-1]

    async def _call(
        self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any], deadline: float
    ) -> Outcome:
        assert step.call is not None and step.plan is not None
        values = step.plan.apply(arguments, results)
        left = deadline - time.monotonic()
        if left <= 0:
            raise UnitDeadlineExceeded(self.unit, 0.0)
        try:
            reply = await step.call.execute(values, time_left=left)
        except InvocationError as exc:
            raise StepError(step.name, exc, self._given(step.spec, values)) from None
        return Outcome(step.call.project(reply.value), reply.status, reply.content_type, reply.elapsed_ms)

    def _lookup(self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any]) -> Any:
        spec: StepLookup = step.spec
        table = _rows(results.get(spec.index))
        wanted = step.extra["value"]({**self.binds, **arguments, **results}, arguments)
        fields = spec.output_parameters

        def find(value: Any) -> dict[str, Any] | None:
            for row in table:
                if isinstance(row, Mapping) and _same(row.get(spec.match), value):
                    return {name: row.get(name) for name in fields}
            return None

        if isinstance(wanted, list):
            return [found for found in (find(v) for v in wanted) if found is not None]
        return find(wanted)

    async def _script(
        self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any], deadline: float
    ) -> Any:
        assert step.plan is not None
        bound = step.plan.apply(arguments, results)
        variables = {**results, **bound}
        left = deadline - time.monotonic()
        if left <= 0:
            raise UnitDeadlineExceeded(self.unit, 0.0)
        return await step.extra["runner"].run(variables, time_left=left)

    def _given(self, spec: StepCall, values: Mapping[str, Any]) -> dict[str, Any]:
        """What a failed step was given, for its error: the values it mapped, except any drawn from binds."""
        shown: dict[str, Any] = {}
        for key, value in spec.with_.items():
            if isinstance(value, TemplateValue) and any(
                v.split(".", 1)[0] in self.binds for v in compile_template(value.template).variables
            ):
                continue
            if key in values:
                shown[key] = values[key]
        return shown

    def _map(self, context: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target, path in self._mappings:
            node = out
            for part in target[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[target[-1]] = path.find(context)
        return out


def orchestrated_outputs(outputs: Sequence[OutputParameter]) -> tuple[OutputParameter, ...]:
    """Named outputs of an orchestration read the mapped object's field of the same name."""
    return tuple(_field_of_same_name(o) for o in outputs)


def _field_of_same_name(output: OutputParameter) -> OutputParameter:
    updates: dict[str, Any] = {}
    if output.mapping is None and output.value is None and output.name:
        updates["mapping"] = f"$['{output.name}']"
    if output.properties:
        updates["properties"] = {
            name: _field_of_same_name(child if child.name else child.model_copy(update={"name": name}))
            for name, child in output.properties.items()
        }
    if output.items is not None and output.items.properties:
        items = output.items
        updates["items"] = items.model_copy(
            update={
                "properties": {
                    name: _field_of_same_name(
                        child if child.name else child.model_copy(update={"name": name})
                    )
                    for name, child in items.properties.items()
                }
            }
        )
    return output.model_copy(update=updates) if updates else output


def _references(step: Any) -> set[str]:
    """Names a step's ``with`` (or lookup value) refers to: the first segment of each template/path."""
    names: set[str] = set()
    for value in getattr(step, "with_", {}).values():
        if isinstance(value, TemplateValue):
            names.update(v.split(".", 1)[0] for v in compile_template(value.template).variables)
        elif isinstance(value, PathRef):
            first = compile_path(value.path).first_segment
            if first:
                names.add(first)
    return names


def _lookup_value(text: str):
    """``$.step.field`` (JSONPath), ``{{x}}`` (template), ``ns.x`` (an input), or a literal."""
    stripped = text.strip()
    if stripped.startswith("$"):
        path = compile_path(stripped)
        return lambda context, _arguments: path.find(context)
    if "{{" in stripped:
        template = compile_template(stripped)
        return lambda context, _arguments: template.render_value(context)
    dotted = _DOTTED_REF.fullmatch(stripped)
    if dotted:
        key = canonical(dotted.group(2))

        def argument(context: Mapping[str, Any], arguments: Mapping[str, Any]) -> Any:
            for name, value in arguments.items():
                if canonical(name) == key:
                    return value
            return stripped

        return argument
    return lambda _context, _arguments: stripped


def _rows(table: Any) -> list[Any]:
    """A lookup index: a list of objects, or columnar ``{field: [values...]}`` zipped into rows."""
    if isinstance(table, list):
        return table
    if isinstance(table, Mapping):
        columns = {k: v for k, v in table.items() if isinstance(v, list)}
        if columns and len(columns) == len(table) and len({len(v) for v in columns.values()}) == 1:
            size = len(next(iter(columns.values())))
            return [{k: v[i] for k, v in columns.items()} for i in range(size)]
        return [table]
    return []


def _same(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    return left == right or str(left) == str(right)
