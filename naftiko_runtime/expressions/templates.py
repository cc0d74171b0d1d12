"""The ``{{...}}`` template language, compiled once and rendered per request.

A capability writes templates in URLs (``/ships/{{imo}}``), headers, query values, auth tokens,
request bodies, mock output values and ``with`` blocks. Every one is compiled at load time into
alternating literal text and *slots*; a request only looks values up and joins strings, so no
regular expression runs at render time.

Lookup of ``{{a.b.c}}`` in a context mapping (the Java engine's JMustache contract, plus one rule):

1. the exact key ``"a.b.c"`` (flattened namespace keys such as ``"tools.name"`` hit here);
2. the longest dotted prefix that is a key, then a walk of the rest into nested mappings and
   lists (``{{fetch-profile.region}}`` reads step ``fetch-profile``'s ``region``; ``{{items.0.id}}``
   indexes a list). Hyphens are ordinary name characters;
3. the same with the first segment (or whole name) matched by :func:`~.names.canonical` spelling
   (``{{Prompt_ID}}`` finds ``prompt-id``).

Value text: strings as-is; ``true``/``false``; integers without ``.0`` and integral floats
without it too (JSON numbers decoded as ``5.0``); ``None`` as ``""``; lists and mappings as compact
JSON; objects with a ``reveal()`` method (bind secrets) as the revealed value.

Missing variables. :meth:`Template.render` has two modes and the *engine* picks per use:

* ``strict=False`` (the Java behaviour when any parameter is present): a missing name renders as
  ``""`` - fine for optional query values, headers and body fields.
* ``strict=True``: raise :class:`~.errors.MissingVariable` naming every missing name. Use it where
  an empty hole would silently change meaning, e.g. URL paths (``/ships/`` instead of
  ``/ships/IMO-1``), which Java rejects as "Unresolved template parameters in URI".

Java's quirk of returning a template *unrendered* when the parameter map is empty is not copied:
an empty context is just a context in which every name is missing.

Only plain variable tags are placeholders. Mustache sections, comments, partials and delimiter
changes (``{{#x}}``, ``{{/x}}``, ``{{^x}}``, ``{{!x}}``, ``{{>x}}``, ``{{=x=}}``, ``{{&x}}``) are
unused by Naftiko and stay literal text so that a stray one is visible rather than silently
deleted. ``{{{x}}}`` (Mustache's unescaped form) is the same as ``{{x}}``; nothing is HTML-escaped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from naftiko_runtime.expressions.errors import MissingVariable
from naftiko_runtime.expressions.names import NameIndex, canonical

__all__ = [
    "Template",
    "compile_template",
    "has_placeholders",
    "substitute",
    "to_json",
    "to_text",
]

# A variable name: anything but braces and line breaks, not starting with a Mustache sigil.
_NAME = r"[^\s{}#^/!>=&][^{}\r\n]*?"
_PLACEHOLDER: Final = re.compile(r"\{\{\{\s*(" + _NAME + r")\s*\}\}\}|\{\{\s*(" + _NAME + r")\s*\}\}")

# Prompt text: `{{arg}}` or `{arg}`, with the narrow name alphabet of prompt arguments.
_PROMPT_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}|\{([A-Za-z0-9_-]+)\}")


class _Missing:
    """Sentinel for "no such name" (distinct from a present ``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()
_FREE: Final = _Missing()  # a slot whose value comes from the render's context


# --------------------------------------------------------------------------------------------
# Value formatting
# --------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    """Make the odd values found in contexts JSON-encodable; secrets reveal themselves here."""
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return reveal()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


# Compact, UTF-8 friendly (no \uXXXX for non-ASCII), like Jackson's default writer.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _float_text(value: float) -> str:
    # Integral floats print as integers: JSON decoders hand us 5.0 for a document's 5.
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def to_text(value: Any) -> str:
    """The text a value contributes to a rendered template (see the module docstring)."""
    kind = type(value)
    if kind is str:
        text: str = value
        return text
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float_text(value)
    if isinstance(value, (dict, list, tuple, Mapping, set, frozenset)):
        return _ENCODER.encode(value)
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return to_text(reveal())
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def to_json(value: Any) -> str:
    """The JSON text of a value, as inserted outside a string literal of a JSON body.

    ``None`` is ``null``; non-finite floats (which JSON cannot carry) are ``null`` too.
    """
    kind = type(value)
    if kind is str:
        return _ENCODER.encode(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float_text(value) if math.isfinite(value) else "null"
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return to_json(reveal())
    if isinstance(value, float):
        return to_json(float(value))
    return _ENCODER.encode(value)


def _json_string_content(text: str) -> str:
    """``text`` escaped for the inside of a JSON string literal (no surrounding quotes)."""
    return _ENCODER.encode(text)[1:-1]


# --------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------

# One step of a dotted walk: the key, and the list index it denotes when it is all digits.
_Step = tuple[str, int | None]


def _step(segment: str) -> _Step:
    return segment, int(segment) if segment.isascii() and segment.isdigit() else None


def _walk(value: Any, steps: tuple[_Step, ...]) -> Any:
    for key, index in steps:
        if isinstance(value, Mapping):
            value = value.get(key, _MISSING)
            if value is _MISSING:
                return _MISSING
        elif index is not None and isinstance(value, (list, tuple)):
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


class _Slot:
    """One placeholder occurrence, with everything its lookup needs precomputed.

    ``fixed`` is the slot's value when it was fixed at compile time (:meth:`Template.fixing`), and
    ``_FREE`` when it is looked up in each render's context.
    """

    __slots__ = ("canonical_head", "canonical_name", "fixed", "in_json_string", "name", "splits")

    def __init__(self, name: str, in_json_string: bool, fixed: Any = _FREE) -> None:
        self.name = name
        self.in_json_string = in_json_string
        self.fixed = fixed
        segments = name.split(".")
        # (prefix key, steps of the rest), longest prefix first: `a.b.c` -> ("a.b", c), ("a", b.c)
        self.splits: tuple[tuple[str, tuple[_Step, ...]], ...] = tuple(
            (".".join(segments[:cut]), tuple(_step(s) for s in segments[cut:]))
            for cut in range(len(segments) - 1, 0, -1)
        )
        self.canonical_name = canonical(name)
        self.canonical_head = canonical(segments[0])


class _Resolver:
    """The slow path of a lookup, entered only after the exact key missed.

    Built at most once per render; it builds the canonical key index of the context lazily, so a
    render whose names all hit exactly never pays for it.
    """

    __slots__ = ("_context", "_index")

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = context
        self._index: dict[str, str] | None = None

    def resolve(self, slot: _Slot) -> Any:
        context = self._context
        for prefix, steps in slot.splits:
            base = context.get(prefix, _MISSING)
            if base is not _MISSING:
                value = _walk(base, steps)
                if value is not _MISSING:
                    return value
        if isinstance(context, NameIndex):
            return _MISSING  # its own lookups were canonical already
        index = self._index
        if index is None:
            index = self._index = {}
            for key in context:
                if isinstance(key, str):
                    index.setdefault(canonical(key), key)
        found = index.get(slot.canonical_name)
        if found is not None:
            return context.get(found, _MISSING)
        if slot.splits:
            head = index.get(slot.canonical_head)
            if head is not None:
                base = context.get(head, _MISSING)
                if base is not _MISSING:
                    return _walk(base, slot.splits[-1][1])
        return _MISSING


def _json_state(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool]:
    """Advance a JSON tokenizer's "inside a string literal?" state over literal template text."""
    for char in text:
        if escaped:
            escaped = False
        elif in_string:
            if char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
    return in_string, escaped


# --------------------------------------------------------------------------------------------
# Template
# --------------------------------------------------------------------------------------------


class Template:
    """A compiled template. Immutable and shareable; build one with :func:`compile_template`.

    ``_literals`` has one more item than ``_slots``; rendering interleaves them.
    """

    __slots__ = (
        "_literals",
        "_slots",
        "free_variables",
        "is_literal",
        "single_variable",
        "text",
        "variables",
    )

    text: str
    variables: tuple[str, ...]
    """Every name referenced, in first-use order, without repeats."""
    free_variables: tuple[str, ...]
    """The names a render looks up in its context: :attr:`variables` less the fixed ones."""
    is_literal: bool
    """True when the text holds no placeholder: rendering returns it unchanged."""
    single_variable: str | None
    """The name when the whole text is exactly one placeholder (``"{{crewIds}}"``), else None."""

    def __init__(self, text: str) -> None:
        literals: list[str] = []
        slots: list[_Slot] = []
        position = 0
        in_string = escaped = False
        for match in _PLACEHOLDER.finditer(text):
            literal = text[position : match.start()]
            # The JSON string state at each slot is fixed by the literal text before it, so
            # render_json knows at compile time whether a value goes inside quotes or not.
            in_string, escaped = _json_state(literal, in_string, escaped)
            escaped = False  # a pending backslash escapes the value's first character
            literals.append(literal)
            slots.append(_Slot(match.group(1) or match.group(2), in_string))
            position = match.end()
        literals.append(text[position:])

        self.text = text
        self._literals = tuple(literals)
        self._slots = tuple(slots)
        self.variables = tuple(dict.fromkeys(slot.name for slot in slots))
        self.free_variables = self.variables
        self.is_literal = not slots
        whole = len(slots) == 1 and literals[0] == "" and literals[1] == ""
        self.single_variable = slots[0].name if whole else None

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    def fixing(self, values: Mapping[str, Any]) -> Template:
        """A copy whose placeholders named in ``values`` always render those values.

        A fixed slot never consults the render's context, so no request value can stand in for it:
        this is how bind variables are filled (``{{API_KEY}}`` is the bind's value whatever
        arguments a caller sends). Returns ``self`` when ``values`` names none of the variables.
        """
        if not any(name in values for name in self.variables):
            return self
        copy = object.__new__(Template)
        copy.text = self.text
        copy._literals = self._literals
        copy._slots = tuple(
            _Slot(slot.name, slot.in_json_string, values[slot.name]) if slot.name in values else slot
            for slot in self._slots
        )
        copy.variables = self.variables
        copy.free_variables = tuple(name for name in self.variables if name not in values)
        copy.is_literal = False
        copy.single_variable = self.single_variable
        return copy

    def _values(self, context: Mapping[str, Any], strict: bool) -> list[Any]:
        """The value of every slot (``_MISSING`` where none); raises when strict and any missed."""
        values: list[Any] = []
        resolver: _Resolver | None = None
        missing = False
        for slot in self._slots:
            value = slot.fixed
            if value is not _FREE:
                values.append(value)
                continue
            value = context.get(slot.name, _MISSING)
            if value is _MISSING:
                if resolver is None:
                    resolver = _Resolver(context)
                value = resolver.resolve(slot)
                missing = missing or value is _MISSING
            values.append(value)
        if missing and strict:
            names = (slot.name for slot, value in zip(self._slots, values, strict=True) if value is _MISSING)
            raise MissingVariable(dict.fromkeys(names))
        return values

    def render(self, context: Mapping[str, Any], *, strict: bool = False) -> str:
        """Render as plain text (URLs, headers, query values, tokens, text bodies)."""
        if self.is_literal:
            return self.text
        literals = self._literals
        out = [literals[0]]
        for position, value in enumerate(self._values(context, strict), 1):
            if type(value) is str:
                out.append(value)
            elif value is not _MISSING:
                out.append(to_text(value))
            out.append(literals[position])
        return "".join(out)

    def render_json(self, context: Mapping[str, Any], *, strict: bool = False) -> str:
        """Render a JSON body template so that the result stays valid JSON.

        Inside a string literal (``"imo": "{{imo}}"``) a value is inserted JSON-escaped without
        quotes, so ``"`` or a newline in it cannot break the document. Outside one
        (``"crewIds": {{crewIds}}``) the value's JSON encoding is inserted: ``["a","b"]``, ``5``,
        ``true``, a quoted string, and ``null`` for ``None`` or a missing name - never a hole.
        """
        if self.is_literal:
            return self.text
        literals = self._literals
        out = [literals[0]]
        values = self._values(context, strict)
        for slot, value, literal in zip(self._slots, values, literals[1:], strict=True):
            if slot.in_json_string:
                if value is not _MISSING:
                    out.append(_json_string_content(to_text(value)))
            elif value is _MISSING:
                out.append("null")
            else:
                out.append(to_json(value))
            out.append(literal)
        return "".join(out)

    def render_value(self, context: Mapping[str, Any], *, strict: bool = False, default: Any = None) -> Any:
        """The typed value for a single-placeholder template, else the rendered text.

        ``with: {crewIds: "{{crewIds}}"}`` must pass the list on as a list, not as its JSON text.
        A missing name gives ``default`` (or raises when ``strict``); pass a sentinel as
        ``default`` to tell "missing" from "present but None".
        """
        if self.single_variable is None:
            return self.render(context, strict=strict)
        slot = self._slots[0]
        if slot.fixed is not _FREE:
            return slot.fixed
        value = context.get(slot.name, _MISSING)
        if value is _MISSING:
            value = _Resolver(context).resolve(slot)
            if value is _MISSING:
                if strict:
                    raise MissingVariable([slot.name])
                return default
        return value


@lru_cache(maxsize=8192)
def compile_template(text: str) -> Template:
    """Compile ``text`` once; the same text always yields the same shared :class:`Template`."""
    return Template(text)


def has_placeholders(text: str) -> bool:
    """Whether ``text`` holds at least one ``{{name}}`` placeholder."""
    return "{{" in text and _PLACEHOLDER.search(text) is not None


# --------------------------------------------------------------------------------------------
# Prompt text
# --------------------------------------------------------------------------------------------


def substitute(text: str | None, arguments: Mapping[str, Any] | None) -> str:
    """Fill MCP prompt text: ``{{arg}}`` and ``{arg}`` both take the argument's value.

    One pass over the *template*: an inserted value is never scanned again, so an argument
    ``"Hi {{admin}} there"`` stays literally that, and ``$`` or ``\\`` in a value are plain text.
    Placeholders naming no argument are left as written, so a missing optional argument is
    visible. Names match exactly first, then by canonical spelling.
    """
    if not text:
        return ""
    if not arguments or "{" not in text:
        return text
    index = arguments if isinstance(arguments, NameIndex) else NameIndex(arguments)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in index:
            return to_text(index[name])
        return match.group(0)

    return _PROMPT_PLACEHOLDER.sub(replace, text)
