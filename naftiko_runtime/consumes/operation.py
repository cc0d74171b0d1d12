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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from ..binds.redact import Redactor
from ..errors import (
    BinaryTooLarge,
    InputError,
    InputProblem,
    InvocationError,
    NaftikoError,
    UpstreamError,
    UpstreamRedirect,
)
from ..expressions import Template, canonical, compile_path, compile_template
from ..expressions.names import canonical_index, path_parts
from ..observability.context import add_upstream_ms
from ..spec.addresses import base_uri_problem
from ..spec.models import ConsumedInputParameter, ConsumedOperation, ConsumedResource, ConsumesHttp
from ..spec.models.base import DEFAULT_MAX_BINARY_BYTES, parse_binary_size, whole_body
from ..spec.variables import BindNames, fix_binds
from ..urichars import URL_TEXT
from .auth import Authenticator, PreparedRequest, build_authenticator
from .bodies import BodyRenderer, compile_body
from .decoding import decode
from .encoding import UnsafeValue, cookie_header, header_value, join_url, path_segment, query_pairs
from .transport import HttpClient, UpstreamResponse

# RFC 3986 reserved and unreserved characters, and "%" (the text may be encoded already).
_URL_UNSAFE = re.compile("[^A-Za-z0-9" + re.escape(URL_TEXT) + "]")
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
    whole_body: bool = False  # the entire request body (see spec.models.whole_body)


@dataclass(slots=True)
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
        binds: BindNames,
        client: HttpClient,
        authenticator: Authenticator | None = None,
        base_uri: str | None = None,
        schema_dir: Path | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.namespace = consumes.namespace
        self.name = operation.name
        self.qualified = f"{consumes.namespace}.{operation.name}"
        self.method = operation.method
        self.description = operation.description
        self.raw_format = operation.output_raw_format or "json"
        self.binary = self.raw_format == "binary"  # the answer's bytes, as they are
        self.output_media_type = operation.output_media_type
        self.max_binary_bytes = (
            parse_binary_size(operation.max_binary_size) if operation.max_binary_size else None
        )
        self.output_schema = operation.output_schema
        self.schema_dir = schema_dir
        self.client = client
        # The namespace's one authenticator (consumes/namespace.py), or one of its own when alone.
        self.auth = authenticator or build_authenticator(consumes.authentication, binds, consumes.namespace)
        self.params = _merge_params(
            binds, consumes.input_parameters, resource.input_parameters, operation.input_parameters
        )
        path = resource.path + (operation.path or "")
        url_parts, self.path_variables = _compile_url(base_uri or consumes.base_uri, path, binds)
        # `naftiko validate` checks a literal baseUri; one filled in from binds or given with
        # --base-uri is checked here, before any request (the URL itself may be a secret: unshown).
        reason = base_uri_problem(
            "".join(t if kind == "literal" else "1" for kind, t in url_parts), host=False
        )
        # Refused by Runtime.build, before serving; a runtime built only to read its units (export,
        # migrate, inspect: binds left empty) never calls, and may hold a URL that is not one yet.
        self.unusable = f"consumes {consumes.namespace!r}: the base URI is {reason}" if reason else None
        # The URL as a %-format (literal text escaped) and its variables, in order.
        literals, variables = [""], []
        for kind, text in url_parts:
            if kind == "variable":
                variables.append((text, canonical(text)))
                literals.append("")
            else:
                literals[-1] += text
        self._url_vars = tuple(variables)
        self._url_static = "".join(literals)
        self._url_format = "%s".join(literal.replace("%", "%%") for literal in literals)
        # A placeholder of the URL cannot be left out, whatever its parameter says (`required: false`).
        in_url = {canonical(v) for v in self.path_variables}
        self.params = tuple(
            replace(p, required=True) if p.location == "path" and p.key in in_url and not p.required else p
            for p in self.params
        )
        declared = {p.key for p in self.params}
        self.implicit_path_params = tuple(v for v in self.path_variables if canonical(v) not in declared)
        self._body: BodyRenderer | None = (
            compile_body(operation.body, binds) if operation.body is not None else None
        )
        # Names the caller's values fill in templates (bind variables are fixed already): a body's,
        # and parameter values such as `q: "{{userId}}"` that read a value passed through by name.
        self.body_template_variables = _body_variables(operation, binds)
        self.param_template_variables = tuple(
            dict.fromkeys(
                name for p in self.params if p.static is not None for name in p.static.free_variables
            )
        )
        self._accept = _ACCEPT.get(self.raw_format)
        self._projection = tuple(
            (o.name, compile_path(o.value)) for o in operation.output_parameters if o.name
        )
        self._redactor = redactor
        # What prepare() needs per call, worked out once: the parameters that are sent (credentials
        # the authenticator supplies win over a caller's value for the same key, so those are
        # dropped here).
        self._sent = tuple(
            p
            for p in self.params
            if not (p.location == "query" and p.name in self.auth.supplied_query)
            and not (p.location == "header" and p.name.lower() in self.auth.supplied_headers)
            and not (p.location == "path" and p.static is None)  # _url() reads those itself
        )
        self._plan = tuple((p.static, p.key, p.location, p.name, p.whole_body) for p in self._sent)
        # When the caller gave none of the optional parameters, only the fixed ones are sent.
        self._static_plan = tuple(step for step in self._plan if step[0] is not None)
        self._dynamic_keys = frozenset(step[1] for step in self._plan if step[0] is None)
        self._plain_auth = type(self.auth).send is Authenticator.send
        self._sends_credentials = bool(self.auth.supplied_headers or self.auth.supplied_query)
        self._json = self.raw_format == "json"
        header_names = {p.name.lower() for p in self._sent if p.location == "header"}
        self._may_set_content_type = "content-type" in header_names
        self._may_set_accept = "accept" in header_names

    # -- building ----------------------------------------------------------------------------------

    def prepare(self, values: Mapping[str, Any]) -> tuple[PreparedRequest, Mapping[str, Any]]:
        """The request for ``values`` (keys in any spelling) and the template context used."""
        by_key = canonical_index(values)
        # Bind variables are fixed in every template: the context holds the caller's values only.
        context = values
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        cookies: dict[str, Any] | None = None
        body_fields: dict[str, Any] | None = None
        path_values: dict[str, Any] | None = None
        whole_body: Any = None
        try:
            plan = self._static_plan if self._dynamic_keys.isdisjoint(by_key) else self._plan
            for static, key, location, name, whole in plan:
                value = static.render_value(context) if static is not None else by_key.get(key)
                if value is None:
                    continue
                if location == "query":
                    query.extend(query_pairs(name, value))
                elif location == "header":
                    headers[name] = header_value(name, value)
                elif location == "path":
                    if path_values is None:
                        path_values = {}
                    path_values[key] = value
                elif location == "cookie":
                    if cookies is None:
                        cookies = {}
                    cookies[name] = value
                elif location == "body":
                    if whole:
                        whole_body = value
                    else:
                        if body_fields is None:
                            body_fields = {}
                        body_fields[name] = value
            if cookies:
                headers["Cookie"] = cookie_header(cookies)
        except UnsafeValue as exc:
            raise InputError([InputProblem(exc.args[0].split("'")[1], str(exc))], self.qualified) from None
        url = self._url(path_values, by_key) if self._url_vars else self._url_static
        body = None
        if self._body is not None or whole_body is not None or body_fields:
            body, content_type = self._render_body(context, whole_body, body_fields or {})
            if body is not None and not (
                self._may_set_content_type and any(k.lower() == "content-type" for k in headers)
            ):
                headers["Content-Type"] = content_type
        if self._accept and not (self._may_set_accept and any(k.lower() == "accept" for k in headers)):
            headers["Accept"] = self._accept
        return PreparedRequest(self.qualified, self.method, url, query, headers, body), context

    def _url(self, path_values: dict[str, Any] | None, by_key: Mapping[str, Any]) -> str:
        segments: list[str] = []
        missing: list[str] | None = None
        for text, key in self._url_vars:
            value = path_values.get(key) if path_values else None
            if value is None:
                value = by_key.get(key)
            if type(value) is int:  # the common id: nothing to encode
                segments.append(str(value))
            elif value is None or value == "":
                missing = [*(missing or ()), text]
            else:
                segments.append(path_segment(value))
        if missing:
            raise InputError(
                [
                    InputProblem(name, "a value is required for this path parameter", "path")
                    for name in missing
                ],
                self.qualified,
            )
        return self._url_format % tuple(segments)

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

    async def execute(
        self, values: Mapping[str, Any], *, time_left: float | None = None, max_bytes: int | None = None
    ) -> UpstreamReply:
        """Send the request for ``values``; a 4xx/5xx answer raises :class:`UpstreamError`.

        ``max_bytes`` is the calling adapter's ``maxBinarySize`` for a binary answer; the
        operation's own wins, and without either the spec's default (10MiB) holds.
        """
        if self.unusable is not None:
            raise NaftikoError(self.unusable)
        limit = None
        if self.binary:
            limit = self.max_binary_bytes or max_bytes or DEFAULT_MAX_BINARY_BYTES
        try:
            request, context = self.prepare(values)
            if self._plain_auth:  # headers or query only: no challenge, no token to fetch
                self.auth.apply(request, context)
                response = await self.client.send(
                    request.operation,
                    request.method,
                    request.full_url() if request.query else request.url,
                    request.headers,
                    request.body,
                    time_left=time_left,
                    max_bytes=limit,
                )
                elapsed_ms = response.elapsed_ms  # one request: the transport timed it
            else:  # a challenge or a token fetch may add requests: time them all
                started = time.perf_counter()
                response = await self.auth.send(self.client, request, context, time_left)
                elapsed_ms = (time.perf_counter() - started) * 1000
            add_upstream_ms(elapsed_ms)
            if limit is not None and len(response.body) > limit and response.status < 400:
                raise BinaryTooLarge(self.qualified, limit, len(response.body))
            return self.read(response, elapsed_ms)
        except InvocationError as exc:
            if self._redactor:
                _scrub(exc, self._redactor)  # an upstream may echo a credential in its error
            raise

    def read(self, response: UpstreamResponse, elapsed_ms: float) -> UpstreamReply:
        raw_type = response.headers.get("Content-Type")
        content_type = _MEDIA_TYPES.get(raw_type) if raw_type else None
        if content_type is None:
            content_type = _media_type(raw_type)
        if response.status >= 300:
            self._fail(response, content_type, elapsed_ms)
        body = response.body
        if not body or response.status == 204:
            return UpstreamReply(response.status, None, content_type, elapsed_ms)
        if self.binary:
            media = self.output_media_type or raw_type or "application/octet-stream"
            return UpstreamReply(response.status, bytes(body), media, elapsed_ms)
        if self._json:
            try:
                return UpstreamReply(response.status, orjson.loads(body), content_type, elapsed_ms)
            except orjson.JSONDecodeError:
                pass  # decode() tolerates a BOM or blank body and otherwise explains the error
        value = decode(
            body,
            self.raw_format,
            operation=self.qualified,
            content_type=content_type,
            output_schema=self.output_schema,
            schema_dir=self.schema_dir,
        )
        return UpstreamReply(response.status, value, content_type, elapsed_ms)

    def _fail(self, response: UpstreamResponse, content_type: str | None, elapsed_ms: float) -> None:
        """Raise what a 3xx, 4xx or 5xx answer means. A redirect is a failure, never followed (the
        capability's credentials must not travel to another origin). A 401 answering credentials
        this capability sends itself (407: its proxy's) is the capability's fault, not the caller's."""
        status = response.status
        if status < 400:
            raise UpstreamRedirect(self.qualified, status, _origin(response.headers.get("Location")))
        passed = tuple(
            (name, value) for name, value in response.headers.items() if name.lower().startswith(_PASSED)
        )
        refused = status == 407 or (status == 401 and self._sends_credentials)
        raise UpstreamError(
            self.qualified,
            status,
            _error_body(response.body, self._redactor),
            content_type,
            elapsed_ms,
            headers=passed,
            credentials_refused=refused,
        )

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


_MEDIA_TYPES: dict[str, str] = {}
# Answer headers kept with an upstream error: when to retry, and the rate-limit family.
_PASSED = ("retry-after", "ratelimit", "x-ratelimit")


def _origin(location: str | None) -> str | None:
    """``https://other.example:8443`` of a ``Location`` (its path and query may carry anything)."""
    if not location:
        return None
    try:
        parts = urlsplit(location.strip())
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an invalid location"
    if not parts.scheme or not parts.hostname:
        return "the same origin"
    return f"{parts.scheme}://{parts.hostname}{port}"


def _media_type(header: str | None) -> str | None:
    """``application/json; charset=utf-8`` → ``application/json`` (memoised; upstreams repeat it)."""
    if not header:
        return None
    found = _MEDIA_TYPES.get(header)
    if found is None:
        found = header.split(";", 1)[0].strip().lower()
        if len(_MEDIA_TYPES) < 256:
            _MEDIA_TYPES[header] = found
    return found


def _scrub(exc: InvocationError, redactor: Redactor) -> None:
    """Mask bind values in an error's message and in the upstream answer it carries."""
    exc.args = tuple(_scrubbed(arg, redactor) for arg in exc.args)
    for name in ("body", "reason"):
        value = getattr(exc, name, None)
        if value is not None:
            setattr(exc, name, _scrubbed(value, redactor))


def _scrubbed(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.redact(value) if redactor.contains_secret(value) else value
    if isinstance(value, dict):
        return {_scrubbed(k, redactor): _scrubbed(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, redactor) for item in value]
    return value


def _merge_params(binds: BindNames, *levels: tuple[ConsumedInputParameter, ...]) -> tuple[ParamPlan, ...]:
    merged: dict[tuple[str, str], ParamPlan] = {}
    for level in levels:
        for param in level:
            static_text = param.value if param.value is not None else param.template
            static = None
            if static_text is not None:
                static = fix_binds(
                    compile_template(
                        static_text if isinstance(static_text, str) else orjson.dumps(static_text).decode()
                    ),
                    binds,
                )
                if isinstance(static_text, (dict, list, int, float, bool)):
                    static = _constant(static_text)
            required = param.required if param.required is not None else param.in_ == "path"
            merged[(canonical(param.name), param.in_)] = ParamPlan(
                param.name, canonical(param.name), param.in_, param.type, required, param.description, static
            )
    whole = whole_body((p.name, p.location) for p in merged.values())
    return tuple(
        replace(p, whole_body=True) if p.location == "body" and p.name == whole else p
        for p in merged.values()
    )


class _ConstantTemplate(Template):
    """A static value that is not text (a YAML number or mapping): rendered as itself."""

    def __init__(self, value: Any) -> None:
        super().__init__("")
        self._value = value

    def render_value(self, context: Mapping[str, Any], *, strict: bool = False, default: Any = None) -> Any:
        return self._value


def _constant(value: Any) -> Template:
    return _ConstantTemplate(value)


def _compile_url(base: str, path: str, binds: BindNames) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """Split ``baseUri + path`` into literal text and per-request path variables.

    Bind placeholders (``{{VAR}}``, ``{{ns.VAR}}``) are filled now, verbatim: they are trusted
    configuration and may carry a base path. Everything else is a parameter, encoded per segment.
    """
    template = join_url(base.strip(), path)
    parts: list[tuple[str, str]] = []
    variables: list[str] = []
    for kind, text in path_parts(template):
        if kind == "literal":
            parts.append(("literal", _literal(text)))
            continue
        bound = _bind_value(text, binds)
        if bound is not None:
            parts.append(("literal", bound))
        else:
            parts.append(("variable", text))
            variables.append(text)
    return [p for p in parts if p[1] or p[0] == "variable"], tuple(variables)


def _literal(text: str) -> str:
    """The document's own URL text, with what may not appear raw in a request line percent-encoded
    (``/v1/Invoice Items/{id}``: the space). URL syntax and existing ``%XX`` escapes are kept."""
    return quote(text, safe=URL_TEXT) if _URL_UNSAFE.search(text) else text


def _bind_value(name: str, binds: BindNames) -> str | None:
    """The value of bind variable ``name`` (the resolver's rule: ``VAR`` or ``ns.VAR``), or None."""
    if name not in binds:
        return None
    value = binds.get(name)  # type: ignore[attr-defined]
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else None


def _body_variables(operation: ConsumedOperation, binds: BindNames) -> tuple[str, ...]:
    """Names a body template refers to, bind variables aside: inputs the caller must be able to give."""
    body = operation.body
    if body is None:
        return ()
    found: list[str] = []

    def scan(node: Any) -> None:
        if isinstance(node, str):
            found.extend(name for name in compile_template(node).variables if name not in binds)
        elif isinstance(node, dict):
            for item in node.values():
                scan(item)
        elif isinstance(node, (list, tuple)):
            for item in node:
                scan(item)
        elif hasattr(node, "model_dump"):  # a multipart part: its value and its filename
            scan(node.model_dump())

    scan(body.data)
    return tuple(dict.fromkeys(found))


def _looks_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped[:1] in ("{", "[")


def _error_body(body: bytes, redactor: Redactor | None) -> Any:
    """Best-effort reading of an error answer, so the message can say what the upstream said.

    Scrubbed whole, before it is parsed or cut: an upstream that echoes a credential (a query-placed
    API key in a URL it quotes, the bare token, its base64) must not leave part of it behind."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if redactor and redactor.contains_secret(text):
        text = redactor.redact(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text[:2000]
