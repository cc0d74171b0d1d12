"""Options also read from ``NAFTIKO_*`` environment variables, for containers; a flag given wins.

The variable is ``NAFTIKO_`` and the option's long name, upper-cased, dashes as underscores:
``--shutdown-timeout`` is ``NAFTIKO_SHUTDOWN_TIMEOUT``. Values are spelled as on the command line;
an on/off flag takes ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``, and a repeatable
option (``--base-uri``) takes its values separated by whitespace. A bad value is an error naming the
variable, exactly as a bad flag names the flag.

How it works: :func:`read_environment` (at registration) sets every option's default to ``None``,
so that after parsing ``None`` means "not on the command line"; :func:`resolve` then fills those
from the environment, else from the option's real default.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

PREFIX = "NAFTIKO_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_DEFAULTS = "_environment_defaults"
_WHAT = {int: "an integer", float: "a number", str: "a string"}


def variable(action: argparse.Action) -> str:
    """The environment variable of an option: ``--drain-delay`` → ``NAFTIKO_DRAIN_DELAY``."""
    long = max(action.option_strings, key=len)
    return PREFIX + long.lstrip("-").upper().replace("-", "_")


def environment_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options of ``parser`` that an environment variable can set (all but ``--help``)."""
    return [
        action
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


def read_environment(parser: argparse.ArgumentParser) -> None:
    """Let every option of ``parser`` come from its ``NAFTIKO_*`` variable (see :func:`resolve`)."""
    defaults: dict[str, tuple[argparse.Action, Any]] = {}
    for action in environment_options(parser):
        defaults[action.dest] = (action, action.default)
        action.default = None
        action.help = f"{action.help or ''} [env {variable(action)}]".strip()
    parser.set_defaults(**{_DEFAULTS: defaults})


def resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill every option not given on the command line from the environment, else its default.

    Raises ``ValueError`` naming the variable when its value is not one the option accepts.
    """
    for dest, (action, default) in getattr(args, _DEFAULTS).items():
        if getattr(args, dest) is not None:
            continue
        raw = environ.get(variable(action))
        setattr(args, dest, default if raw is None else _convert(action, raw))


def _convert(action: argparse.Action, raw: str) -> Any:
    name = variable(action)
    if isinstance(action, argparse._StoreTrueAction):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{name}={raw!r}: expected 1/true/yes/on or 0/false/no/off")
    if isinstance(action, argparse._AppendAction):
        return [_one(action, name, item) for item in raw.split()]
    return _one(action, name, raw.strip())


def _one(action: argparse.Action, name: str, raw: str) -> Any:
    convert = action.type or str
    try:
        value = convert(raw)  # type: ignore[operator]
    except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
        if isinstance(exc, argparse.ArgumentTypeError):  # its message names the value already
            raise ValueError(f"{name}: {exc}") from None
        what = _WHAT.get(convert, "a valid value") if isinstance(convert, type) else "a valid value"
        raise ValueError(f"{name}={raw!r}: expected {what}") from None
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(map(str, action.choices))}")
    return value
