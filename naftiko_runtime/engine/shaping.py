"""Output shaping: the unit's ``outputParameters`` applied to the decoded answer.

Semantics (one rule for every adapter):

- no output parameters: the decoded answer as it is;
- one output parameter: its value, unwrapped;
- several: an object keyed by each parameter's ``name`` (an unnamed one is keyed by the last name
  of its JSONPath, ``$.login`` → ``login``). The reference engine returns only the first non-null
  one; that drops data the author asked for, so we do not copy it.

Within a parameter, ``mapping`` selects the source (``$`` is the root; a path that matches nothing
gives ``null``; several matches give an array) and ``properties`` / ``items`` shape it, each item's
``$`` being that element; a property with no ``mapping`` reads the field of its own name (a nested
object with properties of its own reads its parent's source). ``value`` is a static value or a
``{{...}}`` template over the inputs, and takes precedence over ``mapping`` (the schema's rule);
``const`` documents a value for schema-level checks and is not used at run time (the schema: "not
used at runtime for value injection: use 'value' instead"). A named scalar ``items`` (the one
entry of an orchestrated ``items`` list) is each element itself, or an object element's field of
that name: ``labels: [{name: label, type: string}]`` over ``["bug"]`` or ``[{"label": "bug"}]``
is ``["bug"]``.
Scalars are converted to the declared type when that loses nothing, so a published output schema
holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..expressions import compile_path, compile_template
from ..spec.models import OutputParameter

Build = Callable[[Any, Mapping[str, Any]], Any]  # (the data selected so far, the inputs) → a value

_LAST_NAME = re.compile(r"([A-Za-z0-9_-]+)['\"\]]*$")


class Shaper:
    """Compiled output parameters of one unit."""

    def __init__(self, outputs: Sequence[OutputParameter]) -> None:
        self.outputs = tuple(outputs)
        self._compiled = [_compile(o) for o in self.outputs]
        self._keys = _keys(self.outputs)
        self.passthrough = not self.outputs or _is_root(self.outputs)

    def shape(self, data: Any, inputs: Mapping[str, Any]) -> Any:
        if self.passthrough or type(data) is bytes:  # a binary answer is returned as it came
            return data
        if len(self._compiled) == 1:
            return self._compiled[0](data, inputs)
        return {key: build(data, inputs) for key, build in zip(self._keys, self._compiled, strict=True)}

    def schema(self) -> dict[str, Any] | None:
        """The JSON Schema of the shaped value, when the outputs declare a structure, or are typed
        static values (a mock unit: what it returns is fully described by its outputs)."""
        if not self.outputs:
            return None
        structured = any(o.properties or o.items for o in self.outputs)
        if not structured and not all(o.type and o.is_static for o in self.outputs):
            return None
        if len(self.outputs) == 1:
            return _schema(self.outputs[0])
        return {
            "type": "object",
            "properties": {k: _schema(o) for k, o in zip(self._keys, self.outputs, strict=True)},
            "required": list(self._keys),  # :meth:`shape` gives every key, null when nothing matched
        }


def _is_root(outputs: Sequence[OutputParameter]) -> bool:
    """One output that maps the whole answer as it is (the generated ``type: object, mapping: $.``)."""
    if len(outputs) != 1:
        return False
    o = outputs[0]
    return (
        o.mapping == "$"
        and o.type in (None, "object")
        and not o.properties
        and o.items is None
        and o.value is None
        and o.max_length is None
    )


def _is_static(output: OutputParameter) -> bool:
    if output.value is not None:
        return True
    if output.mapping is not None:
        return False
    if output.properties:
        return all(_is_static(child) for child in output.properties.values())
    if output.items is not None:
        return _is_static(output.items)
    return False


def _keys(outputs: Sequence[OutputParameter]) -> list[str]:
    keys: list[str] = []
    for index, output in enumerate(outputs):
        key = output.name
        if not key and output.mapping:
            found = _LAST_NAME.search(output.mapping)
            key = found.group(1) if found else None
        key = key or f"value{index + 1}"
        while key in keys:
            key += "_"
        keys.append(key)
    return keys


def _compile(output: OutputParameter, field: str | None = None, *, element: bool = False) -> Build:
    """``field``: the property name when ``output`` is a property of an object; ``element``: when
    ``output`` is an array's ``items``."""
    kind = output.type
    if output.value is not None:
        return _static(output.value, kind)
    select: Callable[[Any], Any] | None
    if output.mapping:
        select = compile_path(output.mapping).find
    elif element and output.name and kind in _SCALARS and not output.properties and output.items is None:
        select = _field_or_self(output.name)
    elif field is not None and not ((output.properties and kind in ("object", None)) or _is_static(output)):
        # A property with no mapping reads its parent's field of the same name (the spec form
        # ``titles: {type: array, mapping: {items: ...}}`` means the ``titles`` array); a nested
        # object with properties of its own reads the parent's source, as the reference engine does.
        # A static property (a mock array of static items) reads nothing.
        select = _field(field)
    else:
        select = None
    if output.properties:
        fields = [(name, _compile(child, name)) for name, child in output.properties.items()]

        def build_object(data: Any, inputs: Mapping[str, Any]) -> Any:
            source = select(data) if select else data
            if select and source is None:
                return None
            if isinstance(source, list) and kind == "array":
                return [{n: f(item, inputs) for n, f in fields} for item in source]
            return {name: build(source, inputs) for name, build in fields}

        return build_object
    if kind == "array" or output.items is not None:
        item = _compile(output.items, element=True) if output.items is not None else None

        static_item = output.items is not None and _is_static(output.items)

        def build_array(data: Any, inputs: Mapping[str, Any]) -> Any:
            source = select(data) if select else data
            if source is None:
                # A mock array (static items, nothing to select from) holds the one element it describes.
                return [item(None, inputs)] if static_item and item is not None and select is None else None
            if not isinstance(source, list):
                source = [source]  # one XML element, one row: still an array, as declared
            return source if item is None else [item(element, inputs) for element in source]

        return build_array
    limit = output.max_length

    def build_scalar(data: Any, _inputs: Mapping[str, Any]) -> Any:
        value = select(data) if select else data
        value = _as_type(value, kind)
        if limit is not None and isinstance(value, str):
            value = value[:limit]
        return value

    return build_scalar


def _field(name: str) -> Callable[[Any], Any]:
    def select(data: Any) -> Any:
        return data.get(name) if isinstance(data, dict) else None

    return select


def _field_or_self(name: str) -> Callable[[Any], Any]:
    def select(data: Any) -> Any:
        return data.get(name) if isinstance(data, dict) else data

    return select


_SCALARS = frozenset({"string", "number", "integer", "boolean"})


def _static(value: Any, kind: str | None) -> Build:
    if isinstance(value, str) and "{{" in value:
        template = compile_template(value)
        if template.single_variable is not None and kind not in ("string", None):
            return lambda _data, inputs: _as_type(template.render_value(inputs), kind)
        return lambda _data, inputs: _as_type(template.render(inputs), kind)
    constant = _as_type(value, kind)
    return lambda _data, _inputs: constant


def _as_type(value: Any, kind: str | None) -> Any:
    """Convert a scalar to the declared type when nothing is lost; otherwise leave it as it is."""
    if value is None or kind is None or isinstance(value, (dict, list)):
        return value
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return value
    if kind in ("number", "integer") and isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return value
        return (
            int(number) if number.is_integer() and ("." not in text and "e" not in text.lower()) else number
        )
    if kind == "boolean" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _schema(output: OutputParameter) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    if output.type:
        schema["type"] = output.type
    if output.description:
        schema["description"] = output.description
    if output.properties:
        schema["type"] = "object"
        schema["properties"] = {name: _schema(child) for name, child in output.properties.items()}
        schema["required"] = list(output.properties)  # a shaped object has every declared property
    if output.items is not None:
        schema["type"] = "array"
        schema["items"] = _schema(output.items)
    if schema.get("type") in ("string", "number", "integer", "boolean"):
        schema["type"] = [schema["type"], "null"]  # a path that matches nothing gives null
    return schema
