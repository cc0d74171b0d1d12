"""One classification of every error a unit can raise, rendered by each adapter in its own form.

REST answers a problem document (or passes an upstream 4xx through), MCP a tool result with
``isError``, ``naftiko call`` a message and an exit code. What they say is decided here, once: the
status, the problem type, the exit code, the step and the upstream operation, the upstream's status
and (for a 4xx, which the caller may be able to fix) its bounded error body, how long to wait before
retrying, and what goes to the server log instead of to the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import (
    DecodeError,
    InputError,
    InputProblem,
    RequestBuildError,
    ScriptError,
    StepError,
    UnitDeadlineExceeded,
    UpstreamBusy,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamRedirect,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
    without_urls,
)

PROBLEM_TYPE = "urn:naftiko:problem:"
EXIT_INPUT = 2
EXIT_UPSTREAM = 3  # the unit ran and failed: an upstream, a script, a deadline
EXIT_INTERNAL = 1
UPSTREAM_BODY_CHARS = 4000
"""How much of an upstream's error body a caller is shown (its JSON text, in characters)."""

# Answer headers a caller can act on: when to retry, how much of its quota is left.
_PASSED_HEADERS = ("retry-after", "ratelimit", "ratelimit-", "x-ratelimit-")


@dataclass(slots=True)
class Failure:
    """What went wrong, once, for every adapter to render."""

    status: int
    kind: str  # the problem type's last part: ``upstream-error``, ``invalid-input``...
    title: str
    detail: str  # for the caller: names the operation, never a URL, a host or a secret
    exit_code: int
    unit: str
    upstream: str | None = None  # the consumed operation
    upstream_status: int | None = None
    upstream_body: Any = None  # bounded and scrubbed; only when the caller can act on it (4xx)
    step: str | None = None
    retry_after: float | None = None
    headers: tuple[tuple[str, str], ...] = ()  # upstream answer headers passed to the caller
    inputs: list[InputProblem] = field(default_factory=list)
    passthrough: bool = False  # REST may answer the upstream's own 4xx as it came
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def problem_type(self) -> str:
        return "about:blank" if self.kind == "internal" else PROBLEM_TYPE + self.kind


log = logging.getLogger("naftiko.errors")


def classify(exc: BaseException, unit: str) -> Failure:
    """The failure of unit ``unit`` (its qualified name) that ``exc`` stands for."""
    step = None
    while isinstance(exc, StepError):
        step = step or exc.step
        exc = exc.cause
    failure = _classify(exc, unit)
    if step is not None:
        failure.step = step
        failure.passthrough = False  # an orchestrated failure names its step: a problem, not a relay
    return failure


def _classify(exc: BaseException, unit: str) -> Failure:
    if isinstance(exc, InputError):
        names = ", ".join(dict.fromkeys(p.name for p in exc.problems))
        return Failure(
            400, "invalid-input", "Invalid input", f"invalid arguments: {names}", EXIT_INPUT, unit,
            inputs=list(exc.problems),
        )  # fmt: skip
    if isinstance(exc, RequestBuildError):
        detail = f"the upstream request of {exc.operation} could not be built: {exc.reason}"
        return Failure(400, "invalid-input", "Invalid input", detail, EXIT_INPUT, unit)
    if isinstance(exc, UpstreamError):
        return _upstream_status(exc, unit)
    if isinstance(exc, UpstreamRedirect):
        log.warning("%s: %s", unit, exc)
        return Failure(
            502, "upstream-redirect", "Bad Gateway", str(exc), EXIT_UPSTREAM, unit,
            upstream=exc.operation, upstream_status=exc.status,
        )  # fmt: skip
    if isinstance(exc, UpstreamCircuitOpen):
        return Failure(
            503, "upstream-circuit-open", "Service Unavailable", str(exc), EXIT_UPSTREAM, unit,
            upstream=exc.operation, retry_after=exc.retry_after,
            headers=(("Retry-After", str(max(1, round(exc.retry_after)))),),
        )  # fmt: skip
    if isinstance(exc, UpstreamBusy):
        return Failure(
            503, "upstream-busy", "Service Unavailable", str(exc), EXIT_UPSTREAM, unit,
            upstream=exc.operation, retry_after=exc.retry_after, headers=(("Retry-After", "1"),),
        )  # fmt: skip
    if isinstance(exc, UpstreamUnavailable):
        log.warning("%s: upstream %s unreachable: %s", unit, exc.operation, exc.reason)
        detail = f"upstream operation {exc.operation} could not be reached"
        return Failure(
            502, "upstream-unavailable", "Bad Gateway", detail, EXIT_UPSTREAM, unit, upstream=exc.operation
        )
    if isinstance(exc, UpstreamTooLarge):
        log.warning("%s: %s", unit, exc)
        return Failure(
            502, "upstream-too-large", "Bad Gateway", str(exc), EXIT_UPSTREAM, unit,
            upstream=exc.operation, extra={exc.setting.lstrip("-"): exc.limit},
        )  # fmt: skip
    if isinstance(exc, DecodeError):
        log.warning("%s: %s", unit, exc)
        detail = f"the answer of upstream operation {exc.operation} is not valid {exc.format}"
        return Failure(
            502, "upstream-invalid-response", "Bad Gateway", detail, EXIT_UPSTREAM, unit,
            upstream=exc.operation,
        )  # fmt: skip
    if isinstance(exc, UpstreamTimeout):
        detail = f"upstream operation {exc.operation} did not answer in time"
        return Failure(
            504, "upstream-timeout", "Gateway Timeout", detail, EXIT_UPSTREAM, unit, upstream=exc.operation
        )
    if isinstance(exc, UnitDeadlineExceeded):
        detail = f"{unit} did not complete within {exc.deadline_s:g} s"
        return Failure(504, "deadline-exceeded", "Gateway Timeout", detail, EXIT_UPSTREAM, unit)
    if isinstance(exc, ScriptError):
        log.error("%s: %s", unit, exc)
        detail = f"script step '{exc.step}' failed; the details are in the server log"
        return Failure(500, "internal", "Internal Server Error", detail, EXIT_UPSTREAM, unit)
    log.error("%s: unexpected failure", unit, exc_info=exc)
    detail = "the request could not be handled; the details are in the server log"
    return Failure(500, "internal", "Internal Server Error", detail, EXIT_INTERNAL, unit)


def _upstream_status(exc: UpstreamError, unit: str) -> Failure:
    headers = tuple((k, v) for k, v in exc.headers if k.lower().startswith(_PASSED_HEADERS))
    retry_after = exc.retry_after
    common: dict[str, Any] = {
        "upstream": exc.operation,
        "upstream_status": exc.status,
        "retry_after": retry_after,
        "headers": headers,
    }
    if exc.credentials_refused:
        detail = (
            f"upstream operation {exc.operation} answered {exc.status}: "
            "the upstream refused this capability's credentials"
        )
        log.warning("%s: %s", unit, detail)
        return Failure(
            502, "upstream-credentials-refused", "Bad Gateway", detail, EXIT_UPSTREAM, unit, **common
        )
    detail = f"upstream operation {exc.operation} answered {exc.status}"
    if 400 <= exc.status < 500:
        message = without_urls(exc.upstream_message)
        return Failure(
            exc.status, "upstream-error", "Upstream rejected the request",
            f"{detail}: {message}" if message else detail, EXIT_UPSTREAM, unit,
            upstream_body=bounded_body(exc.body), passthrough=True, **common,
        )  # fmt: skip
    if exc.status == 503 and retry_after is not None:
        # The upstream says it is back in a while: the caller should wait as long, not give up.
        return Failure(503, "upstream-error", "Service Unavailable", detail, EXIT_UPSTREAM, unit, **common)
    return Failure(502, "upstream-error", "Bad Gateway", detail, EXIT_UPSTREAM, unit, **common)


def bounded_body(body: Any, limit: int = UPSTREAM_BODY_CHARS) -> Any:
    """An upstream error body small enough to show: itself when its JSON text fits in ``limit``
    characters, else that text cut (and said so). URLs are left out (they name upstream hosts)."""
    if body is None or body == "":
        return None
    if isinstance(body, str):
        text = without_urls(body)
        return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"
    body = _without_urls(body)
    text = orjson.dumps(body, default=str).decode()
    if len(text) <= limit:
        return body
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def _without_urls(value: Any) -> Any:
    if isinstance(value, str):
        return without_urls(value)
    if isinstance(value, dict):
        return {key: _without_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_urls(item) for item in value]
    return value


def retry_hint(failure: Failure) -> str:
    """``retry after 7 s`` when the failure says when to retry, else ''."""
    if failure.retry_after is None:
        return ""
    return f"retry after {max(1, round(failure.retry_after))} s"
