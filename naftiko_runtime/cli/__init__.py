"""The ``naftiko`` command: validate, inspect, call, serve, export, import, migrate, and the control
clients (health, status, metrics, traces, logs, reload)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from ..version import runtime_version

# Each command and the module that registers and runs it. A process imports only the module of
# the command it runs: `naftiko validate` needs the spec room, not the servers' libraries, and
# `naftiko serve` not the importers'. Help, and an unknown command, load them all.
COMMANDS = {
    "validate": "validate_cmd",
    "inspect": "inspect_cmd",
    "call": "call_cmd",
    "serve": "serve_cmd",
    "export": "export_cmd",
    "import": "import_cmd",
    "migrate": "migrate_cmd",
    **dict.fromkeys(("health", "status", "metrics", "traces", "logs", "reload"), "control_cmd"),
}


def _modules(argv: Sequence[str] | None) -> list[ModuleType]:
    words = sys.argv[1:] if argv is None else list(argv)
    command = next((word for word in words if not word.startswith("-")), None)
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f".{name}", __name__) for name in names]


def build_parser(argv: Sequence[str] | None = ()) -> argparse.ArgumentParser:
    """The ``naftiko`` parser with the command named in ``argv`` (every command when it names none)."""
    parser = argparse.ArgumentParser(prog="naftiko", description="Run and check Naftiko capabilities.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {runtime_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _modules(argv):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `naftiko inspect x | head` must not print a traceback
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
