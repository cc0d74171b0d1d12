"""Wiring a capability for running: the :class:`Runtime`, and the servers built on it."""

from ..engine.plans import (
    AdapterContext,
    DynamicResource,
    McpPlan,
    PromptPlan,
    RestForward,
    RestPlan,
    RestRoute,
    SkillPlan,
)
from .core import AmbiguousTarget, Runtime, RuntimeOptions, UnknownTarget

__all__ = [
    "AdapterContext",
    "AmbiguousTarget",
    "DynamicResource",
    "McpPlan",
    "PromptPlan",
    "RestForward",
    "RestPlan",
    "RestRoute",
    "Runtime",
    "RuntimeOptions",
    "SkillPlan",
    "UnknownTarget",
]
