"""Errors as HTTP answers: RFC 9457 ``application/problem+json`` bodies, and the upstream 4xx passthrough.

Every problem a unit causes names the operation (``operation``: the unit's qualified name). Bad
inputs are listed one by one in ``errors`` (``name``, ``in``, ``reason``), with names as the client
spelled them on the wire (the route's ``{prompt-id}``, not the input's ``prompt_id``). Upstream
failures say which consumed operation failed and how, never what the upstream or the runtime had in
memory: no body of a 5xx, no host names, no exception text, no traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ...errors import InputProblem, UpstreamError
from ...errors.classify import Failure, classify
from ..problem import Headers
from ..problem import Problem as Problem

_TYPE = "urn:naftiko:problem:"


def invalid_input(
    problems: list[InputProblem],
    operation: str | None,
    wire_names: Mapping[str, str] | None = None,
    locations: Mapping[str, str] | None = None,
) -> Problem:
    """``wire_names`` and ``locations``: how and where the route's request carries each input (the
    unit names its inputs, and knows no HTTP request)."""
    names = wire_names or {}
    places = locations or {}
    errors = []
    for problem in problems:
        entry: dict[str, Any] = {"name": names.get(problem.name, problem.name)}
        location = problem.location or places.get(problem.name)
        if location:
            entry["in"] = location
        entry["reason"] = problem.message
        errors.append(entry)
    listed = ", ".join(dict.fromkeys(e["name"] for e in errors))
    plural = "s" if len(errors) != 1 else ""
    return Problem(
        400,
        "Invalid input",
        f"{len(errors)} invalid parameter{plural}: {listed}" if errors else "the request is invalid",
        _TYPE + "invalid-input",
        operation,
        errors,
    )


def unsupported_media_type(content_type: str, operation: str | None) -> Problem:
    shown = content_type[:100] or "(none)"
    return Problem(
        415,
        "Unsupported Media Type",
        f"the request body must be JSON (application/json), not {shown}",
        "about:blank",
        operation,
        [{"name": "body", "in": "body", "reason": f"unsupported media type {shown}"}],
        headers=[(b"accept-post", b"application/json")],
    )


def payload_too_large(limit: int, operation: str | None) -> Problem:
    return Problem(
        413,
        "Content Too Large",
        f"the request body exceeds the limit of {limit} bytes",
        "about:blank",
        operation,
        [{"name": "body", "in": "body", "reason": f"larger than {limit} bytes"}],
    )


def not_found() -> Problem:
    return Problem(404, "Not Found", "no resource of this API has this path")


def method_not_allowed(method: str, allow: str) -> Problem:
    return Problem(
        405,
        "Method Not Allowed",
        f"{method[:20]} is not allowed on this resource; allowed: {allow}",
        headers=[(b"allow", allow.encode())],
    )


def internal_error(operation: str | None) -> Problem:
    return Problem(
        500,
        "Internal Server Error",
        "the request could not be handled; the details are in the server log",
        "about:blank",
        operation,
    )


def for_error(exc: BaseException, operation: str, wire_names: Mapping[str, str] | None = None) -> Problem:
    """The problem for an error a unit raised (``operation`` is the exposed unit's qualified name)."""
    return from_failure(classify(exc, operation), wire_names)


def from_failure(
    failure: Failure, wire_names: Mapping[str, str] | None = None, locations: Mapping[str, str] | None = None
) -> Problem:
    """A classified failure as a problem document: the step, the upstream operation and status,
    and (for an upstream 4xx) the upstream's bounded body in ``upstream_body``."""
    if failure.kind == "invalid-input":
        problem = invalid_input(failure.inputs, failure.unit, wire_names, locations)
        if not failure.inputs:
            problem.detail = failure.detail
    elif failure.kind == "internal":
        problem = internal_error(failure.unit)
        problem.detail = failure.detail
    else:
        problem = Problem(failure.status, failure.title, failure.detail, failure.problem_type, failure.unit)
    extra = problem.extra
    if failure.step is not None:
        extra["step"] = failure.step
    if failure.upstream is not None:
        extra["upstream"] = failure.upstream
    if failure.upstream_status is not None:
        extra["upstream_status"] = failure.upstream_status
    if failure.upstream_body is not None:
        extra["upstream_body"] = failure.upstream_body
    if failure.retry_after is not None:
        extra["retry_after"] = max(1, round(failure.retry_after))
    extra.update(failure.extra)
    problem.headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in failure.headers]
    return problem


def upstream_passthrough(
    exc: UpstreamError, passed_headers: tuple[tuple[str, str], ...] = ()
) -> tuple[int, Headers, bytes]:
    """An upstream 4xx answered as the upstream gave it: its status and (decoded) body, with the
    headers that say when to retry and how much quota is left (``Retry-After``, ``RateLimit-*``)."""
    passed = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in passed_headers]
    body = exc.body
    if body is None:
        return exc.status, [(b"content-length", b"0"), *passed], b""
    if isinstance(body, str):
        payload = body.encode()
        kind = b"text/plain; charset=utf-8"
    else:
        payload = orjson.dumps(body)
        declared = exc.content_type or ""
        kind = declared.encode() if declared.endswith("json") else b"application/json"
    return (
        exc.status,
        [(b"content-type", kind), (b"content-length", str(len(payload)).encode()), *passed],
        payload,
    )
