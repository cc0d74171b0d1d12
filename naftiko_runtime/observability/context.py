"""Per-request facts the access log wants but only the engine knows: which unit answered, and
how long it waited on upstreams.

The access-log middleware opens a record for each request; the engine writes into it through a
context variable, so no adapter has to carry it. Tasks started inside the request (concurrent
steps) copy the context and therefore share the same record.
"""

from __future__ import annotations

from contextvars import ContextVar, Token


class RequestRecord:
    """What the engine noted about one request (``unit`` None: no unit answered)."""

    __slots__ = ("unit", "upstream_ms")

    def __init__(self) -> None:
        self.unit: str | None = None
        self.upstream_ms: float | None = None


_REQUEST: ContextVar[RequestRecord | None] = ContextVar("naftiko_request", default=None)


def open_record() -> tuple[Token[RequestRecord | None], RequestRecord]:
    record = RequestRecord()
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


def current_unit() -> str | None:
    """The unit noted for the request being handled (None outside a request, or before a unit ran)."""
    record = _REQUEST.get()
    return record.unit if record is not None else None
