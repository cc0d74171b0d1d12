"""The units of a document for the tolerant reader: operations, tools, functions, resources and prompt
messages, with their `with` values, steps and outputs.

A `with` value is read into its kind here (a static value, a template, a JSONPath, or a reference to
the unit's own input), which needs to know which prefixes name the unit's input: :class:`UnitContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..forms import step_type
from ..source import DocPath
from .rewriter import Rewriter
from .vocabulary import DIALECT_REF_PREFIXES, PARAM_TYPES, REFERENCE, WRAPPED_PATH


@dataclass
class UnitContext:
    """What a `with` value may refer to: namespaces whose `ns.x` means the unit's input `x`."""

    reference_prefixes: frozenset[str]
    own_namespace: str | None


def unit_context(namespaces: frozenset[str], own: Any) -> UnitContext:
    """The context of the units of the adapter or aggregate named ``own``, among all ``namespaces``
    of exposes and aggregates."""
    prefixes = DIALECT_REF_PREFIXES | namespaces
    return UnitContext(
        reference_prefixes=prefixes | ({str(own)} if own else set()),
        own_namespace=str(own) if own else None,
    )


def rewrite_unit(rw: Rewriter, unit: dict[str, Any], path: DocPath, context: UnitContext) -> None:
    """A unit's text fields, `with` values, steps, mappings and outputs."""
    rw.stringify(unit, path, ("name", "label", "description", "call", "ref"))
    for key in ("call", "ref"):
        if isinstance(unit.get(key), str):
            unit[key] = unit[key].strip()
    if "with" in unit:
        unit["with"] = _with(rw, unit["with"], (*path, "with"), context)
    steps = unit.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            _step(rw, step, (*path, "steps", index), context)
    mappings = unit.get("mappings")
    for index, mapping in enumerate(mappings if isinstance(mappings, list) else []):
        if isinstance(mapping, dict) and isinstance(mapping.get("value"), str):
            mapping["value"] = rw.jsonpath(mapping["value"], (*path, "mappings", index, "value"))
    outputs = unit.get("outputParameters")
    # The spec types outputs by the unit's mode: named orchestrated outputs (with `items` as a
    # list) under `steps`; a `ref` takes any; mapped outputs otherwise.
    orchestrated = bool(unit.get("steps")) or "ref" in unit
    for index, output in enumerate(outputs if isinstance(outputs, list) else []):
        if isinstance(output, dict):
            _output(rw, output, (*path, "outputParameters", index), orchestrated)


def _with(rw: Rewriter, raw: Any, path: DocPath, context: UnitContext) -> dict[str, Any]:
    if not isinstance(raw, dict):
        if raw is not None:
            rw.warn(path, "`with` must be a mapping of parameter names to values; ignored", rule="type")
        return {}
    return {str(key): _with_value(rw, value, (*path, str(key)), context) for key, value in raw.items()}


def _with_value(rw: Rewriter, value: Any, path: DocPath, context: UnitContext) -> dict[str, Any]:
    if not isinstance(value, str):
        return {"kind": "static", "value": value}
    text = value.strip()
    wrapped = WRAPPED_PATH.fullmatch(text)
    if wrapped:
        return {"kind": "path", "path": rw.jsonpath(text, path)}
    if "{{" in text:
        return {"kind": "template", "template": value}
    if text == "$" or text.startswith(("$.", "$[")):
        return {"kind": "path", "path": rw.jsonpath(text, path)}
    ref = REFERENCE.fullmatch(text)
    if ref and ref["prefix"] in context.reference_prefixes:
        if ref["prefix"] != context.own_namespace and ref["prefix"] in DIALECT_REF_PREFIXES:
            rw.dialect("with-dialect-prefix", path)
        return {"kind": "input", "name": ref["name"]}
    return {"kind": "static", "value": value}


def _step(rw: Rewriter, step: dict[str, Any], path: DocPath, context: UnitContext) -> None:
    if "type" not in step:
        inferred = step_type(step)
        if inferred:
            step["type"] = inferred
            rw.warn(path, f"step has no `type`; read as `{inferred}`", rule="schema")
    elif isinstance(step["type"], str):
        step["type"] = step["type"].strip().lower()
    rw.stringify(step, path, ("name", "call", "index", "match", "lookupValue", "file"))
    if "with" in step:
        step["with"] = _with(rw, step["with"], (*path, "with"), context)
    if isinstance(step.get("outputParameters"), list):
        step["outputParameters"] = [
            p.get("name") if isinstance(p, dict) else str(p) for p in step["outputParameters"]
        ]


def _output(rw: Rewriter, output: dict[str, Any], path: DocPath, orchestrated: bool = False) -> None:
    mapping = output.get("mapping")
    if isinstance(mapping, dict):
        rw.dialect("mapping-object", (*path, "mapping"))
        inner = output.pop("mapping")
        for key in ("properties", "items", "type", "mapping"):
            if key in inner and key not in output:
                output[key] = inner[key]
        mapping = output.get("mapping")
    if isinstance(mapping, str):
        output["mapping"] = rw.jsonpath(mapping, (*path, "mapping"))
    value = output.get("value")
    if isinstance(value, str) and "mapping" not in output:
        stripped = value.strip()
        if stripped.startswith("$") or WRAPPED_PATH.fullmatch(stripped):
            rw.rename(output, path, "value", "mapping")
            output["mapping"] = rw.jsonpath(stripped, (*path, "mapping"))
    rw.param_type(output, path)
    properties = output.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            if isinstance(child, dict):
                _output(rw, child, (*path, "properties", name), orchestrated)
            elif isinstance(child, str):
                properties[name] = {"mapping": rw.jsonpath(child, (*path, "properties", name))}
    items = output.get("items")
    if isinstance(items, list):
        if not orchestrated:
            rw.dialect("mapped-items-list", (*path, "items"))
        named = [i for i in items if isinstance(i, dict)]
        if len(named) == 1 and (not named[0].get("name") or _describes_element(named[0])):
            # One entry describes the element itself (the spec requires it to have a name):
            # `labels: {type: array, items: [{name: label, type: string}]}` is an array of
            # strings. Several entries are the fields of an object element.
            output["items"] = named[0]
        else:
            output["items"] = {
                "type": "object",
                "properties": {str(i.get("name")): i for i in named if i.get("name")},
            }
        items = output["items"]
    if isinstance(items, dict):
        _output(rw, items, (*path, "items"), orchestrated)
    if output.get("type") is None:
        if isinstance(output.get("properties"), dict):
            output["type"] = "object"
        elif isinstance(output.get("items"), dict):
            output["type"] = "array"


def rewrite_tool_params(rw: Rewriter, unit: dict[str, Any], path: DocPath) -> None:
    """The `inputParameters` an MCP tool or an aggregate function declares for itself."""
    params = unit.get("inputParameters")
    for index, param in enumerate(params if isinstance(params, list) else []):
        if isinstance(param, dict):
            rw.stringify(param, (*path, "inputParameters", index), ("name", "description"))
            rw.param_type(param, (*path, "inputParameters", index))


def _describes_element(entry: dict[str, Any]) -> bool:
    """A lone ``items`` entry that is a scalar, or carries its own structure, is the element."""
    kind = PARAM_TYPES.get(str(entry.get("type")).strip().lower())
    return kind in _SCALAR_TYPES or "properties" in entry or "items" in entry


_SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean"})
