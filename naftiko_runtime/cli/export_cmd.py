"""``naftiko export openapi FILE``: the OpenAPI 3.1 description of a capability's REST adapter.

The document is the one the adapter serves at ``/openapi.json`` (same inputs, same routes), except
for ``servers``, which names the expose's configured address and port (or ``--server``). No secret
is read: bind variables get empty placeholder values, since nothing in the description depends on
them.

Exit codes: 0 written; 2 a bad document, no REST adapter, or an unknown ``--adapter``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
import yaml

from ..errors import NaftikoError
from ..exposes.rest import build_openapi
from ..runtime import Runtime
from .files import load_or_report

EXIT_INPUT = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export",
        help="write a description of a capability (OpenAPI for its REST adapter)",
        description="Export a capability in another format.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="FORMAT", required=True)
    openapi = kinds.add_parser(
        "openapi",
        help="the OpenAPI 3.1 document of a REST adapter",
        description="Write the OpenAPI 3.1 document of the capability's REST adapter (the first one, "
        "or --adapter NAMESPACE) to stdout or --output.",
    )
    openapi.add_argument("path", metavar="FILE", help="capability file")
    openapi.add_argument("--adapter", metavar="NAMESPACE", help="the REST adapter's namespace")
    openapi.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    openapi.add_argument(
        "--format",
        choices=("json", "yaml"),
        help="output format (default: from the --output suffix, else json)",
    )
    openapi.add_argument("--server", metavar="URL", help="the base URL to advertise in `servers`")
    openapi.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    document = load_or_report(args.path)
    if document is None:
        return EXIT_INPUT
    try:
        runtime = Runtime.for_reading(document)
    except NaftikoError as exc:
        return _fail(str(exc))
    if not runtime.rest:
        return _fail(f"{args.path}: the capability has no REST adapter (type: rest)")
    plans = runtime.rest
    if args.adapter:
        plans = [plan for plan in plans if plan.expose.namespace == args.adapter]
        if not plans:
            known = ", ".join(plan.expose.namespace for plan in runtime.rest)
            return _fail(f"no REST adapter named {args.adapter!r} (known: {known})")
    description = build_openapi(plans[0], runtime.context, server=args.server)
    fmt = args.format or ("yaml" if args.output and Path(args.output).suffix in (".yaml", ".yml") else "json")
    if fmt == "yaml":
        text = yaml.dump(description, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)
    else:
        text = orjson.dumps(description, option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    return 0


class _PlainDumper(yaml.SafeDumper):
    """No ``&id001`` anchors: an OpenAPI document reads better with every value written out."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_INPUT
