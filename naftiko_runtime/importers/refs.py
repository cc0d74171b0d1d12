"""``$ref`` resolution, local and remote, on the ``referencing`` library.

``referencing`` (the resolver under ``jsonschema``, already a dependency) does the part that is easy
to get subtly wrong: joining a reference with the base URI of the document it sits in, fetching and
caching other documents, and walking JSON pointers with their ``~0``/``~1`` and percent escapes. The
description is registered as an *opaque* resource: OpenAPI documents are not JSON Schemas, so no
``$id`` inside them moves the base URI.

What is ours: following chains (``A → B → C``), the OpenAPI 3.1 rule that keys beside a ``$ref``
(``description``, ``summary``) override the target's, and cycles. A reference to itself through a
chain is a diagnostic; recursion *through* a schema's properties is cut by the caller, who knows
how deep it describes (see :mod:`.schemas`), with the reference names it is given here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from .diagnostics import Diagnostics, ImportFailed
from .sources import Loaded


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a node lives: the resolver for references inside it, and its document's URI."""

    resolver: Any  # a referencing Resolver (the package exports no name for the type)
    uri: str


@dataclass(frozen=True, slots=True)
class Followed:
    """A node with its references followed: the target, its scope, and the references taken."""

    node: Any
    scope: Scope
    refs: tuple[str, ...] = ()

    @property
    def name(self) -> str | None:
        """The last reference's last pointer part (``#/components/schemas/Pet`` → ``Pet``)."""
        return ref_name(self.refs[-1]) if self.refs else None


def ref_name(uri: str) -> str:
    fragment = urldefrag(uri).fragment
    last = fragment.rsplit("/", 1)[-1] if fragment else uri.rsplit("/", 1)[-1]
    return unquote(last).replace("~1", "/").replace("~0", "~")


class Refs:
    """Follows ``$ref`` in the description at ``loaded`` and in every document it references."""

    def __init__(self, loaded: Loaded, retrieve: Callable[[str], Loaded], diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics

        def fetch(uri: str) -> Resource[Any]:
            return Specification.OPAQUE.create_resource(retrieve(uri).data)

        root: Resource[Any] = Specification.OPAQUE.create_resource(loaded.data)
        registry: Registry[Any] = Registry(retrieve=fetch).with_resource(loaded.uri, root)  # type: ignore[call-arg]
        self.root = Scope(registry.resolver(base_uri=loaded.uri), loaded.uri)
        self._cache: dict[tuple[str, str], tuple[Any, Scope, str] | None] = {}

    def follow(self, node: Any, scope: Scope, where: str) -> Followed:
        """``node`` with every ``$ref`` on top of it followed; an unresolvable one (said at ``where``)
        or a chain that comes back to itself gives an empty mapping."""
        refs: list[str] = []
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            found = self._lookup(ref, scope, where)
            if found is None:
                return Followed({}, scope, tuple(refs))
            target, next_scope, absolute = found
            if absolute in refs:
                self.diagnostics.warn(
                    where,
                    f"$ref {ref!r} refers back to itself ({' → '.join(refs)}); read as {{}}",
                    "ref-cycle",
                )
                return Followed({}, scope, tuple(refs))
            refs.append(absolute)
            scope = next_scope
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if siblings and isinstance(target, dict) else target
        return Followed(node, scope, tuple(refs))

    def _lookup(self, ref: str, scope: Scope, where: str) -> tuple[Any, Scope, str] | None:
        """The target of ``ref``, its scope and its absolute URI; None (said) when it has none."""
        key = (scope.uri, ref)
        if key in self._cache:
            return self._cache[key]
        try:
            absolute = urljoin(scope.uri, ref)
            resolved = scope.resolver.lookup(ref)
        except (Unresolvable, LookupError, TypeError, ValueError) as exc:
            # The library's own errors, and what its pointer walk raises on a malformed document
            # (a pointer through a list by a name, into a number): all mean "cannot be resolved".
            cause = _import_failure(exc)
            why = str(cause) if cause else f"{type(exc).__name__}: {exc}"
            self.diagnostics.warn(
                where, f"$ref {ref!r} cannot be resolved ({why}); read as {{}}", "ref-unresolved"
            )
            found = None
        else:
            found = (resolved.contents, Scope(resolved.resolver, urldefrag(absolute).url), absolute)
        self._cache[key] = found
        return found


def _import_failure(exc: BaseException) -> ImportFailed | None:
    """The reading error under ``referencing``'s wrapping, if that is what went wrong."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ImportFailed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
