"""Orchestrated units: ``steps`` (call, lookup, script) and ``mappings`` into named outputs.

Each step's result is stored under its name and is visible to later steps as ``{{step.field}}``
and ``$.step.field`` (lookup results too: the reference engine hides them from templates, which
makes lookups useless to later calls). A call step's result is its answer decoded by the consumed
operation's ``outputRawFormat`` (XML, CSV… steps work; the reference engine only parses JSON there)
and projected by its named ``outputParameters``.

Scheduling. The steps form a graph, compiled once: a step waits for the earlier steps it refers to
(``with`` templates and paths, a lookup's ``index`` and ``lookupValue``); a call that is not safe
(neither GET/HEAD/OPTIONS nor the function's ``semantics.safe``) waits for every earlier step and
every later step waits for it; a script waits for every earlier step (it sees all results). Every
step whose inputs are ready starts at once, so independent safe calls run concurrently. Results
are kept in declared order, whatever order they finished in.

One deadline covers the whole unit; each upstream call and script gets what is left of it, and a
unit that runs past it is stopped with the step(s) then running named in the error.

Output. With ``mappings``: an object built from them (dotted ``targetName`` → nested objects; the
``value`` JSONPath reads ``$.step.field`` over the arguments and step results; a path whose first
name is not a step or an argument reads the last call step's output, the spec's ``$.dbName``).
Without: the last step's result (for a call step, its decoded answer before the consumed
``outputParameters`` projection, as the reference engine), shaped by the unit's outputs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..consumes.operation import ConsumedCall
from ..errors import InvocationError, StepError, UnitDeadlineExceeded
from ..expressions import canonical, compile_path, compile_template, to_text
from ..expressions.names import Spellings
from ..observability import tracing
from ..observability.progress import UnitWatcher, current_watcher
from ..spec.models import (
    OutputParameter,
    PathRef,
    StepCall,
    StepLookup,
    StepOutputMapping,
    StepScript,
    TemplateValue,
)
from ..spec.variables import BindNames, fix_binds
from .units import Outcome
from .wiring import WithPlan

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_GRACE_S = 0.3  # seconds past the deadline before the backstop cancels a step that overran
_ALL = None  # "refers to anything": a path or template that cannot be attributed to one step

Context = Mapping[str, Any]


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


@dataclass(eq=False)
class _Step:
    index: int
    name: str
    kind: str  # "call" | "lookup" | "script"
    spec: Any
    deps: frozenset[int] = frozenset()
    safe: bool = False
    call: ConsumedCall | None = None
    plan: WithPlan | None = None
    runner: Any = None
    wanted: Callable[[Context, Context], Any] | None = None
    used: frozenset[str] = frozenset()  # canonical names the consumed call reads


@dataclass
class _Run:
    results: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    done: int = 0
    watcher: UnitWatcher | None = None


class Orchestration:
    """The executor of a unit in orchestrated mode."""

    def __init__(
        self,
        steps: Sequence[Any],
        mappings: Sequence[StepOutputMapping],
        outputs: Sequence[OutputParameter],
        calls: Mapping[str, ConsumedCall],
        binds: BindNames,
        *,
        inputs: Sequence[str],
        scripting: ScriptSettings,
        unit: str,
        safe: bool = False,
    ) -> None:
        self.unit = unit
        self.binds = binds
        self.inputs = tuple(inputs)  # the unit's input names: what its references resolve to, once
        self.scripting = scripting
        self._steps: list[_Step] = []
        for index, step in enumerate(steps):
            self._steps.append(self._compile(index, step, calls, safe))
        self._names = {canonical(s.name) for s in self._steps}
        calls_made = [s for s in self._steps if s.kind == "call"]
        self._current = calls_made[-1].name if calls_made else None
        self._mappings = [self._mapping(m) for m in mappings]

    # -- compiling ---------------------------------------------------------------------------------

    def _compile(self, index: int, step: Any, calls: Mapping[str, ConsumedCall], safe: bool) -> _Step:
        earlier = self._steps[:index]
        everything = frozenset(s.index for s in earlier)
        by_name = {canonical(s.name): s.index for s in earlier}
        barriers = frozenset(s.index for s in earlier if s.kind == "call" and not s.safe)

        def refers(names: set[str] | None) -> frozenset[int]:
            if names is _ALL:
                return everything
            return frozenset(by_name[n] for n in map(canonical, names) if n in by_name) | barriers

        if isinstance(step, StepCall):
            call = calls[step.call]
            is_safe = safe or call.method in _SAFE_METHODS
            deps = refers(_with_references(step.with_)) if is_safe else everything
            used = {p.key for p in call.params} | {canonical(v) for v in call.path_variables}
            used |= {canonical(v.split(".", 1)[0]) for v in call.body_template_variables}
            return _Step(
                index,
                step.name,
                "call",
                step,
                deps,
                is_safe,
                call=call,
                plan=WithPlan(step.with_, self.binds, self.inputs),
                used=frozenset(used | {canonical(k) for k in step.with_}),
            )
        if isinstance(step, StepLookup):
            wanted, names = _lookup_value(step.lookup_value, set(by_name), self.binds, self.inputs)
            deps = refers(names if names is _ALL else {*names, step.index})
            return _Step(index, step.name, "lookup", step, deps, wanted=wanted)
        if isinstance(step, StepScript):
            from .scripts import ScriptStepRunner

            runner = ScriptStepRunner(step, self.scripting, unit=self.unit)
            return _Step(
                index,
                step.name,
                "script",
                step,
                everything,
                plan=WithPlan(step.with_, self.binds, self.inputs),
                runner=runner,
            )
        raise TypeError(f"unknown step {step!r}")  # pragma: no cover - closed union

    def _mapping(self, mapping: StepOutputMapping) -> tuple[tuple[str, ...], Callable[[Context, Any], Any]]:
        target = tuple(part for part in mapping.target_name.split(".") if part) or (mapping.target_name,)
        text = mapping.value.strip()
        if "{{" in text:  # text around placeholders (a lone `{{$.x}}` was unwrapped by the loader)
            template = fix_binds(compile_template(text), self.binds)
            return target, lambda context, _current: template.render_value(context)
        path = compile_path(text)
        if path.is_root:
            return target, lambda _context, current: current
        first = path.first_segment
        if first is not None and canonical(first) in self._names:
            return target, lambda context, _current: path.find(context)

        def with_fallback(context: Context, current: Any) -> Any:
            found = path.find(context)
            if found is None and current is not None:
                found = path.find(current)
            return found

        return target, with_fallback

    def dependencies(self, name: str) -> list[str]:
        """The names of the steps ``name`` waits for (what the scheduler derived; tests read it)."""
        step = next(s for s in self._steps if s.name == name)
        return [s.name for s in self._steps if s.index in step.deps]

    # -- running -----------------------------------------------------------------------------------

    async def run(self, arguments: Mapping[str, Any], deadline: float) -> Outcome:
        budget = max(deadline - time.monotonic(), 0.0)
        state = _Run(watcher=current_watcher())
        # A backstop: calls and scripts are given the time left and report their own overrun
        # (naming the step and what ran out); this only stops a unit that did not.
        scope = asyncio.timeout(budget + _GRACE_S)
        try:
            async with scope:
                await self._schedule(arguments, deadline, state)
        except TimeoutError:
            if not scope.expired():
                raise
            running = ", ".join(state.running) or "(between steps)"
            raise StepError(running, UnitDeadlineExceeded(self.unit, round(budget, 3))) from None
        return self._outcome(arguments, state)

    async def _schedule(self, arguments: Mapping[str, Any], deadline: float, state: _Run) -> None:
        pending = list(self._steps)
        running: dict[asyncio.Future[Any], _Step] = {}
        finished: set[int] = set()
        try:
            while pending or running:
                started = True
                while started:
                    started = False
                    for step in [s for s in pending if s.deps <= finished]:
                        pending.remove(step)
                        if step.kind == "lookup":
                            traced = tracing.active  # a lookup's span, when tracing is on
                            with nullcontext() if traced is None else traced.lookup(self.unit, step.name):
                                state.results[step.name] = self._lookup(step, arguments, state.results)
                            self._report_done(step, state, "looked up")
                            finished.add(step.index)
                            started = True
                        else:
                            task = asyncio.ensure_future(self._start(step, arguments, state, deadline))
                            running[task] = step
                if not running:
                    break
                state.running = [s.name for s in sorted(running.values(), key=lambda s: s.index)]
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for finished_future in sorted(done, key=lambda f: running[f].index):
                    step = running.pop(finished_future)
                    finished_future.result()  # raises the step's error
                    finished.add(step.index)
        finally:
            for left in running:
                left.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _start(self, step: _Step, arguments: Mapping[str, Any], state: _Run, deadline: float) -> None:
        traced = tracing.active  # the tracing hook: a span per step (None: tracing is off)
        if traced is not None:
            await traced.step(
                self._run_step(step, arguments, state, deadline), self.unit, step.name, step.kind
            )
        else:
            await self._run_step(step, arguments, state, deadline)

    async def _run_step(
        self, step: _Step, arguments: Mapping[str, Any], state: _Run, deadline: float
    ) -> None:
        if state.watcher is not None:
            state.watcher.step_started(step.name, _target(step), len(self._steps))
        if step.kind == "call":
            outcome, projected = await self._call(step, arguments, state.results, deadline)
            state.outcomes[step.name] = outcome
            state.results[step.name] = projected
            self._report_done(step, state, f"answered {outcome.status} in {outcome.upstream_ms:.0f} ms")
        else:
            state.results[step.name] = await self._script(step, arguments, state.results, deadline)
            self._report_done(step, state, "ran")

    def _report_done(self, step: _Step, state: _Run, detail: str) -> None:
        state.done += 1
        if state.watcher is not None:
            state.watcher.step_finished(step.name, _target(step), state.done, len(self._steps), detail)

    async def _call(
        self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any], deadline: float
    ) -> tuple[Outcome, Any]:
        assert step.call is not None and step.plan is not None
        values = step.plan.apply(arguments, results)
        left = deadline - time.monotonic()
        if left <= 0:
            raise StepError(step.name, UnitDeadlineExceeded(self.unit, 0.0), self._given(step, values))
        try:
            reply = await step.call.execute(values, time_left=left)
        except InvocationError as exc:
            raise StepError(step.name, exc, self._given(step, values)) from None
        outcome = Outcome(reply.value, reply.status, reply.content_type, reply.elapsed_ms)
        return outcome, step.call.project(reply.value)

    def _lookup(self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any]) -> Any:
        spec: StepLookup = step.spec
        assert step.wanted is not None
        rows = _rows(results.get(spec.index), spec.match)
        wanted = step.wanted({**arguments, **results}, arguments)
        fields = spec.output_parameters

        def find(value: Any) -> dict[str, Any] | None:
            for row in rows:
                if isinstance(row, Mapping) and _same(row.get(spec.match), value):
                    return {name: row.get(name) for name in fields} if fields else dict(row)
            return None

        if isinstance(wanted, (list, tuple)):
            return [found for found in map(find, wanted) if found is not None]
        return find(wanted)

    async def _script(
        self, step: _Step, arguments: Mapping[str, Any], results: Mapping[str, Any], deadline: float
    ) -> Any:
        assert step.plan is not None
        bound = step.plan.apply(arguments, results)
        variables = {**results, **bound}
        return await step.runner.run(variables, time_left=deadline - time.monotonic())

    def _outcome(self, arguments: Mapping[str, Any], state: _Run) -> Outcome:
        ordered = {s.name: state.results[s.name] for s in self._steps if s.name in state.results}
        upstream_ms = sum(o.upstream_ms for o in state.outcomes.values())
        if self._mappings:
            current = ordered.get(self._current) if self._current else None
            return Outcome(self._map({**arguments, **ordered}, current), 200, "application/json", upstream_ms)
        if not self._steps:
            return Outcome(None, 200)
        last = self._steps[-1]
        if last.kind == "call":
            answer = state.outcomes[last.name]
            return Outcome(answer.value, answer.status, answer.content_type, upstream_ms)
        return Outcome(ordered.get(last.name), 200, "application/json", upstream_ms)

    def _given(self, step: _Step, values: Mapping[str, Any]) -> dict[str, Any]:
        """What a failed call step was given, for its error: the values its operation reads, except
        any drawn from binds (a ``with`` that reads one, or a bind value itself)."""
        assert step.plan is not None
        hidden = step.plan.from_binds
        return {
            key: value
            for key, value in values.items()
            if key not in hidden
            and canonical(key) in step.used
            and not callable(getattr(value, "reveal", None))
        }

    def _map(self, context: Context, current: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target, resolve in self._mappings:
            node = out
            for part in target[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[target[-1]] = resolve(context, current)
        return out


def orchestrated_outputs(outputs: Sequence[OutputParameter]) -> tuple[OutputParameter, ...]:
    """The unit's outputs over the object its ``mappings`` build.

    Named outputs (the spec's OrchestratedOutputParameter: ``name`` + ``type``, ``items``,
    ``properties``) read the mapped field of the same name, recursively, and together make one
    object: a unit with a single named output still answers ``{"name": value}``, as the reference
    engine answers the mapped object. Outputs that are not all named are kept as they are.
    """
    if not outputs:
        return ()
    named = tuple(_field_of_same_name(o) for o in outputs)
    if not all(o.name for o in outputs):
        return named
    return (
        OutputParameter(
            type="object",
            properties={o.name: o for o in named if o.name},
        ),
    )


def _field_of_same_name(output: OutputParameter) -> OutputParameter:
    updates: dict[str, Any] = {}
    if output.mapping is None and output.value is None and output.name:
        updates["mapping"] = f"$['{output.name}']"
    if output.properties:
        updates["properties"] = _named_properties(output.properties)
    if output.items is not None and output.items.properties:
        updates["items"] = output.items.model_copy(
            update={"properties": _named_properties(output.items.properties)}
        )
    return output.model_copy(update=updates) if updates else output


def _named_properties(properties: Mapping[str, OutputParameter]) -> dict[str, OutputParameter]:
    return {
        name: _field_of_same_name(child if child.name else child.model_copy(update={"name": name}))
        for name, child in properties.items()
    }


def _target(step: _Step) -> str:
    """What a step works on, for a watcher: the consumed operation, or the step's kind."""
    return step.call.qualified if step.call is not None else step.kind


def _with_references(entries: Mapping[str, Any]) -> set[str] | None:
    """First names the ``with`` values read (templates, paths); ``_ALL`` if one cannot be told."""
    names: set[str] = set()
    for value in entries.values():
        if isinstance(value, TemplateValue):
            names.update(v.split(".", 1)[0] for v in compile_template(value.template).variables)
        elif isinstance(value, PathRef):
            path = compile_path(value.path)
            if path.first_segment is None:
                return _ALL
            names.add(path.first_segment)
    return names


def _lookup_value(
    text: str, steps: set[str], binds: BindNames, inputs: Sequence[str]
) -> tuple[Callable[[Context, Context], Any], set[str] | None]:
    """``$.step.field`` / ``{{$.step.field}}`` (JSONPath), ``{{x}}`` (template), ``step.field`` (a
    step's result), ``ns.x`` (the input ``x``, of the unit's ``inputs``), or a literal; with the
    names it reads."""
    stripped = text.strip()
    if stripped.startswith("$") or (stripped.startswith("{{") and stripped[2:].lstrip().startswith("$")):
        path = compile_path(stripped)
        first = path.first_segment
        return (lambda context, _arguments: path.find(context)), ({first} if first else _ALL)
    if "{{" in stripped:
        template = fix_binds(compile_template(stripped), binds)
        names = {v.split(".", 1)[0] for v in template.free_variables}
        return (lambda context, _arguments: template.render_value(context)), names
    prefix, dot, rest = stripped.partition(".")
    if dot and rest and canonical(prefix) in steps:
        path = compile_path("$." + stripped)
        return (lambda context, _arguments: path.find(context)), {prefix}
    if dot and rest and "." not in rest and " " not in stripped:
        name = Spellings(inputs).get(rest)
        if name is None:  # no input of that name: the text itself
            return (lambda _context, _arguments: stripped), set()

        def argument(_context: Context, arguments: Context) -> Any:
            return arguments.get(name, stripped)

        return argument, set()
    return (lambda _context, _arguments: stripped), set()


def _rows(table: Any, match: str) -> list[Any]:
    """A lookup index as rows: a list of objects; one object that has the match field; a wrapper
    object around one list (``{"vessel": [...]}`` from XML, ``{"data": [...]}``) or one object;
    or columnar ``{field: [values...]}`` zipped into rows."""
    if isinstance(table, list):
        return table
    if not isinstance(table, Mapping):
        return []
    if match in table:
        return [table]
    if len(table) == 1:
        only = next(iter(table.values()))
        if isinstance(only, list) and all(isinstance(row, Mapping) for row in only):
            return only
        if isinstance(only, Mapping):
            return [only]
    columns = [v for v in table.values() if isinstance(v, list)]
    if columns and len(columns) == len(table) and len({len(c) for c in columns}) == 1:
        size = len(columns[0])
        return [{k: v[i] for k, v in table.items()} for i in range(size)]
    return [table]


def _same(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    return left == right or to_text(left) == to_text(right)
