"""Round-trip YAML for ``naftiko migrate``: the user's comments, key order and quoting survive.

PyYAML (what the loader uses) forgets comments; ``ruamel.yaml``'s round-trip mode keeps them on its
nodes (``CommentedMap``/``CommentedSeq``), so a migrated file reads like the one the user wrote. The
structural walk of :mod:`naftiko_runtime.spec.forms` works on these nodes through
:class:`RoundTripContainers`, which moves each comment with the key or entry it belongs to.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import MutableMapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..spec.forms import Containers

_KEY_LINE = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")
_ITEM_LINE = re.compile(r"^( *)- ")
_CHILD_LINE = re.compile(r"^( *)[^\s#-]")


def round_trip() -> YAML:
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long description onto several lines
    return yaml


def load_text(text: str) -> Any:
    return round_trip().load(text)


def dump_text(data: Any, like: str = "") -> str:
    """``data`` as YAML text, indented as ``like`` (the original document) was."""
    yaml = round_trip()
    mapping, offset = indentation(like)
    yaml.indent(mapping=mapping, sequence=mapping + offset, offset=offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def indentation(text: str) -> tuple[int, int]:
    """``(mapping indent, offset of "- " under its key)`` of a YAML text; ``(2, 2)`` if it shows none."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping = offset = None
    for line, following in itertools.pairwise(lines):
        key = _KEY_LINE.match(line)
        if key is None:
            continue
        depth = len(key.group(1))
        item = _ITEM_LINE.match(following)
        if item and offset is None and len(item.group(1)) >= depth:
            offset = len(item.group(1)) - depth
        child = _CHILD_LINE.match(following)
        if child and not item and mapping is None and len(child.group(1)) > depth:
            mapping = len(child.group(1)) - depth
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


class RoundTripContainers(Containers):
    """Containers of the round-trip YAML tree; comments follow their keys and entries."""

    def mapping(self) -> MutableMapping[str, Any]:
        return CommentedMap()

    def sequence(self) -> Any:
        return CommentedSeq()

    def rename(self, owner: MutableMapping[str, Any], old: str, new: str) -> None:
        if not isinstance(owner, CommentedMap):
            super().rename(owner, old, new)
            return
        position = list(owner).index(old)
        comment = owner.ca.items.pop(old, None)
        owner.insert(position, new, owner.pop(old))
        if comment is not None:
            owner.ca.items[new] = comment

    def with_name_first(
        self, entry: MutableMapping[str, Any], key_field: str, name: Any
    ) -> MutableMapping[str, Any]:
        if not isinstance(entry, CommentedMap):
            return super().with_name_first(entry, key_field, name)
        if key_field in entry:
            del entry[key_field]
        entry.insert(0, key_field, name)
        return entry

    def moved_entry(self, source: Any, index_or_key: Any, target: Any, new_key: Any) -> None:
        comments = getattr(source, "ca", None)
        comment = comments.items.pop(index_or_key, None) if comments is not None else None
        if comment is not None and hasattr(target, "ca"):
            target.ca.items[new_key] = comment


def insert_after(owner: MutableMapping[str, Any], after: str | None, key: str, value: Any) -> None:
    """Set ``owner[key]`` right after the key ``after`` (first when ``None``), where the YAML allows."""
    if key in owner:
        owner[key] = value
        return
    if isinstance(owner, CommentedMap):
        keys = list(owner)
        position = keys.index(after) + 1 if after in keys else (0 if after is None else len(keys))
        owner.insert(position, key, value)
    else:
        owner[key] = value


def comment_before(owner: Any, key: str, text: str) -> None:
    """A comment line above ``owner[key]`` (round-trip trees only; plain mappings have no comments)."""
    if isinstance(owner, CommentedMap) and key in owner:
        column = owner.lc.col if owner.lc.col is not None else 0
        owner.yaml_set_comment_before_after_key(key, before=text, indent=column)
