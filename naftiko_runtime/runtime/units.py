"""From spec objects to engine units: every adapter's units are built here, the same way.

This is where ``ref`` is merged (the adapter's own fields win), inputs are declared or inferred,
``with`` is compiled and the executor is chosen (call, steps or mock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..consumes.operation import ConsumedCall
from ..engine.contract import Hints
from ..engine.inference import (
    InputDraft,
    from_exposed,
    from_tool,
    infer_for_call,
    infer_for_steps,
    infer_from_templates,
    placed_as_inferred,
)
from ..engine.orchestration import Orchestration, ScriptSettings, orchestrated_outputs
from ..engine.plans import RestInput
from ..engine.rest_inputs import locate_for_rest, rest_inputs
from ..engine.shaping import Shaper
from ..engine.units import CallExecutor, Executor, MockExecutor, Unit
from ..engine.wiring import WithPlan
from ..expressions import canonical
from ..spec.models import (
    AggregateFunction,
    ExposedInputParameter,
    ExposedOperation,
    McpTool,
    McpToolHints,
    McpToolInputParameter,
    OutputParameter,
    Semantics,
    StepOutputMapping,
    UnitFields,
)
from ..spec.variables import BindNames, Scope


class UnitFactory:
    """Builds units against one runtime's compiled consumed calls, binds and settings."""

    def __init__(
        self,
        calls: Mapping[str, ConsumedCall],
        functions: Mapping[str, AggregateFunction],
        binds: BindNames,
        *,
        deadline_s: float,
        scripting: ScriptSettings,
    ) -> None:
        self.calls = calls
        self.functions = functions
        self.binds = binds
        self.deadline_s = deadline_s
        self.scripting = scripting

    # -- adapters ----------------------------------------------------------------------------------

    def rest_operation(
        self,
        namespace: str,
        path: str,
        resource_params: Sequence[ExposedInputParameter],
        operation: ExposedOperation,
        route: Sequence[str],
        *,
        max_binary_bytes: int | None = None,
    ) -> tuple[Unit, tuple[RestInput, ...]]:
        """The operation's unit, and where its request carries each of the unit's inputs."""
        fields, function = self._merged(operation)
        params = [*resource_params, *operation.input_parameters]
        declared = from_exposed(params)
        if declared and function is not None:
            declared = _function_requirements(declared, params, function)
        if declared:
            inputs = locate_for_rest(declared, route, operation.method)
        else:
            inputs = locate_for_rest(self._inferred(fields, function), route, operation.method)
        name = fields.name or f"{operation.method.lower()} {path}"
        # A binary answer's media type: the function's, else the consumed operation's (already in
        # the answer), else the REST contract's, else the upstream's.
        media_type = function.output_media_type if function else None
        call = self.calls.get(fields.call) if fields.call else None
        if media_type is None and not (call and call.output_media_type):
            media_type = operation.binary_media_type
        unit = self._unit(
            fields,
            inputs,
            kind="rest",
            name=name,
            qualified=f"{namespace}.{name}",
            title=fields.label,
            safe=_safe(function),
            max_binary_bytes=max_binary_bytes,
            media_type=media_type,
        )
        return unit, rest_inputs(inputs, route)

    def tool(self, namespace: str, tool: McpTool, *, max_binary_bytes: int | None = None) -> Unit:
        fields, function = self._merged(tool)
        inputs = self._declared(tool.input_parameters, fields) or self._inferred(fields, function)
        hints = _hints(tool.hints, function.semantics if function else None)
        name = fields.name or (function.name if function else None) or "tool"
        return self._unit(
            fields,
            inputs,
            kind="tool",
            name=name,
            qualified=f"{namespace}.{name}",
            title=fields.label,
            hints=hints,
            safe=_safe(function),
            max_binary_bytes=max_binary_bytes,
            media_type=function.output_media_type if function else None,
        )

    def function(self, namespace: str, function: AggregateFunction) -> Unit:
        inputs = self._declared(function.input_parameters, function) or self._inferred(function, None)
        name = function.name or "function"
        return self._unit(
            function,
            inputs,
            kind="function",
            name=name,
            qualified=f"{namespace}.{name}",
            title=function.label,
            safe=_safe(function),
        )

    def dynamic(
        self,
        namespace: str,
        name: str,
        kind: str,
        *,
        call: str | None,
        with_: Mapping[str, Any],
        steps: Sequence[Any],
        mappings: Sequence[StepOutputMapping],
        outputs: Sequence[OutputParameter],
        extra_inputs: Sequence[str] = (),
        description: str | None = None,
        max_binary_bytes: int | None = None,
    ) -> Unit:
        """An MCP resource or prompt message backed by a call or steps."""
        fields = UnitFields(
            name=name,
            call=call,
            with_=dict(with_),
            steps=tuple(steps),
            mappings=tuple(mappings),
            output_parameters=tuple(outputs),
            description=description,
        )
        inputs = self._inferred(fields, None)
        known = {i.name for i in inputs}
        inputs += [InputDraft(v, "string", True) for v in extra_inputs if v not in known]
        return self._unit(
            fields,
            inputs,
            kind=kind,
            name=name,
            qualified=f"{namespace}.{name}",
            max_binary_bytes=max_binary_bytes,
        )

    def consumed(self, qualified: str) -> Unit:
        """A consumed operation called directly (``naftiko call FILE ns.op``), taking its own parameters."""
        call = self.calls[qualified]
        fields = UnitFields(name=qualified, call=qualified, description=call.description)
        inputs = infer_for_call(call, {}, self._scope(fields))
        return self._unit(fields, inputs, kind="operation", name=qualified, qualified=qualified)

    # -- shared ------------------------------------------------------------------------------------

    def _merged(self, unit: UnitFields) -> tuple[UnitFields, AggregateFunction | None]:
        """Field-level merge of a ``ref``: what the unit sets wins, the rest comes from the function."""
        if not unit.ref:
            return unit, None
        function = self.functions[unit.ref]
        own = unit.model_fields_set - {"ref"}
        merged = {
            name: getattr(unit if name in own else function, name)
            for name in UnitFields.model_fields
            if name != "ref"
        }
        return UnitFields.model_construct(**merged), function

    def _declared(self, params: Sequence[McpToolInputParameter], fields: UnitFields) -> list[InputDraft]:
        """A tool's or function's own inputs, placed where ``fields`` (the unit as it runs) sends them."""
        declared = from_tool(params)
        return placed_as_inferred(declared, self._inferred(fields, None)) if declared else declared

    def _inferred(self, fields: UnitFields, function: AggregateFunction | None) -> list[InputDraft]:
        if function is not None and function.input_parameters:
            return self._declared(function.input_parameters, fields)
        scope = self._scope(fields)
        if fields.call:
            inputs = infer_for_call(self.calls[fields.call], fields.with_, scope)
        elif fields.steps:
            inputs = infer_for_steps(fields.steps, self.calls, scope)
        else:
            inputs = []
        # Output values are templates over the inputs too (`value: "Hello, {{who}}!"`).
        named = {canonical(spec.name) for spec in inputs}
        extra = infer_from_templates(_static_texts(fields.output_parameters), scope)
        return inputs + [spec for spec in extra if canonical(spec.name) not in named]

    def _scope(self, fields: UnitFields) -> Scope:
        """The resolver's scope of a unit that declares no inputs: every name that is neither a bind
        variable nor one of its steps is an input (as ``naftiko validate`` reads it)."""
        return Scope(self.binds, steps=[step.name for step in fields.steps], open_inputs=True)

    def _unit(
        self,
        fields: UnitFields,
        inputs: Sequence[InputDraft],
        *,
        kind: str,
        name: str,
        qualified: str,
        title: str | None = None,
        hints: Hints | None = None,
        safe: bool = False,
        max_binary_bytes: int | None = None,
        media_type: str | None = None,
    ) -> Unit:
        outputs = fields.output_parameters
        if fields.steps and fields.mappings:
            outputs = orchestrated_outputs(outputs)
        specs = [draft.spec() for draft in inputs]
        return Unit(
            name=name,
            kind=kind,
            executor=self._executor(fields, [spec.name for spec in specs], qualified, safe, max_binary_bytes),
            shaper=Shaper(outputs),
            inputs=specs,
            title=title,
            description=fields.description,
            hints=hints,
            deadline_s=self.deadline_s,
            qualified=qualified,
            media_type=media_type,
            tags=fields.tags,
        )

    def _executor(
        self,
        fields: UnitFields,
        inputs: Sequence[str],
        qualified: str,
        safe: bool,
        max_binary_bytes: int | None = None,
    ) -> Executor:
        """``inputs``: the unit's input names, which its ``with`` references resolve to once, here."""
        if fields.call:
            call = self.calls[fields.call]
            return CallExecutor(call, WithPlan(fields.with_, self.binds, inputs), max_binary_bytes)
        if fields.steps:
            return Orchestration(
                fields.steps,
                fields.mappings,
                fields.output_parameters,
                self.calls,
                self.binds,
                inputs=inputs,
                scripting=self.scripting,
                unit=qualified,
                safe=safe,
            )
        return MockExecutor()


def _hints(explicit: McpToolHints | None, semantics: Semantics | None) -> Hints | None:
    """Semantics → hints per the spec's table; every hint the tool sets itself wins, field by field."""
    derived: dict[str, bool | None] = {}
    if semantics is not None:
        if semantics.safe:
            derived.update(read_only=True, destructive=False)
        else:
            derived["read_only"] = False
        if semantics.idempotent is not None:
            derived["idempotent"] = semantics.idempotent
    if explicit is not None:
        for name in ("read_only", "destructive", "idempotent", "open_world"):
            value = getattr(explicit, name)
            if value is not None:
                derived[name] = value
    if not derived:
        return None
    return Hints(**derived)


def _function_requirements(
    inputs: list[InputDraft], params: Sequence[ExposedInputParameter], function: AggregateFunction
) -> list[InputDraft]:
    """A REST operation that re-declares a ``ref`` function's input (to place it in the request)
    keeps the function's ``required`` unless it says ``required`` itself: the function's contract
    holds on every adapter."""
    required = {canonical(p.name): p.required for p in function.input_parameters}
    explicit = {canonical(p.name) for p in params if p.required is not None}
    return [
        replace(spec, required=required[key])
        if (key := canonical(spec.name)) in required and key not in explicit
        else spec
        for spec in inputs
    ]


def _safe(function: AggregateFunction | None) -> bool:
    return bool(function and function.semantics and function.semantics.safe)


def _static_texts(outputs: Sequence[OutputParameter]) -> list[str]:
    texts: list[str] = []
    for output in outputs:
        if isinstance(output.value, str):
            texts.append(output.value)
        if output.properties:
            texts += _static_texts(list(output.properties.values()))
        if output.items is not None:
            texts += _static_texts([output.items])
    return texts
