"""Errors as HTTP answers: RFC 9457 ``application/problem+json`` bodies, and the upstream 4xx passthrough.

Every problem a unit causes names the operation (``operation``: the unit's qualified name). Bad
inputs are listed one by one in ``errors`` (``name``, ``in``, ``reason``), with names as the client
spelled them on the wire (the route's ``{prompt-id}``, not the input's ``prompt_id``). Upstream
failures say which consumed operation failed and how, never what the upstream or the runtime had in
memory: no body of a 5xx, no host names, no exception text, no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from ...errors import (
    BinaryTooLarge,
    DecodeError,
    InputError,
    InputProblem,
    RequestBuildError,
    ScriptError,
    StepError,
    UnitDeadlineExceeded,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ..problem import Headers
from ..problem import Problem as Problem

log = logging.getLogger("naftiko.rest")

_TYPE = "urn:naftiko:problem:"


def invalid_input(
    problems: list[InputProblem], operation: str | None, wire_names: Mapping[str, str] | None = None
) -> Problem:
    names = wire_names or {}
    errors = []
    for problem in problems:
        entry: dict[str, Any] = {"name": names.get(problem.name, problem.name)}
        if problem.location:
            entry["in"] = problem.location
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
    step = None
    while isinstance(exc, StepError):
        step = step or exc.step
        exc = exc.cause
    problem = _problem(exc, operation, wire_names)
    if step is not None:
        problem.extra["step"] = step
    return problem


def _problem(exc: BaseException, operation: str, wire_names: Mapping[str, str] | None) -> Problem:
    if isinstance(exc, InputError):
        return invalid_input(exc.problems, operation, wire_names)
    if isinstance(exc, RequestBuildError):
        problem = invalid_input([], operation)
        problem.detail = f"the upstream request of {exc.operation} could not be built: {exc.reason}"
        return problem
    if isinstance(exc, UpstreamError):
        return Problem(
            502,
            "Bad Gateway",
            f"upstream operation {exc.operation} answered {exc.status}",
            _TYPE + "upstream-error",
            operation,
            extra={"upstream": exc.operation, "upstream_status": exc.status},
        )
    if isinstance(exc, UpstreamUnavailable):
        log.warning("%s: upstream %s unreachable: %s", operation, exc.operation, exc.reason)
        return Problem(
            502,
            "Bad Gateway",
            f"upstream operation {exc.operation} could not be reached",
            _TYPE + "upstream-unavailable",
            operation,
            extra={"upstream": exc.operation},
        )
    if isinstance(exc, BinaryTooLarge):
        log.warning("%s: %s", operation, exc)
        return Problem(
            502,
            "Bad Gateway",
            str(exc),
            _TYPE + "upstream-too-large",
            operation,
            extra={"upstream": exc.operation, "maxBinarySize": exc.limit},
        )
    if isinstance(exc, DecodeError):
        log.warning("%s: %s", operation, exc)
        return Problem(
            502,
            "Bad Gateway",
            f"the answer of upstream operation {exc.operation} is not valid {exc.format}",
            _TYPE + "upstream-invalid-response",
            operation,
            extra={"upstream": exc.operation},
        )
    if isinstance(exc, UpstreamTimeout):
        return Problem(
            504,
            "Gateway Timeout",
            f"upstream operation {exc.operation} did not answer in time",
            _TYPE + "upstream-timeout",
            operation,
            extra={"upstream": exc.operation},
        )
    if isinstance(exc, UnitDeadlineExceeded):
        return Problem(
            504,
            "Gateway Timeout",
            f"{operation} did not complete within {exc.deadline_s:g} s",
            _TYPE + "deadline-exceeded",
            operation,
        )
    if isinstance(exc, ScriptError):
        log.error("%s: %s", operation, exc)
        problem = internal_error(operation)
        problem.detail = f"script step '{exc.step}' failed; the details are in the server log"
        return problem
    log.error("%s: unexpected failure", operation, exc_info=exc)
    return internal_error(operation)


def upstream_passthrough(exc: UpstreamError) -> tuple[int, Headers, bytes]:
    """An upstream 4xx answered as the upstream gave it: its status and (decoded) body."""
    body = exc.body
    if body is None:
        return exc.status, [(b"content-length", b"0")], b""
    if isinstance(body, str):
        payload = body.encode()
        kind = b"text/plain; charset=utf-8"
    else:
        payload = orjson.dumps(body)
        declared = exc.content_type or ""
        kind = declared.encode() if declared.endswith("json") else b"application/json"
    return exc.status, [(b"content-type", kind), (b"content-length", str(len(payload)).encode())], payload
