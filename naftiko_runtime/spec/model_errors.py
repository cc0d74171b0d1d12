"""pydantic's validation errors said in the document's terms: its paths, its keys, one message a place.

pydantic's error locations carry labels that are no keys of the document (the tag of a discriminated
union, the member of a plain union), and a value matching no member of a plain union is reported once
per member. Here each error is mapped back onto the document and said the way an author reads it.
"""

from __future__ import annotations

from typing import Any

from .source import DocPath


def model_errors(data: Any, errors: list[Any]) -> list[tuple[DocPath, str, bool]]:
    """pydantic's errors as ``(path, message, missing)``, one per place.

    A value matching no member of a plain union (``logs: bool | {...}``) is reported once per member;
    only the members whose errors reach deepest into the document are kept (the one the author
    evidently meant), and what remains at one place is said in one message.
    """
    located = [(error, *_data_path(data, error["loc"])) for error in errors]
    deepest: dict[tuple[Any, ...], int] = {}
    for _, path, branch in located:
        if branch is not None:
            site = branch[:-1]
            deepest[site] = max(deepest.get(site, 0), len(path))
    merged: dict[DocPath, tuple[list[str], bool]] = {}
    for error, path, branch in located:
        if branch is not None and len(path) < deepest[branch[:-1]]:
            continue
        messages, _ = merged.setdefault(path, ([], error["type"] == "missing"))
        message = _describe(error)
        if message not in messages:
            messages.append(message)
    return [(path, " or ".join(messages), missing) for path, (messages, missing) in merged.items()]


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[DocPath, tuple[Any, ...] | None]:
    """Map a pydantic error location onto the document.

    pydantic inserts labels into locations: the tag of a discriminated union (``rest``, ``apikey``,
    ``call``…, which is the node's own ``type``/``kind`` value; at most once per node, since a step
    ``{type: call, call: …}`` has a key named like its tag) and the member of a plain union (``bool``,
    ``ControlLogs``, ``dict[str,any]``…). Labels are not keys of the document and are dropped; the
    location up to the first plain-union member is returned too, to tell that member's errors apart.
    """
    path: list[str | int] = []
    branch: tuple[Any, ...] | None = None
    node = data
    tag_open = True
    for index, part in enumerate(loc):
        if isinstance(node, list) and isinstance(part, int):
            path.append(part)
            node = node[part] if part < len(node) else None
            tag_open = True
        elif isinstance(node, dict) and tag_open and part in (node.get("type"), node.get("kind")):
            tag_open = False
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
            tag_open = True
        elif isinstance(part, str) and _is_member_label(part):
            branch = branch or tuple(loc[: index + 1])
        elif isinstance(node, dict):
            path.append(part)  # a missing key
            node = None
        else:
            break
    return tuple(path), branch


_PLAIN_TYPES = frozenset({"str", "int", "float", "bool", "none", "dict", "list", "tuple", "any"})


def _is_member_label(part: str) -> bool:
    """``bool``, ``dict[str,any]``, ``function-after[...]``, ``ControlLogs``: never a document key (the
    spec's keys are camelCase and start in lower case)."""
    return "[" in part or part in _PLAIN_TYPES or part[:1].isupper()


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    if kind == "literal_error":
        return f"{error['msg'].replace('Input should be', 'expected')}, got {given!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_kind(given)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_kind(given)}"
    if kind == "value_error":  # a model's own check: its message says what is wrong with the value
        return str(error.get("ctx", {}).get("error") or error["msg"])
    if kind == "union_tag_invalid":
        context = error.get("ctx", {})
        return f"unknown `type` {context.get('tag')!r} (expected {context.get('expected_tags')})"
    message = error["msg"].replace("Input should be", "expected")
    return f"{message}, got {given!r}" if not isinstance(given, (dict, list)) else message


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return type(value).__name__ if value is not None else "nothing"
