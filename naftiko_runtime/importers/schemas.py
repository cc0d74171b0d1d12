"""OpenAPI schemas read as what an agent needs: one JSON type, and words for everything else.

A capability types a parameter with one of six JSON types; an OpenAPI schema says much more. Here a
schema (Swagger 2.0, OpenAPI 3.0 or 3.1 flavour) becomes a :class:`Shape`:

* ``$ref`` followed (:mod:`.refs`), ``allOf`` merged into one shape, ``nullable`` / ``type: [x,
  "null"]`` / a ``null`` alternative read as "may be null";
* ``oneOf`` / ``anyOf`` kept as the *widest safe* type — the one every alternative fits (all
  objects: object; integers and numbers: number; otherwise mixed scalars: string) — with every
  alternative spelled out in the description;
* properties and items stay unread until described, so a recursive schema costs nothing until an
  agent-facing text walks into it; that walk stops at a fixed depth, and a reference met again on
  its own path is cut with a note (``recursive: Node``).

:func:`Schemas.details` writes the sentences an input description carries: allowed values, format,
default, examples, bounds, and the fields of objects and arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..spec.models.base import ParamType
from .diagnostics import child
from .refs import Refs, Scope
from .text import clipped, plain

UNSET: Any = object()
DESCRIBE_DEPTH = 2
DESCRIBE_FIELDS = 15
_SCALARS = ("string", "number", "integer", "boolean")
_TYPES = (*_SCALARS, "array", "object")
_BOUNDS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("exclusiveMinimum", "greater than"),
    ("exclusiveMaximum", "less than"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "pattern"),
)


@dataclass(frozen=True, slots=True)
class Located:
    """A schema node not read yet, with the scope its references resolve in."""

    node: Any
    scope: Scope
    where: str


@dataclass
class Shape:
    """One schema, flattened."""

    type: str | None = None  # a JSON type; None: any value
    nullable: bool = False
    description: str = ""
    enum: list[Any] | None = None
    format: str | None = None
    default: Any = UNSET
    example: Any = UNSET
    bounds: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Located] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    items: Located | None = None
    free_form: bool = False  # an object that takes properties it does not name
    alternatives: list[Shape] = field(default_factory=list)
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False
    name: str | None = None  # the component it came from
    refs: tuple[str, ...] = ()
    recursive: bool = False  # cut: this reference is being described already

    @property
    def param_type(self) -> ParamType:
        """The spec's parameter type: the JSON type, or string for "any value"."""
        return self.type if self.type in _TYPES else "string"  # type: ignore[return-value]

    @property
    def is_object_with_fields(self) -> bool:
        return self.type == "object" and bool(self.properties)


class Schemas:
    """Reads and describes the schemas of one description."""

    def __init__(self, refs: Refs) -> None:
        self.refs = refs
        # A component is read at every use (the same item schema for a list, a get and a create):
        # by node, document and references being described (which decide where recursion is cut).
        # The node is kept with its shape, so that its id cannot be reused while the entry lives.
        self._shapes: dict[tuple[int, str, tuple[str, ...]], tuple[Any, Shape]] = {}

    # -- reading -----------------------------------------------------------------------------------

    def shape(self, located: Located, trail: tuple[str, ...] = ()) -> Shape:
        """The flattened shape of ``located``; ``trail`` holds the references being described.

        Shapes are shared between callers: treat them as read-only."""
        key = (id(located.node), located.scope.uri, trail)
        found = self._shapes.get(key)
        if found is None:
            found = self._shapes[key] = (located.node, self._read(located, trail))
        return found[1]

    def _read(self, located: Located, trail: tuple[str, ...]) -> Shape:
        followed = self.refs.follow(located.node, located.scope, located.where)
        if followed.refs and set(followed.refs) & set(trail):
            kind = followed.node.get("type") if isinstance(followed.node, dict) else None
            return Shape(
                type=kind if kind in _TYPES else "object",
                name=followed.name,
                refs=followed.refs,
                recursive=True,
            )
        node = followed.node if isinstance(followed.node, dict) else {}
        trail = (*trail, *followed.refs)
        shape = self._own(node, followed.scope, located.where)
        shape.name = followed.name
        shape.refs = followed.refs
        all_of = node.get("allOf")
        for index, member in enumerate(all_of if isinstance(all_of, list) else ()):
            part = self.shape(Located(member, followed.scope, child(located.where, "allOf", index)), trail)
            _merge_into(shape, part)
        for key in ("oneOf", "anyOf"):
            members = node.get(key)
            if isinstance(members, list) and members:
                self._alternatives(shape, members, followed.scope, child(located.where, key), trail)
        if shape.type is None:
            shape.type = _inferred_type(shape)
        return shape

    def _own(self, node: dict[str, Any], scope: Scope, where: str) -> Shape:
        shape = Shape(description=plain(node.get("description")) or plain(node.get("title")))
        kind = node.get("type")
        if isinstance(kind, list):
            named = [k for k in kind if k != "null"]
            shape.nullable = "null" in kind
            if len(named) == 1:
                kind = named[0]
            elif named:
                shape.alternatives = [Shape(type=_json_type(k)) for k in named]
                kind = _widest([Shape(type=_json_type(k)) for k in named])
            else:
                kind = None
        shape.type = _json_type(kind) if isinstance(kind, str) else None
        if kind == "file":  # Swagger 2.0 formData files
            shape.format = "binary"
        shape.nullable = shape.nullable or node.get("nullable") is True or node.get("x-nullable") is True
        if "const" in node:
            shape.enum = [node["const"]]
        elif isinstance(node.get("enum"), list):
            shape.enum = [v for v in node["enum"] if v is not None] or None
            shape.nullable = shape.nullable or None in node["enum"]
        if isinstance(node.get("format"), str):
            shape.format = shape.format or node["format"]
        if "default" in node and node["default"] is not None:
            shape.default = node["default"]
        examples = node.get("examples")
        if "example" in node:
            shape.example = node["example"]
        elif isinstance(examples, list) and examples:
            shape.example = examples[0]
        shape.bounds = {
            key: node[key] for key, _ in _BOUNDS if key in node and not isinstance(node[key], bool)
        }
        properties = node.get("properties")
        if isinstance(properties, dict):
            shape.properties = {
                str(name): Located(value, scope, child(where, "properties", name))
                for name, value in properties.items()
            }
        required = node.get("required")
        if isinstance(required, list):
            shape.required = [str(r) for r in required]
        additional = node.get("additionalProperties")
        shape.free_form = additional not in (None, False) or (
            shape.type == "object" and not shape.properties and additional is None
        )
        items = node.get("items")
        if isinstance(items, dict):
            shape.items = Located(items, scope, child(where, "items"))
        shape.read_only = node.get("readOnly") is True
        shape.write_only = node.get("writeOnly") is True
        shape.deprecated = node.get("deprecated") is True
        return shape

    def _alternatives(
        self, shape: Shape, members: list[Any], scope: Scope, where: str, trail: tuple[str, ...]
    ) -> None:
        options = [self.shape(Located(m, scope, child(where, i)), trail) for i, m in enumerate(members)]
        if any(o.type == "null" for o in options):
            shape.nullable = True
            options = [o for o in options if o.type != "null"]
        if len(options) == 1:
            _merge_into(shape, options[0])
            return
        shape.alternatives.extend(options)
        widest = _widest(options)
        if shape.type is None:
            shape.type = widest
        if widest == "object" and shape.type == "object":
            for option in options:  # every field any alternative names; none is required by all
                for name, value in option.properties.items():
                    shape.properties.setdefault(name, value)
                shape.free_form = shape.free_form or option.free_form

    # -- describing --------------------------------------------------------------------------------

    def details(self, shape: Shape, *, depth: int = DESCRIBE_DEPTH, trail: tuple[str, ...] = ()) -> list[str]:
        """Sentences that spell out what a value of ``shape`` may be."""
        out: list[str] = []
        if shape.deprecated:
            out.append("Deprecated.")
        if shape.alternatives:
            kinds = " | ".join(self.summary(a, depth=1, trail=trail) for a in shape.alternatives)
            out.append(f"One of: {clipped(kinds, 400)}.")
        if shape.enum:
            out.append(f"Allowed values: {_values(shape.enum)}.")
        if shape.format:
            out.append(f"Format: {shape.format}{' (file content)' if shape.format == 'binary' else ''}.")
        bounds = [_bound(key, shape.bounds[key]) for key, _ in _BOUNDS if key in shape.bounds]
        if bounds:
            out.append(f"{'; '.join(bounds).capitalize()}.")
        if shape.nullable:
            out.append("May be null.")
        if shape.default is not UNSET:
            out.append(f"Default: {rendered(shape.default)}.")
        if shape.example is not UNSET:
            out.append(f"Example: {rendered(shape.example)}.")
        if shape.type in ("object", "array") and not shape.alternatives:
            structure = self.summary(shape, depth=depth, trail=trail)
            if structure not in ("object", "array"):
                out.append(f"{structure[0].upper()}{structure[1:]}.")
        return out

    def summary(self, shape: Shape, *, depth: int, trail: tuple[str, ...] = ()) -> str:
        """A short phrase for the type: ``array of object with fields id (integer, required), …``."""
        if shape.recursive:
            return f"{shape.type or 'object'} (recursive: {shape.name or 'itself'})"
        trail = (*trail, *shape.refs)
        if shape.type == "array":
            if shape.items is None:
                return "array"
            item = self.shape(shape.items, trail)
            return f"array of {self.summary(item, depth=depth, trail=trail)}"
        if shape.type == "object":
            if not shape.properties or depth <= 0:
                return "object" + (" (any fields)" if shape.free_form and not shape.properties else "")
            fields = []
            for name, located in list(shape.properties.items())[:DESCRIBE_FIELDS]:
                member = self.shape(located, trail)
                if member.read_only:
                    continue
                kind = self.summary(member, depth=depth - 1, trail=trail)
                flags = ", required" if name in shape.required else ""
                allowed = f", one of {_values(member.enum, 6)}" if member.enum else ""
                fields.append(f"{name} ({kind}{flags}{allowed})")
            more = ", …" if len(shape.properties) > DESCRIBE_FIELDS else ""
            return f"object with fields {', '.join(fields)}{more}" if fields else "object"
        return shape.type or "any value"


def _merge_into(target: Shape, part: Shape) -> None:
    """``allOf``: ``part`` adds what ``target`` does not say yet (``target``'s own words win)."""
    if target.type is None or (target.type == "object" and part.type == "object"):
        target.type = target.type or part.type
    target.nullable = target.nullable or part.nullable
    target.description = target.description or part.description
    target.enum = target.enum or part.enum
    target.format = target.format or part.format
    if target.default is UNSET:
        target.default = part.default
    if target.example is UNSET:
        target.example = part.example
    target.bounds = {**part.bounds, **target.bounds}
    for name, value in part.properties.items():
        target.properties.setdefault(name, value)
    target.required += [r for r in part.required if r not in target.required]
    target.items = target.items or part.items
    target.free_form = target.free_form or part.free_form
    target.alternatives += part.alternatives
    target.read_only = target.read_only or part.read_only
    target.write_only = target.write_only or part.write_only
    target.deprecated = target.deprecated or part.deprecated
    target.name = target.name or part.name


def _json_type(kind: str | None) -> str | None:
    if kind == "file":
        return "string"
    return kind if kind in (*_TYPES, "null") else None


def _inferred_type(shape: Shape) -> str | None:
    if shape.properties or shape.free_form:
        return "object"
    if shape.items is not None:
        return "array"
    if shape.enum:
        kinds = {_type_of(v) for v in shape.enum}
        return kinds.pop() if len(kinds) == 1 else "string"
    return None


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _widest(options: list[Shape]) -> str:
    """The one type every alternative's values fit."""
    kinds = {o.type or "any" for o in options}
    if len(kinds) == 1 and "any" not in kinds:
        return kinds.pop()
    if kinds <= {"integer", "number"}:
        return "number"
    return "string"


def rendered(value: Any, limit: int = 160) -> str:
    """A value as an agent reads it in a description: compact JSON, clipped."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = str(value)
    return clipped(text, limit)


def _values(values: list[Any], limit: int = 30) -> str:
    shown = ", ".join(rendered(v, 60) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def _bound(key: str, value: Any) -> str:
    label = dict(_BOUNDS)[key]
    if "{}" in label:
        return label.format(value)
    if key == "pattern":
        return f"pattern {rendered(value)}"
    return f"{label} {value}"
