"""Rules over the files served together (``naftiko validate DIR``, ``naftiko serve DIR``).

One process serves every file it is given, so two adapters of different files on one address and
port collide exactly as two of one file do: the later adapter is refused at its ``port``, with the
place of the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .addresses import Listening, listening, overlap, port_conflict
from .loader import LoadReport, check


def check_files(paths: Iterable[str | Path], *, strict: bool = False, ports: bool = True) -> list[LoadReport]:
    """:func:`~.loader.check` each file, then the rules across them. ``ports=False`` when every port
    will be chosen by the system (``serve --any-port``), so declared ones cannot collide."""
    reports = [check(path, strict=strict) for path in paths]
    if ports:
        _port_conflicts(reports)
    return reports


def _port_conflicts(reports: list[LoadReport]) -> None:
    earlier: list[tuple[LoadReport, Listening]] = []
    for report in reports:
        if report.document is None:
            continue
        mine = list(listening(report.document))
        for entry in mine:
            for other_report, other in earlier:
                if other.port == entry.port and overlap(entry.address, other.address):
                    where = f"capability.exposes[{other.path[-1]}] ({other_report.where(other.path)})"
                    report.refuse((*entry.path, "port"), port_conflict(entry.port, where), "port-conflict")
                    break
        earlier += [(report, entry) for entry in mine]
