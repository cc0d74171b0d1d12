"""``naftiko migrate FILE [-o OUT] [--to VERSION]``: a capability in the other spelling of the spec.

Writes the migrated document to stdout (or ``-o``), the notes (what the target spec cannot say, and
what was done about it) to stderr. The target defaults to the other spec of the document: an
``ikanos:`` document goes to 1.0.0-alpha2, anything else to Ikanos 1.0.0-beta5.

Exit codes: 0 written; 2 a document that does not load (its errors on stderr) or a bad ``--to``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..spec.ikanos import ALPHA2_VERSION, CURRENT_IKANOS

EXIT_INPUT = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "migrate",
        help="rewrite a capability in the other spec version (alpha2 <-> Ikanos beta5)",
        description="Convert a capability between Naftiko 1.0.0-alpha2 and Ikanos 1.0.0-beta5, keeping "
        "its comments and key order and resolving the generated dialect into spec form.",
    )
    parser.add_argument("path", metavar="FILE", help="capability file")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument(
        "--to",
        choices=(CURRENT_IKANOS, ALPHA2_VERSION),
        help=f"target version (default: the other one: {CURRENT_IKANOS} for alpha2 documents, "
        f"{ALPHA2_VERSION} for Ikanos ones)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print the notes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the round-trip YAML library is for this command only, not every `naftiko` start.
    from ..migrate import MigrationError, migrate_file

    target = args.to or _other_version(Path(args.path))
    try:
        migration = migrate_file(args.path, target)
    except MigrationError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return EXIT_INPUT
    if not args.quiet:
        for note in migration.notes:
            print(f"note: {note}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(migration.text, encoding="utf-8")
        print(f"{args.path} → {args.output} ({target})", file=sys.stderr)
    else:
        sys.stdout.write(migration.text)
    return 0


def _other_version(path: Path) -> str:
    try:
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return CURRENT_IKANOS  # the load reports what is wrong with the file
    return ALPHA2_VERSION if isinstance(head, dict) and "ikanos" in head else CURRENT_IKANOS
