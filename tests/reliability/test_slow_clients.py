"""Slow clients and a soak, against ``naftiko serve`` of faults.yaml.

* slowloris: more half-sent requests than the server has descriptors (its ``RLIMIT_NOFILE`` is set
  low), each dripping a header byte now and then; a normal request must still be answered.
* soak: 200 keep-alive connections calling the REST operation (an upstream call each) for a while;
  every answer must be a 200, and the server's resident memory is reported before and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mcp.engine import NaftikoServe

from .conftest import DOCUMENT, LONG, SETTINGS, report
from .faulty import FaultyUpstream, dead_port

ATTACK_S = 10.0 if LONG else 3.0  # how long the slow clients hold on before the check
HEADER_TIMEOUT_S = ATTACK_S - 1.5


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def limited(faulty: FaultyUpstream) -> Iterator[NaftikoServe]:
    base_uris = {"faulty": faulty.url, "gone": f"http://127.0.0.1:{dead_port()}"}
    # Half-sent requests are cut after HEADER_TIMEOUT_S; until then the connection cap (half the
    # descriptors) refuses newcomers with 503 rather than letting the process run out of them.
    with NaftikoServe(
        DOCUMENT,
        base_uris=base_uris,
        wait_port=None,
        max_open_files=SETTINGS.descriptor_limit,
        extra_args=["--header-timeout", str(HEADER_TIMEOUT_S)],
    ) as serve:
        yield serve


async def _slow_client(port: int, stop: asyncio.Event) -> None:
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /faults/ok HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            await writer.drain()
            while not stop.is_set():
                await asyncio.sleep(1.0)
                writer.write(b"X")  # a header that never ends
                await writer.drain()
        finally:
            writer.close()


@pytest.mark.anyio
async def test_slowloris_does_not_starve_normal_requests(limited: NaftikoServe) -> None:
    port = limited.ports[0]
    stop = asyncio.Event()
    clients = [asyncio.ensure_future(_slow_client(port, stop)) for _ in range(SETTINGS.slow_clients)]
    try:
        await asyncio.sleep(ATTACK_S)
        started = time.monotonic()
        status: int | str
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                status = (await client.get(f"http://127.0.0.1:{port}/faults/ok")).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        took = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)
    report(
        "slow clients",
        case=f"slowloris: {SETTINGS.slow_clients} half-sent requests, "
        f"{SETTINGS.descriptor_limit} descriptors",
        outcome=f"normal request: {status} in {took:.2f} s",
    )
    assert status == 200 and took < 2.0


async def _soak_connection(port: int, until: float, counts: dict[str, int]) -> None:
    request = b"GET /faults/ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            counts["ok" if head.startswith(b"HTTP/1.1 200") else "errors"] += 1
    except (OSError, asyncio.IncompleteReadError):
        counts["errors"] += 1
    finally:
        writer.close()


@pytest.mark.anyio
async def test_soak_of_200_connections(served: NaftikoServe) -> None:
    port = served.ports[0]
    pid = served.proc.pid if served.proc is not None else 0
    counts = {"ok": 0, "errors": 0}
    # Warm up (pools, caches, allocator arenas), then measure from there.
    await asyncio.gather(
        *(_soak_connection(port, time.monotonic() + 1.0, {"ok": 0, "errors": 0}) for _ in range(20))
    )
    before = _rss_kb(pid)
    until = time.monotonic() + SETTINGS.soak_seconds
    started = time.monotonic()
    await asyncio.gather(*(_soak_connection(port, until, counts) for _ in range(SETTINGS.soak_connections)))
    took = time.monotonic() - started
    after = _rss_kb(pid)
    growth = (after - before) / before * 100
    report(
        "soak",
        connections=SETTINGS.soak_connections,
        seconds=f"{took:.0f}",
        requests=counts["ok"] + counts["errors"],
        errors=counts["errors"],
        rss_before_mb=f"{before / 1024:.1f}",
        rss_after_mb=f"{after / 1024:.1f}",
        rss_growth=f"{growth:+.1f}%",
    )
    assert counts["errors"] == 0
    assert counts["ok"] > 0
    assert growth < 25.0
