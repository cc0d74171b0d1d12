"""The conformance table's machinery: the ``conformance_row`` fixture and the end-of-session report.

Every test under ``tests/conformance`` ends up as at least one row of the table:

* a test that records rows through ``conformance_row`` is represented by those rows;
* a test that records none gets one row from its outcome (suite: its module's
  ``CONFORMANCE_SUITE``, else the module's name without ``test_``; scenario: the test's name; 1/1
  pass, 0/1 fail, or ``skip`` with the skip reason — ``n/a`` when the reason starts with "n/a");
* a test that recorded a ``pass`` row and then failed anyway has that row turned into ``fail``.

At the end of the session the table is printed (``pytest_terminal_summary``) and written to
``tests/conformance/results.json``. See README.md in this folder.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from .results import Row, Table

RESULTS = Path(__file__).with_name("results.json")
_TABLE = pytest.StashKey[Table]()
_ROWS = pytest.StashKey[list[Row]]()  # per test item: the rows it recorded

Recorder = Callable[..., Row]


def table_of(config: pytest.Config) -> Table:
    if _TABLE not in config.stash:
        config.stash[_TABLE] = Table()
    return config.stash[_TABLE]


@pytest.fixture(scope="session")
def conformance_table(pytestconfig: pytest.Config) -> Table:
    """The session's table, for notes under a suite's totals (``table.note(suite, text)``)."""
    return table_of(pytestconfig)


@pytest.fixture
def conformance_row(request: pytest.FixtureRequest) -> Recorder:
    """Record one row: ``conformance_row(suite, scenario, units_passed, units_total, status, reason)``.

    ``status`` is ``pass``, ``fail``, ``n/a`` or ``skip``; ``reason`` says why a row is not a plain
    pass; keyword ``details`` (one line per unit that did not pass) goes to results.json only.
    Call it once per scenario (or corpus file); a test may record several rows.
    """
    item = request.node
    table = table_of(request.config)

    def record(
        suite: str,
        scenario: str,
        units_passed: int,
        units_total: int,
        status: str = "pass",
        reason: str = "",
        *,
        details: tuple[str, ...] | list[str] = (),
    ) -> Row:
        row = Row(
            str(suite),
            str(scenario),
            int(units_passed),
            int(units_total),
            str(status),
            str(reason or ""),
            item.nodeid,
            tuple(details),
        )
        table.add(row)
        item.stash.setdefault(_ROWS, []).append(row)
        return row

    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    recorded = item.stash.get(_ROWS, [])
    table = table_of(item.config)
    if report.when == "call" and report.failed and recorded:
        # The test recorded its rows as passing, then failed anyway: the table must not say pass.
        for index, row in enumerate(table.rows):
            if row.nodeid == item.nodeid and row.status == "pass":
                table.rows[index] = replace(row, status="fail", reason=f"the test failed: {_short(report)}")
    elif not recorded and (report.when == "call" or (report.when == "setup" and not report.passed)):
        row = _implicit_row(item, report)  # the outcome of a test that recorded nothing itself
        table.add(row)
        item.stash[_ROWS] = [row]
    return report


def _implicit_row(item: pytest.Item, report: pytest.TestReport) -> Row:
    module = getattr(getattr(item, "module", None), "CONFORMANCE_SUITE", None)
    module = module or Path(str(item.path)).stem.removeprefix("test_")
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        status = "n/a" if reason.removeprefix("Skipped: ").startswith("n/a") else "skip"
        return Row(module, item.name, 0, 0, status, reason.removeprefix("Skipped: "), item.nodeid)
    if report.failed:
        where = "" if report.when == "call" else f"{report.when}: "
        return Row(module, item.name, 0, 1, "fail", where + _short(report), item.nodeid)
    return Row(module, item.name, 1, 1, "pass", "", item.nodeid)


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:200] if text.strip() else "failed"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker holds part of the table: `make conformance` prints it whole
    if _TABLE not in config.stash:
        return
    table = config.stash[_TABLE]
    if not table.rows and not table.notes:
        return
    terminalreporter.section("conformance")
    writer = getattr(terminalreporter, "_tw", None)
    tty = writer is not None and getattr(writer, "hasmarkup", False)
    for line in table.render(writer.fullwidth if tty else 200):
        terminalreporter.write_line(line)
    try:
        table.write(RESULTS)
    except OSError as exc:  # a read-only checkout still gets the printed table
        terminalreporter.write_line(f"(results.json not written: {exc})")
    else:
        terminalreporter.write_line(f"written to {RESULTS}")
