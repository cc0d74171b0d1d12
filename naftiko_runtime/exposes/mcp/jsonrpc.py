"""JSON-RPC 2.0 framing shared by the HTTP and stdio transports.

Serialisation is by hand with :mod:`json` (compact separators, UTF-8): the shapes are tiny and fixed,
and going through pydantic models per message costs more than the whole dispatch.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types.jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)

__all__ = [
    "HEADER_MISMATCH",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "RpcError",
    "dumps",
    "encode",
    "error_message",
    "result_message",
]


class RpcError(Exception):
    """A JSON-RPC error reply. Raised inside handlers, turned into an error message by the dispatcher."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def dumps(value: Any) -> str:
    """Compact JSON; values the engine did not make JSON-native (dates, decimals) become strings."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def encode(message: dict[str, Any]) -> bytes:
    """A message as UTF-8 bytes. A lone surrogate (JSON allows ``"\\ud800"`` in what a client sends,
    and it may be echoed back) cannot be UTF-8: such a message is written with ASCII escapes."""
    try:
        return dumps(message).encode()
    except UnicodeEncodeError:
        return json.dumps(message, separators=(",", ":"), default=str).encode()


def result_message(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_message(request_id: Any, error: RpcError) -> dict[str, Any]:
    # ``id`` is always present on errors, ``null`` when the request's id could not be read.
    return {"jsonrpc": "2.0", "id": request_id, "error": error.as_error()}
