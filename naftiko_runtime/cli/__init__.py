"""The ``naftiko`` command: validate, inspect, call, serve, export, import, migrate, and the control
clients (health, status, metrics, traces, logs, reload)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..version import runtime_version
from . import (
    call_cmd,
    control_cmd,
    export_cmd,
    import_cmd,
    inspect_cmd,
    migrate_cmd,
    serve_cmd,
    validate_cmd,
)

_COMMANDS = (validate_cmd, inspect_cmd, call_cmd, serve_cmd, export_cmd, import_cmd, migrate_cmd, control_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="naftiko", description="Run and check Naftiko capabilities.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {runtime_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
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
