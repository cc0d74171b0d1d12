"""Every valid capability of ``../shared/corpus``, served by ``naftiko serve`` and called end to end.

One test per corpus file: every REST operation and MCP tool it exposes was called once with
arguments generated from its published schema, and the upstream received the request its consumed
operation declares (method, path with every placeholder filled) while the adapter answered 2xx.
Files that do not validate, and units that cannot run, are ``n/a`` rows with the reason. How the run
works: :mod:`tests.conformance.corpus`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from . import corpus
from .results import Table

SUITE = CONFORMANCE_SUITE = "corpus"
FILES = corpus.corpus_files()
MISSING = f"the corpus is not checked out next to the repository (looked in {corpus.CORPUS.resolve()})"
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def report(conformance_table: Table) -> corpus.CorpusReport:
    """The whole corpus, run once for every test of this module."""
    result = corpus.run(corpus.CORPUS, FILES)
    for line in result.summary():
        conformance_table.note(SUITE, line)
    return result


@pytest.fixture(scope="module")
def by_path(report: corpus.CorpusReport) -> dict[Path, corpus.FileResult]:
    return {result.plan.path: result for result in report.files}


def _rel(path: Path) -> str:
    return str(path.resolve().relative_to(corpus.CORPUS.resolve()))


@pytest.mark.parametrize(
    "path",
    FILES or [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="corpus-missing")],
    ids=_rel if FILES else None,
)
def test_corpus_file(
    path: Path, by_path: dict[Path, corpus.FileResult], conformance_row: Callable[..., object]
) -> None:
    result = by_path[path.resolve()]
    details = [f"{u.unit.label}: {u.status}: {u.reason}" for u in result.units if u.status != "pass"]
    conformance_row(
        SUITE,
        result.plan.rel,
        result.passed,
        result.total,
        result.status,
        "" if result.status == "pass" and not details else result.summary(),
        details=details,
    )
    failed = [line for line in details if ": fail: " in line]
    assert not result.reason, result.reason
    assert not failed, "\n".join(failed)


@pytest.mark.skipif(not FILES, reason=MISSING)
def test_corpus_run_is_fast_clean_and_every_request_is_accounted_for(
    report: corpus.CorpusReport, conformance_row: Callable[..., object]
) -> None:
    """The run stays well inside the 2 minutes allowed on 2 cores; the serve processes logged no
    error; and the generic upstream saw no request it could not attribute to the file being called
    (which would make the verdicts moot)."""
    checks = {
        f"took {report.seconds:.0f} s": report.seconds < 120,
        f"serve logged errors: {report.errors[:3]}": not report.errors,
        f"unattributed upstream requests: {report.stray[:3]}": not report.stray,
    }
    failed = [text for text, ok in checks.items() if not ok]
    passed = len(checks) - len(failed)
    details = [f"serve warning: {text}" for text in report.warnings]
    status = "fail" if failed else "pass"
    conformance_row(SUITE, "(the whole run)", passed, len(checks), status, "; ".join(failed), details=details)
    assert not failed, "\n".join(failed)
