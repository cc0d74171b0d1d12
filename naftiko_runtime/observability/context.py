"""Per-request facts the access log wants but only the engine knows: which unit answered, and
how long it waited on upstreams.

The access-log middleware opens a record for each request; the engine writes into it through a
context variable, so no adapter has to carry it. Tasks started inside the request (concurrent
steps) copy the context and therefore share the same record.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from time import perf_counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .metrics import AdapterMetrics


class RequestRecord:
    """What the engine noted about one request (``unit`` None: no unit answered), and the adapter's
    metrics, which count the request's upstream calls as they are made."""

    __slots__ = ("busy_since", "in_flight", "metrics", "unit", "upstream_ms", "upstream_wall")

    def __init__(self, metrics: AdapterMetrics | None = None) -> None:
        self.unit: str | None = None
        self.upstream_ms: float | None = None
        self.metrics = metrics
        # Seconds during which at least one upstream call was in flight: concurrent steps overlap,
        # so this, not the sum of the calls' times, is what the request spent waiting on upstreams.
        self.upstream_wall = 0.0
        self.in_flight = 0
        self.busy_since = 0.0


_REQUEST: ContextVar[RequestRecord | None] = ContextVar("naftiko_request", default=None)


def open_record(metrics: AdapterMetrics | None = None) -> tuple[Token[RequestRecord | None], RequestRecord]:
    record = RequestRecord(metrics)
    return _REQUEST.set(record), record


def close_record(token: Token[RequestRecord | None]) -> None:
    _REQUEST.reset(token)


def note_unit(name: str) -> None:
    """The unit answering this request (the first one noted wins: a unit may call others)."""
    record = _REQUEST.get()
    if record is not None and record.unit is None:
        record.unit = name


def add_upstream_ms(milliseconds: float) -> None:
    record = _REQUEST.get()
    if record is not None:
        upstream = record.upstream_ms
        record.upstream_ms = milliseconds if upstream is None else upstream + milliseconds


def upstream_started() -> RequestRecord | None:
    """An upstream call begins (the transport calls it; give the result to :func:`upstream_ended`)."""
    record = _REQUEST.get()
    if record is not None:
        if not record.in_flight:
            record.busy_since = perf_counter()
        record.in_flight += 1
    return record


def upstream_ended(record: RequestRecord | None, operation: str, status: int | str) -> None:
    """The call for ``operation`` ended with ``status`` (or ``"timeout"``, ``"unavailable"``,
    ``"error"``): counted for the unit answering the request, its time added to the upstream wait."""
    if record is None:
        return
    record.in_flight -= 1
    if not record.in_flight:
        record.upstream_wall += perf_counter() - record.busy_since
    if record.metrics is not None:
        record.metrics.upstream_call(record.unit or "-", operation, status)


def current_unit() -> str | None:
    """The unit noted for the request being handled (None outside a request, or before a unit ran)."""
    record = _REQUEST.get()
    return record.unit if record is not None else None
