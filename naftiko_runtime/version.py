"""The runtime's own version, as installed (MCP serverInfo, the control adapter, ``--version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def runtime_version() -> str:
    try:
        return version("naftiko-runtime")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+source"
