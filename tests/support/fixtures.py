"""Opt-in pytest fixtures built on the support classes.

Enable them for the whole suite with one line in ``tests/conftest.py``::

    pytest_plugins = ["tests.support.fixtures"]

* ``upstream_server`` (session): one :class:`RecordingUpstream` for the whole run — starting a
  server costs a thread and a port, and most tests only need a clean one.
* ``upstream`` (function): that server, reset before each test (no requests, routes or queue).
  Tests that stop/restart the upstream should make their own with ``RecordingUpstream()`` so a
  failure cannot leave the shared one down; if they do use this fixture, it is restarted for them.
* ``anyio_backend``: asyncio only, for ``@pytest.mark.anyio`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .upstream import RecordingUpstream


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as server:
        yield server


@pytest.fixture
def upstream(upstream_server: RecordingUpstream) -> Iterator[RecordingUpstream]:
    upstream_server.reset()
    if not upstream_server.running:
        upstream_server.start()
    yield upstream_server
    if not upstream_server.running:
        upstream_server.start()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
