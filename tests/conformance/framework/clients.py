"""Clients a user of the runtime would use: the ``mcp`` SDK's ``Client``, raw JSON-RPC over httpx.

:func:`mcp_client` opens the SDK client over Streamable HTTP, in the handshake era by default
(``initialize`` with protocol version 2025-11-25, as the Java tutorial tests do), with a bearer
token when the adapter asks for one. :class:`Rpc` posts single JSON-RPC messages and returns the
raw HTTP answer, for the protocol-level rows. :func:`tool_json` reads a tool result the way the Java
tests do: ``content[0].text`` parsed as JSON (and checks ``structuredContent`` agrees with it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HANDSHAKE_VERSION = "2025-11-25"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@asynccontextmanager
async def mcp_client(
    url: str, *, token: str | None = None, headers: Mapping[str, str] | None = None, mode: str = "legacy"
) -> AsyncIterator[Client]:
    """The SDK client connected to ``url`` (``.../mcp``)."""
    sent = {**(bearer(token) if token else {}), **(headers or {})}
    async with httpx.AsyncClient(headers=sent, timeout=30) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def dump(model: Any) -> Any:
    """An SDK result as plain JSON-like data, as it was on the wire."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def tool_json(result: Any) -> Any:
    """``content[0].text`` of a tool result, parsed as JSON; asserts ``isError`` is false."""
    data = dump(result) if not isinstance(result, dict) else result
    assert data.get("isError") in (False, None), f"the tool reported an error: {data}"
    content = data["content"]
    assert content and content[0]["type"] == "text", data
    value = json.loads(content[0]["text"])
    structured = data.get("structuredContent")
    if structured is not None:
        assert structured in (value, {"result": value}), (structured, value)
    return value


def tools_by_name(listing: Any) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in (dump(tool) for tool in listing.tools)}


class Rpc:
    """Single JSON-RPC messages posted to an MCP endpoint; returns the ``httpx.Response``."""

    def __init__(self, url: str, headers: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            **(headers or {}),
        }
        self.client = httpx.Client(timeout=30)

    def post(self, payload: Any, *, raw: bytes | None = None, **headers: str) -> httpx.Response:
        content = raw if raw is not None else json.dumps(payload).encode()
        return self.client.post(self.url, content=content, headers={**self.headers, **headers})

    def call(self, method: str, params: Any = None, *, id: Any = 1, **headers: str) -> httpx.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        return self.post(message, **headers)

    def notify(self, method: str, params: Any = None) -> httpx.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        return self.post(message)

    def initialize(self, version: str = HANDSHAKE_VERSION) -> httpx.Response:
        return self.call(
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "naftiko-conformance", "version": "1.0"},
            },
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Rpc:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def body(response: httpx.Response) -> Any:
    """The JSON-RPC message of an answer (JSON, or the one ``data:`` event of an SSE stream)."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:"):
                return json.loads(line[5:])
        raise AssertionError(f"no data event in {response.text!r}")
    return response.json()
