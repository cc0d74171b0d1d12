"""Per-request facts the access log wants but only the engine knows: which unit answered, and
how long it waited on upstreams.

The access-log middleware opens a record for each request; the engine writes into it through a
context variable, so no adapter has to carry it. Tasks started inside the request (concurrent
steps) copy the context and therefore share the same record.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

_REQUEST: ContextVar[dict[str, Any] | None] = ContextVar("naftiko_request", default=None)


def open_record() -> tuple[Token[dict[str, Any] | None], dict[str, Any]]:
    record: dict[str, Any] = {}
    return _REQUEST.set(record), record


def close_record(token: Token[dict[str, Any] | None]) -> None:
    _REQUEST.reset(token)


def note_unit(name: str) -> None:
    """The unit answering this request (the first one noted wins: a unit may call others)."""
    record = _REQUEST.get()
    if record is not None and "unit" not in record:
        record["unit"] = name


def add_upstream_ms(milliseconds: float) -> None:
    record = _REQUEST.get()
    if record is not None:
        record["upstream_ms"] = record.get("upstream_ms", 0.0) + milliseconds
