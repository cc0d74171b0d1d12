"""No traceback in any output of any command, on any document of the corpus or the framework's
conformance files (its tutorials included): issue #15's acceptance line.

Every file goes through ``naftiko validate``, ``inspect``, ``export openapi`` and
``call`` (its first unit, against a recording upstream), in process through ``main``, so an
exception that escapes a command fails here with the file named. Every valid file is then started
as ``serve`` starts it: runtime built (binds given placeholder values), every adapter's app built
and its socket bound (on a port the system chooses). Refusals must be clean messages; nothing may
log a traceback either. Fuzzed documents are in tests/spec/test_properties.py.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from naftiko_runtime.cli import main
from naftiko_runtime.errors import NaftikoError
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.runtime import server as serving
from naftiko_runtime.spec import check, check_files
from tests.spec.helpers import CONFORMANCE, CORPUS, NO_SHARED, SHARED, placeholder_environ
from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)


def documents() -> list[Path]:
    folders = (CORPUS, CONFORMANCE / "naftiko-framework-1.0.0-alpha2")
    return sorted(p for folder in folders for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


class Outputs:
    """Runs commands in process and keeps what went wrong, per file."""

    def __init__(self, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
        self.capsys = capsys
        self.caplog = caplog
        self.failures: list[str] = []

    def run(self, label: str, *argv: str) -> int:
        self.caplog.clear()
        try:
            code = main(list(argv))
        except BaseException:
            self.failures.append(f"{label}: {' '.join(argv)} raised\n{traceback.format_exc()}")
            return -1
        finally:
            captured = self.capsys.readouterr()
        output = captured.out + captured.err
        if "Traceback" in output or any(r.exc_info for r in self.caplog.records):
            self.failures.append(f"{label}: {' '.join(argv)} printed or logged a traceback\n{output[-2000:]}")
        return code


@pytest.fixture
def outputs(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Outputs:
    caplog.set_level(logging.WARNING)
    return Outputs(capsys, caplog)


def test_validate_and_inspect_never_print_a_traceback(outputs: Outputs) -> None:
    files = documents()
    assert len(files) > 400
    assert outputs.run("all", "validate", *map(str, files)) == 1  # some files are refused, cleanly
    # (--strict over every file: tests/spec/test_dialect.py)
    for path in files:
        outputs.run(path.relative_to(SHARED).as_posix(), "inspect", str(path))
    assert not outputs.failures, "\n\n".join(outputs.failures[:5])


def test_export_and_call_never_print_a_traceback(outputs: Outputs, upstream: RecordingUpstream) -> None:
    called = 0
    for path in documents():
        report = check(path)
        if report.document is None:
            continue
        label = path.relative_to(SHARED).as_posix()
        outputs.run(label, "export", "openapi", str(path))
        try:
            runtime = Runtime.build(
                report.document, RuntimeOptions(environ=placeholder_environ(report.document))
            )
        except NaftikoError:  # a shared consumes file whose credentials only an importer's binds fill
            consumes = report.document.all_consumes[0]
            target = f"{consumes.namespace}.{consumes.resources[0].operations[0].name}"
            assert outputs.run(label, "call", str(path), target) == 2
            continue
        units = runtime.units()
        if not units:
            continue
        overrides = [f"--base-uri={c.namespace}={upstream.url}" for c in report.document.all_consumes]
        outputs.run(label, "call", str(path), units[0].qualified, *overrides)
        called += 1
    assert called > 250
    assert not outputs.failures, "\n\n".join(outputs.failures[:5])


def test_every_valid_document_starts_as_serve_starts_it() -> None:
    failures: list[str] = []
    started = 0
    for report in check_files(documents(), ports=False):
        if report.document is None:
            continue
        label = Path(report.file).relative_to(SHARED).as_posix()
        try:
            runtime = Runtime.build(
                report.document, RuntimeOptions(environ=placeholder_environ(report.document))
            )
            plan = serving.plan([runtime], any_port=True)
            for listener in plan.listeners:
                serving.bind(listener).close()
            started += 1
        except NaftikoError:
            continue  # a clean refusal (a bind file that is absent, a script language missing here)
        except Exception:
            failures.append(f"{label}\n{traceback.format_exc()}")
    assert started > 250
    assert not failures, "\n\n".join(failures[:5])
