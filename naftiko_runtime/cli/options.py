"""Options shared by the commands that run a capability (``call``, ``serve``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from ..consumes.limits import (
    DEFAULT_MAX_BODY,
    LIMIT_KEYS,
    Limits,
    parse_namespace_limits,
    parse_size,
)
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


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """Protections of every consumed namespace (``--namespace-limits`` for one of them)."""
    parser.add_argument(
        "--max-upstream-body",
        type=_size,
        default=DEFAULT_MAX_BODY,
        metavar="SIZE",
        help="largest upstream answer read into memory, e.g. 32MiB (default); beyond it the call "
        "fails with 502 (0: no limit)",
    )
    parser.add_argument(
        "--retry-throttled",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="resend an idempotent call answered 429/503 up to N times after its Retry-After, "
        "within the unit's deadline (default 0: answer it)",
    )
    parser.add_argument(
        "--circuit-failures",
        type=non_negative_int,
        default=5,
        metavar="N",
        help="consecutive connection failures or timeouts that open a namespace's circuit (default 5; "
        "0: never)",
    )
    parser.add_argument(
        "--circuit-cooldown",
        type=non_negative_float,
        default=30.0,
        metavar="SECONDS",
        help="how long an open circuit fails calls at once before one probe (default 30)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="upstream calls in flight at once per namespace (default 0: no cap)",
    )
    parser.add_argument(
        "--queue",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="calls that may wait for a slot under --max-concurrent; beyond: 503 (default 0)",
    )
    parser.add_argument(
        "--no-single-flight",
        action="store_true",
        help="send every identical concurrent GET itself instead of sharing one upstream request",
    )
    parser.add_argument(
        "--cache-ttl",
        type=non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="reuse a GET's answer for SECONDS, less if its Cache-Control says so; never shared "
        "between credentials (default 0: no cache)",
    )
    parser.add_argument(
        "--namespace-limits",
        action="append",
        default=[],
        metavar="NAMESPACE:KEY=VALUE,...",
        help="one consumed namespace's own settings (repeatable); keys: " + ", ".join(LIMIT_KEYS),
    )


def limits_from(args: argparse.Namespace) -> tuple[Limits, dict[str, Limits]]:
    """The limits of every namespace and those of the namespaces named by ``--namespace-limits``
    (raises ``ValueError`` naming a bad entry)."""
    base = Limits(
        max_body=args.max_upstream_body or None,
        retry_throttled=args.retry_throttled,
        circuit_failures=args.circuit_failures,
        circuit_cooldown=args.circuit_cooldown,
        max_concurrent=args.max_concurrent or None,
        queue=args.queue,
        single_flight=not args.no_single_flight,
        cache_ttl=args.cache_ttl,
    )
    return base, parse_namespace_limits(args.namespace_limits, base)


def _size(text: str) -> int:
    """A size flag's value; "no limit" is 0 here, since ``None`` means "not given" until the
    environment and the default are applied (:func:`~.environment.resolve`)."""
    try:
        return parse_size(text) or 0
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def at_least(convert: Callable[[str], T], lowest: T, what: str) -> Callable[[str], T]:
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


positive_int = at_least(int, 1, "an integer ≥ 1")
non_negative_float = at_least(float, 0.0, "a number of seconds ≥ 0")
non_negative_int = at_least(int, 0, "an integer ≥ 0")
