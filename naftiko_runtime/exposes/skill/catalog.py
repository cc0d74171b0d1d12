"""The skill catalog of one ``type: skill`` expose, compiled once from its plan.

A skill groups tools an agent may use. A **derived** tool points at a unit of a sibling REST or MCP
adapter of the same capability (``from: {sourceNamespace, action}``); the catalog says which adapter
(``invocationRef.mode``: ``rest`` or ``mcp``) and carries the unit's input schema, so an agent can
call it without a second lookup. An **instruction** tool is a file in the skill's ``location``
directory. The adapter never invokes anything itself.

Tolerant reading, like the loader's warnings: a ``from`` naming no REST/MCP adapter of this
capability, or an action that adapter does not have, stays in the catalog with ``"resolved": false``
(``mode`` is ``"unknown"`` when the namespace is not an adapter); a tool with neither ``from`` nor
``instruction`` (the older wiki form, ``- name: get-database``) is looked up by name among the MCP
tools, then the REST operations, as §3.5.9 of the specification describes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...engine.contract import Invocable
from ...engine.plans import SkillPlan
from ...locations import LocationError, resolve_location
from ...spec.models import ExposedSkill, SkillExpose, SkillTool
from .files import UnsafePath, check_segments

log = logging.getLogger("naftiko.skill")

# ExposedSkill attribute → the key the specification spells, in the order the detail shows them.
_OPTIONAL_FIELDS = (
    ("label", "label"),
    ("license", "license"),
    ("compatibility", "compatibility"),
    ("argument_hint", "argument-hint"),
    ("allowed_tools", "allowed-tools"),
    ("user_invocable", "user-invocable"),
    ("disable_model_invocation", "disable-model-invocation"),
    ("metadata", "metadata"),
)


@dataclass(frozen=True)
class _Target:
    """One unit a derived tool can point at."""

    namespace: str
    mode: str  # "rest" | "mcp"
    unit: Invocable
    method: str | None = None  # REST only
    path: str | None = None


@dataclass
class Skill:
    """One skill: its spec, its directory, and the JSON the catalog serves for it."""

    spec: ExposedSkill
    root: Path | None  # the location directory (it may not exist); None: no usable location
    location_problem: str | None  # why there is no usable location (for the 404 detail)
    summary: dict[str, Any]  # its entry in GET /skills
    detail: dict[str, Any]  # GET /skills/{name}, before the per-request "instructions" field
    unresolved: list[str] = field(default_factory=list)  # tool names whose target is not here

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class SkillCatalog:
    """Every skill of one expose, by name, in document order."""

    expose: SkillExpose
    skills: dict[str, Skill]

    @property
    def namespace(self) -> str:
        return self.expose.namespace

    def listing(self) -> dict[str, Any]:
        """The body of ``GET /skills``."""
        return {"count": len(self.skills), "skills": [s.summary for s in self.skills.values()]}

    def summary(self) -> str:
        """One line for the startup banner: ``2 skills, 5 tools`` (and what did not resolve)."""
        tools = sum(len(s.spec.tools) for s in self.skills.values())
        unresolved = sum(len(s.unresolved) for s in self.skills.values())
        text = f"{_count(len(self.skills), 'skill')}, {_count(tools, 'tool')}"
        return text + (f", {unresolved} unresolved" if unresolved else "")


def build_catalog(plan: SkillPlan, base_dir: Path) -> SkillCatalog:
    """Compile the catalog of ``plan.expose`` against the units of its sibling adapters; relative
    skill locations resolve against ``base_dir``."""
    expose = plan.expose
    siblings = _Siblings.of(plan)
    skills: dict[str, Skill] = {}
    for spec in expose.skills:
        if spec.name in skills:
            log.warning(
                "skill adapter %s: skill %r is declared twice; the first wins", expose.namespace, spec.name
            )
            continue
        skills[spec.name] = _skill(spec, siblings, base_dir, expose.namespace)
    return SkillCatalog(expose, skills)


@dataclass
class _Siblings:
    """The sibling REST and MCP adapters: namespace → mode, namespace → unit name → target."""

    modes: dict[str, str] = field(default_factory=dict)
    units: dict[str, dict[str, _Target]] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: SkillPlan) -> _Siblings:
        out = cls()
        for mcp in plan.mcp:
            namespace = mcp.expose.namespace
            out.modes.setdefault(namespace, "mcp")
            units = out.units.setdefault(namespace, {})
            for unit in mcp.tools:
                units.setdefault(unit.name, _Target(namespace, "mcp", unit))
        for rest in plan.rest:
            namespace = rest.expose.namespace
            out.modes.setdefault(namespace, "rest")
            units = out.units.setdefault(namespace, {})
            for route in rest.routes:
                units.setdefault(
                    route.unit.name, _Target(namespace, "rest", route.unit, route.method, route.path)
                )
        return out

    def find(self, namespace: str, action: str) -> _Target | None:
        return self.units.get(namespace, {}).get(action)

    def by_name(self, name: str) -> _Target | None:
        """A tool named ``name`` in any MCP adapter, else an operation in any REST adapter."""
        for mode in ("mcp", "rest"):
            for namespace, units in self.units.items():
                target = units.get(name)
                if target is not None and self.modes[namespace] == mode:
                    return target
        return None


def _skill(spec: ExposedSkill, siblings: _Siblings, base_dir: Path, namespace: str) -> Skill:
    root, problem = _location(spec, base_dir, namespace)
    tools: list[dict[str, Any]] = []
    unresolved: list[str] = []
    for tool in spec.tools:
        entry = _tool(tool, siblings)
        if entry.get("resolved") is False:
            unresolved.append(tool.name)
        if entry["type"] == "instruction":
            _check_instruction(spec, tool, namespace)
        tools.append(entry)
    summary: dict[str, Any] = {"name": spec.name, "description": spec.description}
    if spec.license is not None:
        summary["license"] = spec.license
    summary["tools"] = [t.name for t in spec.tools]
    detail: dict[str, Any] = {"name": spec.name, "description": spec.description}
    for attribute, key in _OPTIONAL_FIELDS:
        value = getattr(spec, attribute)
        if value is not None and value != {}:
            detail[key] = value
    detail["tools"] = tools
    return Skill(spec, root, problem, summary, detail, unresolved)


def _tool(tool: SkillTool, siblings: _Siblings) -> dict[str, Any]:
    if tool.from_ is not None:
        namespace, action = tool.from_.source_namespace, tool.from_.action
        target = siblings.find(namespace, action)
        return _derived(tool, namespace, action, siblings.modes.get(namespace, "unknown"), target)
    if tool.instruction is not None:
        return {
            "name": tool.name,
            "description": tool.description,
            "type": "instruction",
            "instruction": tool.instruction,
        }
    # Neither: the specification's older form names a tool of this capability by its name alone.
    found = siblings.by_name(tool.name)
    if found is not None:
        return _derived(tool, found.namespace, tool.name, found.mode, found)
    return _derived(tool, None, tool.name, "unknown", None)


def _derived(
    tool: SkillTool, namespace: str | None, action: str, mode: str, target: _Target | None
) -> dict[str, Any]:
    reference: dict[str, Any] = {"targetNamespace": namespace, "action": action, "mode": mode}
    description = tool.description
    entry: dict[str, Any] = {"name": tool.name, "description": description, "type": "derived"}
    if target is not None:
        if target.method is not None:
            reference["method"] = target.method
            reference["path"] = target.path
        if description is None:
            entry["description"] = target.unit.description
    entry["invocationRef"] = reference
    entry["resolved"] = target is not None
    if target is not None:
        entry["inputSchema"] = dict(target.unit.input_schema)
    return entry


def _location(spec: ExposedSkill, base_dir: Path, namespace: str) -> tuple[Path | None, str | None]:
    """The skill's directory (absolute, maybe missing) or why it has none."""
    if not spec.location:
        return None, f"skill '{spec.name}' declares no location"
    try:
        root = resolve_location(spec.location, base_dir)
    except LocationError as exc:
        log.warning("skill adapter %s: skill %r location %s", namespace, spec.name, exc.reason)
        return None, f"the location of skill '{spec.name}' {exc.reason}"
    if not root.is_dir():
        # Not a startup error: catalogs often point at a directory provisioned later (/opt/naftiko/...).
        log.warning(
            "skill adapter %s: skill %r location %s is not a directory (yet); its contents and download "
            "answer 404 until it is",
            namespace,
            spec.name,
            root,
        )
    return root, None


def _check_instruction(spec: ExposedSkill, tool: SkillTool, namespace: str) -> None:
    if spec.location is None:
        return  # the loader already says `instruction` needs `location`
    try:
        check_segments(tool.instruction or "")
    except UnsafePath as exc:
        log.warning(
            "skill adapter %s: instruction %r of tool %r in skill %r can never be served: %s",
            namespace,
            tool.instruction,
            tool.name,
            spec.name,
            exc.detail,
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
