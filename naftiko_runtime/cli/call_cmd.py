"""``naftiko call FILE TARGET [NAME=VALUE ...]``: invoke one unit once, print its result as JSON.

Exit codes: 0 success; 2 a bad document, bind, target or input (the message names it); 3 an
upstream failure (status and upstream message on stderr). Never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from ..consumes.transport import TransportSettings
from ..engine.coercion import unknown_arguments
from ..errors import InputError, InvocationError, NaftikoError
from ..errors.classify import EXIT_INPUT, classify, retry_hint
from ..runtime import Runtime, RuntimeOptions
from .files import load_or_report
from .options import add_runtime_options, check_base_uri_namespaces, parse_base_uris


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "call",
        help="invoke one exposed unit (or consumed operation) once and print the result",
        description="Invoke one unit. TARGET is an MCP tool name, a REST operation name, an aggregate "
        "function (ns.function) or a consumed operation (namespace.operation). Each VALUE is "
        "parsed as JSON when it is valid JSON, else taken as a string.",
    )
    parser.add_argument("path", metavar="FILE", help="capability file")
    parser.add_argument("target", metavar="TARGET", help="unit to invoke")
    parser.add_argument("arguments", nargs="*", metavar="NAME=VALUE", help="arguments")
    parser.add_argument(
        "--allow-unknown",
        action="store_true",
        help="drop arguments the unit does not take (named on stderr) instead of refusing them",
    )
    add_runtime_options(parser)
    parser.set_defaults(run=run)


def parse_arguments(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"argument {pair!r}: expected NAME=VALUE")
        try:
            out[name] = orjson.loads(text)
        except orjson.JSONDecodeError:
            out[name] = text
    return out


def run(args: argparse.Namespace) -> int:
    try:
        arguments = parse_arguments(args.arguments)
        base_uris = parse_base_uris(args.base_uri)
    except ValueError as exc:
        return _fail(str(exc), EXIT_INPUT)
    document = load_or_report(args.path)
    if document is None:
        return EXIT_INPUT
    try:
        check_base_uri_namespaces(base_uris, [document])
    except ValueError as exc:
        return _fail(str(exc), EXIT_INPUT)
    options = RuntimeOptions(
        base_uris=base_uris,
        unit_deadline_s=args.deadline,
        transport=TransportSettings(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout),
    )
    try:
        runtime = Runtime.build(document, options)
        unit = runtime.find(args.target)
    except NaftikoError as exc:  # a missing bind, an unknown target, a script language unavailable here
        return _fail(str(exc), EXIT_INPUT)
    if args.allow_unknown:
        unknown = unknown_arguments(unit.inputs, arguments)
        if unknown:
            print(f"note: {unit.qualified} does not take {', '.join(unknown)}; dropped", file=sys.stderr)
            arguments = {name: value for name, value in arguments.items() if name not in unknown}
    return asyncio.run(_invoke(runtime, unit, arguments))


async def _invoke(runtime: Runtime, unit: Any, arguments: dict[str, Any]) -> int:
    try:
        result = await unit.invoke(arguments)
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {unit.qualified}: input {problem.name!r}: {problem.message}", file=sys.stderr)
        if any(problem.message.startswith("unknown argument") for problem in exc.problems):
            print("hint: --allow-unknown drops the arguments a unit does not take", file=sys.stderr)
        return EXIT_INPUT
    except InvocationError as exc:
        failure = classify(exc, unit.qualified)
        message = str(exc) if failure.step is None else f"{unit.qualified}: {exc}"
        hint = retry_hint(failure)
        return _fail(f"{message} ({hint})" if hint else message, failure.exit_code)
    finally:
        await runtime.aclose()
    sys.stdout.write(orjson.dumps(result.value, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code
