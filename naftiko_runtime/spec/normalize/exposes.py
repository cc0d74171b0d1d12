"""The adapters of a document for the tolerant reader: REST, MCP, skill and control entries of `exposes`.

Each adapter type has its own dialect (a REST adapter's `description`, MCP `hints` spelled
`readOnlyHint`, a skill's `allowed-tools` as a list…); the units inside them are rewritten by
:mod:`.units`. An entry whose type this runtime does not serve is an error, and is left out.
"""

from __future__ import annotations

from typing import Any

from ..source import DocPath
from .authentication import rewrite_authentication
from .rewriter import Rewriter, items
from .units import UnitContext, rewrite_tool_params, rewrite_unit, unit_context

EXPOSE_TYPES = ("rest", "mcp", "skill", "control")


def rewrite_expose(rw: Rewriter, expose: Any, path: DocPath, namespaces: frozenset[str]) -> bool:
    """Rewrite one exposes entry; ``False`` when it cannot be read as an adapter (reported, then left out)."""
    if not isinstance(expose, dict):
        rw.error(path, "an exposes entry must be a mapping", rule="type")
        return False
    kind = expose.get("type")
    if not isinstance(kind, str) or kind.lower() not in EXPOSE_TYPES:
        shown = "no type" if kind is None else f"type {kind!r}"
        rw.error(
            (*path, "type") if kind is not None else path,
            f"unsupported exposes {shown} (supported: {', '.join(EXPOSE_TYPES)})",
            rule="unsupported-type",
        )
        return False
    kind = expose["type"] = kind.lower()
    if isinstance(expose.get("port"), str) and expose["port"].strip().isdigit():
        rw.dialect("port-string", (*path, "port"))
        expose["port"] = int(expose["port"])
    rw.stringify(expose, path, ("namespace", "address", "description"))
    rewrite_authentication(rw, expose, path)
    context = unit_context(namespaces, expose.get("namespace"))
    if kind == "rest":
        _rest(rw, expose, path, context)
    elif kind == "mcp":
        _mcp(rw, expose, path, context)
    elif kind == "skill":
        _skill(rw, expose, path)
    return True


def _rest(rw: Rewriter, expose: dict[str, Any], path: DocPath, context: UnitContext) -> None:
    if "description" in expose:
        rw.dialect("rest-description", (*path, "description"))
    _exposed_params(rw, expose, path)
    resources = expose.get("resources")
    for r_index, resource in enumerate(resources if isinstance(resources, list) else []):
        rpath = (*path, "resources", r_index)
        if not isinstance(resource, dict):
            continue
        rw.stringify(resource, rpath, ("path", "name", "label", "description"))
        _exposed_params(rw, resource, rpath)
        forward = resource.get("forward")
        if isinstance(forward, dict) and isinstance(forward.get("trustedHeaders"), str):
            forward["trustedHeaders"] = [forward["trustedHeaders"]]
        for o_index, operation in enumerate(items(resource.get("operations"))):
            opath = (*rpath, "operations", o_index)
            if isinstance(operation, dict):
                rw.operation_id(operation, opath)
                rw.method(operation, opath)
                _exposed_params(rw, operation, opath)
                rewrite_unit(rw, operation, opath, context)


def _exposed_params(rw: Rewriter, owner: dict[str, Any], path: DocPath) -> None:
    params = owner.get("inputParameters")
    for index, param in enumerate(params if isinstance(params, list) else []):
        ppath = (*path, "inputParameters", index)
        if not isinstance(param, dict):
            continue
        rw.stringify(param, ppath, ("name", "description", "pattern"))
        if isinstance(param.get("in"), str):
            param["in"] = param["in"].strip().lower()
        elif "in" not in param:
            param["in"] = "body"
            rw.warn(ppath, "exposed parameter has no `in`; read as `body`", rule="schema")
        rw.param_type(param, ppath)
        if param.get("value") is not None and not isinstance(param["value"], str):
            param["value"] = str(param["value"])


def _mcp(rw: Rewriter, expose: dict[str, Any], path: DocPath, context: UnitContext) -> None:
    if isinstance(expose.get("transport"), str):
        expose["transport"] = expose["transport"].strip().lower()
    for index, tool in enumerate(items(expose.get("tools"))):
        tpath = (*path, "tools", index)
        if not isinstance(tool, dict):
            continue
        rewrite_unit(rw, tool, tpath, context)
        rewrite_tool_params(rw, tool, tpath)
        hints = tool.get("hints")
        if isinstance(hints, dict):
            _hints(rw, hints, (*tpath, "hints"))
    for index, resource in enumerate(items(expose.get("resources"))):
        if isinstance(resource, dict):
            rewrite_unit(rw, resource, (*path, "resources", index), context)
    for p_index, prompt in enumerate(items(expose.get("prompts"))):
        ppath = (*path, "prompts", p_index)
        if not isinstance(prompt, dict):
            continue
        if "messages" in prompt and "template" not in prompt:
            rw.dialect("prompt-messages", (*ppath, "messages"))
            rw.rename(prompt, ppath, "messages", "template")
        for m_index, message in enumerate(items(prompt.get("template"))):
            if isinstance(message, dict):
                if isinstance(message.get("content"), dict) and "text" in message["content"]:
                    message["content"] = message["content"]["text"]
                rewrite_unit(rw, message, (*ppath, "template", m_index), context)


def _hints(rw: Rewriter, hints: dict[str, Any], path: DocPath) -> None:
    for key in list(hints):
        if key.endswith("Hint") and key[:-4] in ("readOnly", "destructive", "idempotent", "openWorld"):
            rw.rename(hints, path, key, key[:-4])
            key = key[:-4]
        value = hints[key]
        if isinstance(value, bool) or value is None:
            continue
        if str(value).strip().lower() in ("true", "false"):
            hints[key] = str(value).strip().lower() == "true"
        else:
            rw.warn((*path, key), f"hint {key!r} must be true or false, got {value!r}; ignored", rule="type")
            hints.pop(key)


def _skill(rw: Rewriter, expose: dict[str, Any], path: DocPath) -> None:
    for s_index, skill in enumerate(items(expose.get("skills"))):
        spath = (*path, "skills", s_index)
        if not isinstance(skill, dict):
            continue
        allowed = skill.get("allowed-tools")
        if isinstance(allowed, list):
            rw.dialect("allowed-tools-list", (*spath, "allowed-tools"))
            skill["allowed-tools"] = " ".join(str(a) for a in allowed)
        for t_index, tool in enumerate(items(skill.get("tools"))):
            source = tool.get("from") if isinstance(tool, dict) else None
            if isinstance(source, dict) and "sourceNamespace" not in source and "namespace" in source:
                rw.dialect("skill-from-wiki", (*spath, "tools", t_index, "from"))
                source["sourceNamespace"] = source.pop("namespace")
                source["action"] = source.pop("name", tool.get("name"))
