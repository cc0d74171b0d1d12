"""Tools: the ``tools/list`` descriptor of an entry, and a call's outcome as an MCP tool result.

Every failure of the unit itself (bad arguments, upstream status, timeout, unreachable upstream,
undecodable answer, a failing step) is a tool result with ``isError: true`` so that the agent sees
it and can correct itself; only protocol faults (unknown tool, malformed params) are JSON-RPC errors.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from naftiko_runtime.engine.contract import Hints, Result
from naftiko_runtime.errors import DecodeError, ScriptError, StepError, UpstreamError, without_urls
from naftiko_runtime.errors.classify import Failure, classify, retry_hint

from .budget import fit, input_names, notice
from .catalog import ToolEntry
from .jsonrpc import dumps

TAGS_META_KEY = "io.naftiko/tags"
"""Where a tool's ``tags`` are published: MCP has no field for them, and ``_meta`` keys are
namespaced by a reverse-DNS prefix so that they cannot collide with another vendor's."""

_HINT_KEYS = (
    ("read_only", "readOnlyHint"),
    ("destructive", "destructiveHint"),
    ("idempotent", "idempotentHint"),
    ("open_world", "openWorldHint"),
)


def tool_descriptor(entry: ToolEntry) -> dict[str, Any]:
    """The ``Tool`` object of ``tools/list``; keys with no value are left out, as clients expect."""
    unit = entry.invocable
    title = entry.title if entry.title is not None else unit.title
    description = entry.description if entry.description is not None else unit.description
    tool: dict[str, Any] = {"name": entry.name}
    if title:
        tool["title"] = title
    if description:
        tool["description"] = description
    tool["inputSchema"] = object_schema(unit.input_schema)
    output = unit.output_schema
    if output:
        tool["outputSchema"] = wrapped_output_schema(output)
    annotations = _annotations(entry.annotations if entry.annotations is not None else unit.hints, title)
    if annotations:
        tool["annotations"] = annotations
    if entry.tags:
        tool["_meta"] = {TAGS_META_KEY: list(entry.tags)}
    return tool


def object_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """MCP requires ``type: object`` at the root of an input schema; a unit without inputs has none."""
    out = dict(schema or {})
    out.setdefault("type", "object")
    return out


def wrapped_output_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """MCP output schemas (and ``structuredContent``) are objects; anything else is wrapped in
    ``{"result": ...}`` exactly as :func:`structured` wraps the value."""
    if schema.get("type") == "object":
        return dict(schema)
    return {"type": "object", "properties": {"result": dict(schema)}, "required": ["result"]}


def _annotations(hints: Hints | None, title: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if title:
        out["title"] = title
    if hints is not None:
        for attribute, key in _HINT_KEYS:
            value = getattr(hints, attribute)
            if value is not None:
                out[key] = value
    return out


def structured(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"result": value}


def success(
    result: Result,
    *,
    transient_uri: str = "naftiko://transient/result",
    budget: int | None = None,
    entry: ToolEntry | None = None,
) -> dict[str, Any]:
    """The tool result of a successful call: compact JSON text plus the same data structured; a
    binary answer as the content block its media type calls for (:func:`binary_content`). A
    result longer than ``budget`` characters is cut to fit, with a note (:mod:`.budget`)."""
    value = result.value
    if type(value) is bytes:
        return {"content": [binary_content(value, result.content_type, transient_uri)], "isError": False}
    # A text passthrough (text/plain, markdown...) is shown as is, not JSON-quoted.
    passthrough = isinstance(value, str) and "json" not in result.content_type
    text = value if passthrough else dumps(value)
    if budget is not None and len(text) > budget:
        return _cut(value, passthrough, budget, entry)
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured(value),
        "isError": False,
    }


def _cut(value: Any, passthrough: bool, budget: int, entry: ToolEntry | None) -> dict[str, Any]:
    cut = fit(value, budget)
    name = entry.name if entry is not None else "this tool"
    inputs = input_names(entry.invocable.input_schema) if entry is not None else []
    note = notice(cut, budget, name, inputs)
    return {
        "content": [
            {"type": "text", "text": cut.value if passthrough else cut.text},
            {"type": "text", "text": note},
        ],
        "structuredContent": structured(cut.value),
        "isError": False,
    }


def binary_content(data: bytes, media_type: str | None, uri: str) -> dict[str, Any]:
    """``image/*`` → image content, ``audio/*`` → audio content, anything else → an embedded
    resource (a blob at a ``uri`` that names this one result; it cannot be read again)."""
    mime = media_type or "application/octet-stream"
    encoded = base64.b64encode(data).decode("ascii")
    kind = mime.split("/", 1)[0].strip().lower()
    if kind in ("image", "audio"):
        return {"type": kind, "data": encoded, "mimeType": mime}
    return {"type": "resource", "resource": {"uri": uri, "mimeType": mime, "blob": encoded}}


def unencodable_argument(arguments: Mapping[str, Any]) -> str | None:
    """The name of an argument holding text that is not valid Unicode (a lone UTF-16 surrogate,
    which JSON's ``\\ud800`` escape allows and no upstream request can carry), or None."""
    for name, value in arguments.items():
        if _has_surrogate(value):
            return str(name)
    return None


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    return False


def failure(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def describe_failure(exc: Exception, unit: str) -> str:
    """A message for the agent, from the one classification every adapter renders
    (:func:`~naftiko_runtime.errors.classify.classify`): the step and the operation, what went wrong,
    when to retry, and for an upstream 4xx what the upstream said (its body, bounded and scrubbed),
    so that the agent can correct its arguments. Never the upstream's host, port or URL; a 5xx body
    is the upstream's business; an internal fault's details stay in the server log."""
    failure = classify(exc, unit)
    text = _failure_text(failure, exc)
    if failure.step is not None:
        text = f"Step '{failure.step}' failed: {text}"
    hint = retry_hint(failure)
    if hint:
        text += f" ({hint})"
    if failure.upstream_body is not None and failure.upstream_status is not None:
        body = failure.upstream_body
        shown = body if isinstance(body, str) else dumps(body)
        text += f"\nUpstream error body: {shown}"
    return text


def _failure_text(failure: Failure, exc: BaseException) -> str:
    while isinstance(exc, StepError):
        exc = exc.cause
    operation = failure.upstream or failure.unit
    if failure.kind == "invalid-input":
        if not failure.inputs:
            return f"Invalid arguments for '{failure.unit}': {failure.detail}"
        problems = "; ".join(f"{p.name}: {p.message}" for p in failure.inputs)
        return f"Invalid arguments for '{failure.unit}': {problems}"
    if isinstance(exc, UpstreamError) and not exc.credentials_refused:
        message = without_urls(exc.upstream_message) if 400 <= exc.status < 500 else ""
        text = f"Upstream {operation} answered HTTP {exc.status}"
        return f"{text}: {message}" if message else text
    if failure.kind == "upstream-unavailable":
        return f"Upstream {operation} could not be reached"
    if failure.kind == "upstream-timeout":
        return f"Upstream {operation} did not answer in time"
    if failure.kind == "upstream-invalid-response" and isinstance(exc, DecodeError):
        return f"The answer of upstream {operation} is not valid {exc.format}"
    if failure.kind == "internal":
        if isinstance(exc, ScriptError):
            return f"Script step '{exc.step}' failed; the details are in the server log"
        return f"Internal error while running '{failure.unit}'"
    detail = failure.detail
    return detail[:1].upper() + detail[1:]
