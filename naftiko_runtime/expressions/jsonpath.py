"""JSONPath, compiled once, with Jayway's (the Java engine's) result conventions.

Almost every path in a capability is *definite*: ``$.id``, ``$.data.user.id``,
``$.titles[0].text.content``, ``$.get-ship.assignedCrew``. Those are parsed here into a tuple of
keys and indexes and walked by hand, which is several times faster than a general engine and
lets hyphens, spaces and leading digits appear in dot names. Everything else (wildcards,
``..``, filters, slices, unions) is handed to ``jsonpath_ng.ext``.

Result conventions (Jayway, as configured by the Java engine):

* ``$``, ``$.`` and ``""`` select the root itself.
* a definite path gives the value, or ``None`` when any segment is missing or of the wrong kind;
* an indefinite path gives the list of all matches (empty when none);
* a ``.length()`` suffix gives the length of the selected list, string or object (for an
  indefinite path, the number of matches); ``None`` for anything else.

``find`` never raises; a malformed expression raises :class:`~.errors.JsonPathSyntaxError` from
:func:`compile_path`, so the loader can report it with its location. The value returned is the
data's own object, not a copy: callers must not mutate it.

Compatibility readings, all from the Java engine: ``{{$.x}}`` is ``$.x``; a path with no ``$``
(``user.id``, ``[0]``) is rooted (Jayway prepends ``$.``), as is one starting with ``@``; dot
names may contain spaces (``$.user details.email``, which Java retries as bracket notation).
Filters use jsonpath_ng's dialect: ``==``, ``!=``, ``<``, ``>``, ``=~``, ``&&``; ``||`` and ``in``
are not available.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from naftiko_runtime.expressions.errors import JsonPathSyntaxError

__all__ = ["Path", "compile_path"]

# Characters that end the fast reading of a dot name and leave the path to the general engine.
_NOT_IN_DOT_NAME: Final = frozenset("*?()@'\",]")
_FUNCTION_SUFFIX: Final = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)\s*$")
# `.name with spaces` between separators, rewritten to bracket notation on a retry (as Java does).
_SPACED_DOT_NAME: Final = re.compile(r"\.([^.\[\]()'\"]*\s[^.\[\]()'\"]*?)(?=[.\[]|$)")
_SUPPORTED_FUNCTIONS: Final = frozenset({"length"})

# A definite step: a mapping key (str) or a list index (int, negative counts from the end).
_Step = str | int


class Path:
    """A compiled JSONPath. Build with :func:`compile_path`; call :meth:`find` per document."""

    __slots__ = ("expression", "first_segment", "is_definite", "is_root")

    expression: str
    is_root: bool
    """Selects the whole document (``$``, ``$.``, empty)."""
    is_definite: bool
    """``find`` returns one value (or None), not a list of matches."""
    first_segment: str | None
    """The first key when the path starts with one (``get-ship`` for ``$.get-ship.assignedCrew``);
    orchestration reads step dependencies from it."""

    def __init__(
        self, expression: str, *, is_root: bool, is_definite: bool, first_segment: str | None
    ) -> None:
        self.expression = expression
        self.is_root = is_root
        self.is_definite = is_definite
        self.first_segment = first_segment

    def find(self, data: Any) -> Any:
        """The selected value (definite), the list of matches (indefinite), or None/[] if absent."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression!r})"


class _RootPath(Path):
    __slots__ = ()

    def find(self, data: Any) -> Any:
        return data


class _DefinitePath(Path):
    __slots__ = ("_steps",)

    def __init__(self, expression: str, steps: tuple[_Step, ...]) -> None:
        first = steps[0] if type(steps[0]) is str else None
        super().__init__(expression, is_root=False, is_definite=True, first_segment=first)
        self._steps = steps

    def find(self, data: Any) -> Any:
        value = data
        for step in self._steps:
            if type(step) is str:
                if isinstance(value, Mapping):
                    value = value.get(step)
                else:
                    return None
            elif isinstance(value, (list, tuple)):
                try:
                    value = value[step]  # type: ignore[index]  # an int: `type(step) is str` was not
                except IndexError:
                    return None
            else:
                return None
            if value is None:
                return None
        return value


class _GeneralPath(Path):
    """An indefinite path, evaluated by jsonpath_ng."""

    __slots__ = ("_compiled",)

    def __init__(self, expression: str, compiled: Any, first_segment: str | None) -> None:
        super().__init__(expression, is_root=False, is_definite=False, first_segment=first_segment)
        self._compiled = compiled

    def find(self, data: Any) -> Any:
        try:
            return [match.value for match in self._compiled.find(data)]
        except Exception:
            return []  # a path that cannot apply to this data selects nothing


class _LengthPath(Path):
    __slots__ = ("_base",)

    def __init__(self, expression: str, base: Path) -> None:
        super().__init__(expression, is_root=False, is_definite=True, first_segment=base.first_segment)
        self._base = base

    def find(self, data: Any) -> Any:
        value = self._base.find(data)
        if isinstance(value, (list, tuple, str, Mapping)):
            return len(value)
        return None


# --------------------------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------------------------


def _scan(text: str) -> tuple[list[_Step], int]:
    """Read definite steps after the leading ``$``.

    Returns the steps read and the offset where reading stopped: ``len(text)`` when the whole
    path is definite, else the start of the first segment that needs the general engine.
    """
    steps: list[_Step] = []
    length = len(text)
    i = 1
    while i < length:
        start = i
        if text[i] == ".":
            i += 1
            if i < length and text[i] == "[":  # Jayway accepts `$.['name']`
                pass
            else:
                j = i
                while j < length and text[j] not in ".[":
                    j += 1
                name = text[i:j]
                if not name or not _NOT_IN_DOT_NAME.isdisjoint(name):
                    return steps, start
                steps.append(name)
                i = j
                continue
        if i >= length or text[i] != "[":
            return steps, start
        step, end = _scan_bracket(text, i)
        if step is None:
            return steps, start
        steps.append(step)
        i = end
    return steps, length


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _scan_bracket(text: str, i: int) -> tuple[_Step | None, int]:
    """Read ``['name']``, ``["name"]`` or ``[index]`` at ``text[i] == '['``; None if it is none."""
    length = len(text)
    k = _skip_spaces(text, i + 1)
    if k >= length:
        return None, i
    step: _Step
    if text[k] in "'\"":
        quote = text[k]
        chars: list[str] = []
        k += 1
        while k < length and text[k] != quote:
            if text[k] == "\\" and k + 1 < length and text[k + 1] in (quote, "\\"):
                k += 1
            chars.append(text[k])
            k += 1
        if k >= length:
            return None, i
        step = "".join(chars)
        k += 1
    else:
        j = k + 1 if text[k] == "-" else k
        digits_start = j
        while j < length and text[j].isascii() and text[j].isdigit():
            j += 1
        if j == digits_start:
            return None, i
        step = int(text[k:j])
        k = j
    k = _skip_spaces(text, k)
    if k >= length or text[k] != "]":
        return None, i
    return step, k + 1


def _bracketed(steps: list[_Step]) -> str:
    """Steps in bracket notation, which the general engine reads for any key spelling."""
    parts = []
    for step in steps:
        if type(step) is int:
            parts.append(f"[{step}]")
        else:
            escaped = str(step).replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


def _general(expression: str, text: str, steps: list[_Step], stop: int) -> Path:
    from jsonpath_ng.ext.parser import parse  # imported on first need: most documents never need it

    first = steps[0] if steps and type(steps[0]) is str else None
    rest = text[stop:]
    candidates = ["$" + _bracketed(steps) + rest]
    respaced = _SPACED_DOT_NAME.sub(lambda m: f"['{m.group(1)}']", rest)
    if respaced != rest:
        candidates.append("$" + _bracketed(steps) + respaced)
    error: Exception | None = None
    for candidate in candidates:
        try:
            return _GeneralPath(expression, parse(candidate), first)
        except Exception as exc:
            error = error or exc
    raise JsonPathSyntaxError(expression, str(error) or type(error).__name__)


def _normalise(expression: str) -> str:
    text = expression.strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2].strip()
    if text.startswith("@"):
        text = "$" + text[1:]
    elif text and not text.startswith("$"):
        text = ("$" if text.startswith("[") else "$.") + text
    return text


def _compile(expression: str, text: str) -> Path:
    if text in ("", "$", "$."):
        return _RootPath(expression, is_root=True, is_definite=True, first_segment=None)
    function = _FUNCTION_SUFFIX.search(text)
    if function:
        name = function.group(1)
        if name not in _SUPPORTED_FUNCTIONS:
            raise JsonPathSyntaxError(expression, f"unsupported function {name}()")
        return _LengthPath(expression, _compile(expression, text[: function.start()]))
    steps, stop = _scan(text)
    if stop == len(text) and steps:
        return _DefinitePath(expression, tuple(steps))
    return _general(expression, text, steps, stop)


@lru_cache(maxsize=8192)
def compile_path(expression: str) -> Path:
    """Compile a JSONPath once (cached); raises :class:`JsonPathSyntaxError` if it is malformed."""
    if not isinstance(expression, str):
        raise JsonPathSyntaxError(repr(expression), "a JSONPath must be a string")
    return _compile(expression, _normalise(expression))
