"""Helpers for the import tests: write a description, import it, serve the result, call a tool."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from naftiko_runtime.cli.import_cmd import serving
from naftiko_runtime.importers import Diagnostic, openapi, to_yaml

MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def described(folder: Path, document: Mapping[str, Any], name: str = "openapi.json") -> Path:
    """``document`` written as a JSON description in ``folder``."""
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def imported(source: Path | str, **options: Any) -> tuple[dict[str, Any], list[Diagnostic]]:
    return openapi(str(source), **options)


def tool(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The MCP tool ``name`` of an imported document."""
    for expose in document["capability"]["exposes"]:
        if expose["type"] == "mcp":
            for item in expose["tools"]:
                if item["name"] == name:
                    return item
    raise AssertionError(f"no tool {name!r}")


def operation(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The consumed operation ``name`` of an imported document."""
    for resource in document["capability"]["consumes"][0]["resources"]:
        for item in resource["operations"]:
            if item["name"] == name:
                return item
    raise AssertionError(f"no consumed operation {name!r}")


@contextmanager
def served(
    document: Mapping[str, Any], folder: Path, *, base_uri: str, env: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """``naftiko serve`` on the imported ``document`` (free ports, its namespace sent to
    ``base_uri``): adapter type → URL."""
    path = folder / "capability.yaml"
    path.write_text(to_yaml(document), encoding="utf-8")
    namespace = document["capability"]["consumes"][0]["namespace"]
    with serving(path, base_uris={namespace: base_uri}, env=env) as listeners:
        yield {item["type"]: item["url"] for item in listeners}


def rpc(url: str, method: str, params: Any) -> dict[str, Any]:
    """One JSON-RPC call to an MCP adapter (stateless Streamable HTTP)."""
    payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = httpx.post(url, json=payload, headers=MCP_HEADERS, timeout=30)
    text = answer.text
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        text = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")][-1]
    return json.loads(text)


def call_tool(url: str, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    message = rpc(url, "tools/call", {"name": name, "arguments": dict(arguments)})
    assert "result" in message, message
    return message["result"]
