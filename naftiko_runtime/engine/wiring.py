"""``with``: how a unit's inputs (and earlier steps' results) become a consumed call's values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..expressions import canonical, compile_path, compile_template
from ..spec.models import InputRef, PathRef, StaticValue, TemplateValue, WithValue

Resolver = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
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
        self._entries: list[tuple[str, Resolver]] = [(key, _compile(value)) for key, value in entries.items()]
        self.needs_context = any(not isinstance(v, (InputRef, StaticValue)) for v in entries.values())

    def apply(self, arguments: Mapping[str, Any], steps: Mapping[str, Any] | None = None) -> dict[str, Any]:
        values = dict(arguments)
        if not self._entries:
            return values
        context: Mapping[str, Any] = arguments
        if self.needs_context:
            context = {**self.binds, **(steps or {}), **arguments}
        for key, resolve in self._entries:
            value = resolve(arguments, context)
            if value is _UNSET:
                continue
            values[key] = value
        return values


def _compile(value: WithValue) -> Resolver:
    if isinstance(value, InputRef):
        name, key = value.name, canonical(value.name)

        def reference(arguments: Mapping[str, Any], _context: Mapping[str, Any]) -> Any:
            found = arguments.get(name, _UNSET)
            if found is _UNSET:
                for arg, given in arguments.items():
                    if canonical(arg) == key:
                        found = given
                        break
            return _UNSET if found is None else found

        return reference
    if isinstance(value, TemplateValue):
        template = compile_template(value.template)

        def render(_arguments: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
            rendered = template.render_value(context, default=_UNSET)
            return _UNSET if rendered is None else rendered

        return render
    if isinstance(value, PathRef):
        path = compile_path(value.path)

        def select(_arguments: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
            found = path.find(context)
            return _UNSET if found is None else found

        return select
    static = value.value if isinstance(value, StaticValue) else None
    return lambda _arguments, _context: static
