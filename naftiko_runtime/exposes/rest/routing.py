"""Route tables compiled once: resource paths to matchers over the raw (still percent-encoded) path.

Why not Starlette's router: its placeholders must be Python identifiers (the seed says
``{prompt-id}``), it matches the *decoded* path (so a value holding ``%2F`` would split into two
segments), and it scans every route with a regex per request. Here a path with no placeholder is one
dict lookup; the others are tried as one combined regex, in precedence order, and each captured
segment is decoded on its own.

Precedence: a fully literal path wins over a templated one (``/ships/search`` over
``/ships/{imo}``), and likewise, segment by segment from the left, a literal segment wins over a
placeholder (``/orgs/{org}/scans/archive`` over ``/orgs/{org}/scans/{id}``, whatever their order:
otherwise a POST to the archive would reach the scan and be refused); paths of equal standing match
in document order (the first wins, as in the Java engine); forward prefixes are tried last. Trailing
slashes matter and there are no redirects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote

from ...expressions.names import path_parts, path_shape
from ...urichars import LITERAL_PATH

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A resource path split into literal text and placeholders."""

    text: str
    parts: tuple[tuple[str, str], ...]  # ("literal", text) or ("param", name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(value for kind, value in self.parts if kind == "param")

    @property
    def is_literal(self) -> bool:
        return all(kind == "literal" for kind, _ in self.parts)

    @property
    def shape(self) -> str:
        """The path with placeholders unnamed: two templates of one shape match the same requests."""
        return path_shape(self.text)

    @property
    def openapi(self) -> str:
        """The OpenAPI spelling: every placeholder as ``{name}``."""
        return "".join(value if kind == "literal" else "{" + value + "}" for kind, value in self.parts)

    def literal_path(self) -> str:
        """The path as a client sends it on the wire (only for literal templates)."""
        return _encode_literal("".join(value for _, value in self.parts))

    def pattern(self, *, tail: str | None = None) -> tuple[str, tuple[str, ...]]:
        """A regex (without anchors or named groups) and the placeholder names it captures in order.

        ``tail`` names a placeholder that may span segments (the forward ``{path}``).
        """
        out: list[str] = []
        names: list[str] = []
        for kind, value in self.parts:
            if kind == "literal":
                out.append(re.escape(_encode_literal(value)))
            else:
                names.append(value)
                out.append("(.*)" if tail is not None and value == tail else "([^/]+)")
        return "".join(out), tuple(names)


def parse_template(path: str) -> PathTemplate:
    """``/ships/{{imo}}/crew`` or ``/ships/{imo}/crew`` → literal and placeholder parts."""
    return PathTemplate(path, tuple(path_parts(path)))


def _specificity(template: PathTemplate) -> tuple[int, ...]:
    """Sort key: per segment, 0 for literal text, 1 for text with a placeholder, 2 for a placeholder
    alone; lower sorts first, and a stable sort keeps document order among equals."""
    ranks: list[int] = []
    for segment in template.shape.split("/"):
        ranks.append(2 if segment == "{}" else 1 if "{}" in segment else 0)
    return tuple(ranks)


def _encode_literal(text: str) -> str:
    return quote(text, safe=LITERAL_PATH)


@dataclass(slots=True)
class Match(Generic[T]):
    target: T
    values: tuple[str, ...]  # raw (encoded) captured segments, in the target's placeholder order


@dataclass
class _Compiled(Generic[T]):
    target: T
    group: str
    first: int  # index of the first captured placeholder group
    count: int


@dataclass
class Router(Generic[T]):
    """Maps a raw request path to a target and its captured placeholder values."""

    _literal: dict[str, T] = field(default_factory=dict)
    _templated: list[tuple[str, T]] = field(default_factory=list)
    _regex: re.Pattern[str] | None = None
    _compiled: dict[str, _Compiled[T]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[tuple[PathTemplate, T]], *, tail: str | None = None) -> Router[T]:
        """Compile ``(template, target)`` pairs; the first target of a repeated path is kept."""
        router: Router[T] = cls()
        seen: set[str] = set()
        pieces: list[str] = []
        group = 1
        ordered = sorted(enumerate(entries), key=lambda item: _specificity(item[1][0]))
        for index, (template, target) in ordered:
            if template.is_literal and tail is None:
                router._literal.setdefault(template.literal_path(), target)
                continue
            regex, names = template.pattern(tail=tail)
            if regex in seen:
                continue
            seen.add(regex)
            name = f"r{index}"
            if tail is not None and tail not in names:
                # A forward without a {path} placeholder owns its path and everything below it.
                regex += "(?:/(.*))?"
                count = len(names) + 1
            else:
                count = len(names)
            pieces.append(f"(?P<{name}>{regex})")
            router._compiled[name] = _Compiled(target, name, group + 1, count)
            router._templated.append((name, target))
            group += 1 + count
        if pieces:
            router._regex = re.compile("(?:" + "|".join(pieces) + r")\Z")
        return router

    def match(self, path: str) -> Match[T] | None:
        target = self._literal.get(path)
        if target is not None:
            return Match(target, ())
        if self._regex is None:
            return None
        found = self._regex.match(path)
        if found is None:
            return None
        compiled = self._compiled[found.lastgroup]  # type: ignore[index]
        values = found.groups()[compiled.first - 1 : compiled.first - 1 + compiled.count]
        if None in values:  # only a forward's optional tail can be absent
            values = tuple(v or "" for v in values)
        return Match(compiled.target, values)

    def targets(self) -> list[T]:
        return [*self._literal.values(), *(target for _, target in self._templated)]


def sort_methods(methods: Sequence[str]) -> str:
    """An ``Allow`` header value in a stable, conventional order."""
    order = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))}
    return ", ".join(sorted(dict.fromkeys(methods), key=lambda m: (order.get(m, 99), m)))
