"""Helpers for bind tests: a minimal BindDeclaration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bind:
    """The smallest object that satisfies ``BindDeclaration`` (the spec model does too)."""

    namespace: str
    keys: Mapping[str, str] = field(default_factory=dict)
    location: str | None = None
