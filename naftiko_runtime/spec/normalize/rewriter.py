"""What every rewrite of the tolerant reader shares: the file's problems, the tally of dialect forms
met, renaming a key with its recorded positions, and the small rewrites of values (text fields,
JSONPath, parameter types, HTTP methods, operation names) that several parts of a document need.
"""

from __future__ import annotations

from typing import Any

from ...errors import Problem
from ..source import DocPath, Source
from .vocabulary import DIALECT_TEXT, PARAM_TYPES, WRAPPED_PATH

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class Rewriter:
    """Rewrites ``source.data`` in place, one part at a time; collects problems (errors and warnings)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self._dialect: dict[str, tuple[int, DocPath]] = {}

    # -- reporting ---------------------------------------------------------------------------------

    def error(self, path: DocPath, message: str, rule: str, *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, rule=rule, key=key))

    def warn(self, path: DocPath, message: str, rule: str = "schema", *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, severity="warning", rule=rule, key=key))

    def dialect(self, form: str, path: DocPath) -> None:
        """Count a use of a dialect form; :meth:`report_dialect` warns once per form."""
        count, first = self._dialect.get(form, (0, path))
        self._dialect[form] = (count + 1, first)

    def report_dialect(self) -> None:
        for form, (count, first) in self._dialect.items():
            places = "1 place" if count == 1 else f"{count} places"
            self.warn(
                first,
                f"generated dialect: {DIALECT_TEXT[form]} ({places}); accepted",
                rule=f"dialect:{form}",
                key=True,
            )

    def rename(self, mapping: dict[str, Any], path: DocPath, old: str, new: str) -> None:
        """Move ``mapping[old]`` to ``mapping[new]``, carrying its recorded positions along."""
        mapping[new] = mapping.pop(old)
        old_path, new_path = (*path, old), (*path, new)
        for table in (self.source.value_positions, self.source.key_positions):
            moved = {k: v for k, v in table.items() if k[: len(old_path)] == old_path}
            for k, v in moved.items():
                table.setdefault((*new_path, *k[len(old_path) :]), v)

    # -- small shared rewrites ---------------------------------------------------------------------

    def jsonpath(self, text: str, path: DocPath) -> str:
        """A JSONPath as the engine reads it: unwrapped from `{{ }}`, `$.` read as the root."""
        text = text.strip()
        wrapped = WRAPPED_PATH.fullmatch(text)
        if wrapped:
            self.dialect("wrapped-jsonpath", path)
            text = wrapped.group(1).strip()
        if text == "$.":
            return "$"  # the root, as the framework's own tutorials write it
        return text

    def operation_id(self, operation: dict[str, Any], path: DocPath) -> None:
        """An operation's `id` read as its `name`; an operation-level `path` counted as dialect."""
        if "name" not in operation and "id" in operation:
            self.dialect("operation-id", (*path, "id"))
            self.rename(operation, path, "id", "name")
        if "path" in operation:
            self.dialect("operation-path", (*path, "path"))

    def method(self, owner: dict[str, Any], path: DocPath) -> None:
        """The HTTP method in upper case; none means GET, an unknown one is read as GET with a warning."""
        method = owner.get("method")
        if method is None:
            owner["method"] = "GET"
            return
        upper = str(method).strip().upper()
        if upper != method:
            self.dialect("method-case", (*path, "method"))
        if upper not in _METHODS:
            self.warn((*path, "method"), f"unknown HTTP method {method!r}; read as GET", rule="schema")
            upper = "GET"
        owner["method"] = upper

    def param_type(self, param: dict[str, Any], path: DocPath) -> None:
        """A parameter's `type` in the spec's JSON type names; an unknown one is read as string."""
        declared = param.get("type")
        if declared is None:
            return
        canonical = PARAM_TYPES.get(str(declared).strip().lower())
        if canonical is None:
            self.warn((*path, "type"), f"unknown type {declared!r}; read as string", rule="schema")
            canonical = "string"
        elif canonical != declared:
            self.dialect("param-type-alias", (*path, "type"))
        param["type"] = canonical

    def stringify(self, owner: dict[str, Any], path: DocPath, keys: tuple[str, ...]) -> None:
        """YAML turns `version: 1.0` or `name: 404` into numbers; text fields take them back as text."""
        for key in keys:
            value = owner.get(key)
            if value is not None and not isinstance(value, str) and not isinstance(value, (dict, list)):
                owner[key] = "true" if value is True else "false" if value is False else str(value)


def items(value: Any) -> list[Any]:
    """The entries of a list-valued key; anything else (a typo'd scalar or mapping) has none here, and
    the model reports it with its place."""
    return value if isinstance(value, list) else []
