"""The collector policy of a serving process (runtime/server.py): startup objects frozen, young
collections at CPython 3.13's threshold. Run in child processes, so this one keeps its own."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _after_startup_policy(before: str) -> tuple[int, int, int]:
    script = (
        "import gc; "
        f"{before}; "
        "from naftiko_runtime.runtime.server import freeze_startup_objects; "
        "freeze_startup_objects(); "
        "print(*gc.get_threshold(), gc.get_freeze_count() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    *threshold, frozen = out.stdout.split()
    assert frozen == "True"
    young, middle, old = map(int, threshold)
    return young, middle, old


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("gc.set_threshold(700, 10, 10)", (2000, 10, 10)),  # 3.11 and 3.12's default: raised
        ("gc.set_threshold(700, 5, 3)", (2000, 5, 3)),  # older generations as they were
        ("gc.set_threshold(5000, 10, 10)", (5000, 10, 10)),  # a process's own higher one: kept
        ("gc.set_threshold(0)", (0, 10, 10)),  # collection switched off: left off
    ],
)
def test_young_collections_are_raised_to_2000_and_never_lowered(
    before: str, expected: tuple[int, int, int]
) -> None:
    assert _after_startup_policy(before) == expected
