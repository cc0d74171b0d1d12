"""Turning command-line paths (files or directories) into capability files."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError
from ..spec import Document, load

CAPABILITY_SUFFIXES = (".yaml", ".yml")


def expand_paths(paths: Iterable[str]) -> list[Path]:
    """Files as given (missing ones too, so they are reported), directories expanded to their YAML files.

    Hidden entries (a name starting with ``.``) are skipped: a Kubernetes ConfigMap mounted as a
    directory holds each file once visibly and again under ``..data`` and a ``..<timestamp>``
    directory, and ``.git`` holds nothing to serve either.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in CAPABILITY_SUFFIXES
                    and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            files.append(path)
    return files


def load_or_report(path: str | Path) -> Document | None:
    """The document, or ``None`` after printing its located errors to stderr."""
    try:
        return load(path)
    except SpecError as exc:
        for problem in exc.errors:
            print(problem.format(), file=sys.stderr)
        return None
