"""Tools: the ``tools/list`` descriptor of an entry, and a call's outcome as an MCP tool result.

Every failure of the unit itself (bad arguments, upstream status, timeout, unreachable upstream,
undecodable answer, a failing step) is a tool result with ``isError: true`` so that the agent sees
it and can correct itself; only protocol faults (unknown tool, malformed params) are JSON-RPC errors.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from naftiko_runtime.engine.contract import Hints, Result
from naftiko_runtime.errors import (
    DecodeError,
    InputError,
    InvocationError,
    ScriptError,
    StepError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    without_urls,
)

from .catalog import ToolEntry
from .jsonrpc import dumps

logger = logging.getLogger("naftiko.mcp")

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


def success(result: Result, *, transient_uri: str = "naftiko://transient/result") -> dict[str, Any]:
    """The tool result of a successful call: compact JSON text plus the same data structured; a
    binary answer as the content block its media type calls for (:func:`binary_content`)."""
    value = result.value
    if type(value) is bytes:
        return {"content": [binary_content(value, result.content_type, transient_uri)], "isError": False}
    # A text passthrough (text/plain, markdown...) is shown as is, not JSON-quoted.
    passthrough = isinstance(value, str) and "json" not in result.content_type
    text = value if passthrough else dumps(value)
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured(value),
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


def failure(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def describe_failure(exc: Exception, unit: str) -> str:
    """A message for the agent: the operation and what went wrong, never the upstream's host, port
    or URL (those go to the server log). A 4xx upstream message is shown, as the agent can act on
    it (REST passes 4xx answers through too); a 5xx body is the upstream's business.
    Invocation errors are built never to hold secrets; anything else is an internal fault whose
    details stay in the server log."""
    if isinstance(exc, InputError):
        problems = "; ".join(f"{p.name}: {p.message}" for p in exc.problems) or str(exc)
        return f"Invalid arguments for '{unit}': {problems}"
    if isinstance(exc, StepError):
        cause = exc.cause
        inner = describe_failure(cause, unit) if isinstance(cause, Exception) else "failed"
        return f"Step '{exc.step}' failed: {inner}"
    operation = getattr(exc, "operation", "") or unit
    if isinstance(exc, UpstreamError):
        text = f"Upstream {operation} answered HTTP {exc.status}"
        detail = without_urls(exc.upstream_message) if 400 <= exc.status < 500 else ""
        return f"{text}: {detail}" if detail else text
    if isinstance(exc, UpstreamUnavailable):
        logger.warning("%s: upstream %s unreachable: %s", unit, operation, exc.reason)
        return f"Upstream {operation} could not be reached"
    if isinstance(exc, UpstreamTimeout):
        return f"Upstream {operation} did not answer in time"
    if isinstance(exc, DecodeError):
        logger.warning("%s: %s", unit, exc)
        return f"The answer of upstream {operation} is not valid {exc.format}"
    if isinstance(exc, ScriptError):
        logger.error("%s: %s", unit, exc)
        return f"Script step '{exc.step}' failed; the details are in the server log"
    if isinstance(exc, InvocationError):
        return str(exc)
    logger.error("unit %r failed with an unexpected error", unit, exc_info=exc)
    return f"Internal error while running '{unit}'"
