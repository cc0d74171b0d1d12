"""The ``mcp_conformance`` marker: the official MCP conformance suite (needs npm; see NOTES.md)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mcp_conformance: the official MCP conformance suite against naftiko serve "
        "(installs Node 22 from the npm registry once; skipped only when the registry is unreachable)",
    )
