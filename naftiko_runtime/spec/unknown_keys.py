"""Keys of a loaded document that no model field reads.

The runtime ignores such a key, so the loader warns at each (a typo'd key must not vanish silently)
and ``naftiko migrate`` leaves them out of the explicit form.
"""

from __future__ import annotations

from pydantic import BaseModel

from .source import DocPath
from .walk import children, field_aliases


def unknown_keys(model: BaseModel, path: DocPath = ()) -> list[DocPath]:
    """The path of every key under ``model`` that no model field reads."""
    found: list[DocPath] = []
    _collect_unknown(model, path, found)
    return found


def _collect_unknown(model: BaseModel, path: DocPath, found: list[DocPath]) -> None:
    for key in model.model_extra or {}:
        found.append((*path, key))
    for name, alias in field_aliases(type(model)):
        value = getattr(model, name)
        if value is None or isinstance(value, (str, int, float, bool)):
            continue
        for sub_path, child in children(value, (*path, alias)):
            _collect_unknown(child, sub_path, found)
