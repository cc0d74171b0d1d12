"""RFC 9457 problem documents: how every HTTP adapter (REST, skill, control) answers an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

PROBLEM_JSON = b"application/problem+json"

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class Problem:
    """One problem document (RFC 9457) and the headers that go with it."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    operation: str | None = None
    errors: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: Headers = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.operation:
            out["operation"] = self.operation
        out.update(self.extra)
        if self.errors is not None:
            out["errors"] = self.errors
        return out

    def encode(self) -> tuple[int, Headers, bytes]:
        body = orjson.dumps(self.document())
        headers = [
            (b"content-type", PROBLEM_JSON),
            (b"content-length", str(len(body)).encode()),
            *self.headers,
        ]
        return self.status, headers, body


def interrupted_by_shutdown(timeout: float, operation: str | None) -> Problem:
    """A request still running when the server's shutdown timeout ran out (503)."""
    return Problem(
        503,
        "Service Unavailable",
        f"the server shut down before this request finished (shutdown timeout {timeout:g} s); "
        "whether the upstream acted on it is unknown: retry it only if it is safe to repeat",
        "urn:naftiko:problem:shutdown",
        operation,
    )
