"""Where a problem of a loaded document is written: in its own file, or in the file an import came from.

Imports copy entries of other files into the document, so a path of the loaded document may name a
place in another file. Every problem is located through :class:`Locator`, which knows which parts
of the document came from where, so an error inside an imported entry points at its own file and
line (noting the line that imported it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, Severity
from .source import DocPath, Source, format_path


@dataclass(frozen=True)
class _Overlay:
    """Paths under ``prefix`` in the main document came from ``source`` at ``source_prefix``."""

    prefix: DocPath
    source: Source
    source_prefix: DocPath
    note: str


class Locator:
    """Turns a path of the loaded document into a located :class:`Problem`."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._overlays: list[_Overlay] = []

    def came_from(self, prefix: DocPath, source: Source, source_prefix: DocPath, note: str) -> None:
        """Paths under ``prefix`` are located in ``source`` under ``source_prefix``, with ``note``."""
        self._overlays.append(_Overlay(prefix, source, source_prefix, note))

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: Severity = "error",
        rule: str = "invalid",
        key: bool = False,
    ) -> Problem:
        for overlay in self._overlays:
            if path[: len(overlay.prefix)] == overlay.prefix:
                inner = (*overlay.source_prefix, *path[len(overlay.prefix) :])
                return overlay.source.problem(
                    inner, f"{message} ({overlay.note})", severity=severity, rule=rule, key=key
                )
        return self.source.problem(path, message, severity=severity, rule=rule, key=key)

    def locate(self, path: DocPath) -> str:
        """``capability.consumes[0] (file.yaml:12)``, for messages that name another place."""
        found = self.problem(path, "")
        return f"{format_path(path)} ({Path(found.file).name}:{found.line})"
