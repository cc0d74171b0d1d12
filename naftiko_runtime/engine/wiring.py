"""``with``: how a unit's inputs (and earlier steps' results) become a consumed call's values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..expressions import canonical, compile_path, compile_template
from ..expressions.names import Spellings
from ..spec.models import InputRef, PathRef, StaticValue, TemplateValue, WithValue
from ..spec.variables import BindNames, fix_binds

Resolver = Callable[[Mapping[str, Any]], Any]
_UNSET = object()


class WithPlan:
    """Compiled ``with`` entries. ``apply`` returns the values for the consumed call.

    References take the caller's argument: each one names an input (``rest.project-subset`` the
    input ``project_subset``), decided here, once, against the unit's input names, which are the
    keys of the coerced arguments ``apply`` receives; an argument the caller did not give (or a
    reference to no input) leaves the parameter unset. Templates render over arguments and step
    results, their bind variables fixed at build time (a lone ``{{x}}`` keeps the value's type);
    JSONPath reads arguments and step results; anything else is a static value with its YAML type
    kept. The unit's arguments the plan does not map pass through under their own names (they are
    its declared or inferred inputs: anything else was refused before).
    """

    def __init__(self, entries: Mapping[str, WithValue], binds: BindNames, inputs: Iterable[str]) -> None:
        # (key, input name): a reference's input is read inline in apply() (the hot path of every
        # simple unit); anything else is (key, resolver).
        self._references: list[tuple[str, str]] = []
        self._resolvers: list[tuple[str, Resolver]] = []
        names = Spellings(inputs)
        from_binds: set[str] = set()
        for key, value in entries.items():
            if isinstance(value, InputRef):
                name = names.get(value.name)
                if name is not None:
                    self._references.append((key, name))
            else:
                resolver, uses_binds = _compile(value, binds)
                self._resolvers.append((key, resolver))
                if uses_binds:
                    from_binds.add(key)
        # The keys whose value is drawn from a bind variable (never shown in an error).
        self.from_binds = frozenset(from_binds)
        self.needs_context = any(not isinstance(v, (InputRef, StaticValue)) for v in entries.values())
        # `prompt_id: rest.prompt_id` for every entry (generated capabilities): the arguments
        # already hold each value under the parameter's name, so there is nothing to move
        # (``apply`` then only copies; a caller that will not mutate may skip it).
        self.identity = all(
            isinstance(v, InputRef) and canonical(v.name) == canonical(k) for k, v in entries.items()
        )

    def apply(self, arguments: Mapping[str, Any], steps: Mapping[str, Any] | None = None) -> dict[str, Any]:
        values = dict(arguments)
        if self.identity:
            return values
        context: Mapping[str, Any] = arguments
        if self.needs_context and steps:
            context = {**arguments, **steps}  # a step's name reads the step, as validation resolves it
        for key, name in self._references:
            found = arguments.get(name)
            if found is not None:  # not given: the parameter stays unset
                values[key] = found
        for key, resolve in self._resolvers:
            value = resolve(context)
            if value is not _UNSET:
                values[key] = value
        return values


def _compile(value: WithValue, binds: BindNames) -> tuple[Resolver, bool]:
    """The entry's resolver, and whether it reads a bind variable."""
    if isinstance(value, TemplateValue):
        template = fix_binds(compile_template(value.template), binds)

        def render(context: Mapping[str, Any]) -> Any:
            rendered = template.render_value(context, default=_UNSET)
            return _UNSET if rendered is None else rendered

        return render, template.free_variables != template.variables
    if isinstance(value, PathRef):
        path = compile_path(value.path)

        def select(context: Mapping[str, Any]) -> Any:
            found = path.find(context)
            return _UNSET if found is None else found

        return select, False
    static = value.value if isinstance(value, StaticValue) else None
    return (lambda _context: static), False
