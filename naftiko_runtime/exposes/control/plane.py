"""What the control adapter asks of the process that serves it.

The control adapter does not import ``runtime/`` (arrows point runtime → exposes): the serving
process hands it a :class:`ControlPlane`. ``naftiko serve`` gives a live one (``runtime/reload.py``)
that can report and reload what is served; a control app built without one (an embedder mounting a
single adapter) answers ``/config`` from its own capability and 409 to what needs a live process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...binds import Secret


@dataclass
class ReloadOutcome:
    """A reload's answer: ``ok`` with the diff, or the located problems (nothing changed)."""

    ok: bool
    body: dict[str, Any] = field(default_factory=dict)
    status: int = 200


class ControlPlane(Protocol):
    def configuration(self) -> dict[str, Any]:
        """The effective configuration of every served capability (binds masked)."""

    async def reload(self, *, reason: str, scripting: Mapping[str, Any] | None = None) -> ReloadOutcome:
        """Read every served file again and swap; ``scripting`` overrides ``management.scripting``
        for this process (``PUT /scripting``)."""

    def secrets(self) -> Sequence[Secret]:
        """Every secret value of the served capabilities, for scrubbing streamed logs."""
