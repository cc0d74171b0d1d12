"""Loader fuzzing: mutated corpus documents, alias bombs and deep nesting (hypothesis).

The loader must answer every text with a report (a document, or located problems): no exception,
no traceback from ``naftiko validate``, a bounded time per document and bounded memory.
"""

from __future__ import annotations

import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naftiko_runtime.spec.loader import check_text
from tests.mcp.engine import naftiko_argv

from .conftest import LONG, SETTINGS, report

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SEEDS = sorted(CORPUS.rglob("*.y*ml"))[::20] or sorted(Path(__file__).parents[2].glob("capabilities/*.yaml"))
TIME_BOUND_S = 5.0  # one document; the largest corpus file loads in well under a second
MEMORY_BOUND_MB = 200
KEYS = 100_000 if LONG else 20_000  # ~1.1 KB of loader memory per key: a bound, not a leak


def _alias_bomb(levels: int) -> str:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, levels):
        text += f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]\n"
    return "naftiko: 1.0.0-alpha2\n" + text


HOSTILE = {
    "alias bomb (9^10 nodes)": _alias_bomb(10),
    "deep flow nesting (50k)": "naftiko: " + "[" * 50_000 + "]" * 50_000,
    "deep mapping nesting (20k)": "naftiko: " + "{a: " * 20_000 + "1" + "}" * 20_000,
    "deep block nesting (3k)": "".join("  " * i + f"k{i}:\n" for i in range(3_000)),
    "long scalar (8 MiB)": "naftiko: " + "x" * (8 * 1024 * 1024),
    f"many keys ({KEYS // 1000}k)": "".join(f"k{i}: {i}\n" for i in range(KEYS)),
    "binary": "\x00\x01\ufffe\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
}


def _check(text: str) -> float:
    """Load ``text``; the seconds it took."""
    started = time.monotonic()
    result = check_text(text, "fuzzed.yaml")
    took = time.monotonic() - started
    assert result.document is not None or any(p.severity == "error" for p in result.problems)
    return took


def _peak_mb(text: str) -> float:
    """The peak of Python memory loading ``text`` allocates (traced apart: tracing slows it ~10×)."""
    tracemalloc.start()
    try:
        check_text(text, "fuzzed.yaml")
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_in_bounded_time_and_memory(name: str) -> None:
    took, peak = _check(HOSTILE[name]), _peak_mb(HOSTILE[name])
    report("loader", case=name, seconds=f"{took:.2f}", peak_mb=f"{peak:.0f}", traceback="none")
    assert took < TIME_BOUND_S
    assert peak < MEMORY_BOUND_MB


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS)).read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(
            st.sampled_from(["drop", "duplicate", "indent", "dedent", "splice", "scalar", "alias"])
        )
        line = lines[at]
        if operation == "drop":
            del lines[at]
        elif operation == "duplicate":
            lines.insert(at, line)
        elif operation == "indent":
            lines[at] = "  " + line
        elif operation == "dedent":
            lines[at] = line.lstrip(" ")
        elif operation == "splice":
            cut = draw(st.integers(0, len(line)))
            lines[at] = line[:cut] + draw(st.text(max_size=12)) + line[cut:]
        elif operation == "scalar":
            key = line.split(":", 1)[0]
            value = draw(
                st.sampled_from(["", "null", "[]", "{}", "-1", "1e999", "!!binary AAAA", "*nowhere", "&a"])
            )
            lines[at] = f"{key}: {value}\n"
        else:
            lines[at] = line.rstrip("\n") + " &x\n" + line[: len(line) - len(line.lstrip())] + "again: *x\n"
    return "".join(lines)


def test_mutated_corpus_documents_never_raise() -> None:
    slowest = {"seconds": 0.0, "cases": 0}

    @settings(
        max_examples=SETTINGS.loader_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=mutated())
    def probe(text: str) -> None:
        took = _check(text)
        slowest["cases"] += 1
        slowest["seconds"] = max(slowest["seconds"], took)
        assert took < TIME_BOUND_S

    probe()
    report(
        "loader",
        case=f"mutated corpus documents ({slowest['cases']} cases, {len(SEEDS)} seeds)",
        seconds=f"{slowest['seconds']:.2f} (slowest)",
        peak_mb="–",
        traceback="none",
    )


def test_validate_prints_no_traceback_on_hostile_files(tmp_path: Path) -> None:
    files = []
    for index, text in enumerate(HOSTILE.values()):
        path = tmp_path / f"hostile-{index}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        files.append(str(path))
    process = subprocess.run(naftiko_argv("validate", *files), capture_output=True, text=True, timeout=120)
    assert process.returncode == 1
    assert "Traceback" not in process.stdout + process.stderr
    assert all(f"hostile-{index}.yaml" in process.stdout + process.stderr for index in range(len(files)))
