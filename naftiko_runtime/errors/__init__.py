"""Every error the runtime raises, as values that carry their place.

Spec errors name file, line, column and the path inside the document. Runtime errors name the
operation (or step) and, for upstream failures, the status. None of them ever holds a secret: binds
are resolved into :class:`naftiko_runtime.binds.Secret` values whose ``repr`` is masked, and upstream
bodies are kept only in decoded form for the caller who asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One located finding about a document, printed compiler-style."""

    message: str
    path: str = ""
    file: str = "<string>"
    line: int = 0
    column: int = 0
    severity: Severity = "error"
    rule: str = "invalid"

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        inside = f"{self.path}: " if self.path else ""
        return f"{where}: {self.severity}: {inside}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
        }


class NaftikoError(Exception):
    """Base of every error raised by the runtime."""


class SpecError(NaftikoError):
    """A document could not be loaded; ``problems`` lists every located error (and warning)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(p.format() for p in errors) or "invalid document")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class AdapterConfigError(NaftikoError):
    """An adapter cannot be served as declared (an inbound credential renders empty, a scheme the
    adapter cannot enforce...). The adapter is not started; the message names it and the field."""


class BindError(NaftikoError):
    """A bind variable has no value on this machine. Names the variable and the bind, never a value."""

    def __init__(self, variable: str, bind: str, reason: str) -> None:
        self.variable = variable
        self.bind = bind
        self.reason = reason
        super().__init__(f"bind '{bind}': variable {variable} {reason}")


class InvocationError(NaftikoError):
    """Base of the errors an exposed unit can raise while it runs."""

    operation: str = ""


@dataclass(frozen=True, slots=True)
class InputProblem:
    """What is wrong with one argument of a call."""

    name: str
    message: str
    location: str | None = None  # path, query, header, cookie, body; None for MCP arguments

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "reason": self.message}
        if self.location:
            out["in"] = self.location
        return out


class InputError(InvocationError):
    """The caller's arguments are missing, mistyped or malformed. Raised before any upstream call."""

    def __init__(self, problems: list[InputProblem], operation: str = "") -> None:
        self.problems = problems
        self.operation = operation
        text = "; ".join(f"{p.name}: {p.message}" for p in problems)
        super().__init__(f"invalid input: {text}")


class UpstreamError(InvocationError):
    """The upstream answered with a 4xx or 5xx status.

    ``headers`` keeps the few answer headers a caller can act on (``Retry-After`` and the rate-limit
    family), nothing else. ``credentials_refused``: a 401/407 answering the credentials the
    capability itself sends (the consumed namespace's ``authentication``), not the caller's.
    """

    def __init__(
        self,
        operation: str,
        status: int,
        body: Any = None,
        content_type: str | None = None,
        elapsed_ms: float = 0.0,
        headers: tuple[tuple[str, str], ...] = (),
        credentials_refused: bool = False,
    ) -> None:
        self.operation = operation
        self.status = status
        self.body = body
        self.content_type = content_type
        self.elapsed_ms = elapsed_ms
        self.headers = headers
        self.credentials_refused = credentials_refused
        super().__init__(f"upstream {operation} answered {status}{_upstream_detail(body)}")

    @property
    def upstream_message(self) -> str:
        return _upstream_detail(body=self.body).removeprefix(": ")

    @property
    def retry_after(self) -> float | None:
        """Seconds the upstream asked to wait (``Retry-After``, delay-seconds form), if it did."""
        for name, value in self.headers:
            if name.lower() == "retry-after":
                return retry_after_seconds(value)
        return None


def retry_after_seconds(value: str) -> float | None:
    """``Retry-After`` as seconds: its delay-seconds form, or an HTTP date from now; else None."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class UpstreamRedirect(InvocationError):
    """The upstream answered a redirect (3xx). Redirects are never followed: a credential meant for
    one origin must not travel to another, and a redirect answered as a success would tell the
    caller something happened when nothing did. ``target`` is the ``Location``'s origin only."""

    def __init__(self, operation: str, status: int, target: str | None) -> None:
        self.operation = operation
        self.status = status
        self.target = target
        where = f" to {target}" if target else ""
        super().__init__(f"upstream {operation} answered {status}{where}; redirects are not followed")


class UpstreamTooLarge(InvocationError):
    """The upstream's answer is larger than a limit; reading stopped there and the connection was
    dropped. ``setting`` names the limit (a serve flag, or ``maxBinarySize`` for binary answers)."""

    setting = "--max-upstream-body"

    def __init__(self, operation: str, limit: int, size: int | None = None) -> None:
        self.operation = operation
        self.limit = limit
        self.size = size
        said = f"{size} bytes, more" if size is not None else "more"  # unknown when chunked
        super().__init__(f"upstream {operation} answered {said} than {self.setting} allows ({_size(limit)})")


class UpstreamCircuitOpen(InvocationError):
    """Calls to a consumed namespace fail at once: its last calls could not reach it (the circuit is
    open) until ``retry_after`` seconds have passed and a probe succeeds."""

    def __init__(self, operation: str, namespace: str, reason: str, retry_after: float) -> None:
        self.operation = operation
        self.namespace = namespace
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"upstream {operation} not called: {namespace} is failing ({reason})")


class UpstreamBusy(InvocationError):
    """A consumed namespace already has as many calls in flight, and waiting, as it may."""

    def __init__(self, operation: str, namespace: str, limit: int) -> None:
        self.operation = operation
        self.namespace = namespace
        self.limit = limit
        self.retry_after = 1.0
        super().__init__(
            f"upstream {operation} not called: {namespace} already has {limit} calls in flight "
            "and its queue is full"
        )


class UpstreamTimeout(InvocationError):
    """The upstream did not answer within the time left. ``phase``: ``connect`` or ``read`` (a
    socket timeout), or ``deadline`` (the unit's time ran out, retries included)."""

    def __init__(self, operation: str, elapsed_ms: float = 0.0, phase: str = "read") -> None:
        self.operation = operation
        self.elapsed_ms = elapsed_ms
        self.phase = phase
        super().__init__(f"upstream {operation} timed out ({phase}) after {elapsed_ms:.0f} ms")


class UpstreamUnavailable(InvocationError):
    """The upstream could not be reached (refused connection, DNS failure, broken connection)."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"upstream {operation} unreachable: {reason}")


class DecodeError(InvocationError):
    """The upstream's answer could not be decoded in the declared ``outputRawFormat``."""

    def __init__(self, operation: str, fmt: str, reason: str) -> None:
        self.operation = operation
        self.format = fmt
        self.reason = reason
        super().__init__(f"upstream {operation}: response is not valid {fmt}: {reason}")


class BinaryTooLarge(UpstreamTooLarge):
    """A binary answer is larger than the ``maxBinarySize`` it may have (read no further than that)."""

    setting = "maxBinarySize"


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % (scale // 1024 or 1) == 0:
            value = count / scale
            return f"{value:g}{unit} = {count} bytes"
    return f"{count} bytes"


class RequestBuildError(InvocationError):
    """A request could not be built from the values given (a header with CR/LF, a missing path value)."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"{operation}: {reason}")


@dataclass
class StepFailure:
    step: str
    given: dict[str, Any] = field(default_factory=dict)


class StepError(InvocationError):
    """A step of an orchestrated unit failed. ``cause`` is the underlying invocation error."""

    def __init__(self, step: str, cause: Exception, given: dict[str, Any] | None = None) -> None:
        self.step = step
        self.cause = cause
        self.given = given or {}
        self.operation = getattr(cause, "operation", "")
        given_text = ", ".join(f"{k}={_short(v)}" for k, v in self.given.items())
        super().__init__(f"step '{step}' failed: {cause}" + (f" (given {given_text})" if given_text else ""))


class ScriptError(InvocationError):
    """A script step failed, exceeded its time or memory limit, or produced no ``result``."""

    def __init__(self, step: str, reason: str) -> None:
        self.operation = step
        self.step = step
        self.reason = reason
        super().__init__(f"script step '{step}': {reason}")


class UnitDeadlineExceeded(InvocationError):
    """The whole unit ran past its deadline."""

    def __init__(self, operation: str, deadline_s: float) -> None:
        self.operation = operation
        self.deadline_s = deadline_s
        super().__init__(f"{operation}: deadline of {deadline_s:g} s exceeded")


_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+")


def without_urls(text: str) -> str:
    """``text`` with every absolute URL replaced by ``<url>``: an upstream's address (and whatever its
    query string holds) is for the server log, not for a client or an error message."""
    return _URL.sub("<url>", text)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _upstream_detail(body: Any) -> str:
    """A short human message extracted from an upstream error body, if it has one."""
    if body is None or body == "":
        return ""
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f": {value[:300]}"
        return ""
    if isinstance(body, str):
        text = body.strip().splitlines()[0] if body.strip() else ""
        return f": {text[:300]}" if text else ""
    return ""
