"""The OpenAPI 3.1 description of a REST expose, built from the same plan the adapter serves.

Served at ``GET /openapi.json`` (and ``/openapi.yaml``) and written by ``naftiko export openapi``.
Parameters and request
bodies come from each unit's inputs (declared or inferred), so what the document says is what the
adapter reads: path parameters under the route's own spelling (``{prompt-id}``), query, header and
cookie parameters typed as the unit coerces them, body inputs as a JSON request body (the whole body,
or an object of fields; ``$.a.b`` extractions as nested properties). Success answers carry the
unit's output schema when its outputs declare one; failures are RFC 9457 problem documents.
``forward`` resources are described as pass-through operations.

For typed client generators (openapi-typescript, openapi-python-client): every operationId is unique
and says what the operation does (a unit named with a bare verb, ``list``, gets the resource it acts
on: ``list-inference-runs``), and an object schema with no declared properties says
``additionalProperties: true`` (else generators type it as an empty object that accepts no body).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import yaml

from ...engine.contract import InputSpec
from ...engine.plans import AdapterContext, RestInput, RestPlan, RestRoute
from ...spec.models import (
    AuthApiKey,
    AuthBasic,
    AuthBearer,
    AuthDigest,
    Authentication,
    AuthOAuth2,
    ExposedOperation,
)
from .routing import PathTemplate, parse_template

OPENAPI_VERSION = "3.1.0"
_OPERATION_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_BARE_VERB = re.compile(r"[a-z]+")
_VERSION_SEGMENT = re.compile(r"v\d+(\.\d+)*|api")
# Verbs acting on a whole collection keep its plural: list-ships, but get-ship, cancel-inference-run.
_COLLECTION_VERBS = frozenset({"list", "search", "query", "find", "count", "export", "import", "batch"})
_DOTTED_PATH = re.compile(r"^\$\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$")
_FORWARD_METHODS = ("get", "post", "put", "patch", "delete")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "operation": {"type": "string", "description": "The operation that failed."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "in": {"type": "string", "enum": ["path", "query", "header", "cookie", "body"]},
                    "reason": {"type": "string"},
                },
                "required": ["name", "reason"],
            },
        },
    },
    "required": ["type", "title", "status"],
}


def build_openapi(plan: RestPlan, context: AdapterContext, *, server: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``plan`` (one of ``runtime.rest``; ``context`` is ``runtime.context``).

    ``server`` is the base URL to advertise; by default the expose's address and port.
    """
    expose = plan.expose
    info: dict[str, Any] = {"title": context.title, "version": "1.0.0"}
    description = expose.description or context.description
    if description:
        info["description"] = description
    auth = _security_scheme(expose.authentication)
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    tags: dict[str, str | None] = {}
    shapes: dict[str, PathTemplate] = {}
    for route in plan.routes:
        template = parse_template(route.path)
        # One path per shape, named as first declared (/ships/{imo} and /ships/{id} are one path).
        first = shapes.setdefault(template.shape, template)
        item = paths.setdefault(first.openapi, {})
        method = route.method.lower()
        if method in item:
            continue  # declared twice: the adapter serves the first
        item[method] = _operation(route, template, operation_ids, auth is not None, first.names)
        _free_form(item[method])
        if route.resource.name:
            tags.setdefault(route.resource.name, route.resource.description)
    for index, forward in enumerate(plan.forwards):
        template = parse_template(forward.path)
        template = shapes.setdefault(template.shape, template)
        item = paths.setdefault(template.openapi, {})
        for method in _FORWARD_METHODS:
            if method not in item:
                item[method] = _forward_operation(
                    forward.forward.target_namespace, template, method, index, operation_ids, auth is not None
                )
    out: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "servers": [{"url": server or _server(expose.address, expose.port)}],
        "paths": paths,
        "components": {"schemas": {"Problem": copy.deepcopy(PROBLEM_SCHEMA)}},
    }
    if tags:
        out["tags"] = [{"name": n, **({"description": d} if d else {})} for n, d in tags.items()]
    if auth is not None:
        name, scheme = auth
        out["components"]["securitySchemes"] = {name: scheme}
        flows = scheme.get("flows", {}).get("clientCredentials", {})
        out["security"] = [{name: list(flows.get("scopes", ()))}]
    return out


def _server(address: str | None, port: int | None) -> str:
    host = address or "localhost"
    if host in ("0.0.0.0", "::", "[::]", "*"):
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}" if port else f"http://{host}"


def _security_scheme(spec: Authentication | None) -> tuple[str, dict[str, Any]] | None:
    if spec is None:
        return None
    if isinstance(spec, AuthBearer):
        return "bearerAuth", {"type": "http", "scheme": "bearer"}
    if isinstance(spec, AuthBasic):
        return "basicAuth", {"type": "http", "scheme": "basic"}
    if isinstance(spec, AuthDigest):
        return "digestAuth", {"type": "http", "scheme": "digest"}
    if isinstance(spec, AuthApiKey):
        where = "query" if spec.placement == "query" else "header"
        return "apiKeyAuth", {"type": "apiKey", "in": where, "name": spec.key or "X-API-Key"}
    if isinstance(spec, AuthOAuth2):
        # As the spec says of `tokenEndpoint`: the client-credentials token URL, else the issuer's.
        flow: dict[str, Any] = {
            "tokenUrl": spec.token_endpoint or spec.authorization_server_uri or "",
            "scopes": dict.fromkeys(spec.scopes, ""),
        }
        scheme: dict[str, Any] = {"type": "oauth2", "flows": {"clientCredentials": flow}}
        if not spec.token_endpoint:
            scheme["description"] = "No `tokenEndpoint` is declared: tokenUrl is the authorization server."
        return "oauth2Auth", scheme
    declared = getattr(spec, "declared", None) or getattr(spec, "type", "unknown")
    return "unsupportedAuth", {
        "type": "http",
        "scheme": str(declared),
        "description": "Not supported by this runtime: every request is refused with 501.",
    }


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML, keys in the order built (``GET /openapi.yaml``)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def _operation_id(name: str, template: PathTemplate, taken: set[str]) -> str:
    """The unit's name when it says what the operation does; a bare verb gets the resource it acts
    on, read from the path (``GET /ships/{imo}`` named ``get`` → ``get-ship``)."""
    if _BARE_VERB.fullmatch(name):
        noun = _resource_noun(template, name)
        if noun is not None:
            return _unique(f"{name}-{noun}", taken)
    return _unique(name, taken)


def _resource_noun(template: PathTemplate, verb: str) -> str | None:
    """The last literal path segment that is neither the verb itself nor a version prefix; singular
    when a placeholder follows it (one item) or the verb acts on one item."""
    segments = [segment for segment in template.openapi.split("/") if segment]
    for index in range(len(segments) - 1, -1, -1):
        segment = segments[index]
        if "{" in segment or segment == verb or _VERSION_SEGMENT.fullmatch(segment):
            continue
        item = any("{" in later for later in segments[index + 1 :])
        noun = segment.lower()
        return _singular(noun) if item or verb not in _COLLECTION_VERBS else noun
    return None


def _singular(noun: str) -> str:
    """English plural to singular for resource names (runs → run, companies → company)."""
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("sses", "shes", "ches", "xes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith(("ss", "us", "is")):
        return noun[:-1]
    return noun


def _free_form(node: Any) -> None:
    """``additionalProperties: true`` on every object schema of ``node`` that declares no properties."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
            node["additionalProperties"] = True
        for value in node.values():
            _free_form(value)
    elif isinstance(node, list):
        for value in node:
            _free_form(value)


def _unique(candidate: str, taken: set[str]) -> str:
    base = _OPERATION_ID.sub("-", candidate).strip("-") or "operation"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}-{counter}", counter + 1
    taken.add(name)
    return name


def _schema(spec: InputSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": spec.type} if spec.type else {}
    if spec.type == "array":
        schema["items"] = dict(spec.items) if spec.items else {}
    if spec.pattern and spec.type == "string":
        schema["pattern"] = spec.pattern
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def _operation(
    route: RestRoute, template: PathTemplate, taken: set[str], secured: bool, names: Sequence[str]
) -> dict[str, Any]:
    """``names``: the path's placeholder names as published (the first route of this shape's)."""
    unit = route.unit
    out: dict[str, Any] = {"operationId": _operation_id(unit.name, template, taken)}
    if unit.title:
        out["summary"] = unit.title
    if unit.description:
        out["description"] = unit.description
    tags = [route.resource.name] if route.resource.name else []
    tags += [tag for tag in (*route.resource.tags, *getattr(unit, "tags", ())) if tag not in tags]
    if tags:
        out["tags"] = tags
    placeholders = dict(zip(template.names, names, strict=False))
    specs = {spec.name: spec for spec in unit.inputs}
    parameters: list[dict[str, Any]] = []
    body: list[tuple[InputSpec, RestInput]] = []
    seen_path: set[str] = set()
    for place in route.inputs:
        spec = specs[place.name]
        if place.location == "body":
            body.append((spec, place))
            continue
        if place.location == "path":
            wire = placeholders.get(place.wire)
            if wire is None or wire in seen_path:
                continue  # not in the route: no request can give it
            seen_path.add(wire)
            parameter: dict[str, Any] = {"name": wire, "in": "path", "required": True}
        else:
            parameter = {"name": place.wire, "in": place.location}
            if spec.required and spec.default is None:
                parameter["required"] = True
        if spec.description:
            parameter["description"] = spec.description
        parameter["schema"] = _schema(spec)
        if spec.type == "array" and place.location == "query":
            parameter["style"], parameter["explode"] = "form", True
        parameters.append(parameter)
    for name in names:  # every placeholder must be described, even one no input reads
        if name not in seen_path:
            seen_path.add(name)
            parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    if parameters:
        out["parameters"] = parameters
    request_body = _request_body(body)
    if request_body is not None:
        out["requestBody"] = request_body
    out["responses"] = _responses(route, secured, bool(unit.inputs))
    return out


def _request_body(inputs: Sequence[tuple[InputSpec, RestInput]]) -> dict[str, Any] | None:
    if not inputs:
        return None
    whole = next((spec for spec, place in inputs if place.whole_body), None)
    if whole is not None:
        schema = _schema(whole)
        out: dict[str, Any] = {
            "required": bool(whole.required),
            "content": {"application/json": {"schema": schema}},
        }
        if whole.description:
            out["description"] = whole.description
        return out
    root: dict[str, Any] = {"type": "object", "properties": {}}
    for spec, place in inputs:
        schema = _schema(spec)
        if spec.description:
            schema["description"] = spec.description
        steps = [place.wire]
        if place.extract:
            found = _DOTTED_PATH.match(place.extract)
            if found is None:
                continue  # a JSONPath that selects no single field: nothing to describe
            steps = found.group(1).split(".")
        node = root
        for step in steps[:-1]:
            child = node["properties"].setdefault(step, {"type": "object", "properties": {}})
            if spec.required:
                _require(node, step)
            node = child
        node["properties"][steps[-1]] = schema
        if spec.required and spec.default is None:
            _require(node, steps[-1])
    required = any(spec.required and spec.default is None for spec, _ in inputs)
    return {"required": required, "content": {"application/json": {"schema": root}}}


def _require(node: dict[str, Any], name: str) -> None:
    names = node.setdefault("required", [])
    if name not in names:
        names.append(name)


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


def _problem_or_relayed(description: str) -> dict[str, Any]:
    """A 4xx status both the adapter (a problem) and the upstream (relayed as it came) can answer."""
    out = _problem(description)
    out["content"].update(_RELAYED)
    return out


# What a relayed upstream client error is sent as: its JSON (problem documents keep their type), or text.
_RELAYED = {
    "application/json": {"schema": {}},
    "text/plain": {"schema": {"type": "string"}},
}


def _responses(route: RestRoute, secured: bool, has_inputs: bool) -> dict[str, Any]:
    unit = route.unit
    responses: dict[str, Any] = {}
    schema = copy.deepcopy(unit.output_schema) if unit.output_schema else {}
    if route.answers_nothing:
        responses["204"] = {"description": "Done; no content."}
    elif route.operation is not None and (route.operation.responses or route.operation.response_binary):
        responses.update(_declared_responses(route.operation))
    else:
        binary = route.binary_media_type
        if binary is not None:
            success = {"content": {binary: {"schema": _BINARY_SCHEMA}}}
        else:
            success = {"content": {"application/json": {"schema": schema}}}
        if route.method == "POST":
            responses["201"] = {"description": "Created (the upstream's status is kept).", **success}
        responses["200"] = {"description": "The operation's result.", **success}
    relayed = " (or the upstream's own, relayed)"
    if has_inputs:
        responses["400"] = _problem_or_relayed(
            "Invalid input: each bad parameter is listed in `errors`" + relayed
        )
    if secured:
        responses["401"] = _problem_or_relayed("Missing or invalid credentials" + relayed)
    if route.method in ("POST", "PUT", "PATCH"):
        responses["413"] = _problem_or_relayed("The request body is too large" + relayed)
        responses["415"] = _problem_or_relayed("The request body is not JSON" + relayed)
    responses["4XX"] = {
        "description": "The upstream's client error, passed through with its status and body (JSON or "
        "text); when a step of an orchestrated operation failed, a problem naming the step, the "
        "upstream operation and status, with the upstream's body in `upstream_body`.",
        "content": {**_problem("")["content"], **_RELAYED},
    }
    responses["502"] = _problem(
        "The upstream failed (5xx), could not be reached, redirected, refused the capability's "
        "credentials, answered more than the size limit, or answered nonsense."
    )
    responses["503"] = _problem(
        "The upstream is unavailable for now (its circuit is open, its concurrency cap is reached, or "
        "it answered 503 with Retry-After): retry after `Retry-After` seconds."
    )
    responses["504"] = _problem("The upstream did not answer in time.")
    return responses


_BINARY_SCHEMA = {"type": "string", "format": "binary"}


def _declared_responses(operation: ExposedOperation) -> dict[str, Any]:
    """The operation's own response contract (``responses``, or the ``responseBinary`` shorthand)."""
    if operation.response_binary is not None:
        shorthand = operation.response_binary
        content = {shorthand.media_type: {"schema": _BINARY_SCHEMA}}
        return {
            str(shorthand.status): {
                "description": shorthand.description or "The binary answer.",
                "content": content,
            }
        }
    out: dict[str, Any] = {}
    for status, response in operation.responses.items():
        entry: dict[str, Any] = {"description": response.description or f"Status {status}."}
        if response.content:
            entry["content"] = {
                media: {"schema": _BINARY_SCHEMA if item.binary else (item.schema_ or {})}
                for media, item in response.content.items()
            }
        out[status] = entry
    return out


def _forward_operation(
    target: str, template: PathTemplate, method: str, index: int, taken: set[str], secured: bool
) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            **({"description": "The rest of the path, passed on to the upstream."} if name == "path" else {}),
        }
        for name in dict.fromkeys(template.names)
    ]
    out: dict[str, Any] = {
        "operationId": _unique(
            f"forward-{target}-{method}" if index == 0 else f"forward-{target}-{index}-{method}", taken
        ),
        "summary": f"Forwarded to {target}",
        "description": f"The request is passed through to the consumed namespace '{target}' and its "
        "answer relayed as it comes; only trusted headers are forwarded.",
    }
    if parameters:
        out["parameters"] = parameters
    if method in ("post", "put", "patch"):
        out["requestBody"] = {"required": False, "content": {"*/*": {"schema": {}}}}
    out["responses"] = {
        "default": {"description": "The upstream's answer, relayed."},
        "502": _problem("The upstream could not be reached."),
        "504": _problem("The upstream did not answer in time."),
    }
    if secured:
        out["responses"]["401"] = _problem("Missing or invalid credentials.")
    return out
