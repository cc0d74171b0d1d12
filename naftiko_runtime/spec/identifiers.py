"""Identifiers that something looks up must name one thing: uniqueness is checked at load.

A call target (``namespace.operation``), a ``ref`` (``aggregate.function``), an MCP tool, prompt or
resource URI, a REST route (method and path), a skill, a step or an input is found by its name. Two
with one name either stop a server (an MCP server cannot list two tools of one name) or make one of
them unreachable without a word. Each duplicate is a located error that names the first declaration;
namespaces are checked with the other semantic rules (:mod:`.validate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..expressions.names import path_shape
from .models import Document, McpExpose, RestExpose, SkillExpose
from .source import DocPath

Report = Callable[[DocPath, str, str], None]
Locate = Callable[[DocPath], str]
Entry = tuple[Any, DocPath]  # (key, path of the node that declares it)
Unique = Callable[..., None]

RULE = "duplicate-name"


def check_identifiers(document: Document, error: Report, locate: Locate) -> None:
    """Report every identifier declared twice in its scope, at the second declaration."""

    def unique(what: str, entries: Iterable[Entry], shown: Callable[[Any], str] = repr) -> None:
        """``what`` reads "tool name in MCP adapter 'x'"; the name goes after its first two words."""
        kind, _, scope = what.partition(" in ")
        scope = f" in {scope}" if scope else ""
        first: dict[Any, DocPath] = {}
        for key, path in entries:
            if key is None:
                continue
            if key in first:
                message = f"duplicate {kind} {shown(key)}{scope} (first declared at {locate(first[key])})"
                error(path, message, RULE)
            else:
                first[key] = path

    for consumes, path in consumed(document):
        unique(
            f"operation name in consumes {consumes.namespace!r}",
            (
                (operation.name, (*path, "resources", r, "operations", o, "name"))
                for r, resource in enumerate(consumes.resources)
                for o, operation in enumerate(resource.operations)
            ),
        )
    capability = document.capability
    if capability is None:
        return
    functions: dict[str, str | None] = {}
    for a_index, aggregate in enumerate(capability.aggregates):
        apath = ("capability", "aggregates", a_index)
        unique(
            f"function name in aggregate {aggregate.namespace!r}",
            ((f.name, (*apath, "functions", i, "name")) for i, f in enumerate(aggregate.functions)),
        )
        for index, function in enumerate(aggregate.functions):
            functions[f"{aggregate.namespace}.{function.name}"] = function.name
            _unit(function, (*apath, "functions", index), unique)
    for index, expose in enumerate(capability.exposes):
        path = ("capability", "exposes", index)
        if isinstance(expose, McpExpose):
            _mcp(expose, path, functions, unique)
        elif isinstance(expose, RestExpose):
            _rest(expose, path, unique)
        elif isinstance(expose, SkillExpose):
            _skill(expose, path, unique)


def consumed(document: Document) -> Iterator[tuple[Any, DocPath]]:
    """Every consumes entry with its path (under ``capability`` or at the root)."""
    capability = document.capability
    for index, consumes in enumerate(capability.consumes if capability else ()):
        yield consumes, ("capability", "consumes", index)
    for index, consumes in enumerate(document.consumes):
        yield consumes, ("consumes", index)


def _named(items: Iterable[Any], path: DocPath, key: str = "name") -> Iterator[Entry]:
    for index, item in enumerate(items):
        yield getattr(item, key), (*path, index, key)


def _mcp(expose: McpExpose, path: DocPath, functions: dict[str, str | None], unique: Unique) -> None:
    where = f"MCP adapter {expose.namespace!r}"
    tools: list[Entry] = []
    for index, tool in enumerate(expose.tools):
        tpath = (*path, "tools", index)
        # A tool that only names a function (`ref`) is published under the function's name.
        name = tool.name or functions.get(tool.ref or "")
        tools.append((name, (*tpath, "name") if tool.name else (*tpath, "ref")))
        _unit(tool, tpath, unique)
    unique(f"tool name in {where}", tools)
    unique(f"prompt name in {where}", _named(expose.prompts, (*path, "prompts")))
    for p_index, prompt in enumerate(expose.prompts):
        ppath = (*path, "prompts", p_index)
        unique(f"argument name in prompt {prompt.name!r}", _named(prompt.arguments, (*ppath, "arguments")))
        for m_index, message in enumerate(prompt.template):
            _steps(message.steps, (*ppath, "template", m_index), unique)
    unique(f"resource URI in {where}", _named(expose.resources, (*path, "resources"), "uri"))
    for r_index, resource in enumerate(expose.resources):
        _steps(resource.steps, (*path, "resources", r_index), unique)


def _rest(expose: RestExpose, path: DocPath, unique: Unique) -> None:
    where = f"REST adapter {expose.namespace!r}"
    routes: list[Entry] = []
    names: list[Entry] = []
    for r_index, resource in enumerate(expose.resources):
        rpath = (*path, "resources", r_index)
        # Within one list; an operation may re-declare a resource's input (its own wins).
        unique(
            f"input name in resource {resource.path!r}",
            _named(resource.input_parameters, (*rpath, "inputParameters")),
        )
        for o_index, operation in enumerate(resource.operations):
            opath = (*rpath, "operations", o_index)
            full = resource.path + (operation.path or "")
            routes.append(((operation.method, path_shape(full)), (*opath, "method")))
            names.append((operation.name, (*opath, "name")))
            inputs = _named(operation.input_parameters, (*opath, "inputParameters"))
            unique(f"input name in operation {operation.name or full!r}", inputs)
            _steps(operation.steps, opath, unique)
    unique(f"route in {where}", routes, lambda key: f"{key[0]} {key[1]}")
    unique(f"operation name in {where}", names)


def _skill(expose: SkillExpose, path: DocPath, unique: Unique) -> None:
    unique(f"skill name in skill adapter {expose.namespace!r}", _named(expose.skills, (*path, "skills")))
    for index, skill in enumerate(expose.skills):
        unique(f"tool name in skill {skill.name!r}", _named(skill.tools, (*path, "skills", index, "tools")))


def _unit(unit: Any, path: DocPath, unique: Unique) -> None:
    """An MCP tool or aggregate function: its inputs and its steps."""
    unique(
        f"input name in {unit.name or 'unit'!r}", _named(unit.input_parameters, (*path, "inputParameters"))
    )
    _steps(unit.steps, path, unique)


def _steps(steps: Iterable[Any], path: DocPath, unique: Unique) -> None:
    unique("step name", _named(steps, (*path, "steps")))
