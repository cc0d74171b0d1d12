"""The tolerant reader: rewrite what real capability files say into the canonical model shape, once.

Real files (``shared/corpus``) use a generated dialect the official schema rejects: typed consumed
parameters, ``info.title``, ``rest.x``/``tools.x`` references, ``$.`` for the root, tools without
``inputParameters``, ``auth:`` instead of ``authentication:``, other spec versions… Each accepted
dialect form is rewritten here and reported once per file as a warning with the place of its first
use. Genuinely broken input (a non-Naftiko file, an unknown adapter type) is an error.

Works in place on the plain data produced by :mod:`.source`; positions of renamed keys are carried
over so later problems still point at the right line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .forms import is_import, step_type
from .source import DocPath, Source

SPEC_VERSION = "1.0.0-alpha2"
KNOWN_VERSIONS = {"1.0.0-alpha2", "1.0.0-alpha3", "1.0.0-alpha1", "0.5", "0.4"}
EXPOSE_TYPES = ("rest", "mcp", "skill", "control")
SHARED_SECTIONS = frozenset({"consumes", "exposes", "aggregates", "binds"})  # of a shared (imported) file
CONSUME_TYPES = ("http",)
# Prefixes the generated dialect uses for "the exposed unit's own input" in `with` values.
DIALECT_REF_PREFIXES = frozenset({"rest", "tools", "mcp", "skill", "api", "args", "input", "inputs"})
_REF = re.compile(r"(?P<prefix>[A-Za-z0-9_-]+)\.(?P<name>[A-Za-z0-9_*-]+)")
_WRAPPED_PATH = re.compile(r"\{\{\s*(\$[^{}]*)\s*\}\}")
_PARAM_TYPES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "date": "string",
    "datetime": "string",
    "date-time": "string",
    "uuid": "string",
    "uri": "string",
    "url": "string",
    "email": "string",
    "file": "string",
    "binary": "string",
    "password": "string",
    "integer": "integer",
    "int": "integer",
    "int32": "integer",
    "int64": "integer",
    "long": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "map": "object",
    "dict": "object",
    "json": "object",
}
_AUTH_TYPES = {
    "basic": "basic",
    "digest": "digest",
    "bearer": "bearer",
    "oauth2": "oauth2",
    "apikey": "apikey",
    "api_key": "apikey",
    "api-key": "apikey",
    "header": "apikey",
}
_BODY_TYPES = {
    "json": "json",
    "text": "text",
    "xml": "xml",
    "sparql": "sparql",
    "formurlencoded": "formUrlEncoded",
    "form": "formUrlEncoded",
    "urlencoded": "formUrlEncoded",
    "form-urlencoded": "formUrlEncoded",
    "multipartform": "multipartForm",
    "multipart": "multipartForm",
    "raw": "raw",
}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

_DIALECT_TEXT = {
    "info-title": "`info.title` read as `info.label`",
    "consumed-param-extras": "consumed input parameters carry `type`/`description`/`required`",
    "with-dialect-prefix": "`with` values `rest.x`/`tools.x` read as references to the unit's input `x`",
    "wrapped-jsonpath": "JSONPath wrapped in `{{ }}` read as plain JSONPath",
    "rest-description": "`description` on a REST adapter",
    "capability-binds": "`binds` under `capability`",
    "auth-key": "`auth:` read as `authentication:`",
    "auth-type-alias": "authentication type spelled as a variant (`apiKey`, `header`) read as `apikey`",
    "mapping-object": "output `mapping: {properties|items: ...}` read as sibling `properties`/`items`",
    "mapped-items-list": "`items` of a mapped output given as a list (the form of orchestrated outputs)",
    "prompt-messages": "prompt `messages` read as `template`",
    "body-type-alias": "request body `type` spelled as a variant (`form`) read as the spec's name",
    "param-type-alias": "parameter `type` outside the spec's set mapped to the nearest JSON type",
    "method-case": "HTTP method in lower case",
    "skill-from-wiki": "skill tool `from: {namespace, name}` read as `{sourceNamespace, action}`",
    "allowed-tools-list": "skill `allowed-tools` given as a list",
    "port-string": "port given as a string",
    "operation-id": "operation `id` read as `name`",
    "operation-path": "operation-level `path` appended to its resource's path",
}


@dataclass
class _Context:
    """What a `with` value may refer to: namespaces whose `ns.x` means the unit's input `x`."""

    reference_prefixes: frozenset[str]
    own_namespace: str | None


class Normalizer:
    """Rewrites ``source.data`` in place; collects problems (errors and warnings)."""

    def __init__(self, source: Source, *, consumes_only: bool = False) -> None:
        self.source = source
        # Shared consumes files reached through an import may be a bare root `consumes` block.
        self.consumes_only = consumes_only
        self.problems: list[Problem] = []
        self._dialect: dict[str, tuple[int, DocPath]] = {}
        self._namespaces: frozenset[str] = frozenset()

    # -- reporting ---------------------------------------------------------------------------------

    def error(self, path: DocPath, message: str, rule: str, *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, rule=rule, key=key))

    def warn(self, path: DocPath, message: str, rule: str = "schema", *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, severity="warning", rule=rule, key=key))

    def dialect(self, form: str, path: DocPath) -> None:
        count, first = self._dialect.get(form, (0, path))
        self._dialect[form] = (count + 1, first)

    def _report_dialect(self) -> None:
        for form, (count, first) in self._dialect.items():
            places = "1 place" if count == 1 else f"{count} places"
            self.warn(
                first,
                f"generated dialect: {_DIALECT_TEXT[form]} ({places}); accepted",
                rule=f"dialect:{form}",
                key=True,
            )

    def rename(self, mapping: dict[str, Any], path: DocPath, old: str, new: str) -> None:
        """Move ``mapping[old]`` to ``mapping[new]``, carrying its recorded positions along."""
        mapping[new] = mapping.pop(old)
        old_path, new_path = (*path, old), (*path, new)
        for table in (self.source.value_positions, self.source.key_positions):
            moved = {k: v for k, v in table.items() if k[: len(old_path)] == old_path}
            for k, v in moved.items():
                table.setdefault((*new_path, *k[len(old_path) :]), v)

    # -- entry point -------------------------------------------------------------------------------

    def run(self) -> dict[str, Any] | None:
        """Normalise the document; ``None`` when it is not a Naftiko document at all."""
        data = self.source.data
        for dup in self.source.duplicate_keys:
            self.warn(dup, "duplicate key; the last value is used", rule="duplicate-key", key=True)
        if not isinstance(data, dict) or not (
            {"naftiko", "ikanos", "capability"} & data.keys()
            or (self.consumes_only and SHARED_SECTIONS & data.keys())
        ):
            found = (
                "an empty file"
                if data is None
                else (
                    f"a YAML {type(data).__name__}"
                    if not isinstance(data, dict)
                    else "top-level keys " + ", ".join(sorted(map(str, data))[:8])
                )
            )
            self.error(
                (),
                f"not a Naftiko document: expected a `naftiko`, `ikanos` or `capability` key, found {found}",
                rule="not-naftiko",
            )
            return None
        self._version(data)
        if isinstance(data.get("info"), dict):
            self._info(data["info"], ("info",))
        self._binds(data, ())
        if "consumes" in data:
            self._consumes_list(data, ("consumes",), data)
        capability = data.get("capability")
        if capability is not None:
            if isinstance(capability, dict):
                self._capability(capability, ("capability",))
            else:
                self.error(("capability",), "`capability` must be a mapping", rule="type")
                data.pop("capability")
        else:
            self._shared_sections(data)
        self._report_dialect()
        return data

    # -- root --------------------------------------------------------------------------------------

    def _version(self, data: dict[str, Any]) -> None:
        if "ikanos" in data:
            return  # an Ikanos document: its version was read with its spelling (ikanos.py)
        version = data.get("naftiko")
        if version is None:
            self.warn((), f"no `naftiko` version; read as {SPEC_VERSION}", rule="version")
            return
        if not isinstance(version, str):
            version = data["naftiko"] = str(version)
        if version != SPEC_VERSION:
            known = "an earlier" if version in KNOWN_VERSIONS else "an unknown"
            self.warn(
                ("naftiko",),
                f"document declares {known} version {version!r}; read as {SPEC_VERSION}",
                rule="version",
            )

    def _info(self, info: dict[str, Any], path: DocPath) -> None:
        if "title" in info and "label" not in info:
            self.dialect("info-title", (*path, "title"))
            self.rename(info, path, "title", "label")
        if "label" not in info:
            self.warn(path, "`info.label` is required by the spec", rule="schema")
        self._stringify(info, path, ("label", "description", "created", "modified"))
        if isinstance(info.get("tags"), list):
            info["tags"] = [str(t) for t in info["tags"]]

    def _binds(self, owner: dict[str, Any], path: DocPath) -> None:
        binds = owner.get("binds")
        if binds is None:
            return
        if not isinstance(binds, list):
            self.error((*path, "binds"), "`binds` must be a list", rule="type")
            owner.pop("binds")
            return
        if path:
            self.dialect("capability-binds", (*path, "binds"))
        for bind in binds:
            if is_import(bind, bind=True):
                continue  # resolved by the loader
            if isinstance(bind, dict) and isinstance(bind.get("keys"), dict):
                bind["keys"] = {str(k): "" if v is None else str(v) for k, v in bind["keys"].items()}

    # -- capability --------------------------------------------------------------------------------

    def _capability(self, capability: dict[str, Any], path: DocPath) -> None:
        self._binds(capability, path)
        if "consumes" in capability:
            self._consumes_list(capability, (*path, "consumes"), capability)
        self._exposes_and_aggregates(capability, path)

    def _shared_sections(self, data: dict[str, Any]) -> None:
        """A shared file (Ikanos) may hold `exposes` and `aggregates` at its root, read as a capability's."""
        self._exposes_and_aggregates(data, ())

    def _exposes_and_aggregates(self, capability: dict[str, Any], path: DocPath) -> None:
        exposes = capability.get("exposes")
        aggregates = capability.get("aggregates")
        expose_namespaces = [e.get("namespace") for e in _items(exposes) if isinstance(e, dict)]
        aggregate_namespaces = [a.get("namespace") for a in _items(aggregates) if isinstance(a, dict)]
        self._namespaces = frozenset(
            str(n) for n in [*expose_namespaces, *aggregate_namespaces] if n and _is_scalar(n)
        )
        if isinstance(exposes, list):
            kept = []
            for index, expose in enumerate(exposes):
                if is_import(expose) or self._expose(expose, (*path, "exposes", index)):
                    kept.append(expose)
            capability["exposes"] = kept
        if isinstance(aggregates, list):
            for a_index, aggregate in enumerate(aggregates):
                apath = (*path, "aggregates", a_index)
                if not isinstance(aggregate, dict) or is_import(aggregate):
                    continue
                context = self._context(aggregate.get("namespace"))
                for f_index, function in enumerate(_items(aggregate.get("functions"))):
                    if isinstance(function, dict):
                        self._unit(function, (*apath, "functions", f_index), context)
                        self._tool_params(function, (*apath, "functions", f_index))

    def _context(self, own: Any) -> _Context:
        prefixes = DIALECT_REF_PREFIXES | self._namespaces
        return _Context(
            reference_prefixes=prefixes | ({str(own)} if own else set()),
            own_namespace=str(own) if own else None,
        )

    # -- consumes ----------------------------------------------------------------------------------

    def _consumes_list(self, owner: dict[str, Any], path: DocPath, _: dict[str, Any]) -> None:
        entries = owner.get("consumes")
        if not isinstance(entries, list):
            self.error(path, "`consumes` must be a list", rule="type")
            owner.pop("consumes")
            return
        kept = []
        for index, entry in enumerate(entries):
            epath = (*path, index)
            if not isinstance(entry, dict):
                self.error(epath, "a consumes entry must be a mapping", rule="type")
                continue
            if "import" in entry or ("location" in entry and "baseUri" not in entry):
                kept.append(entry)  # resolved by the loader, which knows the importing file
                continue
            if self._consumes(entry, epath):
                kept.append(entry)
        owner["consumes"] = kept

    def _consumes(self, entry: dict[str, Any], path: DocPath) -> bool:
        kind = entry.get("type")
        if kind is None:
            entry["type"] = "http"
            self.warn(path, "consumes entry has no `type`; read as `http`", rule="schema")
        elif str(kind).lower() not in CONSUME_TYPES:
            self.error(
                (*path, "type"),
                f"unsupported consumes type {kind!r} (supported: http)",
                rule="unsupported-type",
            )
            return False
        else:
            entry["type"] = "http"
        if "auth" in entry and "authentication" not in entry:
            self.dialect("auth-key", (*path, "auth"))
            self.rename(entry, path, "auth", "authentication")
        if "baseUri" in entry and not isinstance(entry["baseUri"], str):
            # `baseUri:` with nothing after it is YAML null: the empty baseUri the rules refuse.
            entry["baseUri"] = "" if entry["baseUri"] is None else str(entry["baseUri"])
        self._auth(entry, path)
        self._stringify(entry, path, ("namespace", "description"))
        self._consumed_params(entry, path)
        resources = entry.get("resources")
        for r_index, resource in enumerate(resources if isinstance(resources, list) else []):
            rpath = (*path, "resources", r_index)
            if not isinstance(resource, dict):
                continue
            self._stringify(resource, rpath, ("name", "path", "label", "description"))
            self._consumed_params(resource, rpath)
            for o_index, operation in enumerate(_items(resource.get("operations"))):
                if isinstance(operation, dict):
                    self._consumed_operation(operation, (*rpath, "operations", o_index))
        return True

    def _consumed_operation(self, operation: dict[str, Any], path: DocPath) -> None:
        self._operation_id(operation, path)
        self._method(operation, path)
        self._stringify(operation, path, ("name", "label", "description", "outputSchema"))
        if isinstance(operation.get("outputRawFormat"), str):
            operation["outputRawFormat"] = operation["outputRawFormat"].strip().lower()
        self._consumed_params(operation, path)
        outputs = operation.get("outputParameters")
        for index, output in enumerate(outputs if isinstance(outputs, list) else []):
            opath = (*path, "outputParameters", index)
            if not isinstance(output, dict):
                continue
            if "value" not in output and isinstance(output.get("mapping"), str):
                self.rename(output, opath, "mapping", "value")
            if isinstance(output.get("value"), str):
                output["value"] = self._jsonpath(output["value"], (*opath, "value"))
            self._param_type(output, opath)
        if "body" in operation:
            self._body(operation, (*path, "body"))

    def _consumed_params(self, owner: dict[str, Any], path: DocPath) -> None:
        params = owner.get("inputParameters")
        if not isinstance(params, list):
            return
        for index, param in enumerate(params):
            ppath = (*path, "inputParameters", index)
            if not isinstance(param, dict):
                continue
            self._stringify(param, ppath, ("name", "description"))
            if {"type", "description", "required"} & param.keys():
                self.dialect("consumed-param-extras", ppath)
            location = param.get("in")
            if location is None:
                param["in"] = "query"
                self.warn(ppath, "consumed parameter has no `in`; read as `query`", rule="schema")
            elif isinstance(location, str):
                param["in"] = location.strip().lower()
            self._param_type(param, ppath)

    def _body(self, operation: dict[str, Any], path: DocPath) -> None:
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
        canonical = _BODY_TYPES.get(str(declared).lower())
        if canonical is None:
            self.warn((*path, "type"), f"unknown body type {declared!r}; sent as JSON", rule="schema")
            body["type"] = "json"
        elif canonical != declared:
            self.dialect("body-type-alias", (*path, "type"))
            body["type"] = canonical

    # -- authentication ----------------------------------------------------------------------------

    def _auth(self, owner: dict[str, Any], path: DocPath) -> None:
        auth = owner.get("authentication")
        if auth is None:
            owner.pop("authentication", None)
            return
        apath = (*path, "authentication")
        if not isinstance(auth, dict):
            self.warn(apath, "`authentication` must be a mapping; ignored", rule="type")
            owner.pop("authentication")
            return
        declared = str(auth.get("type", "")).strip()
        canonical = _AUTH_TYPES.get(declared.lower())
        if canonical is None:
            self.warn(
                (*apath, "type"),
                f"authentication type {declared!r} is not supported by this "
                "runtime; requests are sent without it",
                rule="unsupported-auth",
            )
            owner["authentication"] = {"type": "unsupported", "declared": declared or "(none)"}
            return
        if canonical != declared:
            self.dialect("auth-type-alias", (*apath, "type"))
        auth["type"] = canonical
        if canonical == "apikey":
            if "key" not in auth:
                for alias in ("name", "header"):
                    if alias in auth:
                        self.rename(auth, apath, alias, "key")
                        break
            if "placement" not in auth and "in" in auth:
                self.rename(auth, apath, "in", "placement")
            if "placement" not in auth:
                auth["placement"] = "header"
            elif isinstance(auth["placement"], str):
                auth["placement"] = auth["placement"].lower()
        if canonical == "oauth2" and isinstance(auth.get("scopes"), str):
            auth["scopes"] = auth["scopes"].split()
        for key in ("username", "password", "token", "value", "key"):
            if key in auth and auth[key] is not None and not isinstance(auth[key], str):
                auth[key] = str(auth[key])

    # -- exposes -----------------------------------------------------------------------------------

    def _expose(self, expose: Any, path: DocPath) -> bool:
        if not isinstance(expose, dict):
            self.error(path, "an exposes entry must be a mapping", rule="type")
            return False
        kind = expose.get("type")
        if not isinstance(kind, str) or kind.lower() not in EXPOSE_TYPES:
            shown = "no type" if kind is None else f"type {kind!r}"
            self.error(
                (*path, "type") if kind is not None else path,
                f"unsupported exposes {shown} (supported: {', '.join(EXPOSE_TYPES)})",
                rule="unsupported-type",
            )
            return False
        kind = expose["type"] = kind.lower()
        if isinstance(expose.get("port"), str) and expose["port"].strip().isdigit():
            self.dialect("port-string", (*path, "port"))
            expose["port"] = int(expose["port"])
        self._stringify(expose, path, ("namespace", "address", "description"))
        self._auth(expose, path)
        context = self._context(expose.get("namespace"))
        if kind == "rest":
            self._rest(expose, path, context)
        elif kind == "mcp":
            self._mcp(expose, path, context)
        elif kind == "skill":
            self._skill(expose, path)
        return True

    def _rest(self, expose: dict[str, Any], path: DocPath, context: _Context) -> None:
        if "description" in expose:
            self.dialect("rest-description", (*path, "description"))
        self._exposed_params(expose, path)
        resources = expose.get("resources")
        for r_index, resource in enumerate(resources if isinstance(resources, list) else []):
            rpath = (*path, "resources", r_index)
            if not isinstance(resource, dict):
                continue
            self._stringify(resource, rpath, ("path", "name", "label", "description"))
            self._exposed_params(resource, rpath)
            forward = resource.get("forward")
            if isinstance(forward, dict) and isinstance(forward.get("trustedHeaders"), str):
                forward["trustedHeaders"] = [forward["trustedHeaders"]]
            for o_index, operation in enumerate(_items(resource.get("operations"))):
                opath = (*rpath, "operations", o_index)
                if isinstance(operation, dict):
                    self._operation_id(operation, opath)
                    self._method(operation, opath)
                    self._exposed_params(operation, opath)
                    self._unit(operation, opath, context)

    def _exposed_params(self, owner: dict[str, Any], path: DocPath) -> None:
        params = owner.get("inputParameters")
        for index, param in enumerate(params if isinstance(params, list) else []):
            ppath = (*path, "inputParameters", index)
            if not isinstance(param, dict):
                continue
            self._stringify(param, ppath, ("name", "description", "pattern"))
            if isinstance(param.get("in"), str):
                param["in"] = param["in"].strip().lower()
            elif "in" not in param:
                param["in"] = "body"
                self.warn(ppath, "exposed parameter has no `in`; read as `body`", rule="schema")
            self._param_type(param, ppath)
            if param.get("value") is not None and not isinstance(param["value"], str):
                param["value"] = str(param["value"])

    def _mcp(self, expose: dict[str, Any], path: DocPath, context: _Context) -> None:
        if isinstance(expose.get("transport"), str):
            expose["transport"] = expose["transport"].strip().lower()
        for index, tool in enumerate(_items(expose.get("tools"))):
            tpath = (*path, "tools", index)
            if not isinstance(tool, dict):
                continue
            self._unit(tool, tpath, context)
            self._tool_params(tool, tpath)
            hints = tool.get("hints")
            if isinstance(hints, dict):
                self._hints(hints, (*tpath, "hints"))
        for index, resource in enumerate(_items(expose.get("resources"))):
            if isinstance(resource, dict):
                self._unit(resource, (*path, "resources", index), context)
        for p_index, prompt in enumerate(_items(expose.get("prompts"))):
            ppath = (*path, "prompts", p_index)
            if not isinstance(prompt, dict):
                continue
            if "messages" in prompt and "template" not in prompt:
                self.dialect("prompt-messages", (*ppath, "messages"))
                self.rename(prompt, ppath, "messages", "template")
            for m_index, message in enumerate(_items(prompt.get("template"))):
                if isinstance(message, dict):
                    if isinstance(message.get("content"), dict) and "text" in message["content"]:
                        message["content"] = message["content"]["text"]
                    self._unit(message, (*ppath, "template", m_index), context)

    def _hints(self, hints: dict[str, Any], path: DocPath) -> None:
        for key in list(hints):
            if key.endswith("Hint") and key[:-4] in ("readOnly", "destructive", "idempotent", "openWorld"):
                self.rename(hints, path, key, key[:-4])
                key = key[:-4]
            value = hints[key]
            if isinstance(value, bool) or value is None:
                continue
            if str(value).strip().lower() in ("true", "false"):
                hints[key] = str(value).strip().lower() == "true"
            else:
                self.warn(
                    (*path, key), f"hint {key!r} must be true or false, got {value!r}; ignored", rule="type"
                )
                hints.pop(key)

    def _tool_params(self, unit: dict[str, Any], path: DocPath) -> None:
        params = unit.get("inputParameters")
        for index, param in enumerate(params if isinstance(params, list) else []):
            if isinstance(param, dict):
                self._stringify(param, (*path, "inputParameters", index), ("name", "description"))
                self._param_type(param, (*path, "inputParameters", index))

    def _skill(self, expose: dict[str, Any], path: DocPath) -> None:
        for s_index, skill in enumerate(_items(expose.get("skills"))):
            spath = (*path, "skills", s_index)
            if not isinstance(skill, dict):
                continue
            allowed = skill.get("allowed-tools")
            if isinstance(allowed, list):
                self.dialect("allowed-tools-list", (*spath, "allowed-tools"))
                skill["allowed-tools"] = " ".join(str(a) for a in allowed)
            for t_index, tool in enumerate(_items(skill.get("tools"))):
                source = tool.get("from") if isinstance(tool, dict) else None
                if isinstance(source, dict) and "sourceNamespace" not in source and "namespace" in source:
                    self.dialect("skill-from-wiki", (*spath, "tools", t_index, "from"))
                    source["sourceNamespace"] = source.pop("namespace")
                    source["action"] = source.pop("name", tool.get("name"))

    # -- units: operations, tools, functions, resources, prompt messages ---------------------------

    def _unit(self, unit: dict[str, Any], path: DocPath, context: _Context) -> None:
        self._stringify(unit, path, ("name", "label", "description", "call", "ref"))
        for key in ("call", "ref"):
            if isinstance(unit.get(key), str):
                unit[key] = unit[key].strip()
        if "with" in unit:
            unit["with"] = self._with(unit["with"], (*path, "with"), context)
        steps = unit.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict):
                self._step(step, (*path, "steps", index), context)
        mappings = unit.get("mappings")
        for index, mapping in enumerate(mappings if isinstance(mappings, list) else []):
            if isinstance(mapping, dict) and isinstance(mapping.get("value"), str):
                mapping["value"] = self._jsonpath(mapping["value"], (*path, "mappings", index, "value"))
        outputs = unit.get("outputParameters")
        # The spec types outputs by the unit's mode: named orchestrated outputs (with `items` as a
        # list) under `steps`; a `ref` takes any; mapped outputs otherwise.
        orchestrated = bool(unit.get("steps")) or "ref" in unit
        for index, output in enumerate(outputs if isinstance(outputs, list) else []):
            if isinstance(output, dict):
                self._output(output, (*path, "outputParameters", index), orchestrated)

    def _with(self, raw: Any, path: DocPath, context: _Context) -> dict[str, Any]:
        if not isinstance(raw, dict):
            if raw is not None:
                self.warn(path, "`with` must be a mapping of parameter names to values; ignored", rule="type")
            return {}
        return {str(key): self._with_value(value, (*path, str(key)), context) for key, value in raw.items()}

    def _with_value(self, value: Any, path: DocPath, context: _Context) -> dict[str, Any]:
        if not isinstance(value, str):
            return {"kind": "static", "value": value}
        text = value.strip()
        wrapped = _WRAPPED_PATH.fullmatch(text)
        if wrapped:
            return {"kind": "path", "path": self._jsonpath(text, path)}
        if "{{" in text:
            return {"kind": "template", "template": value}
        if text == "$" or text.startswith(("$.", "$[")):
            return {"kind": "path", "path": self._jsonpath(text, path)}
        ref = _REF.fullmatch(text)
        if ref and ref["prefix"] in context.reference_prefixes:
            if ref["prefix"] != context.own_namespace and ref["prefix"] in DIALECT_REF_PREFIXES:
                self.dialect("with-dialect-prefix", path)
            return {"kind": "input", "name": ref["name"]}
        return {"kind": "static", "value": value}

    def _step(self, step: dict[str, Any], path: DocPath, context: _Context) -> None:
        if "type" not in step:
            inferred = step_type(step)
            if inferred:
                step["type"] = inferred
                self.warn(path, f"step has no `type`; read as `{inferred}`", rule="schema")
        elif isinstance(step["type"], str):
            step["type"] = step["type"].strip().lower()
        self._stringify(step, path, ("name", "call", "index", "match", "lookupValue", "file"))
        if "with" in step:
            step["with"] = self._with(step["with"], (*path, "with"), context)
        if isinstance(step.get("outputParameters"), list):
            step["outputParameters"] = [
                p.get("name") if isinstance(p, dict) else str(p) for p in step["outputParameters"]
            ]

    def _output(self, output: dict[str, Any], path: DocPath, orchestrated: bool = False) -> None:
        mapping = output.get("mapping")
        if isinstance(mapping, dict):
            self.dialect("mapping-object", (*path, "mapping"))
            inner = output.pop("mapping")
            for key in ("properties", "items", "type", "mapping"):
                if key in inner and key not in output:
                    output[key] = inner[key]
            mapping = output.get("mapping")
        if isinstance(mapping, str):
            output["mapping"] = self._jsonpath(mapping, (*path, "mapping"))
        value = output.get("value")
        if isinstance(value, str) and "mapping" not in output:
            stripped = value.strip()
            if stripped.startswith("$") or _WRAPPED_PATH.fullmatch(stripped):
                self.rename(output, path, "value", "mapping")
                output["mapping"] = self._jsonpath(stripped, (*path, "mapping"))
        self._param_type(output, path)
        properties = output.get("properties")
        if isinstance(properties, dict):
            for name, child in properties.items():
                if isinstance(child, dict):
                    self._output(child, (*path, "properties", name), orchestrated)
                elif isinstance(child, str):
                    properties[name] = {"mapping": self._jsonpath(child, (*path, "properties", name))}
        items = output.get("items")
        if isinstance(items, list):
            if not orchestrated:
                self.dialect("mapped-items-list", (*path, "items"))
            named = [i for i in items if isinstance(i, dict)]
            if len(named) == 1 and (not named[0].get("name") or _describes_element(named[0])):
                # One entry describes the element itself (the spec requires it to have a name):
                # `labels: {type: array, items: [{name: label, type: string}]}` is an array of
                # strings. Several entries are the fields of an object element.
                output["items"] = named[0]
            else:
                output["items"] = {
                    "type": "object",
                    "properties": {str(i.get("name")): i for i in named if i.get("name")},
                }
            items = output["items"]
        if isinstance(items, dict):
            self._output(items, (*path, "items"), orchestrated)
        if output.get("type") is None:
            if isinstance(output.get("properties"), dict):
                output["type"] = "object"
            elif isinstance(output.get("items"), dict):
                output["type"] = "array"

    # -- small shared rewrites ---------------------------------------------------------------------

    def _jsonpath(self, text: str, path: DocPath) -> str:
        text = text.strip()
        wrapped = _WRAPPED_PATH.fullmatch(text)
        if wrapped:
            self.dialect("wrapped-jsonpath", path)
            text = wrapped.group(1).strip()
        if text == "$.":
            return "$"  # the root, as the framework's own tutorials write it
        return text

    def _operation_id(self, operation: dict[str, Any], path: DocPath) -> None:
        if "name" not in operation and "id" in operation:
            self.dialect("operation-id", (*path, "id"))
            self.rename(operation, path, "id", "name")
        if "path" in operation:
            self.dialect("operation-path", (*path, "path"))

    def _method(self, owner: dict[str, Any], path: DocPath) -> None:
        method = owner.get("method")
        if method is None:
            owner["method"] = "GET"
            return
        upper = str(method).strip().upper()
        if upper != method:
            self.dialect("method-case", (*path, "method"))
        if upper not in _METHODS:
            self.warn((*path, "method"), f"unknown HTTP method {method!r}; read as GET", rule="schema")
            upper = "GET"
        owner["method"] = upper

    def _param_type(self, param: dict[str, Any], path: DocPath) -> None:
        declared = param.get("type")
        if declared is None:
            return
        canonical = _PARAM_TYPES.get(str(declared).strip().lower())
        if canonical is None:
            self.warn((*path, "type"), f"unknown type {declared!r}; read as string", rule="schema")
            canonical = "string"
        elif canonical != declared:
            self.dialect("param-type-alias", (*path, "type"))
        param["type"] = canonical

    def _stringify(self, owner: dict[str, Any], path: DocPath, keys: tuple[str, ...]) -> None:
        """YAML turns `version: 1.0` or `name: 404` into numbers; text fields take them back as text."""
        for key in keys:
            value = owner.get(key)
            if value is not None and not isinstance(value, str) and not isinstance(value, (dict, list)):
                owner[key] = "true" if value is True else "false" if value is False else str(value)


def _items(value: Any) -> list[Any]:
    """The entries of a list-valued key; anything else (a typo'd scalar or mapping) has none here, and
    the model reports it with its place."""
    return value if isinstance(value, list) else []


def _describes_element(entry: dict[str, Any]) -> bool:
    """A lone ``items`` entry that is a scalar, or carries its own structure, is the element."""
    kind = _PARAM_TYPES.get(str(entry.get("type")).strip().lower())
    return kind in _SCALAR_TYPES or "properties" in entry or "items" in entry


_SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean"})


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))
