"""The generated document as YAML a person can read and edit: key order kept, block style, no anchors.

Multi-line descriptions are written as literal blocks (``|``) rather than quoted strings full of
``\\n``; everything else is PyYAML's safe output (libyaml when available), which quotes whatever
would otherwise read back differently (``{{VAR}}``, ``yes``, ``8080`` as text).
"""

from __future__ import annotations

from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[misc]
    def ignore_aliases(self, data: object) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(ch in value for ch in "\t\r") and value == value.strip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def to_yaml(document: dict[str, Any], *, header: str = "") -> str:
    """``document`` as YAML text, after ``header`` (each line written as a ``#`` comment)."""
    body: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body
