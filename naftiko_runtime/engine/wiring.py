"""``with``: how a unit's inputs (and earlier steps' results) become a consumed call's values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..expressions import canonical, compile_path, compile_template
from ..expressions.names import canonical_index
from ..spec.models import InputRef, PathRef, StaticValue, TemplateValue, WithValue
from ..spec.variables import BindNames, fix_binds

Resolver = Callable[[Mapping[str, Any]], Any]
_UNSET = object()


class WithPlan:
    """Compiled ``with`` entries. ``apply`` returns the values for the consumed call.

    References take the caller's argument (matched across case/``-``/``_`` spellings; an argument
    the caller did not give leaves the parameter unset); templates render over arguments and step
    results, their bind variables fixed at build time (a lone ``{{x}}`` keeps the value's type);
    JSONPath reads arguments and step results; anything else is a static value with its YAML type
    kept. The unit's arguments the plan does not map pass through under their own names (they are
    its declared or inferred inputs: anything else was refused before).
    """

    def __init__(self, entries: Mapping[str, WithValue], binds: BindNames) -> None:
        # (key, reference name, its canonical form, resolver): a reference has no resolver, it is
        # looked up inline in apply() (the hot path of every simple unit).
        self._entries: list[tuple[str, str | None, str | None, Resolver | None]] = []
        from_binds: set[str] = set()
        for key, value in entries.items():
            if isinstance(value, InputRef):
                self._entries.append((key, value.name, canonical(value.name), None))
            else:
                resolver, uses_binds = _compile(value, binds)
                self._entries.append((key, None, None, resolver))
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
        index: Mapping[str, Any] | None = None
        for key, name, canon, resolve in self._entries:
            if resolve is None:
                found = arguments.get(name, _UNSET)  # type: ignore[arg-type]
                if found is _UNSET:
                    if index is None:
                        index = canonical_index(arguments, first_wins=True)
                    found = index.get(canon, _UNSET)  # type: ignore[arg-type]
                if found is _UNSET or found is None:
                    continue  # not given: the parameter stays unset
                values[key] = found
            else:
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
