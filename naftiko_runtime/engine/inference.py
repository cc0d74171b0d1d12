"""The inputs of an exposed unit: declared, or inferred from ``with`` and the called operation.

Most real capabilities declare no ``inputParameters`` on their REST operations and MCP tools; their
inputs are implied by the ``with`` references (``rest.prompt_id``) and by the consumed operation's
own parameters (name, location, type, required). We infer them once, at load time, so that REST can
route and validate, and MCP can publish an input schema, exactly as if they had been declared.

Parameters the consumer's authentication supplies (the seed's ``Authorization`` header) are never
asked of the caller.

What this module produces is an :class:`InputDraft`: the input with where its value travels still
attached. The unit keeps only its :class:`~.contract.InputDraft` (:meth:`InputDraft.spec`); a REST
operation's drafts are placed in the request by :mod:`.rest_inputs`. MCP and skill never see where
an HTTP request would carry an input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from ..consumes.operation import ConsumedCall, ParamPlan
from ..expressions import canonical, compile_template
from ..spec.models import (
    ExposedInputParameter,
    InputRef,
    McpToolInputParameter,
    StepCall,
    StepLookup,
    TemplateValue,
    WithValue,
)
from ..spec.models.base import whole_body
from ..spec.variables import Reference, Scope
from .contract import InputSpec, ParamType

ParamLocation = Literal["path", "query", "header", "cookie", "body"]


@dataclass(frozen=True, slots=True)
class InputDraft:
    """An input as declaration or inference finds it, before it is split in two: what every adapter
    sees (:meth:`spec`), and where a REST request carries it (:mod:`.rest_inputs`)."""

    name: str
    type: ParamType | None = "string"  # None: nothing declares a type, any JSON value is accepted
    required: bool = False
    description: str | None = None
    # Where its value travels: the consumed call's location, or the REST request's once placed.
    location: ParamLocation | None = None
    pattern: str | None = None
    whole_body: bool = False  # the entire JSON body (of the consumed call, or of the REST request)
    default: Any = None
    items: Mapping[str, Any] | None = None  # JSON Schema of array items, when known
    extract: str | None = None  # REST: a JSONPath selecting this input from the JSON request body

    def spec(self) -> InputSpec:
        """The input as every adapter sees it."""
        return InputSpec(
            self.name,
            self.type,
            self.required,
            self.description,
            self.location == "path",
            self.pattern,
            self.default,
            self.items,
        )


def from_exposed(params: Sequence[ExposedInputParameter]) -> list[InputDraft]:
    out: dict[str, InputDraft] = {}
    whole = whole_body((p.name, p.in_) for p in params if not (p.value and p.value.startswith("$")))
    for p in params:
        extract = p.value if p.value and p.value.startswith("$") else None
        default = p.value if p.value and not extract else None
        required = p.required if p.required is not None else p.in_ == "path"
        out[p.name] = InputDraft(
            p.name,
            p.type,
            required,
            p.description,
            p.in_,
            p.pattern,
            whole_body=p.in_ == "body" and p.name == whole and extract is None,
            default=default,
            extract=extract,
        )
    return list(out.values())


def from_tool(params: Iterable[McpToolInputParameter]) -> list[InputDraft]:
    return [InputDraft(p.name, p.type, p.required, p.description) for p in params]


def placed_as_inferred(declared: Sequence[InputDraft], inferred: Iterable[InputDraft]) -> list[InputDraft]:
    """A tool's or function's declared inputs, each one the unit passes whole into a URL placeholder
    marked as a path input, as its inference would mark it: every call refuses an empty segment, so
    its schema says so whether the input was declared or inferred."""
    in_path = {canonical(spec.name) for spec in inferred if spec.location == "path"}
    if not in_path:
        return list(declared)
    return [
        replace(spec, location="path") if spec.location is None and canonical(spec.name) in in_path else spec
        for spec in declared
    ]


def infer_for_call(call: ConsumedCall, with_: Mapping[str, WithValue], scope: Scope) -> list[InputDraft]:
    """Inputs implied by ``with`` references and the consumed operation's parameters.

    ``scope`` (the resolver's) tells which template names are inputs, not bind variables or steps.
    """
    targets = {p.key: p for p in _askable(call)}
    supplied = _auth_supplied(call)
    inputs: dict[str, InputDraft] = {}
    mapped: set[str] = set()
    for key, value in with_.items():
        target_key = canonical(key)
        mapped.add(target_key)
        target = targets.get(target_key)
        if target_key in supplied:
            continue
        if isinstance(value, InputRef):
            _add(inputs, _spec(value.name, target))
        elif isinstance(value, TemplateValue):
            template = compile_template(value.template)
            for name in template.variables:
                if _is_input(name, scope):
                    if template.single_variable:  # a lone {{x}} passes x on with its own type
                        _add(inputs, _spec(name, target, required=False))
                    else:  # x is written into text
                        _add(inputs, InputDraft(name, "string", False))
    for key, param in targets.items():
        if key not in mapped:
            _add(inputs, _spec(param.name, param))
    for name in call.body_template_variables:
        if canonical(name) not in mapped and _is_input(name, scope):
            # A body template may insert any JSON value ("crew": {{crew}}); nothing declares its type.
            _add(inputs, InputDraft(name, None, False, None, "body"))
    for name in call.param_template_variables:
        if canonical(name) not in mapped and _is_input(name, scope):
            # A parameter value reading a name the caller passes (`q: "{{userId}}"`).
            _add(inputs, InputDraft(name, "string", False))
    return list(inputs.values())


def infer_for_steps(
    steps: Sequence[Any], calls: Mapping[str, ConsumedCall], scope: Scope
) -> list[InputDraft]:
    """Inputs an orchestration needs: what its steps reference and do not get from earlier steps
    (``scope`` knows the unit's step names)."""
    inputs: dict[str, InputDraft] = {}
    step_keys = {canonical(step.name) for step in steps}
    for step in steps:
        if isinstance(step, StepLookup):
            for name in lookup_inputs(step.lookup_value, scope):
                _add(inputs, InputDraft(name, None, False))
        if not isinstance(step, StepCall):
            for value in getattr(step, "with_", {}).values():
                for name in _with_inputs(value, scope):
                    _add(inputs, InputDraft(name, None, False))
            continue
        call = calls.get(step.call)
        if call is None:
            continue
        for spec in infer_for_call(call, step.with_, scope):
            if canonical(spec.name) not in step_keys:
                _add(inputs, spec if spec.location == "path" else _optional(spec))
    return list(inputs.values())


def lookup_inputs(text: str, scope: Scope) -> list[str]:
    """The inputs a lookup's ``lookupValue`` reads (``{{x}}``, ``$.x``, ``ns.x``), for inference."""
    stripped = text.strip()
    if stripped.startswith("$"):
        return [name for name in (_first_name(stripped),) if name and _is_input(name, scope)]
    if "{{" in stripped:
        return [name for name in compile_template(stripped).variables if _is_input(name, scope)]
    head, dot, rest = stripped.partition(".")
    if dot and rest and "." not in rest and " " not in stripped and canonical(head) not in scope.steps:
        return [rest]
    return []


def _with_inputs(value: WithValue, scope: Scope) -> list[str]:
    if isinstance(value, InputRef):
        return [value.name]
    if isinstance(value, TemplateValue):
        return [n for n in compile_template(value.template).variables if _is_input(n, scope)]
    return []


def _first_name(path: str) -> str | None:
    match = re.match(r"\$\.\s*([A-Za-z0-9_-]+)", path)
    return match.group(1) if match else None


def infer_from_templates(texts: Iterable[str], scope: Scope) -> list[InputDraft]:
    """Inputs of a mock unit: the variables its static output templates use."""
    inputs: dict[str, InputDraft] = {}
    for text in texts:
        for name in compile_template(text).variables:
            if _is_input(name, scope):
                _add(inputs, InputDraft(name, "string", False))
    return list(inputs.values())


def _askable(call: ConsumedCall) -> list[ParamPlan]:
    """Consumed parameters a caller may give: not fixed by a static value, not supplied by auth."""
    supplied = _auth_supplied(call)
    params = [
        p for p in call.params if p.static is None and p.key not in supplied and p.location != "environment"
    ]
    declared = {p.key for p in params}
    for name in call.implicit_path_params:
        if canonical(name) not in declared:
            params.append(ParamPlan(name, canonical(name), "path", "string", True, None, None))
    return params


def _auth_supplied(call: ConsumedCall) -> set[str]:
    return {canonical(h) for h in call.auth.supplied_headers} | {
        canonical(q) for q in call.auth.supplied_query
    }


def _spec(name: str, target: ParamPlan | None, *, required: bool | None = None) -> InputDraft:
    """An input that feeds ``target``; without a declared type it accepts any JSON value (a consumed
    parameter of the published spec has no ``type``, and a body field or query list must keep theirs)."""
    if target is None:
        return InputDraft(name, None, bool(required), None, None)
    return InputDraft(
        name,
        cast(ParamType | None, target.type),
        target.required if required is None else required,
        target.description,
        cast(ParamLocation, target.location) if target.location != "environment" else None,
        whole_body=target.whole_body,
    )


def _add(inputs: dict[str, InputDraft], spec: InputDraft) -> None:
    key = canonical(spec.name)
    if key not in inputs:
        inputs[key] = spec


def _optional(spec: InputDraft) -> InputDraft:
    return replace(spec, required=False)


def _is_input(name: str, scope: Scope) -> bool:
    """Whether a template name is the caller's to give (the resolver's reading, as validation's)."""
    found = scope.resolve(name)
    return isinstance(found, Reference) and found.kind == "input"
