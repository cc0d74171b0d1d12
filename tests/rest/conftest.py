"""Serving REST exposes on loopback ports for the tests, against real upstreams.

``serve_rest(capability, base_uris=..., environ=...)`` builds the runtime exactly as ``naftiko
serve`` will (``Runtime.build`` with ``--base-uri`` overrides), mounts ``build_rest_app`` in a
:class:`ServerThread` and closes the runtime's upstream pools on the server's own loop afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from examples.label_studio_standin import StandinRecord, Store, create_app
from naftiko_runtime.exposes.rest import RestOptions, build_rest_app
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.support.fixtures import upstream, upstream_server
from tests.support.servers import ServerThread

__all__ = ["upstream", "upstream_server"]

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "capabilities" / "label-studio-runs.yaml"
CAPABILITIES = Path(__file__).with_name("capabilities")
SEED_NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"
STANDIN_TOKEN = "standin-secret-7f3a"


@dataclass
class RestServer:
    server: ServerThread
    runtime: Runtime

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def serve_rest(
    capability: Path | str,
    *,
    base_uris: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    options: RestOptions | None = None,
    expose: int = 0,
    **runtime_options: object,
) -> Iterator[RestServer]:
    document = load(str(capability))
    runtime = Runtime.build(
        document,
        RuntimeOptions(base_uris=dict(base_uris or {}), environ=dict(environ or {}), **runtime_options),  # type: ignore[arg-type]
    )
    app = build_rest_app(runtime.rest[expose], runtime.context, options)
    server = ServerThread(app).start()
    try:
        yield RestServer(server, runtime)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runtime.aclose(), server.loop).result(5)
        server.stop()


class Standin:
    """The Label Studio stand-in on a loopback port, with every request it received."""

    def __init__(self) -> None:
        self.records: list[StandinRecord] = []
        self.app = create_app(STANDIN_TOKEN, recorder=self.records.append)
        self.server = ServerThread(self.app)

    @property
    def url(self) -> str:
        return self.server.url

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[StandinRecord]:
        """The records once there are ``count`` (the stand-in records a request after answering it)."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} upstream requests, got {len(self.records)}")
            time.sleep(0.002)
        return list(self.records)

    def assert_untouched(self) -> None:
        """No request reached the stand-in (given a moment for a late record to land)."""
        time.sleep(0.05)
        assert self.records == []

    def reset(self) -> None:
        self.records.clear()
        self.app.state.store = Store.seeded()


@pytest.fixture(scope="module")
def standin() -> Iterator[Standin]:
    stand = Standin()
    with stand.server:
        yield stand


@pytest.fixture(scope="module")
def seed_server(standin: Standin) -> Iterator[RestServer]:
    with serve_rest(
        SEED,
        base_uris={SEED_NAMESPACE: standin.url},
        environ={"LABEL_STUDIO_API_KEY": f"Token {STANDIN_TOKEN}"},
    ) as server:
        yield server


@pytest.fixture
def seed(seed_server: RestServer, standin: Standin) -> Iterator[httpx.Client]:
    standin.reset()
    if not standin.server.running:
        standin.server.start()
    with seed_server.client() as client:
        yield client
