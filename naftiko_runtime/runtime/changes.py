"""What is served, as data: a capability's surface (adapters and their units with inputs), the
effective configuration ``GET /config`` shows, and the diff a reload reports.

A change *breaks clients* when a caller that worked before can fail after it: an adapter, a route,
a tool, a resource or a prompt removed; an input added as required (or made required); an input
whose type changed. Everything else (additions, new optional inputs, descriptions) does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.contract import InputSpec
from ..spec.models import ControlExpose, McpExpose, RestExpose, SkillExpose
from .core import Runtime

Inputs = dict[str, tuple[str | None, bool]]  # input name → (type, required)
Surface = dict[str, dict[str, Inputs]]  # "type:namespace" → unit id → inputs


@dataclass
class Loaded:
    """One served capability file, as last loaded."""

    runtime: Runtime
    sha256: str
    loaded_at: str


def file_hash(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""


def _inputs(specs: Sequence[InputSpec]) -> Inputs:
    return {spec.name: (spec.type, spec.required) for spec in specs}


def surface(runtime: Runtime) -> Surface:
    """Every adapter of ``runtime`` with the units a client can call and their inputs."""
    out: Surface = {}
    rest = {id(plan.expose): plan for plan in runtime.rest}
    mcp = {id(plan.expose): plan for plan in runtime.mcp}
    capability = runtime.document.capability
    for expose in capability.exposes if capability else ():
        key = f"{expose.type}:{getattr(expose, 'namespace', expose.type)}"
        units: dict[str, Inputs] = {}
        if isinstance(expose, RestExpose) and id(expose) in rest:
            for route in rest[id(expose)].routes:
                units[f"{route.method} {route.path}"] = _inputs(route.unit.inputs)
        elif isinstance(expose, McpExpose) and id(expose) in mcp:
            plan = mcp[id(expose)]
            for tool in plan.tools:
                units[f"tool {tool.name}"] = _inputs(tool.inputs)
            for resource in plan.static_resources:
                units[f"resource {resource.uri}"] = {}
            for dynamic in plan.dynamic_resources:
                units[f"resource {dynamic.spec.uri}"] = _inputs(dynamic.unit.inputs)
            for prompt in plan.prompts:
                units[f"prompt {prompt.spec.name}"] = {
                    arg.name: ("string", bool(arg.required)) for arg in prompt.spec.arguments
                }
        elif isinstance(expose, SkillExpose):
            for skill in expose.skills:
                units[f"skill {skill.name}"] = {tool.name: (None, False) for tool in skill.tools}
        elif isinstance(expose, ControlExpose):
            from ..exposes.control import endpoint_summary

            units = {f"endpoints {group}": {} for group in endpoint_summary(expose).split(", ")}
        out[key] = units
    return out


def _listens(runtime: Runtime) -> dict[str, tuple[str | None, int | None]]:
    capability = runtime.document.capability
    return {
        f"{e.type}:{getattr(e, 'namespace', e.type)}": (getattr(e, "address", None), getattr(e, "port", None))
        for e in (capability.exposes if capability else ())
    }


def diff(old: Mapping[str, Loaded], new: Mapping[str, Loaded]) -> dict[str, Any]:
    """What a reload changes, file by file, adapter by adapter, unit by unit; ``breaking`` lists the
    changes that can fail a client that worked before."""
    out: dict[str, Any] = {
        "capabilities": {"added": [], "removed": [], "changed": [], "unchanged": []},
        "adapters": {"added": [], "removed": [], "changed": []},
        "units": {"added": [], "removed": [], "changed": []},
        "breaking": [],
    }
    caps = out["capabilities"]
    for source in sorted(set(old) | set(new)):
        if source not in old:
            caps["added"].append(source)
        elif source not in new:
            caps["removed"].append(source)
        elif old[source].sha256 != new[source].sha256:
            caps["changed"].append(source)
        else:
            caps["unchanged"].append(source)
    before: Surface = {}
    after: Surface = {}
    places: dict[str, tuple[str | None, int | None]] = {}
    new_places: dict[str, tuple[str | None, int | None]] = {}
    for loaded in old.values():
        before.update(surface(loaded.runtime))
        places.update(_listens(loaded.runtime))
    for loaded in new.values():
        after.update(surface(loaded.runtime))
        new_places.update(_listens(loaded.runtime))
    adapters, units, breaking = out["adapters"], out["units"], out["breaking"]
    for adapter in sorted(set(before) | set(after)):
        if adapter not in before:
            adapters["added"].append(adapter)
            units["added"] += [f"{adapter} {unit}" for unit in after[adapter]]
            continue
        if adapter not in after:
            adapters["removed"].append(adapter)
            units["removed"] += [f"{adapter} {unit}" for unit in before[adapter]]
            breaking.append(f"adapter {adapter} removed")
            continue
        if places.get(adapter) != new_places.get(adapter):
            address, port = new_places[adapter]
            adapters["changed"].append(f"{adapter} now listens on {address or 'default address'}:{port}")
            breaking.append(f"adapter {adapter} moved to port {port}")
        was, now = before[adapter], after[adapter]
        for unit in sorted(set(was) | set(now)):
            name = f"{adapter} {unit}"
            if unit not in was:
                units["added"].append(name)
            elif unit not in now:
                units["removed"].append(name)
                breaking.append(f"{name} removed")
            elif was[unit] != now[unit]:
                units["changed"].append(name)
                breaking += [f"{name}: {why}" for why in _breaking_inputs(was[unit], now[unit])]
    return out


def _breaking_inputs(was: Inputs, now: Inputs) -> list[str]:
    reasons = []
    for name, (kind, required) in now.items():
        if name not in was:
            if required:
                reasons.append(f"new required input {name!r}")
            continue
        old_kind, old_required = was[name]
        if old_kind != kind and old_kind is not None:
            reasons.append(f"input {name!r} changed type from {old_kind} to {kind}")
        if required and not old_required:
            reasons.append(f"input {name!r} is now required")
    return reasons


@dataclass
class AdapterView:
    """Where one adapter listens and in what state (from the serving process)."""

    address: str
    port: int
    state: str


def configuration(
    loaded: Mapping[str, Loaded], listening: Mapping[tuple[str, str, str], AdapterView]
) -> list[dict[str, Any]]:
    """``GET /config``'s ``capabilities``: each file with its hash, load time, adapters (address,
    port, state, units) and binds (names only: every value masked)."""
    out = []
    for source, item in sorted(loaded.items()):
        runtime = item.runtime
        adapters = []
        for key, units in surface(runtime).items():
            kind, namespace = key.split(":", 1)
            view = listening.get((source, kind, namespace))
            adapters.append(
                {
                    "type": kind,
                    "namespace": namespace,
                    "address": view.address if view else None,
                    "port": view.port if view else None,
                    "state": view.state if view else "not served",
                    "units": [
                        {
                            "name": unit,
                            "inputs": {n: {"type": t, "required": r} for n, (t, r) in inputs.items()},
                        }
                        for unit, inputs in units.items()
                    ],
                }
            )
        out.append(
            {
                "source": source,
                "sha256": item.sha256,
                "loadedAt": item.loaded_at,
                "label": runtime.document.title,
                "specVersion": runtime.document.spec_version,
                "adapters": adapters,
                "binds": _masked_binds(runtime),
            }
        )
    return out


def _masked_binds(runtime: Runtime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bind in runtime.document.all_binds:
        out[bind.namespace] = {
            "location": bind.location or "environment",
            "keys": {name: "****" for name in bind.keys},
        }
    return out


@dataclass
class Snapshot:
    """What the process serves: every loaded file by source path, and the files skipped."""

    loaded: dict[str, Loaded] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def runtimes(self) -> list[Runtime]:
        return [item.runtime for item in self.loaded.values()]

    def name_of(self, source_file: str) -> str:
        """The path a document (by its resolved ``source_file``) was found under."""
        for name, item in self.loaded.items():
            if item.runtime.document.source_file == source_file:
                return name
        return source_file
