"""The consumed APIs of a document for the tolerant reader: `consumes` entries, their resources,
operations, parameters and request bodies.

Import entries are left for the loader (it knows the importing file's directory); an entry of a
type other than ``http`` is an error, and is left out.
"""

from __future__ import annotations

from typing import Any

from ..source import DocPath
from .authentication import rewrite_authentication
from .rewriter import Rewriter, items
from .vocabulary import BODY_TYPES

CONSUME_TYPES = ("http",)


def rewrite_consumes(rw: Rewriter, owner: dict[str, Any], path: DocPath) -> None:
    """Rewrite ``owner['consumes']``; an entry that cannot be read as a consumed API is reported, left out."""
    entries = owner.get("consumes")
    if not isinstance(entries, list):
        rw.error(path, "`consumes` must be a list", rule="type")
        owner.pop("consumes")
        return
    kept = []
    for index, entry in enumerate(entries):
        epath = (*path, index)
        if not isinstance(entry, dict):
            rw.error(epath, "a consumes entry must be a mapping", rule="type")
            continue
        if "import" in entry or ("location" in entry and "baseUri" not in entry):
            kept.append(entry)  # resolved by the loader, which knows the importing file
            continue
        if _consumes(rw, entry, epath):
            kept.append(entry)
    owner["consumes"] = kept


def _consumes(rw: Rewriter, entry: dict[str, Any], path: DocPath) -> bool:
    kind = entry.get("type")
    if kind is None:
        entry["type"] = "http"
        rw.warn(path, "consumes entry has no `type`; read as `http`", rule="schema")
    elif str(kind).lower() not in CONSUME_TYPES:
        rw.error(
            (*path, "type"),
            f"unsupported consumes type {kind!r} (supported: http)",
            rule="unsupported-type",
        )
        return False
    else:
        entry["type"] = "http"
    if "auth" in entry and "authentication" not in entry:
        rw.dialect("auth-key", (*path, "auth"))
        rw.rename(entry, path, "auth", "authentication")
    if "baseUri" in entry and not isinstance(entry["baseUri"], str):
        # `baseUri:` with nothing after it is YAML null: the empty baseUri the rules refuse.
        entry["baseUri"] = "" if entry["baseUri"] is None else str(entry["baseUri"])
    rewrite_authentication(rw, entry, path)
    rw.stringify(entry, path, ("namespace", "description"))
    _consumed_params(rw, entry, path)
    resources = entry.get("resources")
    for r_index, resource in enumerate(resources if isinstance(resources, list) else []):
        rpath = (*path, "resources", r_index)
        if not isinstance(resource, dict):
            continue
        rw.stringify(resource, rpath, ("name", "path", "label", "description"))
        _consumed_params(rw, resource, rpath)
        for o_index, operation in enumerate(items(resource.get("operations"))):
            if isinstance(operation, dict):
                _consumed_operation(rw, operation, (*rpath, "operations", o_index))
    return True


def _consumed_operation(rw: Rewriter, operation: dict[str, Any], path: DocPath) -> None:
    rw.operation_id(operation, path)
    rw.method(operation, path)
    rw.stringify(operation, path, ("name", "label", "description", "outputSchema"))
    if isinstance(operation.get("outputRawFormat"), str):
        operation["outputRawFormat"] = operation["outputRawFormat"].strip().lower()
    _consumed_params(rw, operation, path)
    outputs = operation.get("outputParameters")
    for index, output in enumerate(outputs if isinstance(outputs, list) else []):
        opath = (*path, "outputParameters", index)
        if not isinstance(output, dict):
            continue
        if "value" not in output and isinstance(output.get("mapping"), str):
            rw.rename(output, opath, "mapping", "value")
        if isinstance(output.get("value"), str):
            output["value"] = rw.jsonpath(output["value"], (*opath, "value"))
        rw.param_type(output, opath)
    if "body" in operation:
        _body(rw, operation, (*path, "body"))


def _consumed_params(rw: Rewriter, owner: dict[str, Any], path: DocPath) -> None:
    params = owner.get("inputParameters")
    if not isinstance(params, list):
        return
    for index, param in enumerate(params):
        ppath = (*path, "inputParameters", index)
        if not isinstance(param, dict):
            continue
        rw.stringify(param, ppath, ("name", "description"))
        if {"type", "description", "required"} & param.keys():
            rw.dialect("consumed-param-extras", ppath)
        location = param.get("in")
        if location is None:
            param["in"] = "query"
            rw.warn(ppath, "consumed parameter has no `in`; read as `query`", rule="schema")
        elif isinstance(location, str):
            param["in"] = location.strip().lower()
        rw.param_type(param, ppath)


def _body(rw: Rewriter, operation: dict[str, Any], path: DocPath) -> None:
    body = operation["body"]
    if body is None:
        operation.pop("body")
        return
    if isinstance(body, str):
        operation["body"] = {"type": "raw", "data": body}
        return
    if not isinstance(body, dict):
        operation["body"] = {"type": "json", "data": body}
        return
    declared = body.get("type")
    if declared is None:
        if "data" not in body:
            operation["body"] = {"type": "json", "data": body}
            return
        body["type"] = "json"
        return
    canonical = BODY_TYPES.get(str(declared).lower())
    if canonical is None:
        rw.warn((*path, "type"), f"unknown body type {declared!r}; sent as JSON", rule="schema")
        body["type"] = "json"
    elif canonical != declared:
        rw.dialect("body-type-alias", (*path, "type"))
        body["type"] = canonical
