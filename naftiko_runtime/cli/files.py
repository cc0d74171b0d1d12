"""Turning command-line paths (files or directories) into capability files."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import SpecError
from ..spec import Document, load
from ..spec.discover import discover


def expand_paths(paths: Iterable[str], *, notes: bool = True) -> list[Path]:
    """Files as given, directories expanded to their capability files (see :mod:`..spec.discover`);
    every other YAML file of a directory is skipped with one note on stderr."""
    found = discover(paths)
    if notes:
        for skipped in found.skipped:
            print(skipped.format(), file=sys.stderr)
    return found.files


def load_or_report(path: str | Path) -> Document | None:
    """The document, or ``None`` after printing its located errors to stderr."""
    try:
        return load(path)
    except SpecError as exc:
        for problem in exc.errors:
            print(problem.format(), file=sys.stderr)
        return None
