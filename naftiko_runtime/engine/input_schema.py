"""The JSON Schema of a unit's arguments: what MCP publishes as ``inputSchema`` and what REST
documents a request with, built once from the unit's :class:`~.contract.InputSpec` s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .contract import InputSpec


def json_schema(inputs: Sequence[InputSpec]) -> dict[str, Any]:
    """The JSON Schema of an argument object (MCP ``inputSchema``; REST request documentation)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in inputs:
        schema: dict[str, Any] = {"type": spec.type} if spec.type else {}
        if spec.description:
            schema["description"] = spec.description
        if spec.type == "array":
            schema["items"] = dict(spec.items) if spec.items else {}
        if spec.pattern and spec.type == "string":
            schema["pattern"] = spec.pattern
        if spec.in_path and spec.type in ("string", None):
            schema["minLength"] = 1  # an empty path segment is refused (it would change the URL)
        if spec.default is not None:
            schema["default"] = spec.default
        properties[spec.name] = schema
        if spec.required and spec.default is None:
            required.append(spec.name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out
