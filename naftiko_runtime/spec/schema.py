"""``validate --strict``: hold a document to the bundled official JSON schema (draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..errors import Problem
from .source import Source


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files(__package__).joinpath("naftiko-schema.json").read_text("utf-8"))
    return Draft202012Validator(schema)


def schema_problems(source: Source) -> list[Problem]:
    """One located error per schema violation, following the ``oneOf`` branch that got furthest."""
    problems = []
    for error in _validator().iter_errors(source.data):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            message = leaf.message if len(leaf.message) <= 240 else leaf.message[:237] + "..."
            problems.append(source.problem(path, f"schema: {message}", rule="schema-strict"))
    unique = {(p.line, p.column, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.column))


def _leaves(error: Any) -> list[Any]:
    """A ``oneOf``/``anyOf`` failure nests one error list per branch. The branch the author meant is
    the one whose ``type`` the node declares (an adapter with ``type: rest`` is not a failed MCP
    adapter), then the one that matched the document deepest (fewest errors on a tie)."""
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for child in error.context:
        branches.setdefault(child.relative_schema_path[0], []).append(child)
    own_type = (*error.absolute_path, "type")
    declared = [
        errs
        for errs in branches.values()
        if not any(e.validator in ("const", "enum") and tuple(e.absolute_path) == own_type for e in errs)
    ]
    candidates = declared or list(branches.values())
    best = max(candidates, key=lambda errs: (max(len(e.absolute_path) for e in errs), -len(errs)))
    return [leaf for child in best for leaf in _leaves(child)]
