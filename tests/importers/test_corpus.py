"""Every OpenAPI description of the import corpus, imported, validated strict, served and called.

One test per description (``@readme/oas-examples``, fetched and verified by :mod:`.documents`, and
the mock descriptions of ``../shared/conformance``): it imports; its capability validates with
``--strict`` with no error and no warning; and each of its MCP tools and REST routes sent the
upstream the request the description declares (see :mod:`.e2e` for what is judged). The counts are
printed at the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import documents, e2e

pytestmark = pytest.mark.timeout(600)

try:
    SOURCES = documents.oas_examples()
    UNAVAILABLE = ""
except documents.Unavailable as exc:
    SOURCES, UNAVAILABLE = [], str(exc)
SOURCES += documents.conformance_descriptions()
ROOT = documents.REPO.parent


def _id(path: Path) -> str:
    for base in (documents.CACHE / documents.VERSION / "package", documents.SHARED):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return path.name


@pytest.fixture(scope="module")
def report() -> e2e.Report:
    result = e2e.run(SOURCES, ROOT)
    COUNTS.update(result.counts(), seconds=round(result.seconds, 1))
    return result


COUNTS: dict[str, float] = {}


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_description_imports_validates_and_serves(source: Path, report: e2e.Report) -> None:
    [result] = [d for d in report.docs if d.source == source]
    assert not result.failure, result.failure
    failed = [f"{u.kind} {u.name}: {u.reason}" for u in result.units if u.status != "pass"]
    assert not failed, "\n".join(failed)
    assert len(result.units) == 2 * result.operations  # an MCP tool and a REST route each


def test_the_public_corpus_was_available() -> None:
    if UNAVAILABLE:
        pytest.skip(f"n/a: {UNAVAILABLE}")


def test_the_run_is_clean_and_fast(report: e2e.Report) -> None:
    """No request the runner cannot attribute, no error logged by a serve process, and well inside
    the suite's budget on 2 cores."""
    assert not report.stray, report.stray[:5]
    assert not report.errors, report.errors[:5]
    assert report.seconds < 180
