"""A ``naftiko`` process imports only what its command needs: checking a file must not pay for the
servers' libraries at every start, and every command stays reachable from the table that decides it."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from naftiko_runtime.cli import COMMANDS, build_parser
from tests.spec.helpers import SEED

SERVER_LIBRARIES = ("aiohttp", "starlette", "uvicorn", "mcp", "httpx", "bs4")

PROBE = """
import sys
from naftiko_runtime.cli import main
try:
    sys.exit(main(sys.argv[1:]))
finally:  # --help leaves through SystemExit
    heavy = sorted(name for name in {libraries!r} if name in sys.modules)
    print("loaded:", ",".join(heavy), file=sys.stderr)
"""


def loaded_libraries(*argv: str) -> tuple[int, list[str]]:
    """Run ``naftiko ARGV`` in a fresh interpreter; its exit code and the server libraries it imported."""
    process = subprocess.run(
        [sys.executable, "-c", PROBE.format(libraries=SERVER_LIBRARIES), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = next(line for line in process.stderr.splitlines() if line.startswith("loaded:"))
    return process.returncode, [name for name in line.removeprefix("loaded:").strip().split(",") if name]


def test_validate_and_migrate_import_no_server_library() -> None:
    assert loaded_libraries("validate", str(SEED)) == (0, [])
    code, libraries = loaded_libraries("migrate", "--help")
    assert (code, libraries) == (0, [])


def test_serve_does_not_import_the_importers_libraries() -> None:
    code, libraries = loaded_libraries("serve", "--help")
    assert code == 0
    assert "bs4" not in libraries and "starlette" in libraries


@pytest.mark.parametrize("module_name", sorted(set(COMMANDS.values())))
def test_each_module_registers_exactly_the_commands_the_table_gives_it(module_name: str) -> None:
    module = importlib.import_module(f"naftiko_runtime.cli.{module_name}")
    commands = argparse.ArgumentParser().add_subparsers()
    module.register(commands)
    assert set(commands.choices) == {name for name, owner in COMMANDS.items() if owner == module_name}


def test_help_lists_every_command() -> None:
    subparsers = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    assert list(subparsers.choices) == list(COMMANDS)  # type: ignore[attr-defined]
