"""An :class:`~.description.ApiDescription` → a capability document in the spec's own form.

:func:`build_capability` returns the document as a plain mapping in the order a person writes it
(``naftiko``, ``info``, ``binds``, ``capability``), ready for a converter to another spec version or
for :func:`~.writer.to_yaml`. Only constructs of the published 1.0.0-alpha2 schema appear, and every
name a template or ``with`` mentions is declared, so the result passes ``naftiko validate --strict``:

* one consumed namespace; one resource per OpenAPI path; one operation per path and method, whose
  inputs are declared with their location (path placeholders written ``{{name}}``);
* a JSON, form or multipart body whose schema is an object becomes one typed input per top-level
  property, put back together by the operation's ``body`` template (wire names kept, input names
  made valid); any other body is one ``body`` input;
* a REST adapter and an MCP adapter with one route and one tool per operation, each wiring its
  inputs to the consumed operation with ``with``;
* inputs typed with the spec's six types and described for agents (allowed values, formats,
  defaults, examples, the fields of objects); tools with hints from the HTTP method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..spec.variables import looks_like_bind
from .description import ApiDescription, Body, Operation, Parameter, response_format
from .diagnostics import Diagnostics
from .naming import TOOL_NAME_LIMIT, Names, is_parameter_name, kebab, parameter_name, screaming
from .options import ImportOptions, is_base_uri
from .schemas import Schemas, Shape, rendered
from .security import SecurityPlan, plan_security
from .text import clipped, joined, sentence

SPEC_VERSION = "1.0.0-alpha2"
DESCRIPTION_LIMIT = 4000
OUTPUT_DEPTH = 4
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
_IGNORED_HEADERS = ("accept", "content-type")  # OpenAPI: such parameter definitions SHALL be ignored
_HINTS = {
    "GET": {"readOnly": True, "destructive": False, "idempotent": True},
    "PUT": {"readOnly": False, "destructive": False, "idempotent": True},
    "DELETE": {"readOnly": False, "destructive": True, "idempotent": True},
    "POST": {"readOnly": False, "destructive": False, "idempotent": False},
    "PATCH": {"readOnly": False, "destructive": False, "idempotent": False},
}
# An XML element name the body template can use as written (no namespace prefix).
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_BODY_TYPES = {"json": "json", "form": "formUrlEncoded", "text": "text", "xml": "xml"}


@dataclass
class Input:
    """One input of a unit: what callers give, and where it goes upstream."""

    name: str
    location: str  # path, query, header, cookie or body
    wire: str  # the query/header/cookie name or body field as the upstream knows it
    type: str
    required: bool
    description: str
    binary: bool = False

    @property
    def consumed_name(self) -> str:
        """The consumed parameter's name: the wire name where the upstream reads one."""
        return self.wire if self.location in ("query", "header", "cookie") else self.name


@dataclass
class Unit:
    op: Operation
    name: str
    inputs: list[Input] = field(default_factory=list)
    consumed: dict[str, Any] = field(default_factory=dict)
    path: str = ""  # the path with `{{input}}` placeholders
    note: str = ""  # said in the unit's description: how its body inputs go together
    description: str = ""  # what the REST route and the MCP tool say of the operation


def namespace_for(api: ApiDescription, options: ImportOptions) -> str:
    """``--namespace``, else the title in kebab case without a trailing ``api`` (``label-studio``)."""
    if options.namespace:
        return options.namespace
    name = kebab(api.title, limit=48)
    trimmed = re.sub(r"(-rest)?-(open)?api$", "", name)
    return trimmed or name or "api"


def build_capability(
    api: ApiDescription,
    operations: list[Operation],
    schemas: Schemas,
    options: ImportOptions,
    diagnostics: Diagnostics,
    source: str,
) -> dict[str, Any]:
    """The capability document for ``operations`` of ``api`` (already selected), as ordered data."""
    return _Builder(api, schemas, options, diagnostics, source).build(operations)


class _Builder:
    def __init__(
        self,
        api: ApiDescription,
        schemas: Schemas,
        options: ImportOptions,
        diagnostics: Diagnostics,
        source: str,
    ) -> None:
        self.api = api
        self.schemas = schemas
        self.options = options
        self.diagnostics = diagnostics
        self.source = source
        self.namespace = namespace_for(api, options)
        self.prefix = screaming(self.namespace)
        self.rest_namespace = f"{self.namespace}-rest"
        self.mcp_namespace = f"{self.namespace}-mcp"
        self.security = SecurityPlan()
        self.variables: list[str] = []
        self.base_uri = ""

    # -- the document ------------------------------------------------------------------------------

    def build(self, operations: list[Operation]) -> dict[str, Any]:
        self.security = plan_security(self.api, operations, self.prefix, self.diagnostics)
        self.variables = list(self.security.variables)
        self.base_uri = self._base_uri()
        names = Names(limit=TOOL_NAME_LIMIT)
        units = [self._unit(op, names) for op in operations]
        if not operations:
            self.diagnostics.warn("#/paths", "the description has no operation to import", "no-operations")
        consumes: dict[str, Any] = {
            "type": "http",
            "namespace": self.namespace,
            "description": self._consumes_description(),
            "baseUri": self.base_uri,
        }
        if self.security.authentication:
            consumes["authentication"] = self.security.authentication
        if units:
            consumes["resources"] = self._resources(units)
        capability: dict[str, Any] = {"consumes": [consumes]}
        exposes = []
        if units and "rest" in self.options.expose:
            exposes.append(self._rest(units))
        if units and "mcp" in self.options.expose:
            exposes.append(self._mcp(units))
        if exposes:
            capability["exposes"] = exposes
        document: dict[str, Any] = {"naftiko": SPEC_VERSION, "info": self._info(operations)}
        if self.variables:
            document["binds"] = [
                {
                    "namespace": f"{self.namespace}-env",
                    "description": f"Credentials for {self.api.title}, read from the environment.",
                    "keys": {name: name for name in self.variables},
                }
            ]
        document["capability"] = capability
        return document

    def _info(self, operations: list[Operation]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "label": self.api.title,
            "description": self.api.description
            or f"{self.api.title}{f' {self.api.api_version}' if self.api.api_version else ''}, "
            "imported from its OpenAPI description.",
        }
        tags = list(dict.fromkeys(tag for op in operations for tag in op.tags))
        if tags:
            info["tags"] = tags
        return info

    def _consumes_description(self) -> str:
        version = f", API version {self.api.api_version}" if self.api.api_version else ""
        origin = f"Imported from {self.source} (OpenAPI {self.api.version}{version})."
        others = [s for s in self.api.servers[1:] if s]
        servers = f"Other servers: {', '.join(others)}." if others else ""
        return joined(self.api.description, origin, servers)

    def _base_uri(self) -> str:
        if self.options.base_uri:
            return self.options.base_uri.rstrip("/") or self.options.base_uri
        for server in self.api.servers:
            if is_base_uri(server):
                return server.rstrip("/") if server.count("/") > 2 else server
        found = (
            f"its servers ({', '.join(self.api.servers)}) are not absolute http(s) URLs"
            if self.api.servers
            else ("it names no server")
        )
        self.diagnostics.warn(
            "#/servers",
            f"no base URI: {found}; baseUri is http://localhost until you import with --base-uri URL "
            f"(or serve with --base-uri {self.namespace}=URL)",
            "base-uri",
        )
        return "http://localhost"

    # -- one operation -----------------------------------------------------------------------------

    def _unit(self, op: Operation, names: Names) -> Unit:
        name = names.claim(self._operation_name(op))
        unit = Unit(op, name)
        inputs = Names(separator="_")
        consumed_extra: list[dict[str, Any]] = list(self.security.parameters.get(op.where, []))
        supplied = self.security.supplied.get(op.where, set())
        declared_path = {p.name for p in op.parameters if p.location == "path"}
        placeholders = _PLACEHOLDER.findall(op.wire_path)
        parameters = list(op.parameters)
        for placeholder in placeholders:
            if placeholder not in declared_path:
                self.diagnostics.warn(
                    op.where,
                    f"path parameter {{{placeholder}}} is not declared; imported as a required string",
                    "path-parameter",
                )
                parameters.insert(0, Parameter(placeholder, "path", True, "", None, op.where))
        self._operation_servers(op)
        path_names: dict[str, str] = {}
        for param in sorted(
            parameters, key=lambda p: ("path", "query", "header", "cookie").index(p.location)
        ):
            if param.location == "path" and param.name not in placeholders:
                self.diagnostics.warn(
                    param.where,
                    f"path parameter {param.name!r} is not in the path {op.wire_path!r}; not imported",
                    "path-parameter",
                )
                continue
            made = self._parameter(param, inputs, supplied)
            if isinstance(made, dict):
                consumed_extra.append(made)
            elif made is not None:
                unit.inputs.append(made)
                if param.location == "path":
                    path_names[param.name] = made.name
        path = op.wire_path if op.wire_path.startswith("/") else f"/{op.wire_path}"
        unit.path = _PLACEHOLDER.sub(lambda m: "{{" + path_names.get(m.group(1), m.group(1)) + "}}", path)
        body = self._body(op.body, inputs, unit) if op.body is not None else None
        unit.consumed = self._consumed(unit, consumed_extra, body)
        unit.description = self._unit_description(unit)
        return unit

    def _operation_servers(self, op: Operation) -> None:
        """An operation with servers of its own is still sent to the namespace's base URI: say so."""
        if op.servers and any(server.rstrip("/") != self.base_uri.rstrip("/") for server in op.servers):
            self.diagnostics.warn(
                op.where,
                f"operation-level servers ({', '.join(op.servers)}) not imported: a namespace has one "
                f"baseUri ({self.base_uri}); import this operation on its own with --operations and "
                "--base-uri to call it there",
                "operation-servers",
            )

    def _operation_name(self, op: Operation) -> str:
        if op.operation_id and kebab(op.operation_id):
            return kebab(op.operation_id)
        return kebab(f"{op.method} {op.wire_path}") or op.method.lower()

    def _parameter(
        self, param: Parameter, inputs: Names, supplied: set[tuple[str, str]]
    ) -> Input | dict[str, Any] | None:
        lower = param.name.lower()
        if param.location == "header" and lower in _IGNORED_HEADERS:
            return None
        if (param.location, lower) in supplied:
            return None  # the credential the capability sends
        if param.location == "header" and lower == "authorization":
            variable = self._variable("AUTHORIZATION")
            self.diagnostics.warn(
                param.where,
                f"header Authorization is declared as a parameter without a security scheme: its value is "
                f"read from {variable}, never asked of callers",
                "authorization-parameter",
            )
            return {"name": param.name, "in": "header", "value": f"{{{{{variable}}}}}"}
        if param.location != "path" and not is_parameter_name(param.name):
            self.diagnostics.warn(
                param.where,
                f"{param.location} parameter {param.name!r} not imported: the spec's parameter names are "
                "letters, digits, '-', '_' and '*'",
                "parameter-name",
            )
            return None
        shape = self.schemas.shape(param.schema) if param.schema else Shape(type="string")
        self._style(param, shape)
        wanted = parameter_name(param.name)
        name = inputs.claim(wanted, f"{param.location}_{wanted}")
        text = param.description or shape.description
        details = self.schemas.details(shape)
        if param.example is not None and not any(d.startswith("Example") for d in details):
            details.append(f"Example: {rendered(param.example)}.")
        if param.deprecated and "Deprecated." not in details:
            details.insert(0, "Deprecated.")
        description = _description(text, details, f"{param.location.capitalize()} parameter {param.name}.")
        return Input(name, param.location, param.name, shape.param_type, param.required, description)

    def _style(self, param: Parameter, shape: Shape) -> None:
        """Say where the value will not be serialised the way the description asks."""
        if shape.type not in ("array", "object"):
            return
        repeated = param.location == "query" and shape.type == "array"
        style = param.style or ("form" if param.location in ("query", "cookie") else "simple")
        explode = param.explode if param.explode is not None else style == "form"
        if repeated and style == "form" and explode:
            return  # name=a&name=b: what the runtime sends
        sent = "as repeated name=value pairs" if repeated else "as JSON text"
        self.diagnostics.warn(
            param.where,
            f"{shape.type} {param.location} parameter {param.name!r} (style {style}, explode "
            f"{str(explode).lower()}): the spec has no serialisation styles; values are sent {sent}",
            "parameter-style",
        )

    def _variable(self, suffix: str) -> str:
        name = f"{self.prefix}_{suffix}"
        if name not in self.variables:
            self.variables.append(name)
        return name

    # -- bodies ------------------------------------------------------------------------------------

    def _body(self, body: Body, inputs: Names, unit: Unit) -> dict[str, Any] | None:
        if body.kind == "binary":
            self.diagnostics.warn(
                body.where,
                f"{body.media_type} request body not imported: the spec's bodies are JSON, text, XML, "
                "forms and multipart forms; the operation is called without a body",
                "binary-body",
            )
            return None
        shape = self.schemas.shape(body.schema) if body.schema else Shape()
        if body.kind == "xml" and not (
            shape.is_object_with_fields and all(map(_XML_NAME.fullmatch, shape.properties))
        ):
            # The runtime builds XML as data (values are always escaped character data), so a
            # whole document cannot come from one caller-given text.
            self.diagnostics.warn(
                body.where,
                f"{body.media_type} request body not imported: XML is built from named fields, and this "
                "schema names none the spec can hold; the operation is called without a body",
                "xml-body",
            )
            return None
        if shape.is_object_with_fields and body.kind != "text":
            return self._fields_body(body, shape, inputs, unit)
        if body.kind == "multipart":
            self.diagnostics.warn(
                body.where, "multipart body without named fields not imported", "multipart-body"
            )
            return None
        name = inputs.claim("body", "request_body")
        kind = shape.param_type if body.kind == "json" else "string"
        details = self.schemas.details(shape) if body.kind == "json" else []
        fallback = f"The request body ({body.media_type})."
        description = _description(body.description or shape.description, details, fallback)
        unit.inputs.append(Input(name, "body", name, kind, body.required, description))
        return {"type": _BODY_TYPES[body.kind], "data": f"{{{{{name}}}}}"}

    def _fields_body(self, body: Body, shape: Shape, inputs: Names, unit: Unit) -> dict[str, Any]:
        fields: list[Input] = []
        for key, located in shape.properties.items():
            member = self.schemas.shape(located, shape.refs)
            if member.read_only:
                continue  # the server sets it; a request must not send it
            if "{{" in key or "}}" in key:
                self.diagnostics.warn(
                    located.where,
                    f"body field {key!r} not imported: its name reads as a template",
                    "field-name",
                )
                continue
            wanted = parameter_name(key)
            if looks_like_bind(wanted):  # `{{RAW_BODY}}` would name a bind variable, not this input
                wanted = wanted.lower()
            name = inputs.claim(wanted, f"body_{wanted}")
            binary = body.kind == "multipart" and (
                member.format == "binary" or (member.items is not None and self._binary_items(member))
            )
            description = _description(
                member.description, self.schemas.details(member), f"Field {key} of the request body."
            )
            if binary:
                description = joined(description, "The file's content, as text.", separator=" ")
            fields.append(
                Input(name, "body", key, member.param_type, key in shape.required, description, binary)
            )
        unit.inputs += fields
        if shape.alternatives:
            kinds = " | ".join(self.schemas.summary(a, depth=1, trail=shape.refs) for a in shape.alternatives)
            unit.note = f"The request body is one of: {clipped(kinds, 600)}; give the fields of one of them."
        if body.kind == "json":
            return {"type": "json", "data": {f.wire: f"{{{{{f.name}}}}}" for f in fields}}
        if body.kind == "form":
            return {"type": "formUrlEncoded", "data": {f.wire: f"{{{{{f.name}}}}}" for f in fields}}
        if body.kind == "xml":
            root = shape.name if shape.name and _XML_NAME.fullmatch(shape.name) else "request"
            self.diagnostics.warn(
                body.where,
                f"{body.media_type} body built as <{root}> with one element per top-level field; "
                "attributes, namespaces and nested structure are not reproduced",
                "xml-body",
            )
            elements = "".join(f"<{f.wire}>{{{{{f.name}}}}}</{f.wire}>" for f in fields)
            return {"type": "xml", "data": f"<{root}>{elements}</{root}>"}
        parts = []
        for f in fields:
            part: dict[str, Any] = {"name": f.wire, "value": f"{{{{{f.name}}}}}"}
            if f.binary:
                part["filename"] = f.wire
                part["contentType"] = body.part_types.get(f.wire, "application/octet-stream")
            elif f.wire in body.part_types:
                part["contentType"] = body.part_types[f.wire]
            parts.append(part)
        return {"type": "multipartForm", "data": parts}

    def _binary_items(self, shape: Shape) -> bool:
        assert shape.items is not None
        return self.schemas.shape(shape.items, shape.refs).format == "binary"

    # -- consumed side -----------------------------------------------------------------------------

    def _consumed(
        self, unit: Unit, extra: list[dict[str, Any]], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        op = unit.op
        operation: dict[str, Any] = {"name": unit.name}
        if op.summary:
            operation["label"] = op.summary
        if op.description:
            operation["description"] = clipped(op.description, DESCRIPTION_LIMIT)
        operation["method"] = op.method
        params = [{"name": i.consumed_name, "in": i.location} for i in unit.inputs] + extra
        if params:
            operation["inputParameters"] = params
        fmt = self._output_format(op)
        if fmt != "json":
            operation["outputRawFormat"] = fmt
        if body is not None:
            operation["body"] = body
        return operation

    def _output_format(self, op: Operation) -> str:
        response = op.response
        media = response.media_type if response else None
        fmt = response_format(media)
        if fmt is None:
            assert response is not None
            self.diagnostics.warn(
                response.where,
                f"{media} answers: the spec's outputRawFormat has no value for this media type; "
                "answers are read as JSON, so the upstream must send JSON for the tool to work",
                "response-format",
            )
            return "json"
        return fmt

    def _resources(self, units: list[Unit]) -> list[dict[str, Any]]:
        names = Names()
        grouped: dict[str, dict[str, Any]] = {}
        for unit in units:
            resource = grouped.get(unit.op.path)
            if resource is None:
                resource = grouped[unit.op.path] = {
                    "name": names.claim(kebab(unit.op.path, limit=120) or "root"),
                    "path": unit.path,
                    "operations": [],
                }
            resource["operations"].append(unit.consumed)
        return list(grouped.values())

    # -- exposed side ------------------------------------------------------------------------------

    @staticmethod
    def _described(unit: Unit) -> dict[str, Any]:
        """What a route or a tool says of itself: the summary as its label, and its description."""
        return ({"label": unit.op.summary} if unit.op.summary else {}) | {"description": unit.description}

    def _wired(self, unit: Unit, adapter: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        """A route's or a tool's inputs and how they reach the consumed operation (``with``)."""
        wired: dict[str, Any] = {"inputParameters": params} if params else {}
        wired["call"] = f"{self.namespace}.{unit.name}"
        if unit.inputs:
            wired["with"] = {i.consumed_name: f"{adapter}.{i.name}" for i in unit.inputs}
        outputs = self._outputs(unit)
        if outputs:
            wired["outputParameters"] = outputs
        return wired

    def _rest(self, units: list[Unit]) -> dict[str, Any]:
        names = Names()
        taken: set[tuple[str, str]] = set()
        resources: dict[str, dict[str, Any]] = {}
        for unit in units:
            path = self._rest_path(unit, taken)
            resource = resources.get(path)
            if resource is None:
                resource = resources[path] = {
                    "name": names.claim(kebab(path, limit=120) or "root"),
                    "path": path,
                    "operations": [],
                }
            params = [self._rest_input(i, unit) for i in unit.inputs]
            operation = {"name": unit.name, "method": unit.op.method, **self._described(unit)}
            resource["operations"].append({**operation, **self._wired(unit, self.rest_namespace, params)})
        return {
            "type": "rest",
            "namespace": self.rest_namespace,
            "port": self.options.rest_port,
            "resources": list(resources.values()),
        }

    @staticmethod
    def _rest_input(item: Input, unit: Unit) -> dict[str, Any]:
        declared = {
            "name": item.name,
            "in": item.location,
            "type": item.type,
            "description": item.description,
        }
        fields = sum(1 for i in unit.inputs if i.location == "body")
        if item.location == "body" and item.name == "body" and fields > 1:
            # A REST body input named `body` is the whole request body unless it says which field
            # it reads; beside other fields (GitHub's issue {title, body}) it is the field.
            declared["value"] = "$.body"
        return declared

    def _rest_path(self, unit: Unit, taken: set[tuple[str, str]]) -> str:
        """The route: the upstream's path, unless another operation of the same method has its shape."""
        op = unit.op
        candidates = [unit.path]
        suffix = kebab(op.path.split("#", 1)[1]) if "#" in op.path else ""
        candidates += [
            f"{unit.path.rstrip('/')}/{suffix or unit.name}",
            f"{unit.path.rstrip('/')}/{unit.name}",
        ]
        for candidate in candidates:
            key = (op.method, re.sub(r"\{\{[^{}]+\}\}", "{}", candidate))
            if key not in taken:
                taken.add(key)
                if candidate != unit.path:
                    self.diagnostics.warn(
                        op.where,
                        f"REST route {op.method} {candidate} (another operation already answers "
                        f"{op.method} {unit.path})",
                        "rest-route",
                    )
                return candidate
        raise AssertionError("a route named after a unique operation name is unique")  # pragma: no cover

    def _mcp(self, units: list[Unit]) -> dict[str, Any]:
        tools = []
        for unit in units:
            params = [
                {"name": i.name, "type": i.type, "description": i.description, "required": i.required}
                for i in unit.inputs
            ]
            tool = {"name": unit.name, **self._described(unit), "hints": dict(_HINTS[unit.op.method])}
            tools.append({**tool, **self._wired(unit, self.mcp_namespace, params)})
        description = joined(
            f"Tools for {self.api.title}: one per operation of its API.",
            self.api.description.split("\n\n", 1)[0] if self.api.description else "",
            separator=" ",
        )
        return {
            "type": "mcp",
            "namespace": self.mcp_namespace,
            "port": self.options.mcp_port,
            "description": clipped(description, DESCRIPTION_LIMIT),
            "tools": tools,
        }

    def _unit_description(self, unit: Unit) -> str:
        op = unit.op
        returns = ""
        if op.response is not None and op.response.schema is not None:
            shape = self.schemas.shape(op.response.schema)
            returns = f"Returns {clipped(self.schemas.summary(shape, depth=1), 400)}."
        docs = f"Documentation: {op.docs}" if op.docs else ""
        deprecated = "Deprecated." if op.deprecated else ""
        text = joined(
            sentence(op.summary) if op.summary else "", op.description, deprecated, unit.note, returns, docs
        )
        return clipped(text or f"{op.method} {op.wire_path}", DESCRIPTION_LIMIT)

    # -- outputs (--shape) -------------------------------------------------------------------------

    def _outputs(self, unit: Unit) -> list[dict[str, Any]]:
        response = unit.op.response
        if not self.options.shape or response is None or response.schema is None:
            return []
        if response_format(response.media_type) not in ("json", "yaml", "xml"):
            return []
        shape = self.schemas.shape(response.schema)
        if shape.type not in ("object", "array") or (shape.type == "object" and not shape.properties):
            return []
        return [self._mapped(shape, "$", OUTPUT_DEPTH, top=True)]

    def _mapped(self, shape: Shape, path: str, depth: int, *, top: bool = False) -> dict[str, Any]:
        """A mapped output for ``shape`` found at ``path``; nested objects read their parent's source
        and leaves give their path from the current root (``$``: the answer, or an array element),
        which every engine reads alike."""
        if (
            shape.recursive
            or depth <= 0
            or shape.type not in ("object", "array", "string", "number", "integer", "boolean")
        ):
            return {"type": "object", "mapping": path, "properties": {}}
        if shape.type == "array":
            item = self.schemas.shape(shape.items, shape.refs) if shape.items else Shape()
            return {"type": "array", "mapping": path, "items": self._mapped(item, "$", depth - 1)}
        if shape.type == "object":
            if not shape.properties:
                return {"type": "object", "mapping": path, "properties": {}}
            properties = {}
            for key, located in shape.properties.items():
                member = self.schemas.shape(located, shape.refs)
                if member.write_only:
                    continue
                properties[key] = self._mapped(member, _member_path(path, key), depth - 1)
            out: dict[str, Any] = {"type": "object", "properties": properties}
            if not top and path == "$":
                out["mapping"] = "$"
            return out
        kind = "number" if shape.type == "integer" else shape.type
        return {"type": kind, "mapping": path}


def _member_path(path: str, key: str) -> str:
    """The JSONPath of field ``key`` under ``path`` (bracket notation for names that need it)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    quote = '"' if "'" in key else "'"
    return f"{path}[{quote}{key}{quote}]"


def _description(text: str, details: list[str], fallback: str) -> str:
    body = joined(sentence(text) if text else "", " ".join(details), separator=" ")
    return clipped(body or fallback, DESCRIPTION_LIMIT)
