"""The inputs of an exposed unit: declared, or inferred from ``with`` and the called operation.

Most real capabilities declare no ``inputParameters`` on their REST operations and MCP tools; their
inputs are implied by the ``with`` references (``rest.prompt_id``) and by the consumed operation's
own parameters (name, location, type, required). We infer them once, at load time, so that REST can
route and validate, and MCP can publish an input schema, exactly as if they had been declared.

Parameters the consumer's authentication supplies (the seed's ``Authorization`` header) are never
asked of the caller.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import orjson

from ..consumes.operation import ConsumedCall, ParamPlan
from ..errors import InputError, InputProblem
from ..expressions import canonical, compile_template
from ..expressions.names import canonical_index, placeholder_names
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
from ..spec.variables import Reference, Scope, closest_name
from .contract import InputSpec, ParamLocation, ParamType


def route_params(path: str) -> tuple[str, ...]:
    """Placeholder names of a REST path, in either ``{x}`` or ``{{x}}`` form."""
    return placeholder_names(path)


def from_exposed(params: Sequence[ExposedInputParameter]) -> list[InputSpec]:
    out: dict[str, InputSpec] = {}
    whole = whole_body((p.name, p.in_) for p in params if not (p.value and p.value.startswith("$")))
    for p in params:
        extract = p.value if p.value and p.value.startswith("$") else None
        default = p.value if p.value and not extract else None
        required = p.required if p.required is not None else p.in_ == "path"
        out[p.name] = InputSpec(
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


def from_tool(params: Iterable[McpToolInputParameter]) -> list[InputSpec]:
    return [InputSpec(p.name, p.type, p.required, p.description) for p in params]


def placed_as_inferred(declared: Sequence[InputSpec], inferred: Iterable[InputSpec]) -> list[InputSpec]:
    """A tool's or function's declared inputs, each one the unit passes whole into a URL placeholder
    marked as a path input, as its inference would mark it: every call refuses an empty segment, so
    its schema says so whether the input was declared or inferred."""
    in_path = {canonical(spec.name) for spec in inferred if spec.location == "path"}
    if not in_path:
        return list(declared)
    return [
        _replace(spec, location="path") if spec.location is None and canonical(spec.name) in in_path else spec
        for spec in declared
    ]


def infer_for_call(call: ConsumedCall, with_: Mapping[str, WithValue], scope: Scope) -> list[InputSpec]:
    """Inputs implied by ``with`` references and the consumed operation's parameters.

    ``scope`` (the resolver's) tells which template names are inputs, not bind variables or steps.
    """
    targets = {p.key: p for p in _askable(call)}
    supplied = _auth_supplied(call)
    inputs: dict[str, InputSpec] = {}
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
                        _add(inputs, InputSpec(name, "string", False))
    for key, param in targets.items():
        if key not in mapped:
            _add(inputs, _spec(param.name, param))
    for name in call.body_template_variables:
        if canonical(name) not in mapped and _is_input(name, scope):
            # A body template may insert any JSON value ("crew": {{crew}}); nothing declares its type.
            _add(inputs, InputSpec(name, None, False, None, "body"))
    for name in call.param_template_variables:
        if canonical(name) not in mapped and _is_input(name, scope):
            # A parameter value reading a name the caller passes (`q: "{{userId}}"`).
            _add(inputs, InputSpec(name, "string", False))
    return list(inputs.values())


def infer_for_steps(steps: Sequence[Any], calls: Mapping[str, ConsumedCall], scope: Scope) -> list[InputSpec]:
    """Inputs an orchestration needs: what its steps reference and do not get from earlier steps
    (``scope`` knows the unit's step names)."""
    inputs: dict[str, InputSpec] = {}
    step_keys = {canonical(step.name) for step in steps}
    for step in steps:
        if isinstance(step, StepLookup):
            for name in lookup_inputs(step.lookup_value, scope):
                _add(inputs, InputSpec(name, None, False))
        if not isinstance(step, StepCall):
            for value in getattr(step, "with_", {}).values():
                for name in _with_inputs(value, scope):
                    _add(inputs, InputSpec(name, None, False))
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


def infer_from_templates(texts: Iterable[str], scope: Scope) -> list[InputSpec]:
    """Inputs of a mock unit: the variables its static output templates use."""
    inputs: dict[str, InputSpec] = {}
    for text in texts:
        for name in compile_template(text).variables:
            if _is_input(name, scope):
                _add(inputs, InputSpec(name, "string", False))
    return list(inputs.values())


def locate_for_rest(inputs: Sequence[InputSpec], route: Sequence[str], method: str) -> list[InputSpec]:
    """Give every inferred input a place in an HTTP request: the route wins, then the consumed location."""
    in_route = {canonical(name): name for name in route}
    located: list[InputSpec] = []
    seen: set[str] = set()
    for spec in inputs:
        key = canonical(spec.name)
        seen.add(key)
        if key in in_route:
            located.append(_replace(spec, location="path", required=True))
        elif spec.location in ("query", "header", "cookie", "body"):
            located.append(spec)
        elif spec.location == "path" or method in ("GET", "HEAD", "DELETE", "OPTIONS"):
            located.append(_replace(spec, location="query"))
        else:
            located.append(_replace(spec, location="body"))
    for key, name in in_route.items():
        if key not in seen:
            located.append(InputSpec(name, "string", True, None, "path"))
    # An inferred `body` that is the consumed operation's whole body is one member of the REST
    # request body when other inputs were placed in the body beside it.
    if whole_body((spec.name, spec.location) for spec in located) is None:
        located = [_replace(spec, whole_body=False) if spec.whole_body else spec for spec in located]
    return located


def json_schema(inputs: Sequence[InputSpec]) -> dict[str, Any]:
    """The JSON Schema of an argument object (MCP ``inputSchema``; REST request documentation)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in inputs:
        schema: dict[str, Any] = {"type": spec.type} if spec.type else {}
        if spec.description:
            schema["description"] = spec.description
        if spec.type == "array":
            schema["items"] = dict(spec.items) if spec.items else {}
        if spec.pattern and spec.type == "string":
            schema["pattern"] = spec.pattern
        if spec.location == "path" and spec.type in ("string", None):
            schema["minLength"] = 1  # an empty path segment is refused (it would change the URL)
        if spec.default is not None:
            schema["default"] = spec.default
        properties[spec.name] = schema
        if spec.required and spec.default is None:
            required.append(spec.name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def unknown_arguments(inputs: Sequence[InputSpec], names: Iterable[str]) -> list[str]:
    """The argument names no input of the unit takes (spellings matched by :func:`canonical`)."""
    declared = {spec.name for spec in inputs}
    keys = {canonical(spec.name) for spec in inputs}
    return [name for name in names if name not in declared and canonical(name) not in keys]


def unknown_problem(name: str, inputs: Sequence[InputSpec], location: str | None = None) -> InputProblem:
    """The input problem of an argument the unit does not take: its inputs listed, the closest named."""
    names = [spec.name for spec in inputs]
    same = next((spec for spec in inputs if canonical(spec.name) == canonical(name)), None)
    if same is not None and location is not None and same.location != location:
        return InputProblem(
            name, f"not read from the {location}: this input is a {same.location} parameter", location
        )
    close = closest_name(name, names)
    hint = f" (did you mean {close!r}?)" if close else ""
    listing = ", ".join(names) if names else "no arguments"
    return InputProblem(name, f"unknown argument; this unit takes {listing}{hint}", location)


class Coercer:
    """Validates and converts arguments by the declared types, naming every bad one at once.

    The unit's inputs (declared or inferred) are its whole contract, on every adapter: an argument
    none of them takes is an input error naming it, never a value passed on.
    """

    def __init__(self, inputs: Sequence[InputSpec], operation: str) -> None:
        self.inputs = tuple(inputs)
        self.operation = operation
        self._keys = {canonical(spec.name) for spec in self.inputs}
        self._names = frozenset(spec.name for spec in self.inputs)
        self._plan = tuple(
            (spec, canonical(spec.name), _NATIVE.get(spec.type), _FROM_TEXT.get(spec.type))
            for spec in self.inputs
        )
        self._distinct = len(self._keys) == len(self.inputs)
        self._patterns = {
            spec.name: re.compile(spec.pattern)
            for spec in self.inputs
            if spec.pattern and spec.type == "string"
        }
        # The fast path: arguments spelled exactly as inputs, every one already of its type.
        self._native = {
            spec.name: _NATIVE.get(spec.type) for spec in self.inputs if spec.name not in self._patterns
        }
        self._required = frozenset(s.name for s in self.inputs if s.required and s.default is None)
        self._defaults = tuple((s.name, s.default) for s in self.inputs if s.default is not None)

    def __call__(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        if self._distinct and self._required.issubset(arguments):
            native = self._native
            values = {}
            for name, value in arguments.items():
                if value is None or type(value) is not native.get(name, _NO_TYPE):
                    break  # absent, to convert, undeclared or pattern-checked: the full path
                values[name] = value
            else:
                for name, default in self._defaults:
                    values.setdefault(name, default)
                return values
        return self._full(arguments)

    def _full(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        problems: list[InputProblem] = []
        by_key = None
        # Every argument spelled exactly as an input: a missing input is not given under another
        # spelling either (unless two inputs share a canonical name), so no index is needed.
        exact = self._distinct and self._names.issuperset(arguments)
        for spec, key, native, from_text in self._plan:
            if spec.name in arguments:
                value = arguments[spec.name]
            elif exact:
                value = None
            else:
                if by_key is None:
                    by_key = canonical_index(arguments)
                value = by_key.get(key)
            if value is None:
                if spec.default is not None:
                    values[spec.name] = spec.default
                elif spec.required:
                    problems.append(
                        InputProblem(spec.name, f"required {spec.type or 'value'} is missing", spec.location)
                    )
                continue
            if type(value) is native and spec.name not in self._patterns:
                values[spec.name] = value  # already of the declared type
                continue
            if from_text is not None and type(value) is str:
                quick = from_text(value)  # REST path and query values arrive as text
                if quick is not _NO_TYPE:
                    values[spec.name] = quick
                    continue
            converted, problem = convert(value, spec.type)
            if (
                problem is None
                and spec.name in self._patterns
                and not self._patterns[spec.name].search(converted)
            ):
                problem = f"does not match the pattern {spec.pattern}"
            if problem is not None:
                problems.append(InputProblem(spec.name, problem, spec.location))
            else:
                values[spec.name] = converted
        if not exact:
            names, keys = self._names, self._keys
            for key in arguments:
                if key not in names and canonical(key) not in keys:
                    problems.append(unknown_problem(key, self.inputs))
        if problems:
            raise InputError(problems, self.operation)
        return values


_NO_TYPE = type("_NoType", (), {})  # matches no value's type


# Python refuses to convert longer digit strings (a guard against quadratic-time conversion); such
# a value is an argument error, not an internal one.


def _integer_text(text: str) -> Any:
    ok = text.isascii() and text.isdigit() and len(text) <= MAX_INTEGER_DIGITS
    return int(text) if ok else _NO_TYPE


def _boolean_text(text: str) -> Any:
    return {"true": True, "false": False}.get(text, _NO_TYPE)


# The common well-formed spellings converted without the general path (which also handles signs,
# spaces, exponents and reports problems).
_FROM_TEXT: dict[str | None, Callable[[str], Any]] = {
    "integer": _integer_text,
    "number": _integer_text,
    "boolean": _boolean_text,
}

_INTEGER = re.compile(r"[+-]?\d+")
MAX_INTEGER_DIGITS = 4000  # below Python's int/str conversion limit (4300): more is refused, named
# The Python type a JSON value of each declared type decodes to, when no conversion is needed.
_NATIVE: dict[str | None, type] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def convert(value: Any, kind: str | None) -> tuple[Any, str | None]:
    """``"5"`` for an integer becomes 5; a value that cannot be converted gives a reason instead."""
    if kind == "string":
        if isinstance(value, str):
            return value, None
        if isinstance(value, bool):
            return ("true" if value else "false"), None
        if isinstance(value, (int, float)):
            return (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)), None
        return value, f"expected a string, got {_kind(value)}"
    if kind == "integer":
        if isinstance(value, bool):
            return value, "expected an integer, got a boolean"
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            if len(value.strip().lstrip("+-")) > MAX_INTEGER_DIGITS:
                return value, f"integer too long (more than {MAX_INTEGER_DIGITS} digits)"
            return int(value), None
        return value, f"expected an integer, got {_kind(value)}"
    if kind == "number":
        if isinstance(value, bool):
            return value, "expected a number, got a boolean"
        if isinstance(value, (int, float)):
            return value, None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return value, f"expected a number, got {_kind(value)}"
            if not math.isfinite(number):
                return value, "expected a finite number"
            if _INTEGER.fullmatch(value.strip()):
                if len(value.strip().lstrip("+-")) > MAX_INTEGER_DIGITS:
                    return value, f"number too long (more than {MAX_INTEGER_DIGITS} digits)"
                return int(value), None
            return number, None
        return value, f"expected a number, got {_kind(value)}"
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1"), None
        return value, f"expected a boolean, got {_kind(value)}"
    if kind == "array":
        if isinstance(value, (list, tuple)):
            return list(value), None
        parsed = _json(value)
        return (
            (parsed, None) if isinstance(parsed, list) else (value, f"expected an array, got {_kind(value)}")
        )
    if kind == "object":
        if isinstance(value, dict):
            return value, None
        parsed = _json(value)
        return (
            (parsed, None) if isinstance(parsed, dict) else (value, f"expected an object, got {_kind(value)}")
        )
    return value, None


def _json(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return None


def _kind(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"{shown!r}"
    return {dict: "an object", list: "an array", bool: "a boolean"}.get(type(value), type(value).__name__)


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


def _spec(name: str, target: ParamPlan | None, *, required: bool | None = None) -> InputSpec:
    """An input that feeds ``target``; without a declared type it accepts any JSON value (a consumed
    parameter of the published spec has no ``type``, and a body field or query list must keep theirs)."""
    if target is None:
        return InputSpec(name, None, bool(required), None, None)
    return InputSpec(
        name,
        cast(ParamType | None, target.type),
        target.required if required is None else required,
        target.description,
        cast(ParamLocation, target.location) if target.location != "environment" else None,
        whole_body=target.whole_body,
    )


def _add(inputs: dict[str, InputSpec], spec: InputSpec) -> None:
    key = canonical(spec.name)
    if key not in inputs:
        inputs[key] = spec


def _optional(spec: InputSpec) -> InputSpec:
    return _replace(spec, required=False)


def _replace(spec: InputSpec, **changes: Any) -> InputSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _is_input(name: str, scope: Scope) -> bool:
    """Whether a template name is the caller's to give (the resolver's reading, as validation's)."""
    found = scope.resolve(name)
    return isinstance(found, Reference) and found.kind == "input"
