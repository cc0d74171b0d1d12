"""One reading of Swagger 2.0, OpenAPI 3.0 and 3.1: the operations, servers and security an import needs.

The three versions say the same things in different places (``host``/``basePath`` vs ``servers``;
``in: body``/``formData`` parameters vs ``requestBody``; ``securityDefinitions`` vs
``components.securitySchemes``). :func:`read_description` turns any of them into one
:class:`ApiDescription`, following ``$ref`` wherever the specifications allow one (path items,
parameters, request bodies, responses, security schemes) and saying what it reads past: callbacks,
webhooks, response links, HTTP methods the capability spec has no place for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .diagnostics import Diagnostics, ImportFailed, child, pointer
from .refs import Refs, Scope
from .schemas import Located
from .sources import Loaded
from .text import plain

METHODS = ("get", "put", "post", "delete", "patch")
UNSUPPORTED_METHODS = ("head", "options", "trace")
_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass
class Parameter:
    name: str  # as sent on the wire
    location: str  # path, query, header or cookie
    required: bool
    description: str
    schema: Located | None
    where: str
    style: str | None = None
    explode: bool | None = None
    deprecated: bool = False
    example: Any = None


@dataclass
class Body:
    kind: str  # json, form, multipart, text, xml or binary
    media_type: str
    schema: Located | None
    required: bool
    description: str
    where: str
    part_types: dict[str, str] = field(default_factory=dict)  # multipart: field → content type


@dataclass
class Response:
    status: str
    media_type: str | None
    schema: Located | None
    description: str
    where: str


@dataclass
class Operation:
    path: str  # the key under `paths` (a `#fragment` included)
    method: str  # upper case
    operation_id: str | None
    summary: str
    description: str
    tags: list[str]
    deprecated: bool
    parameters: list[Parameter]
    body: Body | None
    response: Response | None
    security: list[dict[str, list[str]]] | None  # None: the document's
    where: str
    servers: list[str]  # path- or operation-level servers, resolved
    docs: str | None = None

    @property
    def wire_path(self) -> str:
        """The path sent upstream: ReadMe-style ``/pets#search`` keys share ``/pets``."""
        return self.path.split("#", 1)[0] or "/"


@dataclass
class SecurityScheme:
    name: str
    type: str  # apiKey, http, oauth2, openIdConnect, mutualTLS (Swagger's basic is http/basic)
    where: str
    location: str | None = None  # apiKey: header, query or cookie
    parameter: str | None = None  # apiKey: the header, query or cookie name
    scheme: str | None = None  # http: basic, bearer, digest…
    flows: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiDescription:
    version: str  # "2.0", "3.0" or "3.1"
    title: str
    api_version: str
    description: str
    servers: list[str]
    operations: list[Operation]
    security: list[dict[str, list[str]]]
    schemes: dict[str, SecurityScheme]
    tags: dict[str, str]  # declared tag → its description
    uri: str


def read_description(loaded: Loaded, refs: Refs, diagnostics: Diagnostics) -> ApiDescription:
    """The :class:`ApiDescription` of the description ``loaded``."""
    data = loaded.data
    if not isinstance(data, dict):
        raise ImportFailed(f"{loaded.label}: not an OpenAPI description (the document is not a mapping)")
    declared = data.get("openapi") or data.get("swagger")
    text = str(declared) if declared is not None else ""
    if text.startswith("2."):
        version = "2.0"
    elif text.startswith("3.0"):
        version = "3.0"
    elif text.startswith("3.1"):
        version = "3.1"
    else:
        found = f"version {text!r}" if text else "no `openapi` or `swagger` key"
        raise ImportFailed(f"{loaded.label}: not an OpenAPI 3.0, 3.1 or Swagger 2.0 description ({found})")
    return _Reader(data, loaded.uri, version, refs, diagnostics).run()


class _Reader:
    def __init__(self, data: dict[str, Any], uri: str, version: str, refs: Refs, diagnostics: Diagnostics):
        self.data = data
        self.uri = uri
        self.version = version
        self.refs = refs
        self.root = refs.root
        self.diagnostics = diagnostics
        self.swagger = version == "2.0"

    def run(self) -> ApiDescription:
        raw_info = self.data.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        tags = {
            str(t["name"]): plain(t.get("description"))
            for t in _list(self.data.get("tags"))
            if isinstance(t, dict) and "name" in t
        }
        servers = self._swagger_servers() if self.swagger else self._servers(self.data.get("servers"))
        operations = self._operations()
        for name in _mapping(self.data.get("webhooks")):
            self.diagnostics.warn(
                pointer("webhooks", name),
                "webhook not imported: a capability consumes APIs, it does not receive their calls",
                "webhook",
            )
        security = self.data.get("security")
        return ApiDescription(
            version=self.version,
            title=plain(info.get("title")) or "API",
            api_version=str(info.get("version") or ""),
            description=plain(info.get("description")),
            servers=servers,
            operations=operations,
            security=_requirements(security) if isinstance(security, list) else [],
            schemes=self._schemes(),
            tags=tags,
            uri=self.uri,
        )

    # -- servers -----------------------------------------------------------------------------------

    def _servers(self, servers: Any) -> list[str]:
        out = []
        for server in servers if isinstance(servers, list) else ():
            if isinstance(server, dict) and isinstance(server.get("url"), str):
                out.append(self._server_url(server))
        return out

    def _server_url(self, server: dict[str, Any]) -> str:
        variables = _mapping(server.get("variables"))

        def value(match: re.Match[str]) -> str:
            variable = variables.get(match.group(1))
            if isinstance(variable, dict):
                if variable.get("default") is not None:
                    return str(variable["default"])
                if isinstance(variable.get("enum"), list) and variable["enum"]:
                    return str(variable["enum"][0])
            return match.group(0)

        url = _VARIABLE.sub(value, server["url"].strip())
        return urljoin(self.uri, url) if self.uri.startswith(("http://", "https://")) else url

    def _swagger_servers(self) -> list[str]:
        host = self.data.get("host")
        base_path = str(self.data.get("basePath") or "")
        schemes = [s for s in _list(self.data.get("schemes")) if s in ("https", "http")]
        if not host:
            return [urljoin(self.uri, base_path or "/")] if self.uri.startswith("http") else []
        scheme = "https" if not schemes or "https" in schemes else "http"
        if not schemes and self.uri.startswith("http://"):
            scheme = urlsplit(self.uri).scheme
        return [f"{scheme}://{host}{base_path}"]

    # -- operations --------------------------------------------------------------------------------

    def _operations(self) -> list[Operation]:
        paths = self.data.get("paths")
        out: list[Operation] = []
        for path, raw_item in _mapping(paths).items():
            item_where = pointer("paths", path)
            followed = self.refs.follow(raw_item, self.root, item_where)
            item = followed.node if isinstance(followed.node, dict) else {}
            shared = self._parameter_nodes(
                item.get("parameters"), followed.scope, child(item_where, "parameters")
            )
            servers = self._servers(item.get("servers")) if not self.swagger else []
            for method in UNSUPPORTED_METHODS:
                if isinstance(item.get(method), dict):
                    self.diagnostics.warn(
                        child(item_where, method),
                        f"{method.upper()} operation not imported: the capability spec's methods are "
                        "GET, POST, PUT, PATCH and DELETE",
                        "method",
                    )
            for method in METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    where = child(item_where, method)
                    out.append(
                        self._operation(str(path), method, node, followed.scope, shared, servers, where)
                    )
        return out

    def _operation(
        self,
        path: str,
        method: str,
        node: dict[str, Any],
        scope: Scope,
        shared: dict[tuple[str, str], tuple[Any, Scope, str]],
        path_servers: list[str],
        where: str,
    ) -> Operation:
        own = self._parameter_nodes(node.get("parameters"), scope, child(where, "parameters"))
        merged = {**shared, **own}  # an operation's parameter overrides the path item's of its name and place
        parameters: list[Parameter] = []
        body: Body | None = None
        form: list[tuple[Any, Scope, str]] = []
        for (_, location), (param, param_scope, param_where) in merged.items():
            if location == "body":
                body = self._swagger_body(param, param_scope, param_where, node)
            elif location == "formData":
                form.append((param, param_scope, param_where))
            elif location in ("path", "query", "header", "cookie"):
                parameters.append(self._parameter(param, param_scope, param_where, location))
            else:
                self.diagnostics.warn(
                    param_where, f"parameter in {location!r} not imported", "parameter-location"
                )
        if form:
            body = self._swagger_form(form, node, where)
        elif not self.swagger and "requestBody" in node:
            body = self._request_body(node["requestBody"], scope, child(where, "requestBody"))
        for name in _mapping(node.get("callbacks")):
            self.diagnostics.warn(
                child(where, "callbacks", name),
                "callback not imported: a capability calls APIs, it does not receive their calls",
                "callback",
            )
        security = node.get("security")
        external = node.get("externalDocs")
        servers = self._servers(node.get("servers")) if not self.swagger else []
        return Operation(
            path=path,
            method=method.upper(),
            operation_id=str(node["operationId"]) if node.get("operationId") else None,
            summary=plain(node.get("summary")),
            description=plain(node.get("description")),
            tags=[str(t) for t in _list(node.get("tags")) if isinstance(t, (str, int))],
            deprecated=node.get("deprecated") is True,
            parameters=parameters,
            body=body,
            response=self._response(node, scope, where),
            security=_requirements(security) if isinstance(security, list) else None,
            where=where,
            servers=servers or path_servers,
            docs=external.get("url")
            if isinstance(external, dict) and isinstance(external.get("url"), str)
            else None,
        )

    def _parameter_nodes(
        self, nodes: Any, scope: Scope, where: str
    ) -> dict[tuple[str, str], tuple[Any, Scope, str]]:
        out: dict[tuple[str, str], tuple[Any, Scope, str]] = {}
        for index, raw in enumerate(nodes if isinstance(nodes, list) else ()):
            param_where = child(where, index)
            followed = self.refs.follow(raw, scope, param_where)
            param = followed.node
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                self.diagnostics.warn(param_where, "parameter without a name not imported", "parameter")
                continue
            out[(param["name"], str(param.get("in")))] = (param, followed.scope, param_where)
        return out

    def _parameter(self, param: dict[str, Any], scope: Scope, where: str, location: str) -> Parameter:
        schema_node: Any = param.get("schema")
        schema_where = child(where, "schema")
        if self.swagger:
            schema_node, schema_where = param, where
        elif schema_node is None and isinstance(param.get("content"), dict) and param["content"]:
            media = next(iter(param["content"]))
            schema_node = _mapping(param["content"][media]).get("schema")
            schema_where = child(where, "content", media, "schema")
        example = param.get("example")
        examples = param.get("examples")
        if example is None and isinstance(examples, dict):
            first = next(iter(examples.values()), None)
            followed = self.refs.follow(first, scope, child(where, "examples")) if first is not None else None
            if followed is not None and isinstance(followed.node, dict):
                example = followed.node.get("value")
        style = param.get("style")
        if self.swagger and param.get("type") == "array":
            collection = str(param.get("collectionFormat") or "csv")
            style = {"multi": "form"}.get(collection, collection)
        return Parameter(
            name=param["name"],
            location=location,
            required=param.get("required") is True or location == "path",
            description=plain(param.get("description")),
            schema=Located(schema_node, scope, schema_where) if isinstance(schema_node, dict) else None,
            where=where,
            style=style if isinstance(style, str) else None,
            explode=param.get("explode") if isinstance(param.get("explode"), bool) else None,
            deprecated=param.get("deprecated") is True,
            example=example,
        )

    def _request_body(self, raw: Any, scope: Scope, where: str) -> Body | None:
        followed = self.refs.follow(raw, scope, where)
        node = followed.node if isinstance(followed.node, dict) else {}
        content = _mapping(node.get("content"))
        if not content:
            return None
        media, kind = _pick_request_media(content, followed.scope, self.refs, where)
        media_node = _mapping(content[media])
        schema = media_node.get("schema")
        part_types = {
            str(name): str(encoding["contentType"])
            for name, encoding in _mapping(media_node.get("encoding")).items()
            if isinstance(encoding, dict) and isinstance(encoding.get("contentType"), str)
        }
        return Body(
            kind=kind,
            media_type=media,
            schema=Located(schema, followed.scope, child(where, "content", media, "schema"))
            if isinstance(schema, dict)
            else None,
            required=node.get("required") is True,
            description=plain(node.get("description")),
            where=where,
            part_types=part_types,
        )

    def _swagger_body(
        self, param: dict[str, Any], scope: Scope, where: str, operation: dict[str, Any]
    ) -> Body:
        consumes = _media_list(operation.get("consumes") or self.data.get("consumes")) or ["application/json"]
        media = next((m for m in consumes if _request_kind(m) == "json"), consumes[0])
        schema = param.get("schema")
        return Body(
            kind=_request_kind(media),
            media_type=media,
            schema=Located(schema, scope, child(where, "schema")) if isinstance(schema, dict) else None,
            required=param.get("required") is True,
            description=plain(param.get("description")),
            where=where,
        )

    def _swagger_form(
        self, params: list[tuple[Any, Scope, str]], operation: dict[str, Any], where: str
    ) -> Body:
        consumes = _media_list(operation.get("consumes") or self.data.get("consumes"))
        has_file = any(p.get("type") == "file" for p, _, _ in params)
        multipart = has_file or any(m.startswith("multipart/") for m in consumes)
        properties = {p["name"]: p for p, _, _ in params}
        required = [p["name"] for p, _, _ in params if p.get("required") is True]
        # The form's fields, written as the object schema OpenAPI 3 would give them; each field's
        # own references still resolve in the scope it came from (the first field's, in practice
        # the one document every Swagger 2.0 description is).
        schema = {"type": "object", "properties": properties, "required": required}
        return Body(
            kind="multipart" if multipart else "form",
            media_type="multipart/form-data" if multipart else "application/x-www-form-urlencoded",
            schema=Located(schema, params[0][1], child(where, "parameters")),
            required=bool(required),
            description="",
            where=child(where, "parameters"),
        )

    def _response(self, operation: dict[str, Any], scope: Scope, where: str) -> Response | None:
        responses: dict[Any, Any] = _mapping(operation.get("responses"))  # YAML may key a status as an int
        codes = sorted(str(c) for c in responses if str(c).startswith("2"))
        if not codes and "default" in responses:
            codes = ["default"]
        if not codes:
            return None
        code = codes[0]
        response_where = child(where, "responses", code)
        followed = self.refs.follow(
            responses.get(code, responses.get(int(code)) if code.isdigit() else None), scope, response_where
        )
        node = followed.node if isinstance(followed.node, dict) else {}
        if _mapping(node.get("links")):
            self.diagnostics.warn(
                child(response_where, "links"),
                "response links not imported: each operation becomes its own tool; "
                "say in the tool descriptions how their outputs feed other tools if agents need it",
                "links",
            )
        description = plain(node.get("description"))
        if self.swagger:
            produces = _media_list(operation.get("produces") or self.data.get("produces"))
            schema = node.get("schema")
            media = _pick_response_media(produces) if produces else ("application/json" if schema else None)
            located = (
                Located(schema, followed.scope, child(response_where, "schema"))
                if isinstance(schema, dict)
                else None
            )
            return Response(code, media, located, description, response_where)
        content = _mapping(node.get("content"))
        if not content:
            return Response(code, None, None, description, response_where)
        media = _pick_response_media(list(content))
        schema = _mapping(content[media]).get("schema")
        located = (
            Located(schema, followed.scope, child(response_where, "content", media, "schema"))
            if isinstance(schema, dict)
            else None
        )
        return Response(code, media, located, description, response_where)

    # -- security ----------------------------------------------------------------------------------

    def _schemes(self) -> dict[str, SecurityScheme]:
        if self.swagger:
            holder: Any = self.data.get("securityDefinitions")
            base: tuple[str, ...] = ("securityDefinitions",)
        else:
            holder, base = (
                _mapping(self.data.get("components")).get("securitySchemes"),
                (
                    "components",
                    "securitySchemes",
                ),
            )
        out: dict[str, SecurityScheme] = {}
        for name, raw in _mapping(holder).items():
            where = pointer(*base, name)
            node = self.refs.follow(raw, self.root, where).node
            if not isinstance(node, dict):
                continue
            kind = str(node.get("type") or "")
            scheme = str(node["scheme"]).lower() if isinstance(node.get("scheme"), str) else None
            flows = _mapping(node.get("flows"))
            if self.swagger and kind == "basic":
                kind, scheme = "http", "basic"
            elif self.swagger and kind == "oauth2":
                flow = {"application": "clientCredentials", "accessCode": "authorizationCode"}.get(
                    str(node.get("flow")), str(node.get("flow"))
                )
                flows = {
                    flow: {
                        "tokenUrl": node.get("tokenUrl"),
                        "authorizationUrl": node.get("authorizationUrl"),
                        "scopes": node.get("scopes") or {},
                    }
                }
            out[str(name)] = SecurityScheme(
                name=str(name),
                type=kind,
                where=where,
                location=str(node["in"]) if isinstance(node.get("in"), str) else None,
                parameter=str(node["name"]) if isinstance(node.get("name"), str) else None,
                scheme=scheme,
                flows=flows,
                description=plain(node.get("description")),
                extensions={k: v for k, v in node.items() if k.startswith("x-")},
            )
        return out


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _requirements(raw: list[Any]) -> list[dict[str, list[str]]]:
    return [
        {str(k): [str(s) for s in v] if isinstance(v, list) else [] for k, v in item.items()}
        for item in raw
        if isinstance(item, dict)
    ]


def _media_list(value: Any) -> list[str]:
    return [str(m) for m in value] if isinstance(value, list) else []


def _essence(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


def _request_kind(media: str) -> str:
    essence = _essence(media)
    if essence == "application/x-www-form-urlencoded":
        return "form"
    if essence.startswith("multipart/"):
        return "multipart"
    if "json" in essence or essence in ("*/*", "application/*"):
        return "json"
    if essence.endswith("xml"):
        return "xml"
    if essence.startswith("text/"):
        return "text"
    return "binary"


_REQUEST_PREFERENCE = ("json", "form", "multipart", "text", "xml", "binary")


def _pick_request_media(content: dict[str, Any], scope: Scope, refs: Refs, where: str) -> tuple[str, str]:
    ranked = sorted(content, key=lambda m: _REQUEST_PREFERENCE.index(_request_kind(m)))
    media = ranked[0]
    kind = _request_kind(media)
    if kind == "json" and _essence(media) in ("*/*", "application/*"):
        schema = _mapping(content[media]).get("schema")
        node = refs.follow(schema, scope, where).node if schema is not None else {}
        if isinstance(node, dict) and node.get("format") == "binary":
            kind = "binary"
    return media, kind


def response_format(media: str | None) -> str | None:
    """The spec's ``outputRawFormat`` for a response media type; None when the spec has none for it."""
    if media is None:
        return "json"
    essence = _essence(media)
    if "json" in essence or essence in ("*/*", "application/*"):
        return "json"
    if "yaml" in essence:
        return "yaml"
    if essence.endswith("xml"):
        return "xml"
    return {
        "text/csv": "csv",
        "text/tab-separated-values": "tsv",
        "text/html": "html",
        "text/markdown": "markdown",
        "text/x-markdown": "markdown",
    }.get(essence)


_RESPONSE_PREFERENCE = ("json", "yaml", "xml", "csv", "tsv", "html", "markdown")


def _pick_response_media(medias: list[str]) -> str:
    def rank(media: str) -> int:
        found = response_format(media)
        return (
            _RESPONSE_PREFERENCE.index(found) if found in _RESPONSE_PREFERENCE else len(_RESPONSE_PREFERENCE)
        )

    return sorted(medias, key=rank)[0]
