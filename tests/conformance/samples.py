"""Type-correct sample values from JSON Schema, for calling units whose inputs we only know by schema.

The corpus runner calls every REST operation and MCP tool once; its arguments come from the
adapter's own description (``/openapi.json`` parameters and request bodies, MCP ``inputSchema``).
Values are deliberately plain and recognisable — integer 1, number 1.5, boolean true, string
``"abc"`` — and honour ``enum``/``const``, ``pattern``, ``format`` and numeric bounds where present.
:class:`NoSample` says why a schema has no value we can make (a pattern nothing simple matches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

STRING = "abc"
INTEGER = 1
NUMBER = 1.5

# Tried in order against a `pattern`; the first that matches is used.
_PATTERN_CANDIDATES = (
    STRING,
    "1",
    "abc1",
    "ABC",
    "a",
    "a-b",
    "abc_def",
    "abc.def",
    "A1",
    "AB12",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "00000000-0000-4000-8000-000000000001",
    "a@example.com",
    "https://example.com",
    "123456",
    "abc123",
    "us-east-1",
    "v1",
)

_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "a@example.com",
    "idn-email": "a@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "iri": "https://example.com",
    "uri-reference": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
    "byte": "YWJj",
    "int32": "1",
    "int64": "1",
}


class NoSample(ValueError):
    """No value can be generated for this schema (the message says which constraint)."""


def sample(schema: Mapping[str, Any] | None, *, name: str = "value") -> Any:
    """A value valid for ``schema``: every property filled, required or optional."""
    schema = schema or {}
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if enum:
        return next((v for v in enum if v is not None), enum[0])
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if options:
            return sample(_first_not_null(options), name=name)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged = _merge(merged, part)
        return sample(_merge(merged, {k: v for k, v in schema.items() if k != "allOf"}), name=name)
    kind = _type(schema)
    if kind == "integer":
        return _bounded(schema, INTEGER, integer=True)
    if kind == "number":
        return _bounded(schema, NUMBER, integer=False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        count = max(1, int(schema.get("minItems") or 1))
        return [sample(schema.get("items"), name=name) for _ in range(count)]
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: sample(value, name=key) for key, value in properties.items()}
    return _string(schema, name)


def _type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None and "properties" in schema:
        return "object"
    if kind is None and "items" in schema:
        return "array"
    return kind


def _first_not_null(options: list[Any]) -> Mapping[str, Any]:
    for option in options:
        if isinstance(option, Mapping) and option.get("type") != "null":
            return option
    return options[0] if options else {}


def _merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        if key == "properties" and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        elif key == "required" and isinstance(out.get(key), list):
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def _bounded(schema: Mapping[str, Any], preferred: float, *, integer: bool) -> int | float:
    value: float = preferred
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(low, int | float) and value < low:
        value = low
    if isinstance(xlow, int | float) and not isinstance(xlow, bool) and value <= xlow:
        value = xlow + 1
    if isinstance(high, int | float) and value > high:
        value = high
    if isinstance(xhigh, int | float) and not isinstance(xhigh, bool) and value >= xhigh:
        value = xhigh - 1
    return int(value) if integer else value


def _string(schema: Mapping[str, Any], name: str) -> str:
    pattern = schema.get("pattern")
    fmt = schema.get("format")
    candidates = [_FORMATS[fmt]] if fmt in _FORMATS else []
    candidates.append(STRING)
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise NoSample(f"{name}: pattern {pattern!r} does not compile ({exc})") from None
        for candidate in (*candidates, *_PATTERN_CANDIDATES):
            if regex.search(candidate) and _length_ok(schema, candidate):
                return candidate
        raise NoSample(f"{name}: no sample value matches pattern {pattern!r}")
    value = candidates[0]
    low = schema.get("minLength")
    if isinstance(low, int) and len(value) < low:
        value = value + "a" * (low - len(value))
    high = schema.get("maxLength")
    if isinstance(high, int) and len(value) > high:
        value = value[: max(high, 1)]
    return value


def _length_ok(schema: Mapping[str, Any], value: str) -> bool:
    low, high = schema.get("minLength"), schema.get("maxLength")
    too_short = isinstance(low, int) and len(value) < low
    too_long = isinstance(high, int) and len(value) > high
    return not too_short and not too_long
