"""The conformance table: one row per framework scenario or corpus file, printed and saved.

A row is ``(suite, scenario, units_passed, units_total, status, reason)``: which suite (a catalogue
section such as ``10a``, or ``corpus``), which scenario or file, how many of its units passed out of
how many, its status and, unless it simply passed, why. Tests add rows through the
``conformance_row`` fixture (``tests/conformance/conftest.py``); at the end of the session the table
is printed with per-suite and overall totals, and written to ``tests/conformance/results.json``.
"""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("pass", "fail", "n/a", "skip")
"""``pass``: every unit passed; ``fail``: a unit failed; ``n/a``: the scenario or file cannot apply
here (the reason says why); ``skip``: the test was skipped for another reason (nothing to test)."""


@dataclass(frozen=True)
class Row:
    suite: str
    scenario: str
    units_passed: int
    units_total: int
    status: str
    reason: str = ""
    nodeid: str = ""
    details: tuple[str, ...] = ()
    """One line per unit that did not pass (kept in results.json, not printed)."""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        if row.status not in STATUSES:
            raise ValueError(f"conformance row status must be one of {STATUSES}, not {row.status!r}")
        self.rows.append(row)

    def note(self, suite: str, text: str) -> None:
        """A line printed under the suite's totals (the corpus says what it served and how fast)."""
        self.notes.setdefault(suite, []).append(text)

    def suites(self) -> dict[str, list[Row]]:
        """Rows by suite, suites in name order (``10a`` … ``10d``, ``corpus``), rows as recorded."""
        out: dict[str, list[Row]] = {}
        for row in self.rows:
            out.setdefault(row.suite, []).append(row)
        return dict(sorted(out.items()))

    # -- output -----------------------------------------------------------------------------------

    def render(self, width: int | None = None) -> list[str]:
        """The table as text lines: rows grouped by suite, each suite's totals, then all totals."""
        width = max(width or shutil.get_terminal_size((200, 20)).columns, 120)
        lines: list[str] = []
        suites = self.suites()
        name_width = min(64, max((len(r.scenario) for r in self.rows), default=10))
        for suite, rows in suites.items():
            lines.append(f"[{suite}]")
            for row in rows:
                counts = f"{row.units_passed}/{row.units_total}"
                text = f"  {row.status:<4} {counts:>9}  {row.scenario:<{name_width}}"
                if row.reason:
                    text += f"  {row.reason}"
                lines.append(_clip(text.rstrip(), width))
            lines.append(f"  = {_totals_text(rows)}")
            lines += [f"  = {note}" for note in self.notes.get(suite, [])]
            lines.append("")
        for suite, notes in self.notes.items():
            if suite not in suites:
                lines += [f"[{suite}]", *(f"  = {note}" for note in notes), ""]
        lines.append(f"TOTAL  {_totals_text(self.rows)}")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "totals": _totals(self.rows),
            "suites": {
                suite: {"totals": _totals(rows), "notes": self.notes.get(suite, [])}
                for suite, rows in self.suites().items()
            },
            "rows": [asdict(row) for row in self.rows],
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _totals(rows: Iterable[Row]) -> dict[str, int]:
    rows = list(rows)
    out = {status: sum(1 for r in rows if r.status == status) for status in STATUSES}
    out["rows"] = len(rows)
    out["units_passed"] = sum(r.units_passed for r in rows)
    out["units_total"] = sum(r.units_total for r in rows)
    return out


def _totals_text(rows: Iterable[Row]) -> str:
    totals = _totals(rows)
    counts = ", ".join(f"{totals[s]} {s}" for s in STATUSES if totals[s])
    rows = f"{totals['rows']} row{'' if totals['rows'] == 1 else 's'}"
    return f"{rows} ({counts or 'none'}); units {totals['units_passed']}/{totals['units_total']}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
