"""Semantic rules: what the JSON schema cannot say, checked on the typed document.

Errors are reserved for documents a user would agree are broken: a call to nothing, a reference to a
missing function or step, duplicate namespaces, an undeclared bind variable, an unusable adapter
layout. Everything else that deviates from the spec is a warning, so real files keep loading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from ..binds import declared_variables
from .addresses import check_addresses
from .consistency import check_semantics_consistency
from .credentials import CREDENTIAL_FIELDS, checked_authentication
from .identifiers import check_identifiers
from .jsonpaths import check_jsonpaths
from .models import (
    BodyText,
    ConsumesHttp,
    ControlExpose,
    Document,
    McpExpose,
    RestExpose,
    SkillExpose,
    StepCall,
    StepLookup,
    StepScript,
    UnitFields,
)
from .models.mcp import McpPromptMessage, McpResource
from .source import DocPath
from .variables import VariableChecker, consumes_entries

Report = Callable[[DocPath, str, str], None]

_CALL = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
SUPPORTED_RAW_FORMATS = {"json", "xml", "yaml", "csv", "tsv", "psv", "html", "markdown", "text", "avro"}
SUPPORTED_RAW_FORMATS.add("binary")  # the answer's bytes as they came (Ikanos 1.0.0-beta1)
_SCHEMA_FORMATS = frozenset({"avro"})  # outputRawFormat values that cannot decode without outputSchema
# Declarations only: JavaScript also needs the mini-racer package (an embedded V8) on the machine that
# serves, which the runtime checks when it builds the unit (engine/scripts.py). Groovy has no
# embeddable engine on PyPI.
SCRIPT_LANGUAGES = {"python", "javascript"}
_SCRIPT_SEGMENT = re.compile(r"[a-zA-Z0-9._-]+")


class Checker:
    def __init__(
        self,
        document: Document,
        data: dict[str, Any],
        error: Report,
        warn: Report,
        locate: Callable[[DocPath], str],
    ) -> None:
        self.locate = locate
        self.doc = document
        self.data = data
        self.error = error
        self.warn = warn
        self.operations: dict[str, set[str]] = {}
        for consumes in document.all_consumes:
            self.operations.setdefault(consumes.namespace, set()).update(
                op.name for res in consumes.resources for op in res.operations
            )
        self.binary_calls = {
            f"{consumes.namespace}.{op.name}"
            for consumes in document.all_consumes
            for res in consumes.resources
            for op in res.operations
            if op.output_raw_format == "binary"
        }
        self.functions: dict[str, UnitFields] = {}
        capability = document.capability
        for aggregate in capability.aggregates if capability else ():
            for function in aggregate.functions:
                if function.name:
                    self.functions[f"{aggregate.namespace}.{function.name}"] = function

    def run(self) -> None:
        self._namespaces()
        self._consumes()
        self._bind_variables()
        self._bodies_and_credentials()
        capability = self.doc.capability
        if capability is None:
            return
        for index, aggregate in enumerate(capability.aggregates):
            for f_index, function in enumerate(aggregate.functions):
                path = ("capability", "aggregates", index, "functions", f_index)
                if function.ref:
                    self.error(
                        (*path, "ref"),
                        f"chained ref {function.ref!r}: an aggregate function cannot itself use `ref`",
                        "chained-ref",
                    )
                self._unit(function, path)
                if function.output_media_type and not self._answers_bytes(function):
                    self._parsed_media_type((*path, "outputMediaType"))
        self._exposes()

    def _answers_bytes(self, unit: UnitFields) -> bool:
        last = unit.steps[-1] if unit.steps else None
        call = unit.call or (last.call if isinstance(last, StepCall) else None)
        return call in self.binary_calls

    def _parsed_media_type(self, path: DocPath) -> None:
        # The runtime applies an advertised media type to the bytes of a binary answer; a parsed
        # answer is served as JSON (REST) or text content (MCP), so the declaration would be lost.
        self.warn(
            path,
            "outputMediaType is applied to binary answers (outputRawFormat: binary) only; this "
            "answer is parsed and served as JSON",
            "unapplied-media-type",
        )

    # -- namespaces --------------------------------------------------------------------------------

    def _namespaces(self) -> None:
        capability = self.doc.capability
        consumes_paths: list[tuple[str, DocPath]] = [
            (c.namespace, ("capability", "consumes", i, "namespace"))
            for i, c in enumerate(capability.consumes if capability else ())
        ]
        consumes_paths += [
            (c.namespace, ("consumes", i, "namespace")) for i, c in enumerate(self.doc.consumes)
        ]
        self._unique("consumes", consumes_paths)
        if capability:
            self._unique(
                "exposes",
                [
                    (e.namespace, ("capability", "exposes", i, "namespace"))
                    for i, e in enumerate(capability.exposes)
                    if not isinstance(e, ControlExpose)
                ],
            )
            self._unique(
                "aggregates",
                [
                    (a.namespace, ("capability", "aggregates", i, "namespace"))
                    for i, a in enumerate(capability.aggregates)
                ],
            )
        bind_paths: list[tuple[str, DocPath]] = [
            (b.namespace, ("binds", i, "namespace")) for i, b in enumerate(self.doc.binds)
        ]
        bind_paths += [
            (b.namespace, ("capability", "binds", i, "namespace"))
            for i, b in enumerate(capability.binds if capability else ())
        ]
        self._unique("binds", bind_paths)
        consumed = {name for name, _ in consumes_paths}
        for name, path in bind_paths:
            if name in consumed:
                self.warn(
                    path, f"bind namespace {name!r} is also a consumes namespace", "namespace-collision"
                )

    def _unique(self, kind: str, entries: Iterable[tuple[str, DocPath]]) -> None:
        seen: dict[str, DocPath] = {}
        for name, path in entries:
            if name in seen:
                self.error(
                    path,
                    f"duplicate {kind} namespace {name!r} (first declared at {self.locate(seen[name])})",
                    "duplicate-namespace",
                )
            else:
                seen[name] = path

    # -- consumes ----------------------------------------------------------------------------------

    def _consumes(self) -> None:
        capability = self.doc.capability
        entries: list[tuple[ConsumesHttp, DocPath]] = [
            (c, ("capability", "consumes", i))
            for i, c in enumerate(capability.consumes if capability else ())
        ]
        entries += [(c, ("consumes", i)) for i, c in enumerate(self.doc.consumes)]
        for consumes, path in entries:
            base = consumes.base_uri.strip()
            if not base:
                self.error(
                    (*path, "baseUri"),
                    f"consumes {consumes.namespace!r} has an empty `baseUri`; expected an http(s) URL",
                    "empty-base-uri",
                )
            elif not base.startswith(("http://", "https://", "{{")):
                self.warn((*path, "baseUri"), f"`baseUri` {base!r} is not an http(s) URL", "schema")
            for r_index, resource in enumerate(consumes.resources):
                for o_index, operation in enumerate(resource.operations):
                    fmt = operation.output_raw_format
                    if operation.output_media_type and fmt != "binary":
                        self._parsed_media_type(
                            (*path, "resources", r_index, "operations", o_index, "outputMediaType")
                        )
                    if fmt not in SUPPORTED_RAW_FORMATS:
                        self.warn(
                            (*path, "resources", r_index, "operations", o_index, "outputRawFormat"),
                            f"outputRawFormat {fmt!r} is not supported by this runtime "
                            f"(supported: {', '.join(sorted(SUPPORTED_RAW_FORMATS))})",
                            "unsupported-format",
                        )
                    elif fmt in _SCHEMA_FORMATS and not operation.output_schema:
                        # The spec: outputSchema is "required for these formats"; without it no
                        # answer can be decoded, so say so once here rather than on every call.
                        self.warn(
                            (*path, "resources", r_index, "operations", o_index, "outputRawFormat"),
                            f"outputRawFormat {fmt!r} needs `outputSchema` (the path of the schema "
                            "file); without it every answer of this operation fails to decode",
                            "missing-output-schema",
                        )

    # -- binds -------------------------------------------------------------------------------------

    def _bind_variables(self) -> None:
        """Every ``{{name}}`` resolves to a bind, an input or a step (:mod:`.variables`)."""
        VariableChecker(self.doc, self.data, declared_variables(self.doc.all_binds), self.error).run()

    # -- exposes and units -------------------------------------------------------------------------

    def _exposes(self) -> None:
        capability = self.doc.capability
        assert capability is not None
        controls = 0
        rest_ops: dict[str, set[str]] = {}
        mcp_tools: dict[str, set[str]] = {}
        for index, expose in enumerate(capability.exposes):
            path = ("capability", "exposes", index)
            stdio = isinstance(expose, McpExpose) and expose.transport == "stdio"
            if isinstance(expose, ControlExpose):
                controls += 1
                if controls > 1:
                    self.error(
                        path,
                        "more than one control adapter; a capability has at most one",
                        "multiple-control",
                    )
                self._otlp_endpoint(expose, path)
            elif isinstance(expose, RestExpose):
                rest_ops[expose.namespace] = self._rest(expose, path)
            elif isinstance(expose, McpExpose):
                mcp_tools[expose.namespace] = self._mcp(expose, path)
                self._mcp_authentication(expose, path, stdio)
            if stdio and expose.port is not None:
                self.warn((*path, "port"), "`port` is ignored when `transport` is stdio", "schema")
        for index, expose in enumerate(capability.exposes):
            if isinstance(expose, SkillExpose):
                self._skill(expose, ("capability", "exposes", index), rest_ops, mcp_tools)

    def _mcp_authentication(self, expose: McpExpose, path: DocPath, stdio: bool) -> None:
        """What an MCP adapter does with its ``authentication``: over stdio nothing (the client
        launched the server; there is no request to check), and digest it does not offer."""
        auth = expose.authentication
        if auth is None:
            return
        if stdio:
            self.warn(
                (*path, "authentication"),
                "`authentication` is ignored when `transport` is stdio (the client that launched the "
                "server is the only caller)",
                "ignored-authentication",
            )
        elif auth.type == "digest":
            self.warn(
                (*path, "authentication", "type"),
                "digest authentication is not supported on MCP adapters (bearer, apikey, basic and "
                "oauth2 are): the adapter will refuse to start",
                "unsupported-auth",
            )

    def _otlp_endpoint(self, expose: ControlExpose, path: DocPath) -> None:
        """Traces go out as OTLP over HTTP: an endpoint that can only be gRPC is a silent loss."""
        observability = expose.observability
        otlp = observability.exporters.otlp if observability and observability.exporters else None
        if otlp is None or "{{" in otlp.endpoint:
            return
        where = (*path, "observability", "exporters", "otlp", "endpoint")
        parsed = urlsplit(otlp.endpoint.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            self.warn(where, f"OTLP endpoint {otlp.endpoint!r} is not an http(s) URL", "otlp-endpoint")
        elif parsed.port == 4317:
            self.warn(
                where,
                "port 4317 is OTLP/gRPC; traces are sent as OTLP/HTTP (a collector listens on 4318)",
                "otlp-endpoint",
            )

    def _rest(self, expose: RestExpose, path: DocPath) -> set[str]:
        names: set[str] = set()
        consumes = {c.namespace for c in self.doc.all_consumes}
        for r_index, resource in enumerate(expose.resources):
            rpath = (*path, "resources", r_index)
            if not resource.operations and resource.forward is None:
                self.warn(rpath, "resource has neither `operations` nor `forward`", "schema")
            if resource.forward and resource.forward.target_namespace not in consumes:
                self.warn(
                    (*rpath, "forward", "targetNamespace"),
                    f"forward target {resource.forward.target_namespace!r} is not a consumes namespace",
                    "unknown-namespace",
                )
            for o_index, operation in enumerate(resource.operations):
                self._unit(operation, (*rpath, "operations", o_index))
                if operation.name:
                    names.add(operation.name)
        return names

    def _mcp(self, expose: McpExpose, path: DocPath) -> set[str]:
        names: set[str] = set()
        for index, tool in enumerate(expose.tools):
            tpath = (*path, "tools", index)
            self._unit(tool, tpath)
            name = tool.name or (self.functions[tool.ref].name if tool.ref in self.functions else None)
            if name:
                names.add(name)
            if tool.mode == "mock" and not any(
                o.value is not None or o.properties for o in tool.output_parameters
            ):
                self.warn(tpath, "tool has no `call`, `steps`, `ref` or static output values", "schema")
        for index, resource in enumerate(expose.resources):
            self._resource(resource, (*path, "resources", index))
        for p_index, prompt in enumerate(expose.prompts):
            for m_index, message in enumerate(prompt.template):
                self._message(message, (*path, "prompts", p_index, "template", m_index))
        return names

    def _resource(self, resource: McpResource, path: DocPath) -> None:
        if resource.location and (resource.call or resource.steps):
            self.error(
                path,
                "`location` together with `call`/`steps`: a resource is static or dynamic, not both",
                "mode-conflict",
            )
        elif not resource.location and not resource.call and not resource.steps:
            self.warn(path, "resource has neither `location` nor `call`/`steps`", "schema")
        self._wiring(resource.call, resource.steps, path)

    def _message(self, message: McpPromptMessage, path: DocPath) -> None:
        if message.content is not None and (message.call or message.steps):
            self.error(path, "`content` together with `call`/`steps`", "mode-conflict")
        self._wiring(message.call, message.steps, path)

    def _unit(self, unit: UnitFields, path: DocPath) -> None:
        modes = [
            m for m, present in (("ref", unit.ref), ("call", unit.call), ("steps", unit.steps)) if present
        ]
        if len(modes) > 1:
            self.error(
                path,
                f"`{modes[0]}` together with `{modes[1]}`: a unit uses exactly one mode (call, steps or ref)",
                "mode-conflict",
            )
        if unit.ref and unit.ref not in self.functions:
            available = ", ".join(sorted(self.functions)) or "none"
            self.error(
                (*path, "ref"),
                f"ref {unit.ref!r} names no aggregate function (available: {available})",
                "unknown-ref",
            )
        self._wiring(unit.call, unit.steps, path)

    def _wiring(self, call: str | None, steps: tuple[Any, ...], path: DocPath) -> None:
        if call:
            self._call(call, (*path, "call"))
        seen: dict[str, str] = {}
        for index, step in enumerate(steps):
            spath = (*path, "steps", index)
            if isinstance(step, StepCall):
                self._call(step.call, (*spath, "call"))
            elif isinstance(step, StepLookup) and seen.get(step.index) != "call":
                earlier = ", ".join(n for n, kind in seen.items() if kind == "call") or "none"
                self.error(
                    (*spath, "index"),
                    f"lookup index {step.index!r} names no earlier call step (earlier call steps: {earlier})",
                    "lookup-index",
                )
            elif isinstance(step, StepScript):
                self._script(step, spath)
            seen[step.name] = step.type

    def _script(self, step: StepScript, path: DocPath) -> None:
        scripting = self._scripting()
        language = step.language or (scripting.default_language if scripting else None)
        if language and language not in SCRIPT_LANGUAGES:
            where = (*path, "language") if step.language else path
            self.error(
                where,
                f"script language {language!r} is not supported by this "
                f"runtime (supported: {', '.join(sorted(SCRIPT_LANGUAGES))})",
                "unsupported-language",
            )
        elif (
            language
            and scripting
            and scripting.allowed_languages is not None
            and language not in scripting.allowed_languages
        ):
            self.error(
                (*path, "language") if step.language else path,
                f"script language {language!r} is not in management.scripting.allowedLanguages "
                f"({', '.join(scripting.allowed_languages) or 'none'})",
                "unsupported-language",
            )
        location = step.location or (scripting.default_location if scripting else None)
        if location is None:
            self.error(
                path,
                "script step has no `location` and the control adapter sets no "
                "management.scripting.defaultLocation",
                "script-defaults-required",
            )
        elif "://" in location and not location.startswith("file:"):
            self.error(
                (*path, "location") if step.location else path,
                f"script location {location!r} must be a file:/// directory",
                "script-location",
            )
        for key, names in (("file", [step.file]), ("dependencies", list(step.dependencies))):
            for index, name in enumerate(names):
                parts = name.split("/")
                if any(not _SCRIPT_SEGMENT.fullmatch(p) or p in (".", "..") for p in parts):
                    where = (*path, key) if key == "file" else (*path, key, index)
                    self.error(
                        where,
                        f"script path {name!r}: each segment must match [a-zA-Z0-9._-]+ "
                        "and stay inside the script directory",
                        "script-path",
                    )

    def _scripting(self) -> Any:
        capability = self.doc.capability
        for expose in capability.exposes if capability else ():
            if isinstance(expose, ControlExpose):
                return expose.management.scripting
        return None

    def _call(self, call: str, path: DocPath) -> None:
        if not _CALL.fullmatch(call):
            self.error(path, f"call {call!r} must have the form `namespace.operation`", "bad-call")
            return
        namespace, operation = call.split(".", 1)
        operations = self.operations.get(namespace)
        if operations is None:
            declared = ", ".join(sorted(self.operations)) or "none"
            self.error(
                path,
                f"call {call!r} names no consumed operation: no consumes namespace {namespace!r} "
                f"(declared: {declared})",
                "unknown-call",
            )
        elif operation not in operations:
            listing = ", ".join(sorted(operations)[:12]) + (", …" if len(operations) > 12 else "")
            self.error(
                path,
                f"call {call!r} names no consumed operation: namespace {namespace!r} has no "
                f"operation {operation!r} (it declares: {listing or 'none'})",
                "unknown-call",
            )

    def _skill(
        self, expose: SkillExpose, path: DocPath, rest: dict[str, set[str]], mcp: dict[str, set[str]]
    ) -> None:
        for s_index, skill in enumerate(expose.skills):
            for t_index, tool in enumerate(skill.tools):
                tpath = (*path, "skills", s_index, "tools", t_index)
                if tool.from_ is None and tool.instruction is None:
                    if tool.name not in {n for units in (*rest.values(), *mcp.values()) for n in units}:
                        self.warn(
                            tpath,
                            f"skill tool {tool.name!r} has neither `from` nor `instruction` and "
                            "names no tool or operation of this capability",
                            "unknown-action",
                        )
                    continue
                if tool.from_ is not None:
                    source = tool.from_.source_namespace
                    units = rest.get(source, mcp.get(source))
                    if units is None:
                        self.warn(
                            (*tpath, "from", "sourceNamespace"),
                            f"{source!r} is not a REST or MCP adapter of this capability",
                            "unknown-namespace",
                        )
                    elif tool.from_.action not in units:
                        self.warn(
                            (*tpath, "from", "action"),
                            f"adapter {source!r} has no unit named {tool.from_.action!r}",
                            "unknown-action",
                        )
                elif skill.location is None:
                    self.warn(tpath, "`instruction` needs the skill's `location`", "schema")

    # -- request bodies and adapter credentials (#15) ------------------------------------------------

    def _bodies_and_credentials(self) -> None:
        """An XML body must be well-formed XML (it is built from its elements, values escaped); an
        adapter credential that is absent or blank stops that adapter from starting."""
        capability = self.doc.capability
        for consumes, path in consumes_entries(self.doc):
            for r_index, resource in enumerate(consumes.resources):
                for o_index, operation in enumerate(resource.operations):
                    body = operation.body
                    if isinstance(body, BodyText) and body.type == "xml":
                        try:
                            minidom.parseString(body.data.encode("utf-8"))
                        except ExpatError as exc:
                            self.error(
                                (*path, "resources", r_index, "operations", o_index, "body", "data"),
                                f"the XML body is not well-formed XML: {exc}",
                                "malformed-xml-body",
                            )
        for index, expose in enumerate(capability.exposes if capability else ()):
            auth = checked_authentication(expose)
            kind = getattr(auth, "type", "")
            for field in CREDENTIAL_FIELDS.get(kind, ()):
                if not (getattr(auth, field) or "").strip():
                    self.warn(
                        ("capability", "exposes", index, "authentication"),
                        f"{kind} authentication has no `{field}`: the adapter will refuse to start "
                        "(an empty credential would let anyone in)",
                        "empty-credential",
                    )


def check_document(
    document: Document, data: dict[str, Any], error: Report, warn: Report, locate: Callable[[DocPath], str]
) -> None:
    """Run every semantic rule, reporting through ``error(path, message, rule)`` / ``warn(...)``."""
    Checker(document, data, error, warn, locate).run()
    check_identifiers(document, error, locate)
    check_jsonpaths(document, error)
    check_addresses(document, error, locate)
    check_semantics_consistency(document, warn)
