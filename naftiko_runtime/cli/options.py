"""Options shared by the commands that run a capability (``call``, ``serve``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from ..spec import Document
from ..spec.addresses import base_uri_problem

T = TypeVar("T", int, float)


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
        reason = base_uri_problem(url)
        if reason:
            raise ValueError(f"--base-uri {value!r}: {reason}")
        out[namespace.strip()] = url.strip()
    return out


def check_base_uri_namespaces(base_uris: Mapping[str, str], documents: Iterable[Document]) -> None:
    """Every ``--base-uri`` names a consumed namespace of the documents given; raises ``ValueError``
    naming the unknown ones and the known ones (a typo would otherwise call the real upstream)."""
    known = sorted({c.namespace for document in documents for c in document.all_consumes})
    unknown = [namespace for namespace in base_uris if namespace not in known]
    if unknown:
        listing = ", ".join(known) or "none"
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"--base-uri names no consumed namespace{plural} {', '.join(map(repr, unknown))} "
            f"(consumed namespaces: {listing})"
        )


def _at_least(convert: Callable[[str], T], lowest: T, what: str) -> Callable[[str], T]:
    """An ``argparse`` type: ``convert(text)``, refused (with ``what`` was expected) below ``lowest``."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not value >= lowest:  # `not >=` also refuses nan
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


positive_int = _at_least(int, 1, "an integer ≥ 1")
non_negative_float = _at_least(float, 0.0, "a number of seconds ≥ 0")
