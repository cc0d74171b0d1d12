"""Tool results sized for an agent's context: a result larger than its budget is cut, and says so.

An agent that asks for a list and gets 200 MB has lost its context, not gained an answer. A result
whose JSON text is longer than the budget (characters, ``--max-result-chars``) is made smaller at
clean JSON boundaries: the largest array keeps its first whole items, the largest string its first
characters, until the result fits. Nothing else changes, so ``structuredContent`` keeps its shape
(an array with fewer items, a shorter string) and stays valid against the tool's output schema.
The result then carries a note saying what was cut and how to get the rest: the tool's own paging
inputs (``page``, ``offset``, ``cursor``, ``limit``...) when it has them. Never a silent cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .jsonrpc import dumps

DEFAULT_RESULT_CHARS = 100_000
# Names of paging inputs, compared without case, ``_`` or ``-`` (``per_page``, ``pageToken``,
# ``max-results`` all match); in the order the note lists them.
PAGING_INPUTS = (
    "page",
    "pagenumber",
    "offset",
    "cursor",
    "limit",
    "perpage",
    "pagesize",
    "size",
    "skip",
    "start",
    "startindex",
    "after",
    "before",
    "pagetoken",
    "nexttoken",
    "continuationtoken",
    "marker",
    "next",
    "maxresults",
    "top",
)
_ROUNDS = 12


@dataclass(frozen=True, slots=True)
class Cut:
    value: Any
    text: str
    notes: tuple[str, ...]


def fit(value: Any, budget: int) -> Cut:
    """``value`` made to fit ``budget`` characters of JSON text, and what was cut, where."""
    notes: list[str] = []
    text = dumps(value)
    for _ in range(_ROUNDS):
        excess = len(text) - budget
        if excess <= 0:
            break
        path, node = _largest(value)
        if path is None:
            break  # nothing left to cut: numbers and empty containers only
        if isinstance(node, list):
            kept = _items_within(node, excess)
            notes.append(f"{_where(path)}: kept the first {kept} of {len(node)} items")
            value = _replace(value, path, node[:kept])
        else:
            kept = max(0, len(node) - excess - 16)
            notes.append(f"{_where(path)}: kept the first {kept} of {len(node)} characters")
            value = _replace(value, path, node[:kept])
        text = dumps(value)
    return Cut(value, text, _merge(notes))


def notice(cut: Cut, budget: int, tool: str, inputs: Iterable[str]) -> str:
    """What an agent reads after a cut result: what was cut, and how to ask for the rest."""
    plain = {name.lower().replace("-", "").replace("_", ""): name for name in inputs}
    paging = [plain[name] for name in PAGING_INPUTS if name in plain]
    what = "; ".join(cut.notes) or "the result"
    text = f"[Result cut to fit {budget} characters: {what}.]"
    if paging:
        return text + f" To get the rest, call '{tool}' again with its paging inputs: {', '.join(paging)}."
    return text + f" '{tool}' has no paging inputs: narrow the request with its other arguments."


def input_names(schema: Mapping[str, Any] | None) -> list[str]:
    """The names of a tool's inputs, from its input schema."""
    properties = (schema or {}).get("properties")
    return list(properties) if isinstance(properties, dict) else []


def _items_within(items: list[Any], excess: int) -> int:
    """How many leading items to keep so that at least ``excess`` characters go."""
    removed = 0
    kept = len(items)
    while kept > 0 and removed < excess:
        kept -= 1
        removed += len(dumps(items[kept])) + 1
    return kept


def _largest(value: Any) -> tuple[tuple[Any, ...] | None, Any]:
    """The path to the array or string that holds most of ``value``'s text (greedy descent). An
    array of one item is descended into (keeping none of one item would keep nothing), and is the
    answer only when nothing below it can be cut."""
    path: tuple[Any, ...] = ()
    node = value
    fallback: tuple[tuple[Any, ...] | None, Any] = (None, None)
    while True:
        if isinstance(node, list) and node:
            if len(node) == 1 and isinstance(node[0], (dict, list, str)) and node[0]:
                fallback = (path, node)
                path, node = (*path, 0), node[0]
                continue
            return path, node
        if isinstance(node, str) and node:
            return path, node
        if isinstance(node, dict) and node:
            key, child = max(node.items(), key=lambda item: len(dumps(item[1])))
            if not isinstance(child, (dict, list, str)) or not child:
                return fallback
            path, node = (*path, key), child
            continue
        return fallback


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy: dict[Any, Any] | list[Any] = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


def _where(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f".{key}" if str(key).isidentifier() else f"[{dumps(key)}]" for key in path)


def _merge(notes: list[str]) -> tuple[str, ...]:
    """One note per place (a place cut twice reports the first count against the final one)."""
    by_place: dict[str, str] = {}
    for note in notes:
        place, _, said = note.partition(": ")
        if place in by_place:
            total = by_place[place].rsplit(" of ", 1)[1]
            kept = said.split(" of ", 1)[0]
            said = f"{kept} of {total}"
        by_place[place] = said
    return tuple(f"{place}: {said}" for place, said in by_place.items())
