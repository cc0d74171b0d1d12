"""Walking the typed document: every spec model with its path (``capability.exposes[0]...``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from .models import SpecModel
from .source import DocPath

_FIELD_ALIASES: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}


def field_aliases(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """``(attribute, key in the document)`` of each field of a model class, looked up once per class."""
    found = _FIELD_ALIASES.get(model)
    if found is None:
        found = _FIELD_ALIASES[model] = tuple(
            (name, info.alias or name) for name, info in model.model_fields.items()
        )
    return found


def children(value: Any, path: DocPath, *, with_values: bool = False) -> Iterator[tuple[DocPath, BaseModel]]:
    """The models directly in a field's value. A ``with`` value (a model with a ``kind``) is a child
    only when ``with_values`` is set: it has no keys of its own to report."""
    if isinstance(value, SpecModel):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            if isinstance(item, SpecModel):
                yield (*path, index), item
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, SpecModel) and (with_values or getattr(item, "kind", None) is None):
                yield (*path, key), item


def models(model: BaseModel, path: DocPath = ()) -> Iterator[tuple[DocPath, BaseModel]]:
    """Every model in the document (``with`` values included) with its path, parents first."""
    yield path, model
    for name, alias in field_aliases(type(model)):
        for child_path, child in children(getattr(model, name), (*path, alias), with_values=True):
            yield from models(child, child_path)
