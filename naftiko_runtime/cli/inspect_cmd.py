"""``naftiko inspect FILE``: what a capability consumes and exposes, and which unit calls what."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

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


def register(commands: argparse._SubParsersAction) -> None:
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
    summary = describe(document)
    if args.format == "json":
        json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render_text(summary))
    return 0


def describe(document: Document) -> dict[str, Any]:
    """A plain, JSON-ready description of the capability."""
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
                {"method": op.method, "path": r.path + (op.path or ""), "name": op.name, **_target(op)}
                for r in expose.resources
                for op in r.operations
            ] + [
                {"method": "*", "path": r.path, "forward": r.forward.target_namespace}
                for r in expose.resources
                if r.forward
            ]
        elif isinstance(expose, McpExpose):
            entry["transport"] = expose.transport
            entry["tools"] = [{"name": t.name, **_target(t), "hints": _hints(t)} for t in expose.tools]
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
            {"namespace": a.namespace, "functions": [{"name": f.name, **_target(f)} for f in a.functions]}
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


def _hints(tool: Any) -> list[str]:
    hints = tool.hints
    if hints is None:
        return []
    names = {
        "read_only": "read-only",
        "destructive": "destructive",
        "idempotent": "idempotent",
        "open_world": "open-world",
    }
    return [label for field, label in names.items() if getattr(hints, field)]


def _auth(auth: Authentication | None) -> str | None:
    if auth is None:
        return None
    if auth.type == "apikey":
        return f"apikey {auth.placement} {auth.key}"
    if auth.type == "unsupported":
        return f"{auth.declared} (unsupported)"
    return auth.type
