"""What a capability serves, as data to compare: two documents that mean the same serve the same.

:func:`served` builds a document in-process and records what an agent or client sees of it, and what
reaches the upstream when each unit is called:

- every MCP tool's descriptor as ``tools/list`` gives it (name, title, description, input schema,
  annotations), its output schema apart;
- every REST route: method, path and the input schema (names, types, places);
- for every unit (tools, REST operations, aggregate functions), the upstream requests one call with
  arguments generated from its input schema produces, as the :class:`RecordingUpstream` received
  them (method, path, query, body, and the headers a document can set).

The consumed namespaces point at ``upstream`` under a prefix of the caller's choosing, so several
documents can be compared against one recording server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naftiko_runtime.binds import BindValues
from naftiko_runtime.exposes.mcp.catalog import ToolEntry
from naftiko_runtime.exposes.mcp.tools import tool_descriptor
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import Document
from tests.conformance.samples import NoSample, sample

from .upstream import RecordedRequest, RecordingUpstream

# Headers that vary between two identical calls, or that the HTTP client chooses.
_VOLATILE = frozenset({"host", "content-length", "user-agent", "accept-encoding", "connection", "date"})


@dataclass
class Surface:
    tools: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    output_schemas: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, list[tuple[str, str, dict[str, Any]]]] = field(default_factory=dict)
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def placeholder_runtime(document: Document, base_uris: dict[str, str] | None = None) -> Runtime:
    """The document built with an empty value for every bind variable."""
    options = RuntimeOptions(base_uris=base_uris or {}, unit_deadline_s=10.0)
    return Runtime(document, BindValues.placeholders(document.all_binds), options)


async def served(
    document: Document, upstream: RecordingUpstream | None = None, prefix: str = "doc"
) -> Surface:
    """What ``document`` serves; with ``upstream``, the requests each unit sends too.

    What is listed comes from the document as written; the requests from the same document with each
    consumed ``baseUri`` pointed at ``upstream`` (its scheme and host replaced, its path kept).
    """
    out = Surface()
    runtime = placeholder_runtime(document)
    try:
        for plan in runtime.mcp:
            descriptors = []
            for unit in plan.tools:
                descriptor = tool_descriptor(ToolEntry(unit.name, unit.title, unit.description, unit))
                out.output_schemas[f"{plan.expose.namespace}.{unit.name}"] = descriptor.pop(
                    "outputSchema", None
                )
                descriptors.append(descriptor)
            out.tools[plan.expose.namespace] = descriptors
        for rest in runtime.rest:
            routes = []
            for route in rest.routes:
                schema = dict(route.unit.input_schema)
                schema.pop("required", None)  # REST parameters: see the migrate notes
                located = {place.name: place.location for place in route.inputs}
                routes.append((route.method, route.path, {"schema": schema, "in": located}))
            out.routes[rest.expose.namespace] = routes
    finally:
        await runtime.aclose()
    if upstream is None:
        return out
    base_uris = {
        c.namespace: f"{upstream.url}/{prefix}/{c.namespace}{_path_of(c.base_uri)}"
        for c in document.all_consumes
    }
    runtime = placeholder_runtime(document, base_uris)
    try:
        for unit in runtime.units():
            out.requests[unit.qualified] = await _requests_of(unit, upstream, prefix)
    finally:
        await runtime.aclose()
    return out


def _path_of(base_uri: str) -> str:
    """``https://host/base/{tenant}`` → ``/base/{tenant}``."""
    _, sep, rest = base_uri.partition("://")
    return "/" + rest.partition("/")[2] if sep and "/" in rest else ""


async def _requests_of(unit: Any, upstream: RecordingUpstream, prefix: str) -> list[dict[str, Any]]:
    """The requests one call sends (the upstream records a request before it answers it), and
    whether the call succeeded; an answer a unit cannot decode still shows what it sent."""
    try:
        arguments = sample(unit.input_schema)
    except NoSample:
        return [{"no-sample": True}]
    before = len(upstream.requests)
    try:
        await unit.invoke(arguments)
    except Exception as exc:
        outcome = type(exc).__name__
    else:
        outcome = "ok"
    seen = [_describe(r, prefix) for r in upstream.requests[before:] if r.path.startswith(f"/{prefix}/")]
    return [*seen, {"outcome": outcome}]


def _describe(request: RecordedRequest, prefix: str) -> dict[str, Any]:
    headers = sorted((k.lower(), v) for k, v in request.headers.items() if k.lower() not in _VOLATILE)
    return {
        "method": request.method,
        "path": request.raw_path.removeprefix(f"/{prefix}"),
        "query": request.raw_query,
        "headers": headers,
        "body": request.json if request.is_json else request.body.decode("utf-8", "replace"),
    }
