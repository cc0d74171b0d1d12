"""The rolling restart, as Kubernetes performs it, under REST and MCP load through nginx.

For each of the three replicas in turn: start its successor and wait until it is ready, add it to
the load balancer, SIGTERM the old one, and (as the endpoints controller does when a pod's
readiness fails) take the old one out of rotation as soon as its ``/health/ready`` answers 503.
Meanwhile :class:`~tests.replicas.traffic.Traffic` calls through nginx without pause. The quick
variant (``make test``) and the soak (``bench/replicas.py --soak``, 60 s) run this same code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .cluster import Nginx, Replica, write_capability
from .traffic import Traffic

DRAIN_ENV = {"NAFTIKO_DRAIN_DELAY": "1", "NAFTIKO_SHUTDOWN_TIMEOUT": "10"}


@dataclass
class Drained:
    """What was seen of one replica's drain."""

    name: str
    unready_while_accepting: bool = False
    answer_while_unready: int | None = None
    connection_header: str | None = None
    exit_code: int | None = None
    answered_after_sigterm: int = 0


@dataclass
class Report:
    traffic: Traffic
    drains: list[Drained] = field(default_factory=list)
    seconds: float = 0.0


def rolling_restart(workdir: Path, upstream_url: str, *, duration: float, replicas: int = 3) -> Report:
    """Run the scenario for at least ``duration`` seconds (the restarts are spread over it)."""
    capability = write_capability(workdir, upstream_url)
    current = [Replica(f"r{i}", capability, workdir, dict(DRAIN_ENV)).start() for i in range(replicas)]
    started: list[Replica] = list(current)
    nginx = Nginx(workdir)
    began = time.monotonic()
    try:
        for replica in current:
            replica.wait_ready()
        nginx.start(current)
        with Traffic(nginx.rest_url, nginx.mcp_url) as traffic:
            report = Report(traffic)
            gap = max(0.5, duration / (replicas + 1))
            time.sleep(gap)
            for index in range(replicas):
                old = current[index]
                successor = Replica(f"r{index}-next", capability, workdir, dict(DRAIN_ENV)).start()
                started.append(successor)
                successor.wait_ready()
                nginx.route([*current, successor])
                terminated_at = time.time()
                old.terminate()
                drained = _watch_drain(old)
                current[index] = successor
                nginx.route(current)
                drained.exit_code = old.wait(30)
                drained.answered_after_sigterm = sum(
                    1
                    for line in nginx.requests()
                    if old.address("rest") in line["upstream"] or old.address("mcp") in line["upstream"]
                    if float(line["msec"]) >= terminated_at
                )
                report.drains.append(drained)
                time.sleep(gap)
            remaining = duration - (time.monotonic() - began)
            if remaining > 0:
                time.sleep(remaining)
        report.seconds = time.monotonic() - began
        return report
    finally:
        nginx.stop()
        for replica in started:
            replica.terminate()
        for replica in started:
            try:
                replica.wait(30)
            except Exception:
                replica.kill()


def _watch_drain(old: Replica, timeout: float = 10.0) -> Drained:
    """Poll the draining replica until readiness says 503; then check it still answers directly."""
    drained = Drained(old.name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = old.readiness()
        if status == 503:
            break
        time.sleep(0.01)
    else:
        return drained
    try:
        answer = httpx.get(f"http://{old.address('rest')}/items/direct", timeout=5)
    except httpx.TransportError:
        return drained
    drained.unready_while_accepting = True
    drained.answer_while_unready = answer.status_code
    drained.connection_header = answer.headers.get("connection")
    return drained
