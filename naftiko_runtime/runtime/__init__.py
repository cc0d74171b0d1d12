"""Wiring a capability for running: the :class:`Runtime`, and the servers built on it."""

from .core import (
    AmbiguousTarget,
    DynamicResource,
    McpPlan,
    PromptPlan,
    RestForward,
    RestPlan,
    RestRoute,
    Runtime,
    RuntimeOptions,
    UnknownTarget,
)

__all__ = [
    "AmbiguousTarget",
    "DynamicResource",
    "McpPlan",
    "PromptPlan",
    "RestForward",
    "RestPlan",
    "RestRoute",
    "Runtime",
    "RuntimeOptions",
    "UnknownTarget",
]
