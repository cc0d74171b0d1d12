"""Parameter names that match across spellings.

Capability documents name the same parameter differently in different places: an exposed REST
path says ``{{prompt-id}}``, a ``with`` block says ``prompt_id``, a generated MCP tool says
``Prompt_ID``. Those are one name. :func:`canonical` is the single rule that decides it;
:func:`spellings` lists the ones a client is expected to send; :class:`Spellings` answers "which
declared name is this?" from a lookup built once (when a unit or route is built), so a request only
reads it; :class:`NameIndex` is a read-only mapping that applies the rule on lookup while keeping the
spelling the document used (so errors and upstream requests show the original key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

V = TypeVar("V")

__all__ = [
    "PATH_PLACEHOLDER",
    "NameIndex",
    "Spellings",
    "canonical",
    "canonical_index",
    "path_parts",
    "path_shape",
    "placeholder_names",
    "spellings",
]

PATH_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{([^{}/]+)\}")
"""A ``{x}`` or ``{{x}}`` placeholder in a consumed or exposed path; the name is group 1 or 2."""


def path_parts(path: str) -> list[tuple[str, str]]:
    """The one reading of a path template: ``/ships/{{imo}}/crew`` (or ``{imo}``) →
    ``[("literal", "/ships/"), ("param", "imo"), ("literal", "/crew")]``; no empty literal."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in PATH_PLACEHOLDER.finditer(path):
        if match.start() > position:
            parts.append(("literal", path[position : match.start()]))
        parts.append(("param", (match.group(1) or match.group(2)).strip()))
        position = match.end()
    if position < len(path):
        parts.append(("literal", path[position:]))
    return parts


def placeholder_names(path: str) -> tuple[str, ...]:
    """The placeholder names of a path template or URI, in order (see :func:`path_parts`)."""
    return tuple(name for kind, name in path_parts(path) if kind == "param")


def path_shape(path: str) -> str:
    """The path with its placeholders unnamed (``/ships/{}``): two paths of one shape match the same
    requests, whatever their placeholders are called."""
    return PATH_PLACEHOLDER.sub("{}", path)


def canonical(name: str) -> str:
    """The spelling-independent form of a parameter name: lower case, ``-`` read as ``_``.

    >>> canonical("Prompt-ID") == canonical("prompt_id")
    True
    """
    return name.lower().replace("-", "_")


def spellings(name: str) -> tuple[str, ...]:
    """The spellings a client is expected to send for ``name``: as declared, canonical
    (``project_subset``) and dashed (``project-subset``), each once."""
    key = canonical(name)
    return tuple(dict.fromkeys((name, key, key.replace("_", "-"))))


class Spellings:
    """Which of a set of declared names a spelling means, decided when the set is built.

    An exact name always wins; every other expected spelling (:func:`spellings`) is one dict read;
    any other case (``Project_Subset``) is matched by :func:`canonical`. Of two declared names
    sharing a spelling, the first declared wins. Built once per unit or route, read per request.
    """

    __slots__ = ("_by_canonical", "_known", "names")

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(dict.fromkeys(names))
        known = {name: name for name in self.names}
        by_canonical: dict[str, str] = {}
        for name in self.names:
            for spelling in spellings(name):
                known.setdefault(spelling, name)
            by_canonical.setdefault(canonical(name), name)
        self._known = known
        self._by_canonical = by_canonical

    def get(self, spelling: str) -> str | None:
        """The declared name ``spelling`` means, or ``None``."""
        found = self._known.get(spelling)
        if found is None:
            found = self._by_canonical.get(canonical(spelling))
        return found

    def __repr__(self) -> str:
        return f"Spellings({self.names!r})"


class NameIndex(Mapping[str, V]):
    """A read-only mapping whose lookups fall back to :func:`canonical` names.

    An exact key always wins; only when it is absent is the canonical form consulted. When two
    keys share a canonical form (``user-id`` and ``user_id`` both present), exact lookups still
    reach each of them and a canonical lookup reaches the one inserted first. Iteration yields the
    original keys in insertion order.
    """

    __slots__ = ("_by_canonical", "_data")

    def __init__(self, items: Mapping[str, V] | Iterable[tuple[str, V]] = ()) -> None:
        data: dict[str, V] = dict(items)
        by_canonical: dict[str, str] = {}
        for key in data:
            by_canonical.setdefault(canonical(key), key)
        self._data = data
        self._by_canonical = by_canonical

    def original(self, name: str) -> str | None:
        """The key as stored that ``name`` matches (exactly or canonically), or ``None``."""
        if name in self._data:
            return name
        return self._by_canonical.get(canonical(name))

    def __getitem__(self, name: str) -> V:
        try:
            return self._data[name]
        except KeyError:
            key = self._by_canonical.get(canonical(name)) if isinstance(name, str) else None
            if key is None:
                raise
            return self._data[key]

    def __contains__(self, name: object) -> bool:
        if name in self._data:
            return True
        return isinstance(name, str) and canonical(name) in self._by_canonical

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"NameIndex({self._data!r})"


_CANONICAL: dict[str, str] = {}
_CANONICAL_LIMIT = 4096  # argument names come from callers: remember a bounded number of them


def canonical_index(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` keyed by :func:`canonical` name (read-only); of two spellings of one name the last
    given wins. For values whose keys no build step could know (a consumed call's, given by any unit
    or step that calls it). Memoised: the same few names come on every request, and when they are
    all spelled canonically already, ``values`` itself is the index."""
    known = _CANONICAL
    for name in values:
        if known.get(name) != name:
            break
    else:
        return values
    out: dict[str, Any] = {}
    for name, value in values.items():
        key = known.get(name)
        if key is None:
            key = canonical(name)
            if len(known) < _CANONICAL_LIMIT:
                known[name] = key
        out[key] = value
    return out
