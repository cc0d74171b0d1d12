"""What an import could not carry over, said once per construct and located in the OpenAPI document.

A place is a JSON pointer into the description (``#/paths/~1projects/post/requestBody``), the way
OpenAPI tools name places; when the description is a YAML or JSON file read with positions, the line
and column are given too. Nothing is dropped silently and nothing raises a traceback: a construct
that cannot be expressed in a capability is one :class:`Diagnostic`, and a source that cannot be
imported at all is one :class:`ImportFailed` saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import NaftikoError

Locate = Callable[[str], tuple[str, int, int] | None]


def pointer(*parts: str | int) -> str:
    """``pointer("paths", "/pets/{id}", "get")`` → ``#/paths/~1pets~1{id}/get`` (RFC 6901 escapes)."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "#/" + "/".join(escaped) if parts else "#"


def child(base: str, *parts: str | int) -> str:
    """The pointer ``base`` extended by ``parts``."""
    extra = pointer(*parts)[1:]
    return base.rstrip("/") + extra if base != "#" else "#" + extra


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One construct of the description that the capability does not carry (or carries changed)."""

    pointer: str
    message: str
    rule: str
    file: str = ""
    line: int = 0
    column: int = 0

    def format(self, severity: str = "warning") -> str:
        where = (
            f"{self.file}:{self.line}:{self.column}: " if self.line else f"{self.file}: " if self.file else ""
        )
        return f"{where}{severity}: {self.pointer}: {self.message}"


class ImportFailed(NaftikoError):
    """The description cannot be imported at all (unreadable, not OpenAPI), or ``strict`` refused it."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__(message)


@dataclass
class Diagnostics:
    """Collects diagnostics, each (pointer, rule) once, located through ``locate`` when it can."""

    locate: Locate | None = None
    items: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def warn(self, where: str, message: str, rule: str) -> None:
        if (where, rule) in self._seen:
            return
        self._seen.add((where, rule))
        located = self.locate(where) if self.locate else None
        file, line, column = located or ("", 0, 0)
        self.items.append(Diagnostic(where, message, rule, file, line, column))
