"""``naftiko migrate``: a capability in the other spelling of the spec, meaning the same.

Naftiko 1.0.0-alpha2 and Ikanos 1.0.0-beta5 say the same things differently (:mod:`.spec.forms`).
A migration, in either direction:

1. loads the document as the runtime would (it must load: a broken document is reported, not
   guessed at) and learns from the runtime which units infer their inputs from what the dialect
   alone says (:mod:`.explicit`);
2. reads an Ikanos document into the alpha2 shape, resolves the generated dialect into the spec's
   forms there (:mod:`.spec_form`), then writes the target shape and version key.

:func:`migrate_data` works on any mapping, plain (what an importer builds) or round-trip YAML (what
:func:`migrate_file` reads, keeping comments, key order and quoting); both return the notes a user
should read: what the target spec cannot say, and was kept or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import NaftikoError, Problem
from ..spec import Document, check, check_text
from ..spec.forms import ALPHA2, IKANOS, Containers, Conversion, is_import
from ..spec.ikanos import ALPHA2_VERSION, CURRENT_IKANOS, IKANOS_VERSIONS, declared_spelling, later_features
from ..spec.unknown_keys import unknown_keys
from .explicit import explicit_inputs
from .spec_form import SpecForm
from .yaml_io import RoundTripContainers, comment_before, dump_text, load_text

TARGETS = {CURRENT_IKANOS: IKANOS, ALPHA2_VERSION: ALPHA2}
"""The versions a document can be migrated to, and their spelling."""

__all__ = ["TARGETS", "Migration", "MigrationError", "migrate_data", "migrate_file", "migrate_text"]


class MigrationError(NaftikoError):
    """The document does not load; ``problems`` are its located errors."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems) or "the document does not load")


@dataclass
class Migration:
    text: str
    notes: list[str] = field(default_factory=list)


def migrate_file(path: str | Path, to: str = CURRENT_IKANOS) -> Migration:
    """The file at ``path`` rewritten in spec version ``to``, comments and key order kept."""
    path = Path(path)
    report = check(path)
    if report.document is None:
        raise MigrationError(report.errors)
    return migrate_text(path.read_text(encoding="utf-8"), to, document=report.document)


def migrate_text(
    text: str,
    to: str = CURRENT_IKANOS,
    *,
    document: Document | None = None,
    file: str = "<text>",
    base_dir: Path | None = None,
) -> Migration:
    """YAML ``text`` rewritten in spec version ``to``, comments and key order kept; its imports and
    files resolve against ``base_dir``."""
    if document is None:
        report = check_text(text, file, base_dir=base_dir)
        if report.document is None:
            raise MigrationError(report.errors)
        document = report.document
    data = load_text(text)
    notes = migrate_data(data, to, document=document, containers=RoundTripContainers())
    return Migration(dump_text(data, like=text), notes)


def migrate_data(
    data: MutableMapping[str, Any],
    to: str = CURRENT_IKANOS,
    *,
    document: Document | None = None,
    base_dir: Path | None = None,
    containers: Containers | None = None,
) -> list[str]:
    """Rewrite ``data`` in place in spec version ``to``; return the notes.

    ``document`` is ``data`` already loaded (``migrate_file`` has it); without it ``data`` is loaded
    here, its imports and files resolved against ``base_dir``.
    """
    if to not in TARGETS:
        raise ValueError(f"cannot migrate to {to!r}: the targets are {', '.join(TARGETS)}")
    if document is None:
        report = check_text(yaml.safe_dump(_plain(data), sort_keys=False), "<data>", base_dir=base_dir)
        if report.document is None:
            raise MigrationError(report.errors)
        document = report.document
    containers = containers or Containers()
    target = TARGETS[to]
    explicit = explicit_inputs(document)
    notes = list(explicit.notes)
    spelling, _ = declared_spelling(data)
    if spelling == IKANOS:
        if target == ALPHA2:
            notes += _beta_only(data)
        Conversion(ALPHA2, containers).run(data)
    _drop_ignored(data, document, notes)
    SpecForm(data, explicit, containers, notes.append).run()
    if target == IKANOS:
        Conversion(IKANOS, containers).run(data)
    _version_key(data, "ikanos" if target == IKANOS else "naftiko", to, containers)
    if _imports(data):
        notes.append("imported entries are kept as imports: migrate the files they come from too")
    return list(dict.fromkeys(notes))


# What the reader renamed: a key of the models → how the document may spell it.
_SPELLINGS = {
    "label": ("label", "title"),
    "authentication": ("authentication", "auth"),
    "name": ("name", "id"),
    "template": ("template", "messages"),
    "value": ("value", "mapping"),
    "mapping": ("mapping", "value"),
    **{hint: (hint, f"{hint}Hint") for hint in ("readOnly", "destructive", "idempotent", "openWorld")},
}


def _drop_ignored(data: MutableMapping[str, Any], document: Document, notes: list[str]) -> None:
    """Keys no spec object has, which the runtime ignored (and warned about), leave the document;
    a scalar one stays as a comment above its neighbour."""
    for path in unknown_keys(document):
        owner: Any = data
        for part in path[:-1]:
            owner = _step(owner, part)
            if owner is None or is_import(owner):
                break
        key = path[-1]
        if not isinstance(owner, MutableMapping) or is_import(owner) or key not in owner:
            continue
        value = owner.pop(key)
        where = ".".join(str(p) for p in path)
        if isinstance(value, str | int | float | bool) and owner:
            comment_before(
                owner, next(iter(owner)), f"{key}: {value} (not in the spec; ignored by the runtime)"
            )
        notes.append(f"{where}: not in the spec and ignored by the runtime; removed")


def _step(node: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return node[part] if isinstance(node, list) and part < len(node) else None
    if not isinstance(node, Mapping):
        return None
    for spelling in _SPELLINGS.get(part, (part,)):
        if spelling in node:
            return node[spelling]
    return None


def _beta_only(data: Mapping[str, Any]) -> list[str]:
    features = sorted({feature for _, feature, _ in later_features(data, IKANOS_VERSIONS[0])})
    if not features:
        return []
    return [
        f"{', '.join(f'`{f}`' for f in features)}: no 1.0.0-alpha2 form; kept (this runtime serves them "
        "in both spellings; `validate --strict` reports them)"
    ]


def _version_key(data: MutableMapping[str, Any], key: str, version: str, containers: Containers) -> None:
    other = "naftiko" if key == "ikanos" else "ikanos"
    previous = data.get(other, data.get(key))
    if other in data:
        containers.rename(data, other, key)
    value = type(previous)(version) if isinstance(previous, str) else version
    if key in data:
        data[key] = value
    else:
        replacement = containers.mapping()
        replacement[key] = value
        for existing, item in list(data.items()):
            replacement[existing] = item
        data.clear()
        data.update(replacement)
        if hasattr(data, "insert"):  # round-trip mapping: update() appended; put the key first
            del data[key]
            data.insert(0, key, value)


def _imports(data: Mapping[str, Any]) -> bool:
    capability = data.get("capability")
    owners: list[Mapping[str, Any]] = [data, capability if isinstance(capability, Mapping) else {}]
    return any(
        isinstance(entry, Mapping) and "import" in entry
        for owner in owners
        for key in ("binds", "consumes", "exposes", "aggregates")
        for entry in (owner.get(key) or [])
        if isinstance(owner.get(key), list)
    )


def _plain(value: Any) -> Any:
    """A round-trip YAML tree as plain dicts, lists and scalars (what ``yaml.safe_dump`` writes)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value
