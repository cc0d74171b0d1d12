"""Exposed units as :class:`~naftiko_runtime.engine.contract.Invocable` objects.

A unit is inputs (declared or inferred) + an executor (one consumed call, an orchestration, or
nothing for a mock) + a shaper. Built once at load time; ``invoke`` only validates, runs and shapes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..consumes.operation import ConsumedCall
from ..errors import UnitDeadlineExceeded
from ..observability import tracing
from ..observability.context import note_unit
from ..observability.progress import current_watcher
from .coercion import Coercer
from .contract import Hints, InputSpec, Result
from .input_schema import json_schema
from .shaping import Shaper
from .wiring import WithPlan


@dataclass(slots=True)
class Outcome:
    """What an executor produced, before shaping."""

    value: Any
    status: int = 200
    content_type: str | None = "application/json"
    upstream_ms: float = 0.0


class Executor(Protocol):
    async def run(self, arguments: Mapping[str, Any], deadline: float) -> Outcome: ...


class CallExecutor:
    """Simple mode: one consumed call with the unit's ``with``.

    ``max_bytes`` is the adapter's ``maxBinarySize``, for an operation that answers ``binary``.
    """

    def __init__(self, call: ConsumedCall, plan: WithPlan, max_bytes: int | None = None) -> None:
        self.call = call
        self.plan = plan
        self.max_bytes = max_bytes

    async def run(self, arguments: Mapping[str, Any], deadline: float) -> Outcome:
        # A with-map that only renames to the same names moves nothing: the arguments go as they are.
        values = arguments if self.plan.identity else self.plan.apply(arguments)
        watcher = current_watcher()
        if watcher is not None:
            watcher.step_started(self.call.name, self.call.qualified, 1)
        reply = await self.call.execute(
            values, time_left=deadline - time.monotonic(), max_bytes=self.max_bytes
        )
        if watcher is not None:
            detail = f"answered {reply.status} in {reply.elapsed_ms:.0f} ms"
            watcher.step_finished(self.call.name, self.call.qualified, 1, 1, detail)
        return Outcome(reply.value, reply.status, reply.content_type, reply.elapsed_ms)


class MockExecutor:
    """No upstream: the shaper renders static values and templates over the inputs."""

    async def run(self, arguments: Mapping[str, Any], deadline: float) -> Outcome:
        return Outcome(None, 200)


class Unit:
    """One exposed unit: a REST operation, an MCP tool/resource/prompt message, an aggregate function."""

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        executor: Executor,
        shaper: Shaper,
        inputs: Sequence[InputSpec],
        title: str | None = None,
        description: str | None = None,
        hints: Hints | None = None,
        deadline_s: float = 60.0,
        qualified: str | None = None,
        media_type: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self._name = name
        self.kind = kind
        self.qualified = qualified or name
        self._title = title
        self._description = description
        self._hints = hints
        self._inputs = tuple(inputs)
        self.executor = executor
        self.shaper = shaper
        self.deadline_s = deadline_s
        self._coerce = Coercer(self._inputs, self.qualified)
        self._input_schema = json_schema(self._inputs)
        self._output_schema = shaper.schema()
        # A binary answer is advertised with this media type, when the document declares one.
        self.media_type = media_type
        self.tags = tags

    @property
    def name(self) -> str:
        return self._name

    @property
    def title(self) -> str | None:
        return self._title

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def inputs(self) -> tuple[InputSpec, ...]:
        return self._inputs

    @property
    def input_schema(self) -> dict[str, Any]:
        return self._input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self._output_schema

    @property
    def hints(self) -> Hints | None:
        return self._hints

    @property
    def binary_media_type(self) -> str | None:
        """The media type this unit's binary answer is advertised with (None: it answers JSON)."""
        call = getattr(self.executor, "call", None)
        if not isinstance(call, ConsumedCall) or not call.binary:
            return None
        return self.media_type or call.output_media_type or "application/octet-stream"

    @property
    def answers_nothing(self) -> bool:
        """A mock with no outputs: it answers 204, no content."""
        return isinstance(self.executor, MockExecutor) and not self._output_schema and not self.shaper.outputs

    def coerce(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return self._coerce(arguments)

    def invoke(self, arguments: Mapping[str, Any]) -> Awaitable[Result]:
        # Not a coroutine itself: the run is handed back as it is, or inside the unit's span when
        # tracing is on, without a coroutine frame of its own on every request.
        note_unit(self.qualified)
        traced = tracing.active
        if traced is not None:
            return traced.unit(self._run(arguments), self.qualified, self.kind)
        return self._run(arguments)

    async def _run(self, arguments: Mapping[str, Any]) -> Result:
        values = self._coerce(arguments)
        deadline = time.monotonic() + self.deadline_s
        executor = self.executor
        outcome = await executor.run(values, deadline)
        if time.monotonic() > deadline:
            raise UnitDeadlineExceeded(self.qualified, self.deadline_s)
        value = self.shaper.shape(outcome.value, values)
        status = outcome.status
        if value is None and status == 200 and isinstance(executor, MockExecutor):
            status = 204
        return Result(value, status, outcome.content_type or "application/json", outcome.upstream_ms)

    def __repr__(self) -> str:
        return f"<Unit {self.kind} {self.qualified}>"
