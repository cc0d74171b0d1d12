"""Output parameters: what a consumed operation extracts, and what an exposed unit returns.

One recursive :class:`OutputParameter` covers the spec's Mapped and Orchestrated variants and both
shapes found in the wild: the spec's ``mapping: {properties: ...}`` / ``mapping: {items: ...}`` and the
tutorial's ``mapping: "$.path"`` with sibling ``properties`` / ``items`` (the loader rewrites the first
into the second). ``mapping`` selects the source; ``properties`` and ``items`` shape it, each item's
``$`` being that element.
"""

from __future__ import annotations

from typing import Any

from .base import ParamType, SpecModel


class OutputParameter(SpecModel):
    name: str | None = None
    type: ParamType | None = None
    description: str | None = None
    mapping: str | None = None  # JSONPath, "$" is the root
    value: Any = None  # static value or {{template}}; mock capabilities use it
    const: Any = None  # schema-level documentation only: "not used at runtime" (the spec)
    max_length: int | None = None
    properties: dict[str, OutputParameter] | None = None
    items: OutputParameter | None = None

    @property
    def is_static(self) -> bool:
        """``value`` takes precedence over ``mapping`` (the schema's rule)."""
        return self.value is not None


class ConsumedOutputParameter(SpecModel):
    """A named JSONPath extraction declared on a consumed operation."""

    name: str
    type: ParamType | None = None
    value: str = "$"  # JSONPath; "$" and "$." are the root


OutputParameter.model_rebuild()
