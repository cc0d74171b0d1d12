"""One consumed operation, compiled once: values in, an upstream request out, a decoded answer back.

Compilation resolves everything that does not depend on the request: the URL template (base URI,
bind placeholders), the merged parameter list (consumes, resource and operation level; the operation
wins), the body renderer, the authenticator and the decoder. A call only looks values up and encodes
them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import (
    InputError,
    InputProblem,
    UpstreamError,
)
from ..expressions import Template, canonical, compile_path, compile_template
from ..spec.models import ConsumedInputParameter, ConsumedOperation, ConsumedResource, ConsumesHttp
from .auth import Authenticator, PreparedRequest, build_authenticator
from .bodies import BodyRenderer, compile_body
from .decoding import decode
from .encoding import UnsafeValue, cookie_header, header_value, join_url, path_segment, query_pairs
from .transport import HttpClient, UpstreamResponse

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{([^{}/]+)\}")
_ACCEPT = {
    "json": "application/json",
    "xml": "application/xml, text/xml",
    "yaml": "application/yaml",
    "csv": "text/csv",
    "html": "text/html",
    "markdown": "text/markdown",
}


@dataclass(frozen=True, slots=True)
class ParamPlan:
    """A consumed parameter after merging levels: where it goes and whether it has a fixed value."""

    name: str
    key: str  # canonical name, used to find the value among the call's values
    location: str
    type: str | None
    required: bool
    description: str | None
    static: Template | None

    @property
    def whole_body(self) -> bool:
        return self.location == "body" and self.name == "body"


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A successful (status < 400) answer, decoded."""

    status: int
    value: Any
    content_type: str | None
    elapsed_ms: float


class ConsumedCall:
    """The compiled form of ``namespace.operation``."""

    def __init__(
        self,
        consumes: ConsumesHttp,
        resource: ConsumedResource,
        operation: ConsumedOperation,
        *,
        binds: Mapping[str, Any],
        client: HttpClient,
        authenticator: Authenticator | None = None,
        base_uri: str | None = None,
        schema_dir: Path | None = None,
    ) -> None:
        self.namespace = consumes.namespace
        self.name = operation.name
        self.qualified = f"{consumes.namespace}.{operation.name}"
        self.method = operation.method
        self.description = operation.description
        self.raw_format = operation.output_raw_format or "json"
        self.output_schema = operation.output_schema
        self.schema_dir = schema_dir
        self.client = client
        self.binds = binds
        self.auth = authenticator or build_authenticator(consumes.authentication, binds, consumes.namespace)
        self.params = _merge_params(
            consumes.input_parameters, resource.input_parameters, operation.input_parameters
        )
        path = resource.path + (operation.path or "")
        self._url_parts, self.path_variables = _compile_url(base_uri or consumes.base_uri, path, binds)
        declared = {p.key for p in self.params}
        self.implicit_path_params = tuple(v for v in self.path_variables if canonical(v) not in declared)
        self._body: BodyRenderer | None = compile_body(operation.body) if operation.body is not None else None
        self.body_template_variables = _body_variables(operation)
        self._accept = _ACCEPT.get(self.raw_format)
        self._projection = tuple(
            (o.name, compile_path(o.value)) for o in operation.output_parameters if o.name
        )

    # -- building ----------------------------------------------------------------------------------

    def prepare(self, values: Mapping[str, Any]) -> tuple[PreparedRequest, dict[str, Any]]:
        """The request for ``values`` (keys in any spelling) and the template context used."""
        by_key = {canonical(k): v for k, v in values.items()}
        context = {**self.binds, **values}
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        cookies: dict[str, Any] = {}
        body_fields: dict[str, Any] = {}
        whole_body: Any = None
        path_values: dict[str, Any] = {}
        try:
            for param in self.params:
                value = (
                    param.static.render_value(context) if param.static is not None else by_key.get(param.key)
                )
                if value is None:
                    continue
                location = param.location
                if location == "query":
                    if param.name not in self.auth.supplied_query:
                        query.extend(query_pairs(param.name, value))
                elif location == "header":
                    if param.name.lower() not in self.auth.supplied_headers:
                        headers[param.name] = header_value(param.name, value)
                elif location == "path":
                    path_values[param.key] = value
                elif location == "cookie":
                    cookies[param.name] = value
                elif location == "body":
                    if param.whole_body:
                        whole_body = value
                    else:
                        body_fields[param.name] = value
            if cookies:
                headers["Cookie"] = cookie_header(cookies)
        except UnsafeValue as exc:
            raise InputError([InputProblem(exc.args[0].split("'")[1], str(exc))], self.qualified) from None
        url = self._url(path_values, by_key)
        body, content_type = self._render_body(context, whole_body, body_fields)
        if body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        if self._accept and not any(k.lower() == "accept" for k in headers):
            headers["Accept"] = self._accept
        return PreparedRequest(self.qualified, self.method, url, query, headers, body), context

    def _url(self, path_values: dict[str, Any], by_key: Mapping[str, Any]) -> str:
        out: list[str] = []
        missing: list[str] = []
        for kind, text in self._url_parts:
            if kind == "literal":
                out.append(text)
                continue
            key = canonical(text)
            value = path_values.get(key, by_key.get(key))
            if value is None or value == "":
                missing.append(text)
            else:
                out.append(path_segment(value))
        if missing:
            raise InputError(
                [
                    InputProblem(name, "a value is required for this path parameter", "path")
                    for name in missing
                ],
                self.qualified,
            )
        return "".join(out)

    def _render_body(
        self, context: Mapping[str, Any], whole: Any, fields: dict[str, Any]
    ) -> tuple[bytes | None, str]:
        if self._body is not None:
            return self._body(context)
        if whole is not None:
            if isinstance(whole, (bytes, bytearray)):
                return bytes(whole), "application/octet-stream"
            if isinstance(whole, str):
                return whole.encode(), "application/json" if _looks_json(
                    whole
                ) else "text/plain; charset=utf-8"
            return orjson.dumps(whole), "application/json"
        if fields:
            return orjson.dumps(fields), "application/json"
        return None, ""

    # -- calling -----------------------------------------------------------------------------------

    async def execute(self, values: Mapping[str, Any], *, time_left: float | None = None) -> UpstreamReply:
        """Send the request for ``values``; a 4xx/5xx answer raises :class:`UpstreamError`."""
        request, context = self.prepare(values)
        started = time.perf_counter()
        response = await self.auth.send(self.client, request, context, time_left)
        return self.read(response, (time.perf_counter() - started) * 1000)

    def read(self, response: UpstreamResponse, elapsed_ms: float) -> UpstreamReply:
        content_type = response.content_type
        if response.status >= 400:
            raise UpstreamError(
                self.qualified,
                response.status,
                _error_body(response.body, content_type),
                content_type,
                elapsed_ms,
            )
        if not response.body or response.status == 204:
            return UpstreamReply(response.status, None, content_type, elapsed_ms)
        value = decode(
            response.body,
            self.raw_format,
            operation=self.qualified,
            content_type=content_type,
            output_schema=self.output_schema,
            schema_dir=self.schema_dir,
        )
        return UpstreamReply(response.status, value, content_type, elapsed_ms)

    def project(self, value: Any) -> Any:
        """The operation's named ``outputParameters`` applied to its answer (what a step exposes)."""
        if not self._projection or value is None:
            return value
        if isinstance(value, list):
            if all(p.expression.startswith("$[") for _, p in self._projection):
                return {name: path.find(value) for name, path in self._projection}
            return [
                {**item, **{name: path.find(item) for name, path in self._projection}}
                if isinstance(item, dict)
                else item
                for item in value
            ]
        return {name: path.find(value) for name, path in self._projection}


def _merge_params(*levels: tuple[ConsumedInputParameter, ...]) -> tuple[ParamPlan, ...]:
    merged: dict[tuple[str, str], ParamPlan] = {}
    for level in levels:
        for param in level:
            static_text = param.value if param.value is not None else param.template
            static = None
            if static_text is not None:
                static = compile_template(
                    static_text if isinstance(static_text, str) else orjson.dumps(static_text).decode()
                )
                if isinstance(static_text, (dict, list, int, float, bool)):
                    static = _constant(static_text)
            required = param.required if param.required is not None else param.in_ == "path"
            merged[(canonical(param.name), param.in_)] = ParamPlan(
                param.name, canonical(param.name), param.in_, param.type, required, param.description, static
            )
    return tuple(merged.values())


class _ConstantTemplate(Template):
    """A static value that is not text (a YAML number or mapping): rendered as itself."""

    def __init__(self, value: Any) -> None:
        super().__init__("")
        self._value = value

    def render_value(self, context: Mapping[str, Any], *, strict: bool = False, default: Any = None) -> Any:
        return self._value


def _constant(value: Any) -> Template:
    return _ConstantTemplate(value)


def _compile_url(
    base: str, path: str, binds: Mapping[str, Any]
) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """Split ``baseUri + path`` into literal text and per-request path variables.

    Bind placeholders (``{{VAR}}``, ``{{ns.VAR}}``) are filled now, verbatim: they are trusted
    configuration and may carry a base path. Everything else is a parameter, encoded per segment.
    """
    template = join_url(base.strip(), path)
    parts: list[tuple[str, str]] = []
    variables: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(("literal", template[position : match.start()]))
        name = (match.group(1) or match.group(2)).strip()
        bound = _bind_value(name, binds)
        if bound is not None:
            parts.append(("literal", bound))
        else:
            parts.append(("variable", name))
            variables.append(name)
        position = match.end()
    parts.append(("literal", template[position:]))
    return [p for p in parts if p[1] or p[0] == "variable"], tuple(variables)


def _bind_value(name: str, binds: Mapping[str, Any]) -> str | None:
    value = binds.get(name)
    if value is None and "." in name:
        namespace, _, variable = name.partition(".")
        inner = binds.get(namespace)
        value = inner.get(variable) if isinstance(inner, Mapping) else None
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else None


def _body_variables(operation: ConsumedOperation) -> tuple[str, ...]:
    """Names a body template refers to: inputs the caller must be able to give."""
    body = operation.body
    if body is None:
        return ()
    found: list[str] = []

    def scan(node: Any) -> None:
        if isinstance(node, str):
            found.extend(compile_template(node).variables)
        elif isinstance(node, dict):
            for item in node.values():
                scan(item)
        elif isinstance(node, (list, tuple)):
            for item in node:
                scan(item)
        elif hasattr(node, "value"):
            scan(node.value)

    scan(body.data)
    return tuple(dict.fromkeys(found))


def _looks_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped[:1] in ("{", "[")


def _error_body(body: bytes, content_type: str | None) -> Any:
    """Best-effort reading of an error answer, so the message can say what the upstream said."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:2000].decode("utf-8", errors="replace")

