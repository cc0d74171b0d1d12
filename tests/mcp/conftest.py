"""Servers for the MCP tests.

* ``standin``: the Label Studio stand-in (examples/label_studio_standin.py) on a loopback port,
  reset before each test, with every request it received.
* ``engine_server``: the seed's MCP adapter on the real engine, pointed at the stand-in.
* ``naftiko_serve``: the same through ``naftiko serve`` in a subprocess (module scope: one start).
* ``seed_server``: the seed on the real engine pointed at the programmable ``RecordingUpstream``,
  for protocol tests that need odd upstream answers (errors, delays).
* ``demo_server``: tests/mcp/capabilities/demo.yaml (a static directory, a mock resource, a
  resource template over a consumed operation, static and dynamic prompts) on the real engine,
  its ``demo`` namespace pointed at the ``RecordingUpstream``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.label_studio_standin import StandinRecord, Store, create_app
from tests.support.fixtures import anyio_backend, upstream, upstream_server
from tests.support.servers import ServerThread
from tests.support.upstream import RecordingUpstream

from .engine import CONSUMED, SEED, TOKEN, EngineServer, NaftikoServe, serve_document, serve_seed

__all__ = ["anyio_backend", "upstream", "upstream_server"]

RUNS = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
DEMO = Path(__file__).with_name("capabilities") / "demo.yaml"
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class Standin:
    """The Label Studio stand-in on a loopback port, and every request it answered."""

    def __init__(self) -> None:
        self.records: list[StandinRecord] = []
        self.app = create_app(TOKEN, recorder=self.records.append)
        self.server = ServerThread(self.app)

    @property
    def url(self) -> str:
        return self.server.url

    def wait(self, count: int, timeout: float = 5.0) -> list[StandinRecord]:
        """The records once there are ``count`` (a request is recorded after it is answered)."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} upstream requests, got {len(self.records)}")
            time.sleep(0.002)
        return list(self.records)

    def reset(self) -> None:
        self.records.clear()
        self.app.state.store = Store.seeded()


@pytest.fixture(scope="session")
def standin_server() -> Iterator[Standin]:
    stand = Standin()
    with stand.server:
        yield stand


@pytest.fixture
def standin(standin_server: Standin) -> Standin:
    if not standin_server.server.running:
        standin_server.server.start()
    standin_server.reset()
    return standin_server


@pytest.fixture(scope="session")
def engine_server(standin_server: Standin) -> Iterator[EngineServer]:
    with serve_seed(standin_server.url) as server:
        yield server


@pytest.fixture(scope="module")
def naftiko_serve(standin_server: Standin) -> Iterator[NaftikoServe]:
    with NaftikoServe(SEED, base_uris={CONSUMED: standin_server.url}) as serve:
        yield serve


def program_seed(upstream: RecordingUpstream) -> None:
    """The Label Studio answers the seed's three operations need."""
    upstream.route("GET", RUNS, json={"count": 1, "results": [{"id": 7, "status": "Completed"}]})
    upstream.route("POST", RUNS, json={"id": 8, "status": "Pending"}, status=201)
    upstream.route("POST", RUNS + "/{run}/cancel", json={"detail": "cancelled"})


@pytest.fixture
def seed_server(upstream: RecordingUpstream) -> Iterator[ServerThread]:
    program_seed(upstream)
    with serve_seed(upstream.url, api_key="Token seed-secret-123") as server:
        yield server


def docs_directory(root: Path) -> Path:
    """``root/docs`` with a few files to serve, and ``root/secrets.txt`` that must not be."""
    docs = root / "docs"
    (docs / "guides").mkdir(parents=True, exist_ok=True)
    (docs / "guide.md").write_text("# guide\n", encoding="utf-8")
    (docs / "guides" / "setup.yaml").write_text("steps: [install, run]\n", encoding="utf-8")
    (docs / "logo.png").write_bytes(PNG_PIXEL)
    (root / "secrets.txt").write_text("do not serve me\n", encoding="utf-8")
    return docs


@pytest.fixture
def demo_server(upstream: RecordingUpstream, tmp_path: Path) -> Iterator[ServerThread]:
    docs_directory(tmp_path)
    document = tmp_path / DEMO.name
    document.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    with serve_document(document, base_uris={"demo": upstream.url}) as server:
        yield server
