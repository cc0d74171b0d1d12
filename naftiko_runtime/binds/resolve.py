"""Resolving a document's ``binds`` into values, once, at startup.

Spec §3.19–3.20: each bind maps ``SCREAMING_SNAKE`` variables to keys of a provider; templates use
``{{VAR}}`` or the qualified ``{{namespace.VAR}}``. The Java engine resolves binds and then never
injects them anywhere (notes §2, [BUG]); here :func:`resolve_binds` returns a :class:`BindValues`
that the engine fixes into every template's bind slots when it compiles them
(:func:`naftiko_runtime.spec.variables.fix_binds`): a bind slot is never looked up in a request's
values, so no caller can fill one.

Resolution fails fast and completely: every missing value is collected, and one
:class:`BindResolutionError` (a :class:`~naftiko_runtime.errors.BindError`) names each variable, its
bind and why it has no value — never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

from naftiko_runtime.errors import BindError

from .providers import Provider, ProviderError, default_environ, open_provider
from .secret import Secret

_T = TypeVar("_T")
_I = TypeVar("_I")


@runtime_checkable
class BindDeclaration(Protocol):
    """What resolution needs of a bind; the spec model's Bind object satisfies it."""

    @property
    def namespace(self) -> str: ...

    @property
    def location(self) -> str | None: ...

    @property
    def keys(self) -> Mapping[str, str]: ...


class BindResolutionError(BindError):
    """Several bind variables have no value. ``problems`` holds one :class:`BindError` per variable.

    ``variable``, ``bind`` and ``reason`` are the first problem's, so code that handles a plain
    :class:`BindError` keeps working; the message lists every problem, one per line.
    """

    def __init__(self, problems: Sequence[BindError]) -> None:
        if not problems:
            raise ValueError("BindResolutionError needs at least one problem")
        first = problems[0]
        super().__init__(first.variable, first.bind, first.reason)
        self.problems: tuple[BindError, ...] = tuple(problems)
        if len(self.problems) > 1:
            lines = "\n".join(f"  {problem}" for problem in self.problems)
            self.args = (f"{len(self.problems)} bind variables could not be resolved:\n{lines}",)


class _NameIndex(Generic[_I]):
    """Lookup by plain ``VAR`` (first declaration wins) or qualified ``namespace.VAR``."""

    def __init__(self, entries: Iterable[tuple[str, str, _I]]) -> None:
        self._entries: tuple[tuple[str, str, _I], ...] = tuple(entries)
        self._qualified: dict[tuple[str, str], _I] = {}
        self._plain: dict[str, _I] = {}
        self._owners: dict[str, list[str]] = {}
        for namespace, variable, item in self._entries:
            self._qualified.setdefault((namespace, variable), item)
            self._plain.setdefault(variable, item)
            owners = self._owners.setdefault(variable, [])
            if namespace not in owners:
                owners.append(namespace)

    def _find(self, name: str) -> _I | None:
        if name in self._plain:
            return self._plain[name]
        namespace, dot, variable = name.partition(".")
        if dot:
            return self._qualified.get((namespace, variable))
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __len__(self) -> int:
        return len(self._qualified)

    @property
    def variables(self) -> tuple[str, ...]:
        """Plain variable names, in declaration order, each once."""
        return tuple(self._plain)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Bind namespaces, in declaration order, each once."""
        return tuple(dict.fromkeys(namespace for namespace, _, _ in self._entries))

    @property
    def qualified_names(self) -> tuple[str, ...]:
        """``namespace.VAR`` for every declared variable."""
        return tuple(f"{namespace}.{variable}" for namespace, variable in self._qualified)

    def namespace_of(self, variable: str) -> str | None:
        """The bind a plain ``VAR`` resolves to (the first that declares it)."""
        owners = self._owners.get(variable)
        return owners[0] if owners else None

    def ambiguous_variables(self) -> dict[str, tuple[str, ...]]:
        """Plain names declared by more than one bind -> those binds' namespaces, first (the winner) first.

        The spec says names SHOULD be unique and the qualified form disambiguates; validation reports
        these as warnings.
        """
        return {name: tuple(owners) for name, owners in self._owners.items() if len(owners) > 1}


class DeclaredVariables(_NameIndex[str]):
    """The variables a document's binds declare, without their values (for ``naftiko validate``).

    ``"VAR" in declared`` and ``"ns.VAR" in declared`` tell whether a ``{{...}}`` reference is
    declared; :meth:`source_key` gives the provider key a variable reads.
    """

    def source_key(self, name: str) -> str | None:
        """The provider key behind ``VAR`` or ``ns.VAR``, or None if undeclared."""
        return self._find(name)

    def __repr__(self) -> str:
        return f"DeclaredVariables({', '.join(self.qualified_names)})"


class BindValues(_NameIndex[Secret]):
    """Resolved bind values, each a :class:`Secret`. Printing one of these shows names only."""

    def __init__(self, entries: Iterable[tuple[str, str, Secret]] = ()) -> None:
        super().__init__(entries)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Mapping[str, str | Secret]]) -> BindValues:
        """Build from ``{namespace: {VAR: value}}`` (plain strings are wrapped) — for tests and tools."""
        return cls(
            (namespace, variable, value if isinstance(value, Secret) else Secret(value))
            for namespace, variables in values.items()
            for variable, value in variables.items()
        )

    @classmethod
    def placeholders(cls, binds: Iterable[BindDeclaration]) -> BindValues:
        """Every declared variable with an empty value: what tools that read a document without
        serving it (export, migrate) build a runtime with; nothing they produce depends on a value."""
        return cls((bind.namespace, variable, Secret("")) for bind in binds for variable in bind.keys or {})

    def get(self, name: str, default: _T | None = None) -> Secret | _T | None:
        """The value of ``VAR`` (first bind declaring it) or ``namespace.VAR``; ``default`` if none."""
        found = self._find(name)
        return default if found is None else found

    def __getitem__(self, name: str) -> Secret:
        found = self._find(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        """Qualified names (``namespace.VAR``), so iteration never hides a shadowed variable."""
        return iter(self.qualified_names)

    def secrets(self) -> tuple[Secret, ...]:
        """Every value, once each — what a redaction filter must scrub."""
        return tuple(dict.fromkeys(secret for _, _, secret in self._entries))

    def __repr__(self) -> str:
        return f"BindValues({', '.join(self.qualified_names)})"


def declared_variables(binds: Sequence[BindDeclaration]) -> DeclaredVariables:
    """Index the variables ``binds`` declare, reading no provider (validation checks declarations)."""
    return DeclaredVariables(
        (bind.namespace, variable, source) for bind in binds for variable, source in (bind.keys or {}).items()
    )


def resolve_binds(
    binds: Sequence[BindDeclaration],
    base_dir: Path | None,
    environ: Mapping[str, str] | None = None,
) -> BindValues:
    """Read every declared variable from its provider and wrap each value in a :class:`Secret`.

    ``base_dir`` is the capability file's directory; relative ``file`` locations resolve against it
    (None: the document came from a string, and relative locations are an error). ``environ``
    replaces ``os.environ`` for environment binds. Each file is read once however many binds name it.

    Raises :class:`BindResolutionError` listing every variable that has no value.
    """
    values, problems = read_binds(binds, base_dir, environ)
    if problems:
        raise BindResolutionError(problems)
    return values


def read_binds(
    binds: Sequence[BindDeclaration],
    base_dir: Path | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[BindValues, tuple[BindError, ...]]:
    """What :func:`resolve_binds` reads, without failing: the variables that have a value, and one
    :class:`BindError` for each that has none (``naftiko validate`` reports those)."""
    env = default_environ() if environ is None else environ
    opened: dict[str | None, Provider | ProviderError] = {}
    entries: list[tuple[str, str, Secret]] = []
    problems: list[BindError] = []
    for bind in binds:
        keys = bind.keys or {}
        if not keys:
            continue  # "keys must not be empty" is a declaration error, reported by validation
        location = (bind.location or "").strip() or None
        if location not in opened:
            try:
                opened[location] = open_provider(location, base_dir, env)
            except ProviderError as exc:
                opened[location] = exc
        provider = opened[location]
        for variable, source_key in keys.items():
            if isinstance(provider, ProviderError):
                problems.append(BindError(variable, bind.namespace, provider.reason))
                continue
            value = provider.lookup(source_key)
            if value is None:
                problems.append(BindError(variable, bind.namespace, provider.describe_missing(source_key)))
            else:
                entries.append((bind.namespace, variable, Secret(value)))
    return BindValues(entries), tuple(problems)
