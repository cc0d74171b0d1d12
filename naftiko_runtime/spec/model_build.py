"""Typing the normalised data into the models, reporting every entry they refuse at once.

A list entry the models refuse is reported, then set aside so the rest of the document is still
checked: an author sees every problem of a file in one run, not one per run. Setting entries aside
shifts list indexes, so the result carries the way back to the paths the author wrote.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import Problem
from .locator import Locator
from .model_errors import model_errors
from .models import Document
from .source import DocPath

_PRUNE_ROUNDS = 4


@dataclass
class Built:
    """The document (``None`` when the models refuse it), the data they read, and the problems."""

    document: Document | None
    data: dict[str, Any]
    original: Callable[[DocPath], DocPath]  # a path in ``data`` → the path the author wrote
    problems: list[Problem]


def build_document(data: dict[str, Any], locator: Locator) -> Built:
    """Validate ``data`` into a :class:`Document`, setting refused list entries aside and retrying."""
    problems: list[Problem] = []
    pruned = _Pruned(data)
    for _ in range(_PRUNE_ROUNDS):
        try:
            document = Document.model_validate(pruned.data)
        except ValidationError as exc:
            failed: list[DocPath] = []
            for path, message, missing in model_errors(pruned.data, exc.errors()):
                problems.append(
                    locator.problem(pruned.original(path), message, rule="schema-type", key=missing)
                )
                failed.append(path)
            if not pruned.drop(failed):
                return Built(None, data, pruned.original, problems)
            continue
        return Built(document, pruned.data, pruned.original, problems)
    return Built(None, data, pruned.original, problems)


class _Pruned:
    """The document with refused list entries removed, and the way back to original paths."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._removed: dict[DocPath, list[int]] = {}  # list path → original indexes removed

    def drop(self, failed: list[DocPath]) -> bool:
        """Remove the innermost list entry holding each failure; False if one is outside any list."""
        targets: dict[DocPath, set[int]] = {}
        for path in failed:
            positions = [(i, part) for i, part in enumerate(path) if isinstance(part, int)]
            if not positions:
                return False
            cut, entry = positions[-1]
            targets.setdefault(path[:cut], set()).add(entry)
        removed_entries = {(*list_path, index) for list_path, indexes in targets.items() for index in indexes}
        # An entry inside one that goes anyway needs no removal of its own.
        targets = {
            list_path: indexes
            for list_path, indexes in targets.items()
            if not any(list_path[:n] in removed_entries for n in range(1, len(list_path) + 1))
        }
        if self.data is not None and targets:
            self.data = copy.deepcopy(self.data)
        # Innermost lists first: removing an entry never shifts the path of a list inside another.
        for list_path, indexes in sorted(targets.items(), key=lambda item: -len(item[0])):
            holder: Any = self.data
            for part in list_path:
                holder = holder[part]
            original_list = self.original(list_path)
            for index in sorted(indexes, reverse=True):
                self._removed.setdefault(original_list, []).append(self._original_index(original_list, index))
                del holder[index]
        return True

    def _original_index(self, original_list: DocPath, index: int) -> int:
        for removed in sorted(self._removed.get(original_list, [])):
            if removed <= index:
                index += 1
        return index

    def original(self, path: DocPath) -> DocPath:
        if not self._removed:
            return path
        out: list[str | int] = []
        for part in path:
            if isinstance(part, int):
                part = self._original_index(tuple(out), part)
            out.append(part)
        return tuple(out)
