"""The import corpus counts, printed at the end of a run that collected them."""

from __future__ import annotations

from typing import Any

from .test_corpus import COUNTS


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if COUNTS:
        terminalreporter.section("naftiko import openapi: corpus")
        terminalreporter.write_line(", ".join(f"{key}: {value}" for key, value in COUNTS.items()))
