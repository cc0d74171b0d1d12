"""Template variables: what every ``{{name}}`` of a document refers to, decided once.

One resolver serves ``naftiko validate`` and the engine, so that what validation accepts is exactly
what runs. A name in a template is one of:

* a **bind** variable: ``VAR`` (declared by a root or capability bind) or ``ns.VAR`` (declared by
  bind ``ns``). Binds come first: a name that is a bind variable is that bind's value, always. The
  engine fixes bind slots at build time (:func:`fix_binds`), so no request value can fill one;
* an **input** of the unit the template belongs to: an exposed unit's argument (declared, or
  inferred when the unit declares none) or a consumed operation's parameter;
* a **step** of the unit's orchestration (``step`` or ``step.field``);
* a JSONPath (``{{$.step.field}}``), where the place takes one.

A :class:`Scope` says which of those a place may use: credentials and base URIs only binds (a
caller can never reach them), output values only inputs (a bind there would be sent to the caller),
everything else all three. A name none of them declares is an :class:`Undeclared` with the closest
known name suggested. Where a unit declares no inputs they are inferred from its templates, so any
name is an input there, except one spelled like a bind variable (``SCREAMING_SNAKE``) that no bind
declares: that is a typo of a bind or a missing one, and a caller must not fill it.

:func:`check_variables` walks a document and reports every undeclared name with its place, an
unclosed ``{{``, a ``with`` reference to an input the unit does not declare, a consumed path
placeholder no parameter feeds, and a lookup or mapping reading a step that does not exist.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..expressions import Template, canonical, compile_template
from ..expressions.names import placeholder_names
from .models import (
    AggregateFunction,
    ConsumedOperation,
    ConsumesHttp,
    Document,
    ExposedOperation,
    ExposedResource,
    InputRef,
    McpExpose,
    McpPromptMessage,
    McpResource,
    McpTool,
    RestExpose,
    StepCall,
    StepLookup,
    TemplateValue,
    UnitFields,
)
from .source import DocPath

__all__ = [
    "BindNames",
    "Reference",
    "Scope",
    "Undeclared",
    "VariableChecker",
    "bind_text",
    "closest_name",
    "fix_binds",
    "looks_like_bind",
    "unclosed_placeholder",
]

Kind = Literal["bind", "input", "step", "path"]

# Bind variables are SCREAMING_SNAKE (spec §3.19): a name of that shape is never an inferred input.
_BIND_SHAPED = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{2,}[0-9]*")
_CLOSED = re.compile(r"\{\{\{[^{}]*\}\}\}|\{\{[^{}]*\}\}")
_PROMPT_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}")


class BindNames(Protocol):
    """What the resolver needs of a document's binds: declared names (``DeclaredVariables``) or
    resolved values (``BindValues``); both answer with the same lookup rule."""

    def __contains__(self, name: object) -> bool: ...

    @property
    def variables(self) -> tuple[str, ...]: ...

    @property
    def namespaces(self) -> tuple[str, ...]: ...

    @property
    def qualified_names(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Reference:
    """A name that resolves: its kind and the name as written."""

    kind: Kind
    name: str


@dataclass(frozen=True, slots=True)
class Undeclared:
    """A name nothing at its place declares, and why."""

    name: str
    reason: str
    suggestion: str | None = None
    rule: str = "undeclared-variable"

    def message(self) -> str:
        hint = f" (did you mean {{{{{self.suggestion}}}}}?)" if self.suggestion else ""
        return f"{{{{{self.name}}}}}: {self.reason}{hint}"


class Scope:
    """The names a template at one place may use (see the module docstring).

    ``inputs``: the unit's declared inputs; ``open_inputs``: the unit declares none, so any name that
    is not a bind or a step is an (inferred) input. ``binds_allowed=False``: output values, which go
    back to the caller. ``inputs_allowed=False``: credentials and base URIs, bind variables only.
    """

    __slots__ = (
        "binds",
        "binds_allowed",
        "binds_known",
        "inputs",
        "inputs_allowed",
        "open_inputs",
        "place",
        "steps",
    )

    def __init__(
        self,
        binds: BindNames,
        *,
        inputs: Iterable[str] = (),
        steps: Iterable[str] = (),
        open_inputs: bool = False,
        binds_allowed: bool = True,
        inputs_allowed: bool = True,
        binds_known: bool = True,
        place: str = "here",
    ) -> None:
        self.binds = binds
        self.binds_known = binds_known
        self.inputs = {canonical(name): name for name in inputs}
        self.steps = {canonical(name): name for name in steps}
        self.open_inputs = open_inputs
        self.binds_allowed = binds_allowed
        self.inputs_allowed = inputs_allowed
        self.place = place

    def resolve(self, name: str) -> Reference | Undeclared:
        """What ``name`` (as written between the braces) refers to here."""
        name = name.strip()
        if name.startswith("$"):
            return self._path(name)
        if name in self.binds or (not self.binds_known and _names_a_bind(name)):
            if not self.binds_allowed:
                return Undeclared(
                    name,
                    f"a bind variable cannot be used {self.place}: its value would be sent to the caller",
                )
            return Reference("bind", name)
        head, dot, rest = name.partition(".")
        if dot and head in self.binds.namespaces and canonical(head) not in self.steps:
            variables = [q.partition(".")[2] for q in self.binds.qualified_names if q.startswith(head + ".")]
            close = closest_name(rest, variables)
            listing = ", ".join(sorted(variables)) or "none"
            return Undeclared(
                name,
                f"bind {head!r} declares no variable {rest!r} (it declares: {listing})",
                f"{head}.{close}" if close else None,
                "undeclared-bind-variable",
            )
        if not self.inputs_allowed:
            return Undeclared(
                name,
                f"no bind declares {name}; only bind variables can be used {self.place}",
                self._suggest(name, binds_only=True),
                "undeclared-bind-variable",
            )
        if canonical(head) in self.steps:
            return Reference("step", name)
        if canonical(name) in self.inputs or (dot and canonical(head) in self.inputs):
            return Reference("input", name)
        if self.binds_allowed and _BIND_SHAPED.fullmatch(name):
            return Undeclared(
                name, f"no bind declares {name}", self._suggest(name), "undeclared-bind-variable"
            )
        if self.open_inputs:
            near = closest_name(head, self.steps.values()) if dot and self.steps else None
            if near is not None:
                return Undeclared(name, f"no step is named {head!r}", f"{near}.{rest}")
            return Reference("input", name)
        return Undeclared(name, f"no bind, input or step declares {name}", self._suggest(name))

    def _path(self, text: str) -> Reference | Undeclared:
        first = _first_segment(text)
        if first is None:
            return Reference("path", text)
        key = canonical(first)
        if key in self.steps or key in self.inputs:
            return Reference("path", text)
        near = closest_name(first, self.steps.values())
        if near is not None:  # a near miss of a step is a typo, even where inputs are inferred
            return Undeclared(text, f"no input or step is named {first!r}", near)
        if self.open_inputs:
            return Reference("path", text)
        return Undeclared(text, f"no input or step is named {first!r}", self._suggest(first))

    def _suggest(self, name: str, *, binds_only: bool = False) -> str | None:
        known: list[str] = []
        if self.binds_allowed:
            known += [*self.binds.variables, *self.binds.qualified_names]
        if not binds_only:
            known += [*self.inputs.values(), *self.steps.values()]
        return closest_name(name, known)

    def problems(self, text: str) -> list[Undeclared]:
        """Every undeclared name of the template ``text``, and an unclosed ``{{``."""
        found = [r for r in map(self.resolve, compile_template(text).variables) if isinstance(r, Undeclared)]
        unclosed = unclosed_placeholder(text)
        if unclosed is not None:
            found.append(
                Undeclared(
                    unclosed,
                    "this `{{` is never closed; the text would be sent as written",
                    rule="unclosed-placeholder",
                )
            )
        return found


def fix_binds(template: Template, binds: Mapping[str, Any] | BindNames) -> Template:
    """``template`` with every bind variable fixed to its value (the engine's side of the resolver).

    ``binds`` is the runtime's ``BindValues``: the same lookup rule as validation, so a name is a
    bind here exactly when validation read it as one. Other names stay free, filled per request.
    """
    get = getattr(binds, "get", None)
    if get is None:
        return template
    fixed = {name: value for name in template.variables if name in binds and (value := get(name)) is not None}
    return template.fixing(fixed) if fixed else template


def bind_text(text: str | None, binds: Mapping[str, Any] | BindNames) -> str:
    """A credential or base URI: every variable must be a bind (else :class:`MissingVariable`
    naming the others); rendered once, at build time."""
    return fix_binds(compile_template(text or ""), binds).render({}, strict=True)


def unclosed_placeholder(text: str) -> str | None:
    """The text after a ``{{`` that no ``}}`` closes (``{{env.X``), or None."""
    if "{{" not in text:
        return None
    rest = _CLOSED.sub("", text)
    start = rest.find("{{")
    if start < 0:
        return None
    return rest[start + 2 :].split()[0] if rest[start + 2 :].split() else ""


def looks_like_bind(name: str) -> bool:
    """Whether ``name`` has the shape of a bind variable (``SCREAMING_SNAKE``)."""
    return _BIND_SHAPED.fullmatch(name) is not None


def _names_a_bind(name: str) -> bool:
    """``VAR`` or ``ns.VAR`` with a bind-shaped variable (binds declared elsewhere: a shared file)."""
    return looks_like_bind(name.rpartition(".")[2])


def closest_name(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` most likely misspells (another spelling of it first), or None."""
    pool = list(dict.fromkeys(c for c in candidates if c))
    if not pool:
        return None
    by_key = {canonical(c): c for c in pool}
    if canonical(name) in by_key and by_key[canonical(name)] != name:
        return by_key[canonical(name)]
    matches = difflib.get_close_matches(canonical(name), list(by_key), n=1, cutoff=0.75)
    return by_key[matches[0]] if matches else None


def _first_segment(text: str) -> str | None:
    """The first name of a JSONPath (``$.step.field`` → ``step``; ``$['a b']`` → ``a b``)."""
    body = text.strip()[1:]
    match = re.match(r"\.\s*([A-Za-z0-9_-]+)|\[\s*['\"]([^'\"]+)['\"]\s*\]", body)
    return (match.group(1) or match.group(2)) if match else None


# ----------------------------------------------------------------------------------------------------
# Walking a document
# ----------------------------------------------------------------------------------------------------

Report = Callable[[DocPath, str, str], None]


@dataclass(frozen=True)
class _Unit:
    """An exposed unit, as the resolver sees it: where it is and what it declares."""

    path: DocPath
    fields: UnitFields
    inputs: tuple[str, ...]
    open_inputs: bool


class VariableChecker:
    """Reports every template variable problem of a document (see the module docstring)."""

    def __init__(self, document: Document, data: Mapping[str, Any], binds: BindNames, error: Report) -> None:
        self.doc = document
        self.data = data
        self.binds = binds
        self.error = error
        self.binds_known = True
        self.covered: set[DocPath] = set()
        capability = document.capability
        self.functions: dict[str, AggregateFunction] = {
            f"{a.namespace}.{f.name}": f
            for a in (capability.aggregates if capability else ())
            for f in a.functions
            if f.name
        }
        self.with_keys: dict[str, set[str]] = {}

    def run(self) -> None:
        capability = self.doc.capability
        units = list(self._units())
        for unit in units:
            self._collect_with_keys(unit.fields)
        # A shared consumes file's binds are declared by the capabilities importing it.
        self.binds_known = capability is not None
        for consumes, path in consumes_entries(self.doc):
            self._consumes(consumes, path)
        for index, expose in enumerate(capability.exposes if capability else ()):
            auth = getattr(expose, "authentication", None)
            if auth is not None:
                self._strings((("capability", "exposes", index, "authentication")), self._credential_scope())
            if isinstance(expose, McpExpose):
                self._prompts(expose, ("capability", "exposes", index))
        for unit in units:
            self._unit(unit)
        self._bind_references_elsewhere()

    # -- reporting -------------------------------------------------------------------------------

    def _report(self, path: DocPath, text: str, scope: Scope) -> None:
        self.covered.add(path)  # and whatever is under it (a `with` value's normalised form)
        for problem in scope.problems(text):
            if problem.rule == "unclosed-placeholder":
                message = (
                    f"`{{{{{problem.name}`: this `{{{{` is never closed; the text would be sent as written"
                )
            else:
                message = problem.message()
            self.error(path, message, problem.rule)

    def _strings(self, path: DocPath, scope: Scope) -> None:
        """Check every string under ``path`` in the document data."""
        for where, text in _strings_under(self.data, path):
            self._report(where, text, scope)

    # -- consumes --------------------------------------------------------------------------------

    def _credential_scope(self, place: str = "in authentication") -> Scope:
        return Scope(self.binds, inputs_allowed=False, binds_known=self.binds_known, place=place)

    def _consumes(self, consumes: ConsumesHttp, path: DocPath) -> None:
        self._strings((*path, "baseUri"), self._credential_scope("in `baseUri`"))
        if consumes.authentication is not None:
            self._strings((*path, "authentication"), self._credential_scope())
        # Paths, parameter values and bodies read binds and the values the caller's unit passes
        # (its inputs flow through by name, or through `with`): any name but a bind-shaped one.
        scope = Scope(self.binds, open_inputs=True, binds_known=self.binds_known)
        self._strings_of_params(consumes.input_parameters, (*path, "inputParameters"), scope)
        for r_index, resource in enumerate(consumes.resources):
            rpath = (*path, "resources", r_index)
            self._strings((*rpath, "path"), scope)
            self._strings_of_params(resource.input_parameters, (*rpath, "inputParameters"), scope)
            for o_index, operation in enumerate(resource.operations):
                opath = (*rpath, "operations", o_index)
                self._strings((*opath, "path"), scope)
                self._strings_of_params(operation.input_parameters, (*opath, "inputParameters"), scope)
                self._strings((*opath, "body"), scope)
                self._path_placeholders(consumes, resource, operation, rpath, opath)

    def _strings_of_params(self, params: tuple[Any, ...], path: DocPath, scope: Scope) -> None:
        for index in range(len(params)):
            for key in ("value", "template"):
                self._strings((*path, index, key), scope)

    def _path_placeholders(
        self,
        consumes: ConsumesHttp,
        resource: Any,
        operation: ConsumedOperation,
        rpath: DocPath,
        opath: DocPath,
    ) -> None:
        """A placeholder no parameter feeds, beside an ``in: path`` parameter the path does not hold:
        every request would fail, so the document is refused with the likely fix. The URL is the
        one the runtime fills, ``baseUri`` included: moving a base path between ``baseUri`` and the
        resource path (as ``naftiko migrate`` does) changes no verdict."""
        placeholders = placeholder_names(consumes.base_uri + resource.path + (operation.path or ""))
        in_path = {canonical(p) for p in placeholders}
        located = [
            (param, (*where, "inputParameters", index))
            for where, params in (
                (rpath[:-2], consumes.input_parameters),
                (rpath, resource.input_parameters),
                (opath, operation.input_parameters),
            )
            for index, param in enumerate(params)
        ]
        declared = {canonical(p.name) for p, _ in located}
        orphans = {p.name: at for p, at in located if p.in_ == "path" and canonical(p.name) not in in_path}
        if not orphans:
            return
        fed = self.with_keys.get(f"{consumes.namespace}.{operation.name}", set())
        for name in placeholders:
            key = canonical(name)
            if key in declared or key in fed or name in self.binds:
                continue
            suggestion = closest_name(name, list(orphans)) or next(iter(orphans))
            if operation.path and name in placeholder_names(operation.path):
                where: DocPath = (*opath, "path")
            elif name in placeholder_names(resource.path):
                where = (*rpath, "path")
            else:
                # In the baseUri: a base path segment, hardly a misspelt parameter; the parameter no
                # placeholder takes is what to fix, so the error points at it.
                self.error(
                    orphans[suggestion],
                    f"the `in: path` parameter {suggestion!r} is in neither the path nor the `baseUri`, "
                    f"while the `baseUri`'s placeholder {{{{{name}}}}} is fed by no parameter",
                    "unfed-path-placeholder",
                )
                continue
            self.error(
                where,
                f"path placeholder {{{{{name}}}}} is fed by no parameter, while the `in: path` "
                f"parameter {suggestion!r} is not in the path (did you mean {{{{{suggestion}}}}}?)",
                "unfed-path-placeholder",
            )

    # -- exposed units ---------------------------------------------------------------------------

    def _units(self) -> Iterator[_Unit]:
        capability = self.doc.capability
        if capability is None:
            return
        for a_index, aggregate in enumerate(capability.aggregates):
            for f_index, function in enumerate(aggregate.functions):
                names = tuple(p.name for p in function.input_parameters)
                yield _Unit(
                    ("capability", "aggregates", a_index, "functions", f_index), function, names, not names
                )
        for e_index, expose in enumerate(capability.exposes):
            epath = ("capability", "exposes", e_index)
            if isinstance(expose, RestExpose):
                for r_index, resource in enumerate(expose.resources):
                    for o_index, operation in enumerate(resource.operations):
                        path = (*epath, "resources", r_index, "operations", o_index)
                        yield self._rest_unit(expose, resource, operation, path)
            elif isinstance(expose, McpExpose):
                for t_index, tool in enumerate(expose.tools):
                    yield self._tool_unit(tool, (*epath, "tools", t_index))
                for r_index, dynamic in enumerate(expose.resources):
                    if dynamic.location:
                        continue
                    params = placeholder_names(dynamic.uri)
                    yield _Unit((*epath, "resources", r_index), _wired(dynamic.name, dynamic), params, True)
                for p_index, prompt in enumerate(expose.prompts):
                    for m_index, message in enumerate(prompt.template):
                        if not (message.call or message.steps):
                            continue
                        path = (*epath, "prompts", p_index, "template", m_index)
                        arguments = tuple(a.name for a in prompt.arguments)
                        yield _Unit(path, _wired(prompt.name, message), arguments, True)

    def _function_inputs(self, unit: UnitFields) -> tuple[str, ...]:
        function = self.functions.get(unit.ref) if unit.ref else None
        return tuple(p.name for p in function.input_parameters) if function else ()

    def _rest_unit(
        self, expose: RestExpose, resource: ExposedResource, operation: ExposedOperation, path: DocPath
    ) -> _Unit:
        params = [*expose.input_parameters, *resource.input_parameters, *operation.input_parameters]
        route = placeholder_names(resource.path + (operation.path or ""))
        declared = tuple(p.name for p in params) or self._function_inputs(operation)
        return _Unit(path, operation, (*declared, *route), not declared)

    def _tool_unit(self, tool: McpTool, path: DocPath) -> _Unit:
        declared = tuple(p.name for p in tool.input_parameters) or self._function_inputs(tool)
        return _Unit(path, tool, declared, not declared)

    def _collect_with_keys(self, fields: UnitFields) -> None:
        if fields.call:
            self.with_keys.setdefault(fields.call, set()).update(canonical(k) for k in fields.with_)
        for step in fields.steps:
            if isinstance(step, StepCall):
                self.with_keys.setdefault(step.call, set()).update(canonical(k) for k in step.with_)

    def _unit(self, unit: _Unit) -> None:
        fields, path = unit.fields, unit.path
        steps = [s.name for s in fields.steps]

        def scope(visible: Iterable[str]) -> Scope:
            return Scope(self.binds, inputs=unit.inputs, steps=visible, open_inputs=unit.open_inputs)

        self._with(fields.with_, (*path, "with"), scope(()), unit)
        for index, step in enumerate(fields.steps):
            spath = (*path, "steps", index)
            earlier = steps[:index]
            with_ = getattr(step, "with_", None)
            if with_:
                self._with(with_, (*spath, "with"), scope(earlier), unit)
            if isinstance(step, StepLookup):
                self._lookup(step, (*spath, "lookupValue"), scope(earlier))
        for index, mapping in enumerate(fields.mappings):
            self._mapping(mapping.value, (*path, "mappings", index, "value"), scope(steps))
        outputs = Scope(
            self.binds,
            inputs=unit.inputs,
            open_inputs=unit.open_inputs,
            binds_allowed=False,
            place="in an output value",
        )
        self._outputs(fields.output_parameters, (*path, "outputParameters"), outputs)

    def _with(self, entries: Mapping[str, Any], path: DocPath, scope: Scope, unit: _Unit) -> None:
        for key, value in entries.items():
            where = (*path, key)
            if isinstance(value, TemplateValue):
                self._report(where, value.template, scope)
            elif isinstance(value, InputRef) and not unit.open_inputs:
                self.covered.add(where)
                if canonical(value.name) not in scope.inputs:
                    close = closest_name(value.name, unit.inputs)
                    hint = f" (did you mean {close!r}?)" if close else ""
                    listing = ", ".join(unit.inputs) or "none"
                    self.error(
                        where,
                        f"`with` reads input {value.name!r}, which the unit does not declare "
                        f"(it declares: {listing}){hint}",
                        "undeclared-variable",
                    )

    def _lookup(self, step: StepLookup, path: DocPath, scope: Scope) -> None:
        text = step.lookup_value.strip()
        self.covered.add(path)
        if text.startswith("$") or "{{" in text:
            self._report(path, text if "{{" in text else "{{" + text + "}}", scope)
            return
        head, dot, rest = text.partition(".")
        if not dot or not rest or canonical(head) in scope.steps:
            return
        near = closest_name(head, scope.steps.values())
        if near is not None and head not in scope.inputs:
            self.error(
                path,
                f"lookup reads step {head!r}, which does not exist (did you mean {near!r}?)",
                "unknown-step",
            )

    def _mapping(self, value: str, path: DocPath, scope: Scope) -> None:
        self.covered.add(path)
        text = value.strip()
        if "{{" in text:
            self._report(path, text, scope)
            return
        first = _first_segment(text) if text.startswith("$") else None
        if first is None or canonical(first) in scope.steps or canonical(first) in scope.inputs:
            return
        # `$.field` with no such step reads the last call step's answer (the spec's `$.dbName`); only a
        # near miss of a step name is surely a typo.
        near = closest_name(first, scope.steps.values())
        if near is not None and canonical(near) != canonical(first):
            self.error(
                path,
                f"mapping reads {text!r}: no step is named {first!r} (did you mean {near!r}?)",
                "unknown-step",
            )

    def _outputs(self, outputs: tuple[Any, ...], path: DocPath, scope: Scope) -> None:
        for index, output in enumerate(outputs):
            self._output_child(output, (*path, index), scope)

    def _output_child(self, output: Any, path: DocPath, scope: Scope) -> None:
        if isinstance(output.value, str) and "{{" in output.value:
            self._report((*path, "value"), output.value, scope)
        for name, child in (output.properties or {}).items():
            self._output_child(child, (*path, "properties", name), scope)
        if output.items is not None:
            self._output_child(output.items, (*path, "items"), scope)

    def _prompts(self, expose: McpExpose, path: DocPath) -> None:
        for p_index, prompt in enumerate(expose.prompts):
            if not prompt.arguments:
                continue  # none declared: whatever the client passes fills the text
            arguments = {canonical(a.name): a.name for a in prompt.arguments}
            for m_index, message in enumerate(prompt.template):
                where = (*path, "prompts", p_index, "template", m_index, "content")
                for name in _PROMPT_VARIABLE.findall(message.content or ""):
                    self.covered.add(where)
                    if canonical(name) not in arguments:
                        close = closest_name(name, arguments.values())
                        undeclared = Undeclared(
                            name, f"prompt {prompt.name!r} declares no argument {name!r}", close
                        )
                        self.error(where, undeclared.message(), "undeclared-variable")

    # -- anywhere else ---------------------------------------------------------------------------

    def _bind_references_elsewhere(self) -> None:
        """``{{ns.VAR}}`` naming a bind namespace is a bind reference wherever it is written."""
        namespaces = set(self.binds.namespaces)
        if not namespaces:
            return
        scope = Scope(self.binds, open_inputs=True)
        covered = self.covered
        for where, text in _strings_under(self.data, ()):
            if any(where[:cut] in covered for cut in range(len(where), 0, -1)):
                continue
            for name in compile_template(text).variables:
                head, dot, _ = name.strip().partition(".")
                if dot and head in namespaces:
                    found = scope.resolve(name)
                    if isinstance(found, Undeclared):
                        self.error(where, found.message(), found.rule)


def _wired(name: str, source: McpResource | McpPromptMessage) -> UnitFields:
    """A dynamic MCP resource or prompt message seen as a unit (its call or steps and outputs)."""
    return UnitFields(
        name=name,
        call=source.call,
        with_=dict(source.with_),
        steps=source.steps,
        mappings=source.mappings,
        output_parameters=source.output_parameters,
    )


def consumes_entries(document: Document) -> list[tuple[ConsumesHttp, DocPath]]:
    """Every consumes block of a document with its place (imported ones are inlined already)."""
    capability = document.capability
    entries = [
        (c, ("capability", "consumes", i)) for i, c in enumerate(capability.consumes if capability else ())
    ]
    return entries + [(c, ("consumes", i)) for i, c in enumerate(document.consumes)]


def _strings_under(data: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    node: Any = data
    for part in path:
        if (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]  # type: ignore[index]  # an int for a list: the test above says so
        else:
            return
    trail = list(path)
    found: list[tuple[DocPath, str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "{{" in value:
                found.append((tuple(trail), value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                trail.append(key)
                walk(item)
                trail.pop()
        elif isinstance(value, list):
            for index, item in enumerate(value):
                trail.append(index)
                walk(item)
                trail.pop()

    walk(node)
    yield from found
