"""Servers for the MCP tests: the seed's MCP expose (and a richer demo catalog) on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from naftiko_runtime.exposes.mcp import McpSecurity, build_mcp_app
from tests.support.fixtures import anyio_backend, upstream, upstream_server
from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

from .fakes import demo_catalog, seed_catalog

__all__ = ["anyio_backend", "upstream", "upstream_server"]

RUNS = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"


def program_seed(upstream: RecordingUpstream) -> None:
    """The Label Studio answers the seed's three operations need."""
    upstream.route("GET", RUNS, json={"count": 1, "results": [{"id": 7, "status": "Completed"}]})
    upstream.route("POST", RUNS, json={"id": 8, "status": "Pending"}, status=201)
    upstream.route("POST", RUNS + "/{run}/cancel", json={"detail": "cancelled"})


@pytest.fixture
def seed_server(upstream: RecordingUpstream) -> Iterator[ServerThread]:
    program_seed(upstream)
    with ServerThread(build_mcp_app(seed_catalog(upstream.url))) as server:
        yield server


@pytest.fixture
def demo_server(upstream: RecordingUpstream, tmp_path: Path) -> Iterator[ServerThread]:
    program_seed(upstream)
    app = build_mcp_app(demo_catalog(upstream.url, tmp_path), McpSecurity())
    with ServerThread(app) as server:
        yield server
