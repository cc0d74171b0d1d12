"""Options shared by the commands that run a capability (``call``, ``serve``)."""

from __future__ import annotations

import argparse


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-uri",
        action="append",
        default=[],
        metavar="NAMESPACE=URL",
        help="send a consumed namespace's requests to URL instead of its baseUri (repeatable)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="upstream connect timeout (default 5)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="upstream read timeout (default 30)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time limit of one exposed unit, all its upstream calls included (default 60)",
    )


def parse_base_uris(values: list[str]) -> dict[str, str]:
    """``["ns=http://h:1", ...]`` → ``{"ns": "http://h:1"}``; raises ``ValueError`` naming a bad entry."""
    out: dict[str, str] = {}
    for value in values:
        namespace, sep, url = value.partition("=")
        if not sep or not namespace.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"--base-uri {value!r}: expected NAMESPACE=http(s)://host[:port][/path]")
        out[namespace.strip()] = url.strip()
    return out


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """An ``argparse`` type: a number of seconds ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds ≥ 0, got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds ≥ 0, got {text!r}")
    return value
