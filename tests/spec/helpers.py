"""Shared helpers for the spec tests: where the corpus and the seed live, and small documents.

The repository is checked out as a sibling of ``shared/`` (locally and in CI), so the corpus, the
conformance suite and the seed are found at ``<repo>/../shared``. Tests that need them skip with a
clear reason when that folder is absent.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from naftiko_runtime.errors import Problem
from naftiko_runtime.spec import Document, LoadReport, check_text

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
CORPUS = SHARED / "corpus"
CONFORMANCE = SHARED / "conformance"
SEED_TEXT = SHARED / "seed" / "000_2d2b381d82836848.txt"
SEED = REPO / "capabilities" / "label-studio-runs.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

NO_SHARED = f"{SHARED} is absent: the corpus, conformance suite and seed live beside the repository"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
needs_seed_text = pytest.mark.skipif(not SEED_TEXT.is_file(), reason=f"{SEED_TEXT} is absent")

# Rules that describe the whole file rather than a node in it: their problems carry no path.
DOCUMENT_LEVEL_RULES = frozenset({"not-naftiko", "yaml-syntax", "file"})

# The consumed API most small documents below call: namespace `api`, two operations.
API = """\
consumes:
- type: http
  namespace: api
  baseUri: https://api.example.com
  resources:
  - name: items
    path: /items
    operations:
    - name: list-items
      method: GET
    - name: get-item
      method: GET
"""


def document(
    *,
    exposes: str = "",
    consumes: str = API,
    aggregates: str = "",
    binds: str = "",
    head: str = "naftiko: 1.0.0-alpha2\n",
) -> str:
    """A capability document assembled from YAML pieces written at their own indentation.

    ``exposes`` and ``aggregates`` are the list items (without the key); ``consumes`` is the whole
    ``consumes:`` block; ``binds`` goes at the root, where the spec puts it.
    """
    parts = [head]
    if binds:
        parts.append("binds:\n" + textwrap.dedent(binds))
    parts.append("capability:\n")
    if consumes:
        parts.append(textwrap.indent(textwrap.dedent(consumes), "  "))
    if exposes:
        parts.append("  exposes:\n" + textwrap.indent(textwrap.dedent(exposes), "  "))
    if aggregates:
        parts.append("  aggregates:\n" + textwrap.indent(textwrap.dedent(aggregates), "  "))
    return "".join(parts)


def mcp(tools: str, *, namespace: str = "tools-mcp", port: int = 9090) -> str:
    """One MCP adapter holding ``tools`` (list items)."""
    body = textwrap.indent(textwrap.dedent(tools), "    ")
    return f"- type: mcp\n  namespace: {namespace}\n  port: {port}\n  tools:\n{body}"


def rest(operations: str, *, namespace: str = "api-rest", port: int = 8080, path: str = "/things") -> str:
    """One REST adapter with one resource at ``path`` holding ``operations`` (list items)."""
    body = textwrap.indent(textwrap.dedent(operations), "      ")
    return (
        f"- type: rest\n  namespace: {namespace}\n  port: {port}\n  resources:\n"
        f"  - path: {path}\n    operations:\n{body}"
    )


def report(text: str, file: str = "doc.yaml") -> LoadReport:
    return check_text(text, file)


def errors(text: str, file: str = "doc.yaml") -> list[Problem]:
    return report(text, file).errors


def warnings(text: str, file: str = "doc.yaml") -> list[Problem]:
    return report(text, file).warnings


def error_rules(text: str) -> set[str]:
    return {p.rule for p in errors(text)}


def only_error(text: str, file: str = "doc.yaml") -> Problem:
    found = errors(text, file)
    assert len(found) == 1, "\n".join(p.format() for p in found) or "no error"
    return found[0]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} occurs fewer than {occurrence} times")


def assert_located(problem: Problem) -> None:
    """Every problem has a line; every problem about a node also has that node's path."""
    assert problem.line >= 1, problem.format()
    assert problem.column >= 1, problem.format()
    if problem.rule not in DOCUMENT_LEVEL_RULES:
        assert problem.path, problem.format()


def placeholder_environ(document: Document) -> dict[str, str]:
    """A value for every environment variable a document's binds read ("1": a token, a host label and
    a port alike), so that a document can be built and started without its real secrets."""
    names: dict[str, str] = {}
    for bind in document.all_binds:
        for variable, key in (bind.keys or {}).items():
            names[variable] = names[str(key)] = "1"
    return names
