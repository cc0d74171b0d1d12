"""``naftiko validate FILE...``: compiler-style problems per file, a summary, exit 1 on any error."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..spec import LoadReport, check_files
from ..spec.discover import SkippedFile, discover
from ..spec.report import validation_json


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "validate",
        help="check capability documents and report every problem",
        description="Check capability documents. Exit 0 when no file has errors.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE", help="capability files or directories")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also validate against the bundled official JSON schema (draft 2020-12)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The files given are checked as one served set: two adapters on one port across files collide.
    found = discover(args.paths)
    # Credentials are checked against the binds as this environment has them (never printed).
    reports = check_files(found.files, strict=args.strict, environ=os.environ)
    if args.format == "json":
        json.dump(validation_json(reports, found.skipped), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_text(reports, found.skipped, quiet=args.quiet)
    return 0 if all(r.ok for r in reports) else 1


def _print_text(reports: list[LoadReport], skipped: list[SkippedFile], *, quiet: bool) -> None:
    if not quiet:
        for item in skipped:
            print(item.format())
    for report in reports:
        for problem in report.problems:
            if not (quiet and problem.severity == "warning"):
                print(problem.format())
        if report.ok:
            count = len(report.warnings)
            print(f"{report.file}: ok" + (f" ({_plural(count, 'warning')})" if count else ""))
    ok = sum(r.ok for r in reports)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    print(
        f"{_plural(len(reports), 'file')}: {ok} ok, {len(reports) - ok} with errors "
        f"({_plural(errors, 'error')}, {_plural(warnings, 'warning')})"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
