"""What every adapter sees of the engine: an :class:`Invocable` per exposed unit.

An adapter (REST, MCP, skill, aggregate caller, ``naftiko call``) turns its protocol request into a
plain ``{name: value}`` dict, calls :meth:`Invocable.invoke`, and turns the :class:`Result` (or one of
the errors in :mod:`naftiko_runtime.errors`) back into its protocol. Nothing else crosses the line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ParamType = Literal["string", "number", "integer", "boolean", "array", "object"]


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input of an exposed unit, declared or inferred at load time: what every adapter may know
    of it. Where an HTTP request carries it belongs to the REST plan (:class:`~.plans.RestInput`)."""

    name: str
    type: ParamType | None = "string"  # None: nothing declares a type, any JSON value is accepted
    required: bool = False
    description: str | None = None
    in_path: bool = False  # its value fills a URL path segment, so an empty one is refused
    pattern: str | None = None
    default: Any = None
    items: Mapping[str, Any] | None = None  # JSON Schema of array items, when known


@dataclass(frozen=True, slots=True)
class Hints:
    """MCP tool annotations (after aggregate semantics were merged)."""

    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


@dataclass(slots=True)
class Result:
    """The shaped outcome of one invocation. Treat it as immutable; it is not declared frozen
    because one is built per invocation and frozen construction costs several times more."""

    value: Any
    status: int = 200
    content_type: str = "application/json"
    upstream_ms: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


class Invocable(Protocol):
    """One exposed unit (REST operation, MCP tool, resource, prompt message, aggregate function)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str:
        """What the unit is on its adapter (a :data:`UnitKind`)."""
        ...

    @property
    def qualified(self) -> str:
        """``adapter.unit`` (or ``aggregate.function``): how errors and logs name the unit."""
        ...

    @property
    def title(self) -> str | None: ...

    @property
    def description(self) -> str | None: ...

    @property
    def inputs(self) -> tuple[InputSpec, ...]: ...

    @property
    def input_schema(self) -> dict[str, Any]: ...

    @property
    def output_schema(self) -> dict[str, Any] | None: ...

    @property
    def hints(self) -> Hints | None: ...

    @property
    def media_type(self) -> str | None:
        """The media type a binary answer is sent with, when the document declares one."""
        ...

    @property
    def tags(self) -> tuple[str, ...]: ...

    def coerce(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and convert arguments by the declared types; raise ``InputError`` naming each bad one."""
        ...

    def invoke(self, arguments: Mapping[str, Any]) -> Awaitable[Result]:
        """Coerce the arguments, run the unit and return its shaped result (awaited)."""
        ...


UnitKind = Literal["rest", "tool", "resource", "prompt", "function", "operation"]
