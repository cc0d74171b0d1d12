"""Names for the generated document: kebab identifiers, parameter names, environment variables.

The spec restricts names (``IdentifierKebab`` ``[a-zA-Z0-9-]+`` for operations, tools and
namespaces; ``IdentifierExtended`` ``[a-zA-Z0-9-_*]+`` for parameters; ``[A-Z][A-Z0-9_]*`` for bind
variables) and MCP clients want tool names of at most 64 characters. Everything here turns
arbitrary OpenAPI text into such names, deterministically, and :class:`Names` keeps them unique by
the runtime's own matching rule (parameter names match across case and ``-``/``_``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from ..expressions.names import canonical

TOOL_NAME_LIMIT = 64
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_KEBAB = re.compile(r"[^a-z0-9]+")
_PARAMETER = re.compile(r"[A-Za-z0-9_-]+")
_NOT_PARAMETER = re.compile(r"[^A-Za-z0-9_-]+")


def ascii_text(text: str) -> str:
    """``Café Déjà`` → ``Cafe Deja``: names must be ASCII, and dropping accents keeps them readable."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def kebab(text: str, *, limit: int | None = None) -> str:
    """``listUsers``, ``list_users``, ``List users!`` → ``list-users`` (empty when nothing is left)."""
    words = _CAMEL.sub("-", ascii_text(text))
    name = _NOT_KEBAB.sub("-", words.lower()).strip("-")
    if limit is not None and len(name) > limit:
        name = name[:limit].rstrip("-")
    return name


def screaming(text: str) -> str:
    """``label-studio`` → ``LABEL_STUDIO`` (a bind variable must start with a letter)."""
    name = kebab(text).replace("-", "_").upper()
    return name if name[:1].isalpha() else f"API_{name}".rstrip("_")


def is_parameter_name(name: str) -> bool:
    """Whether the spec accepts ``name`` as a parameter name as it is."""
    return bool(_PARAMETER.fullmatch(name))


def parameter_name(name: str) -> str:
    """The closest spec-valid parameter name: ``filter[status]`` → ``filter_status``, ``$top`` → ``top``."""
    if is_parameter_name(name):
        return name
    cleaned = _NOT_PARAMETER.sub("_", ascii_text(name)).strip("_")
    return cleaned or "value"


def shortened(name: str, limit: int) -> str:
    """``name`` cut to ``limit`` characters, a short digest of the whole keeping cut names distinct."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


class Names:
    """Hands out names unique within one scope, by the runtime's matching rule.

    ``claim("id")`` gives ``id`` the first time and ``id-2`` (or ``id_2`` for parameters), ``id-3``…
    after; ``fallbacks`` are tried in order before numbering (``body_id`` for a body field that
    meets a path parameter ``id``).
    """

    def __init__(self, *, separator: str = "-", limit: int | None = None) -> None:
        self._taken: set[str] = set()
        self._separator = separator
        self._limit = limit

    def taken(self, name: str) -> bool:
        return canonical(name) in self._taken

    def claim(self, name: str, *fallbacks: str) -> str:
        for candidate in (name, *fallbacks):
            candidate = self._fit(candidate)
            if candidate and not self.taken(candidate):
                return self._take(candidate)
        number = 2
        while True:
            suffix = f"{self._separator}{number}"
            candidate = self._fit(name, reserve=len(suffix)) + suffix
            if not self.taken(candidate):
                return self._take(candidate)
            number += 1

    def _fit(self, name: str, *, reserve: int = 0) -> str:
        if self._limit is None:
            return name
        return shortened(name, self._limit - reserve)

    def _take(self, name: str) -> str:
        self._taken.add(canonical(name))
        return name
