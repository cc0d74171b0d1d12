"""``with``: how a unit's inputs (and earlier steps' results) become a consumed call's values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..expressions import canonical, compile_path, compile_template
from ..expressions.names import canonical_index
from ..spec.models import InputRef, PathRef, StaticValue, TemplateValue, WithValue

Resolver = Callable[[Mapping[str, Any]], Any]
_UNSET = object()


class WithPlan:
    """Compiled ``with`` entries. ``apply`` returns the values for the consumed call.

    References take the caller's argument (matched across case/``-``/``_`` spellings; an argument
    the caller did not give leaves the parameter unset); templates render over arguments, step
    results and binds (a lone ``{{x}}`` keeps the value's type); JSONPath reads the same context;
    anything else is a static value with its YAML type kept. Arguments the plan does not map pass
    through under their own names.
    """

    def __init__(self, entries: Mapping[str, WithValue], binds: Mapping[str, Any]) -> None:
        self.binds = binds
        # (key, reference name, its canonical form, resolver): a reference has no resolver, it is
        # looked up inline in apply() (the hot path of every simple unit).
        self._entries: list[tuple[str, str | None, str | None, Resolver | None]] = []
        for key, value in entries.items():
            if isinstance(value, InputRef):
                self._entries.append((key, value.name, canonical(value.name), None))
            else:
                self._entries.append((key, None, None, _compile(value)))
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
        if self.needs_context:
            context = {**self.binds, **(steps or {}), **arguments}
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


def _compile(value: WithValue) -> Resolver:
    if isinstance(value, TemplateValue):
        template = compile_template(value.template)

        def render(context: Mapping[str, Any]) -> Any:
            rendered = template.render_value(context, default=_UNSET)
            return _UNSET if rendered is None else rendered

        return render
    if isinstance(value, PathRef):
        path = compile_path(value.path)

        def select(context: Mapping[str, Any]) -> Any:
            found = path.find(context)
            return _UNSET if found is None else found

        return select
    static = value.value if isinstance(value, StaticValue) else None
    return lambda _context: static
