"""One test per catalogue row, each made of named units, each row reported once.

A scenario test is decorated with :func:`scenario` and checks its expectations in units::

    @scenario("10a", "Step1", java="T:tutorial/Step1ShipyardMcpClientIntegrationTest")
    async def test_step_1(...):
        with unit("initialize"):
            assert ...
        with unit("tools/list"):
            assert ...

A unit that fails does not stop the test: the next units still run (so the table shows how much of
a scenario passes), and the test fails at the end naming every failed unit with its assertion.
:func:`not_applicable` records the row as n/a with the reason and skips the test.

Every row is recorded in three places: :data:`ROWS` (this process), ``item.user_properties`` under
``"conformance"`` (for the JUnit XML), and the ``conformance_row`` fixture of
``tests/conformance/conftest.py`` (the printed table and ``results.json``; one line of ``details``
per failed unit) — :func:`_publish` is the one place that knows its calling convention.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Every row recorded by this process, in run order.
ROWS: list[Row] = []
_CURRENT: contextvars.ContextVar[Row | None] = contextvars.ContextVar("conformance_row", default=None)


@dataclass
class Unit:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Row:
    """One catalogue row: ``(suite, scenario, units_passed, units_total, status, reason)``."""

    suite: str
    scenario: str
    java: str
    units: list[Unit] = field(default_factory=list)
    status: str = "pass"
    reason: str = ""

    @property
    def units_passed(self) -> int:
        return sum(1 for item in self.units if item.passed)

    @property
    def units_total(self) -> int:
        return len(self.units)

    @property
    def failed(self) -> list[Unit]:
        return [item for item in self.units if not item.passed]

    def as_tuple(self) -> tuple[str, str, int, int, str, str]:
        return (self.suite, self.scenario, self.units_passed, self.units_total, self.status, self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "scenario": self.scenario,
            "java": self.java,
            "units_passed": self.units_passed,
            "units_total": self.units_total,
            "status": self.status,
            "reason": self.reason,
        }


def current() -> Row:
    row = _CURRENT.get()
    if row is None:
        raise RuntimeError("unit() and not_applicable() are for tests decorated with @scenario")
    return row


@contextlib.contextmanager
def unit(name: str) -> Iterator[None]:
    """Check one expectation of the scenario; a failure is recorded and the test goes on."""
    row = current()
    try:
        yield
    except Exception as exc:  # an assertion, or any surprise inside a unit, fails that unit only
        detail = str(exc) if isinstance(exc, AssertionError) else _short_traceback(exc)
        row.units.append(Unit(name, False, detail or type(exc).__name__))
    else:
        row.units.append(Unit(name, True))


def not_applicable(reason: str) -> None:
    """Record the row as n/a (it cannot apply to this runtime) and skip the test."""
    row = current()
    row.status, row.reason = "n/a", reason
    pytest.skip(f"n/a: {reason}")


def _short_traceback(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines[-6:]).rstrip()


def scenario(suite: str, name: str, *, java: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a test one catalogue row: its units are counted, its row recorded, its failures summed up.

    The wrapper also asks pytest for ``request`` (without changing what the test itself receives),
    to publish the row.
    """

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(test)
        wants_request = "request" in signature.parameters
        parameters = list(signature.parameters.values())
        if not wants_request:
            parameters.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY))

        def begin(kwargs: dict[str, Any]) -> tuple[Row, Any, contextvars.Token[Row | None]]:
            request = kwargs["request"] if wants_request else kwargs.pop("request")
            row = Row(suite, name, java)
            return row, request, _CURRENT.set(row)

        def end(row: Row, request: Any, outcome: BaseException | None) -> None:
            if isinstance(outcome, pytest.skip.Exception):
                if row.status != "n/a":
                    row.status, row.reason = "skip", str(outcome)
            elif outcome is not None:
                row.status = "fail"
                row.units.append(Unit("(test body)", False, f"{type(outcome).__name__}: {outcome}"))
                row.reason = "; ".join(item.name for item in row.failed)
            elif row.failed:
                row.status = "fail"
                row.reason = "; ".join(item.name for item in row.failed)
            elif not row.units:
                row.units.append(Unit("(test body)", True))
            _publish(row, request)

        def verdict(row: Row) -> None:
            if row.status == "fail" and row.failed and row.failed[-1].name != "(test body)":
                summary = "\n\n".join(f"[{item.name}]\n{item.detail}" for item in row.failed)
                raise AssertionError(
                    f"{row.suite} {row.scenario}: {len(row.failed)} of {row.units_total} units failed\n\n"
                    f"{summary}"
                )

        if inspect.iscoroutinefunction(test):

            @functools.wraps(test)
            async def run_async(*args: Any, **kwargs: Any) -> None:
                row, request, token = begin(kwargs)
                try:
                    await test(*args, **kwargs)
                except BaseException as exc:
                    end(row, request, exc)
                    raise
                finally:
                    _CURRENT.reset(token)
                end(row, request, None)
                verdict(row)

            wrapper: Callable[..., Any] = run_async
        else:

            @functools.wraps(test)
            def run_sync(*args: Any, **kwargs: Any) -> None:
                row, request, token = begin(kwargs)
                try:
                    test(*args, **kwargs)
                except BaseException as exc:
                    end(row, request, exc)
                    raise
                finally:
                    _CURRENT.reset(token)
                end(row, request, None)
                verdict(row)

            wrapper = run_sync

        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.conformance = (suite, name, java)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _publish(row: Row, request: Any) -> None:
    ROWS.append(row)
    request.node.user_properties.append(("conformance", row.as_dict()))
    try:
        record = request.getfixturevalue("conformance_row")
    except pytest.FixtureLookupError:
        return
    details = [f"{item.name}: {_first_line(item.detail)}" for item in row.failed]
    record(*row.as_tuple(), details=details)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""
