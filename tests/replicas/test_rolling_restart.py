"""Replicas are interchangeable: a rolling restart of all three under REST and MCP load loses nothing.

This is the quick variant (about 12 s of load, three restarts); ``bench/replicas.py --soak`` runs
the same scenario for 60 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ServerThread

from .cluster import echo_upstream, require_nginx
from .scenario import rolling_restart


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    with echo_upstream() as server:
        yield server


def test_a_rolling_restart_under_load_fails_no_request(tmp_path: Path, upstream: ServerThread) -> None:
    require_nginx()
    report = rolling_restart(tmp_path, upstream.url, duration=12)
    traffic = report.traffic
    assert traffic.error is None, repr(traffic.error)
    assert traffic.rest.failures == [], traffic.summary()
    assert traffic.mcp.failures == [], traffic.summary()
    assert traffic.rest.ok > 200 and traffic.mcp.ok > 50, traffic.summary()
    assert len(report.drains) == 3
    for drained in report.drains:
        # Readiness said 503 while the replica still accepted, and answered, closing the connection.
        assert drained.unready_while_accepting, drained
        assert drained.answer_while_unready == 200, drained
        assert drained.connection_header == "close", drained
        assert drained.exit_code == 0, drained
    # The load balancer kept sending to each draining replica until it was taken out: those
    # requests were answered (they are among the successes above), not reset.
    assert sum(drained.answered_after_sigterm for drained in report.drains) > 0, report.drains
