"""``naftiko inspect FILE``: what a capability consumes and exposes, and which unit calls what.

Units are described as the runtime builds them (``Runtime.for_reading``: binds left empty), not
re-read from the document: names and hints merged from a ``ref``'d function, inputs declared or
inferred and where a request carries them, the paths routes answer on. A tool's ``annotations`` are
what ``tools/list`` publishes, built by the same function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from ..engine.contract import Invocable
from ..errors import NaftikoError
from ..exposes.mcp.tools import tool_descriptor
from ..runtime import Runtime
from ..runtime.mcp import tool_entries
from ..spec import Document
from ..spec.models import (
    Authentication,
    ControlExpose,
    McpExpose,
    RestExpose,
    SkillExpose,
    UnitFields,
)
from .files import load_or_report


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "inspect",
        help="describe a capability: consumed operations, routes, tools",
        description="Describe what a capability consumes and exposes.",
    )
    parser.add_argument("path", metavar="FILE", help="capability file")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    document = load_or_report(args.path)
    if document is None:
        return 2
    try:
        summary = describe(document)
    except NaftikoError as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render_text(summary))
    return 0


def describe(document: Document) -> dict[str, Any]:
    """A plain, JSON-ready description of the capability, its units as the runtime builds them."""
    runtime = Runtime.for_reading(document)
    rest_plans = {id(plan.expose): plan for plan in runtime.rest}
    mcp_plans = {id(plan.expose): plan for plan in runtime.mcp}
    capability = document.capability
    consumes = [
        {
            "namespace": c.namespace,
            "baseUri": c.base_uri,
            "authentication": _auth(c.authentication),
            "importedFrom": c.origin.file if c.origin else None,
            "operations": [
                {
                    "name": op.name,
                    "method": op.method,
                    "path": r.path + (op.path or ""),
                    "format": op.output_raw_format,
                    "description": op.description,
                }
                for r in c.resources
                for op in r.operations
            ],
        }
        for c in document.all_consumes
    ]
    adapters: list[dict[str, Any]] = []
    for expose in capability.exposes if capability else ():
        entry: dict[str, Any] = {
            "type": expose.type,
            "namespace": expose.namespace,
            "address": expose.address,
            "port": expose.port,
            "authentication": _auth(expose.authentication),
        }
        if isinstance(expose, RestExpose):
            entry["routes"] = [
                {
                    "method": route.method,
                    "path": route.path,
                    "name": route.unit.name,
                    **(_target(route.operation) if route.operation else {}),
                    "inputs": _inputs(route.unit, {place.name: place.location for place in route.inputs}),
                }
                for route in rest_plans[id(expose)].routes
            ] + [
                {"method": "*", "path": r.path, "forward": r.forward.target_namespace}
                for r in expose.resources
                if r.forward
            ]
        elif isinstance(expose, McpExpose):
            entry["transport"] = expose.transport
            plan = mcp_plans[id(expose)]
            entry["tools"] = [
                _tool(tool, spec) for tool, spec in zip(tool_entries(plan), expose.tools, strict=True)
            ]
            entry["resources"] = [
                {"name": r.name, "uri": r.uri, "source": r.location or r.call or "steps"}
                for r in expose.resources
            ]
            entry["prompts"] = [
                {"name": p.name, "arguments": [a.name for a in p.arguments]} for p in expose.prompts
            ]
        elif isinstance(expose, SkillExpose):
            entry["skills"] = [{"name": s.name, "tools": [t.name for t in s.tools]} for s in expose.skills]
        elif isinstance(expose, ControlExpose):
            entry["management"] = expose.management.model_dump(by_alias=True, exclude_none=True)
        adapters.append(entry)
    return {
        "label": document.title,
        "naftiko": document.naftiko,
        "ikanos": document.ikanos,
        "consumes": consumes,
        "exposes": adapters,
        "aggregates": [
            {
                "namespace": a.namespace,
                "functions": [
                    {
                        "name": f.name,
                        **_target(f),
                        "inputs": _inputs(runtime.functions[f"{a.namespace}.{f.name}"]),
                    }
                    for f in a.functions
                ],
            }
            for a in (capability.aggregates if capability else ())
        ],
    }


def render_text(summary: dict[str, Any]) -> str:
    spec = (
        f"ikanos {summary['ikanos']}"
        if summary.get("ikanos")
        else f"naftiko {summary['naftiko'] or 'unversioned'}"
    )
    lines = [f"{summary['label']}  ({spec})", ""]
    for consumes in summary["consumes"]:
        auth = f"  auth: {consumes['authentication']}" if consumes["authentication"] else ""
        lines.append(f"consumes {consumes['namespace']}  {consumes['baseUri'] or '(no baseUri)'}{auth}")
        for op in consumes["operations"]:
            lines.append(f"  {op['method']:<7} {op['path']:<60} {op['name']}")
        lines.append("")
    for adapter in summary["exposes"]:
        where = (
            f"{adapter['address'] or ''}:{adapter['port']}"
            if adapter["port"]
            else adapter.get("transport", "")
        )
        lines.append(f"{adapter['type']} {adapter['namespace']}  {where}")
        for route in adapter.get("routes", []):
            target = (route.get("forward") and f"forward → {route['forward']}") or _arrow(route)
            lines.append(f"  {route['method']:<7} {route['path']:<60} {target}")
        for tool in adapter.get("tools", []):
            hints = f"  [{', '.join(tool['hints'])}]" if tool["hints"] else ""
            lines.append(f"  tool {tool['name'] or '(from ref)':<40} {_arrow(tool)}{hints}")
        for resource in adapter.get("resources", []):
            lines.append(f"  resource {resource['uri']:<50} {resource['source']}")
        for prompt in adapter.get("prompts", []):
            lines.append(f"  prompt {prompt['name']}({', '.join(prompt['arguments'])})")
        for skill in adapter.get("skills", []):
            lines.append(f"  skill {skill['name']}: {', '.join(skill['tools'])}")
        lines.append("")
    for aggregate in summary["aggregates"]:
        lines.append(f"aggregate {aggregate['namespace']}")
        for function in aggregate["functions"]:
            lines.append(f"  function {function['name']:<36} {_arrow(function)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _target(unit: UnitFields) -> dict[str, Any]:
    if unit.ref:
        return {"ref": unit.ref}
    if unit.call:
        return {"call": unit.call}
    if unit.steps:
        return {"steps": [getattr(s, "call", None) or f"{s.type}:{s.name}" for s in unit.steps]}
    return {"mock": True}


def _arrow(unit: dict[str, Any]) -> str:
    if "call" in unit:
        return f"→ {unit['call']}"
    if "ref" in unit:
        return f"→ ref {unit['ref']}"
    if "steps" in unit:
        return "→ steps: " + ", ".join(unit["steps"])
    return "→ mock"


_HINT_LABELS = {
    "readOnlyHint": "read-only",
    "destructiveHint": "destructive",
    "idempotentHint": "idempotent",
    "openWorldHint": "open-world",
}


def _tool(entry: Any, spec: UnitFields) -> dict[str, Any]:
    """A tool as ``tools/list`` publishes it: its built name, its merged annotations, its inputs."""
    annotations = tool_descriptor(entry).get("annotations", {})
    annotations.pop("title", None)
    hints = [
        label if annotations[key] else f"not {label}"
        for key, label in _HINT_LABELS.items()
        if key in annotations
    ]
    return {
        "name": entry.name,
        **_target(spec),
        "hints": hints,
        "annotations": annotations,
        "inputs": _inputs(entry.invocable),
    }


def _inputs(unit: Invocable, locations: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """``locations``: where a REST route's request carries each input; a tool's or function's input
    is only said to be ``path`` when its value fills a URL path segment."""
    return [
        {
            "name": spec.name,
            "in": locations.get(spec.name) if locations is not None else ("path" if spec.in_path else None),
            "type": spec.type,
            "required": spec.required,
        }
        for spec in unit.inputs
    ]


def _auth(auth: Authentication | None) -> str | None:
    if auth is None:
        return None
    if auth.type == "apikey":
        return f"apikey {auth.placement} {auth.key}"
    if auth.type == "unsupported":
        return f"{auth.declared} (unsupported)"
    return auth.type
