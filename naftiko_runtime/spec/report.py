"""The machine-readable outcome of validating files: ``naftiko validate --format json`` and the
control adapter's ``POST /config/validate`` answer with this one document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .discover import SkippedFile
from .loader import LoadReport


def validation_json(reports: Sequence[LoadReport], skipped: Sequence[SkippedFile] = ()) -> dict[str, Any]:
    """Every file with its located problems, the files skipped as no capability, and a summary."""
    files = [{"file": r.file, "ok": r.ok, "problems": [p.as_dict() for p in r.problems]} for r in reports]
    document: dict[str, Any] = {"files": files}
    if skipped:
        document["skipped"] = [{"file": s.file, "reason": s.reason} for s in skipped]
    document["summary"] = {
        "files": len(reports),
        "ok": sum(r.ok for r in reports),
        "errors": sum(len(r.errors) for r in reports),
        "warnings": sum(len(r.warnings) for r in reports),
    }
    return document
