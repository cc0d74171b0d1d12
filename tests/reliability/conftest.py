"""The reliability suite's settings, servers and report.

Two intensities: quick (in every ``make test``, about a minute on two cores) and long (``make
reliability``, ``NAFTIKO_RELIABILITY=long``): more fuzz examples, a longer soak, more slow clients.
Every test adds rows to :data:`REPORT`; the terminal summary prints them as the fault table and the
figures the README quotes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mcp.engine import NaftikoServe
from tests.support.fixtures import anyio_backend

from .faulty import FaultyUpstream, dead_port

__all__ = ["anyio_backend"]

DOCUMENT = Path(__file__).with_name("capabilities") / "faults.yaml"
LONG = os.environ.get("NAFTIKO_RELIABILITY", "quick") == "long"


@dataclass(frozen=True)
class Settings:
    read_timeout: float = 1.0
    deadline: float = 2.5
    huge_bytes: int = 48 * 1024 * 1024  # over the 32 MiB default limit of issue #12, item 1
    fuzz_examples: int = 150
    loader_examples: int = 60
    schemathesis_examples: int = 15
    slow_clients: int = 300
    descriptor_limit: int = 256
    soak_connections: int = 200
    soak_seconds: float = 4.0


SETTINGS = (
    Settings(
        fuzz_examples=2_000,
        loader_examples=1_000,
        schemathesis_examples=200,
        slow_clients=1_100,
        descriptor_limit=1_024,
        soak_seconds=60.0,
    )
    if LONG
    else Settings()
)

# section -> rows (each a dict of column -> text), printed at the end of the run.
REPORT: dict[str, list[dict[str, str]]] = {}


def report(section: str, **row: object) -> None:
    REPORT.setdefault(section, []).append({k: str(v) for k, v in row.items()})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT:
        return
    write = terminalreporter.write_line
    write("")
    write(f"=== reliability ({'long' if LONG else 'quick'} settings) ===")
    for section, rows in REPORT.items():
        write("")
        write(f"## {section}")
        columns = list(dict.fromkeys(key for row in rows for key in row))
        write("| " + " | ".join(columns) + " |")
        write("|" + "|".join(" --- " for _ in columns) + "|")
        for row in rows:
            write("| " + " | ".join(row.get(c, "") for c in columns) + " |")
        verdicts = [row["result"] for row in rows if "result" in row]
        if verdicts:
            write(f"cases right: {verdicts.count('right')} / {len(verdicts)}")


@pytest.fixture(scope="session")
def faulty() -> Iterator[FaultyUpstream]:
    with FaultyUpstream(huge_bytes=SETTINGS.huge_bytes) as upstream:
        yield upstream


@pytest.fixture(scope="session")
def served(faulty: FaultyUpstream) -> Iterator[NaftikoServe]:
    """``naftiko serve`` of faults.yaml (REST first, then MCP) over the faulty upstream."""
    args = ["--read-timeout", str(SETTINGS.read_timeout), "--deadline", str(SETTINGS.deadline)]
    base_uris = {"faulty": faulty.url, "gone": f"http://127.0.0.1:{dead_port()}"}
    with NaftikoServe(DOCUMENT, base_uris=base_uris, extra_args=args, wait_port=None) as serve:
        yield serve
