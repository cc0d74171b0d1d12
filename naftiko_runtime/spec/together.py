"""Rules over the files served together (``naftiko validate DIR``, ``naftiko serve DIR``).

One process serves every file it is given, so two adapters of different files on one address and
port collide exactly as two of one file do: the later adapter is refused at its ``port``, with the
place of the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from .addresses import Listening, listening, overlap, port_conflict
from .credentials import check_credentials
from .loader import LoadReport, check
from .source import DocPath


def check_files(
    paths: Iterable[str | Path],
    *,
    strict: bool = False,
    ports: bool = True,
    environ: Mapping[str, str] | None = None,
) -> list[LoadReport]:
    """:func:`~.loader.check` each file, then the rules across them. ``ports=False`` when every port
    will be chosen by the system (``serve --any-port``), so declared ones cannot collide.
    ``environ``: also warn at each credential that would render empty with the binds found there
    (:mod:`.credentials`; ``naftiko validate`` passes its own environment)."""
    reports = [check(path, strict=strict) for path in paths]
    if ports:
        _port_conflicts(reports)
    if environ is not None:
        for report in reports:
            _credential_warnings(report, environ)
    return reports


def _credential_warnings(report: LoadReport, environ: Mapping[str, str]) -> None:
    document, locate = report.document, report.locator
    if document is None or locate is None:
        return
    found = len(report.problems)

    def warn(path: DocPath, message: str, rule: str) -> None:
        report.problems.append(locate(path, message, severity="warning", rule=rule))

    check_credentials(document, environ, warn)
    if len(report.problems) > found:  # in the file's order, as the loader reports
        report.problems.sort(key=lambda p: (p.file != report.file, p.file, p.line, p.column))


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
