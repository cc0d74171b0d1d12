"""Fixtures for the orchestration tests: the Shipyard stand-ins and a way to build runtimes from YAML.

``yard`` is one registry + dockyard pair for the whole module run (starting servers costs threads
and ports), cleared before each test. ``build(text)`` writes a capability to ``tmp_path`` (so
imports and script locations resolve next to it) and returns a :class:`Runtime` whose
``registry``/``legacy``/``api`` namespaces point at the stand-ins (or at ``base_uris`` given).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec.loader import load
from tests.support.fixtures import anyio_backend, upstream, upstream_server
from tests.support.shipyard import REGISTRY_TOKEN, Shipyard, shipyard

__all__ = ["anyio_backend", "upstream", "upstream_server"]

TUTORIAL = (
    Path(__file__).resolve().parents[3]
    / "shared/conformance/naftiko-framework-1.0.0-alpha2/src/main/resources/tutorial"
)


@pytest.fixture(scope="session")
def yard_servers() -> Iterator[Shipyard]:
    with shipyard() as yard:
        yield yard


@pytest.fixture
def yard(yard_servers: Shipyard) -> Shipyard:
    yard_servers.clear()
    return yard_servers


Build = Callable[..., Runtime]


@pytest.fixture
def build(tmp_path: Path, yard: Shipyard) -> Iterator[Build]:
    made: list[Runtime] = []

    def make(
        text: str, *, name: str = "capability.yml", base_uris: dict[str, str] | None = None, **kw: Any
    ) -> Runtime:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        secrets = tmp_path / "secrets.yaml"
        if not secrets.exists():
            secrets.write_text(f"registry-bearer-token: {REGISTRY_TOKEN}\n")
        uris = {**yard.base_uris, "api": yard.registry_server.url, **(base_uris or {})}
        kw.setdefault("environ", {})
        runtime = Runtime.build(load(path), RuntimeOptions(base_uris=uris, **kw))
        made.append(runtime)
        return runtime

    yield make


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path
