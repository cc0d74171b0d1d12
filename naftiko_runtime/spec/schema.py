"""``validate --strict``: hold a document to the official JSON schema of its own spec (draft 2020-12).

Two schemas are bundled, verbatim: Naftiko 1.0.0-alpha2 (``naftiko-schema.json``) for ``naftiko:``
documents and Ikanos 1.0.0-beta5 (``ikanos-schema.json``, from naftiko/ikanos, Apache-2.0) for
``ikanos:`` ones. The Ikanos versions before beta5 differ from it by additions only, so an earlier
version is held to the beta5 schema with its version accepted, and each key it uses before its
version added it is an error.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..errors import Problem
from .ikanos import IKANOS_VERSIONS, declared_spelling, later_features
from .source import Source

_SCHEMAS = {"alpha2": "naftiko-schema.json", "ikanos": "ikanos-schema.json"}


@cache
def _validator(spelling: str) -> Any:
    from jsonschema import Draft202012Validator

    text = resources.files(__package__).joinpath(_SCHEMAS[spelling]).read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def schema_problems(source: Source) -> list[Problem]:
    """One located error per schema violation, following the ``oneOf`` branch that got furthest."""
    spelling, version = declared_spelling(source.data)
    spelling = spelling or "alpha2"
    earlier = spelling == "ikanos" and version in IKANOS_VERSIONS[:-1]
    problems = []
    for error in _validator(spelling).iter_errors(source.data):
        if earlier and tuple(error.absolute_path) == ("ikanos",) and error.validator == "const":
            continue  # an earlier Ikanos version: its additions are checked below
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            message = leaf.message if len(leaf.message) <= 240 else leaf.message[:237] + "..."
            problems.append(source.problem(path, f"schema: {message}", rule="schema-strict"))
    if earlier:
        for path, feature, since in later_features(source.data, version or ""):
            problems.append(
                source.problem(
                    path,
                    f"schema: `{feature}` is not in the Ikanos {version} schema (added in {since})",
                    rule="schema-strict",
                    key=True,
                )
            )
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
