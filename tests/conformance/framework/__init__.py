"""Helpers of the framework conformance suite (``test_framework_*.py``): servers, clients, rows."""

from .clients import HANDSHAKE_VERSION, Rpc, bearer, body, dump, mcp_client, tool_json, tools_by_name
from .paths import FRAMEWORK, RESOURCES, TUTORIAL, inline, requires_framework, resource, secret, tutorial
from .scenario import ROWS, not_applicable, scenario, unit
from .serve import Serve, ServeGroup, StdioServer, serve_once, stdio_argv

__all__ = [
    "FRAMEWORK",
    "HANDSHAKE_VERSION",
    "RESOURCES",
    "ROWS",
    "TUTORIAL",
    "Rpc",
    "Serve",
    "ServeGroup",
    "StdioServer",
    "bearer",
    "body",
    "dump",
    "inline",
    "mcp_client",
    "not_applicable",
    "requires_framework",
    "resource",
    "scenario",
    "secret",
    "serve_once",
    "stdio_argv",
    "tool_json",
    "tools_by_name",
    "tutorial",
    "unit",
]
