"""Arguments checked against a unit's inputs: converted to the declared types, every bad one named.

The unit's inputs (declared or inferred) are its whole contract, on every adapter: an argument none
of them takes is an input error naming it, never a value passed on. Which input an argument's name
means (``project-subset`` for ``project_subset``) is decided when the unit is built
(:class:`~naftiko_runtime.expressions.names.Spellings`); a request only reads that lookup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from ..errors import InputError, InputProblem
from ..expressions.names import Spellings
from ..spec.variables import closest_name
from .contract import InputSpec


def unknown_arguments(inputs: Sequence[InputSpec], names: Iterable[str]) -> list[str]:
    """The argument names no input of the unit takes (any expected spelling of an input is one)."""
    known = Spellings(spec.name for spec in inputs)
    return [name for name in names if known.get(name) is None]


def unknown_problem(name: str, inputs: Sequence[InputSpec], location: str | None = None) -> InputProblem:
    """The input problem of an argument the unit does not take: its inputs listed, the closest named."""
    names = [spec.name for spec in inputs]
    close = closest_name(name, names)
    hint = f" (did you mean {close!r}?)" if close else ""
    listing = ", ".join(names) if names else "no arguments"
    return InputProblem(name, f"unknown argument; this unit takes {listing}{hint}", location)


class Coercer:
    """Validates and converts arguments by the declared types, naming every bad one at once."""

    def __init__(self, inputs: Sequence[InputSpec], operation: str) -> None:
        self.inputs = tuple(inputs)
        self.operation = operation
        self._names = frozenset(spec.name for spec in self.inputs)
        # Which input each argument name means, decided here: a request only reads it.
        self._spellings = Spellings(spec.name for spec in self.inputs)
        self._plan = tuple(
            (spec, "path" if spec.in_path else None, _NATIVE.get(spec.type), _FROM_TEXT.get(spec.type))
            for spec in self.inputs
        )
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
        if self._required.issubset(arguments):
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
        given = arguments
        unknown: list[str] = []
        if not self._names.issuperset(arguments):
            # Some argument is spelled otherwise than its input (or is none): each name is looked up
            # once. The exact spelling wins over another; of two other spellings, the last given.
            given = {}
            resolve = self._spellings.get
            for key, value in arguments.items():
                name = resolve(key)
                if name is None:
                    unknown.append(key)
                elif key == name or name not in arguments:
                    given[name] = value
        for spec, location, native, from_text in self._plan:
            value = given.get(spec.name)
            if value is None:
                if spec.default is not None:
                    values[spec.name] = spec.default
                elif spec.required:
                    problems.append(
                        InputProblem(spec.name, f"required {spec.type or 'value'} is missing", location)
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
                problems.append(InputProblem(spec.name, problem, location))
            else:
                values[spec.name] = converted
        problems += [unknown_problem(key, self.inputs) for key in unknown]
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
