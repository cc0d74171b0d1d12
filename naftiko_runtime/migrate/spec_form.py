"""The generated dialect resolved into the spec's own forms, on an alpha2-shaped document, in place.

Each rewrite mirrors what the tolerant reader (:mod:`naftiko_runtime.spec.normalize`) reads a dialect
form as, so the rewritten document means what the runtime served: ``info.title`` becomes ``label``,
``auth`` becomes ``authentication``, ``rest.x`` becomes ``<adapter>.x``, ``{{$.x}}`` becomes ``$.x``,
an operation's own ``path`` becomes a resource of its own, several named outputs of a ``call`` become
the one object the runtime returned, and so on. Keys the spec requires but the document left out
get the value the runtime used (an empty description is what an agent saw). What has no spec form
is kept, and said in a note.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, MutableSequence
from typing import Any

from ..engine.contract import InputSpec
from ..expressions import canonical
from ..spec.forms import Containers, is_import, outputs_are_named, step_type
from ..spec.normalize.vocabulary import (
    AUTH_TYPES,
    BODY_TYPES,
    DIALECT_REF_PREFIXES,
    PARAM_TYPES,
    REFERENCE,
    WRAPPED_PATH,
)
from ..spec.source import DocPath
from .explicit import Explicit
from .yaml_io import comment_before, insert_after

Note = Callable[[str], None]
_CONSUMED_EXTRAS = ("type", "description", "required")
_HINTS = ("readOnly", "destructive", "idempotent", "openWorld")
_OUTPUT_TYPES = {"string", "number", "boolean", "object", "array"}


class SpecForm:
    """Rewrites one alpha2-shaped document; ``note`` receives what a user should know."""

    def __init__(
        self, data: MutableMapping[str, Any], explicit: Explicit, containers: Containers, note: Note
    ):
        self.data = data
        self.explicit = explicit
        self.containers = containers
        self.note = note
        self.namespaces: set[str] = set()

    def run(self) -> None:
        data = self.data
        info = data.get("info")
        if isinstance(info, MutableMapping):
            self._info(info)
        capability = data.get("capability")
        if isinstance(capability, MutableMapping):
            self._move_capability_binds(data, capability)
        for owner in (data, capability):
            if not isinstance(owner, MutableMapping):
                continue
            for bind in _entries(owner.get("binds")):
                self._bind(bind)
            for index, consumes in enumerate(_entries(owner.get("consumes"))):
                self._consumes(consumes, index)
            self.namespaces = {
                str(e.get("namespace"))
                for key in ("exposes", "aggregates")
                for e in _entries(owner.get(key))
                if e.get("namespace")
            }
            prefix: DocPath = ("capability",) if owner is capability else ()
            for index, expose in enumerate(_list(owner.get("exposes"))):
                if isinstance(expose, MutableMapping) and not is_import(expose):
                    self._expose(expose, (*prefix, "exposes", index))
            for a_index, aggregate in enumerate(_list(owner.get("aggregates"))):
                if isinstance(aggregate, MutableMapping) and not is_import(aggregate):
                    self._aggregate(aggregate, (*prefix, "aggregates", a_index))

    # -- root --------------------------------------------------------------------------------------

    def _info(self, info: MutableMapping[str, Any]) -> None:
        if "title" in info and "label" not in info:
            self.containers.rename(info, "title", "label")
        _text(info, "label", "description", "created", "modified")
        if "label" not in info:
            insert_after(info, None, "label", "")
        if "description" not in info:
            insert_after(info, "label", "description", "")
        if isinstance(info.get("tags"), MutableSequence):
            for index, tag in enumerate(info["tags"]):
                info["tags"][index] = str(tag)

    def _move_capability_binds(
        self, data: MutableMapping[str, Any], capability: MutableMapping[str, Any]
    ) -> None:
        binds = capability.get("binds")
        if not isinstance(binds, MutableSequence):
            return
        if isinstance(data.get("binds"), MutableSequence):
            data["binds"].extend(binds)
        else:
            insert_after(data, "info" if "info" in data else None, "binds", binds)
        del capability["binds"]

    def _bind(self, bind: MutableMapping[str, Any]) -> None:
        keys = bind.get("keys")
        if isinstance(keys, MutableMapping):
            for key, value in list(keys.items()):
                keys[key] = "" if value is None else str(value)

    # -- consumes ----------------------------------------------------------------------------------

    def _consumes(self, entry: MutableMapping[str, Any], index: int) -> None:
        if is_import(entry):
            return
        if "type" not in entry:
            insert_after(entry, None, "type", "http")
        else:
            entry["type"] = "http"
        if "auth" in entry and "authentication" not in entry:
            self.containers.rename(entry, "auth", "authentication")
        self._auth(entry)
        _text(entry, "namespace", "description")
        namespace = str(entry.get("namespace"))
        self._base_uri(entry)
        kept = self._kept_operations(entry)
        self._consumed_params(entry, strip=not kept)
        resources = _list(entry.get("resources"))
        for resource in list(resources):
            if not isinstance(resource, MutableMapping):
                continue
            _text(resource, "name", "path", "label", "description")
            _kebab(resource, "name")
            operations = _list(resource.get("operations"))
            kept_here = any(
                f"{namespace}.{op.get('name') or op.get('id')}" in kept for op in _entries(operations)
            )
            self._consumed_params(resource, strip=not kept_here)
            for operation in _entries(operations):
                name = operation.get("name") or operation.get("id")
                self._consumed_operation(operation, strip=f"{namespace}.{name}" not in kept)
            self._split_by_operation_path(resources, resource)

    def _kept_operations(self, entry: MutableMapping[str, Any]) -> set[str]:
        namespace = str(entry.get("namespace"))
        return {call for call in self.explicit.kept_extras if call.split(".", 1)[0] == namespace}

    def _base_uri(self, entry: MutableMapping[str, Any]) -> None:
        """``https://host/base/{tenant}``: the spec's ``baseUri`` has no placeholders; the path part
        moves to the front of every resource path (the URL the runtime builds is the same)."""
        base = entry.get("baseUri")
        if base is None:
            return
        base = entry["baseUri"] = str(base)
        scheme, sep, rest = base.partition("://")
        host, _, tail = rest.partition("/")
        if not sep or "{" not in tail or "{{" in host:
            return
        entry["baseUri"] = f"{scheme}://{host}"
        prefix = "/" + tail.rstrip("/")
        for resource in _entries(entry.get("resources")):
            resource["path"] = prefix + "/" + str(resource.get("path", "")).lstrip("/")

    def _consumed_params(self, owner: MutableMapping[str, Any], *, strip: bool) -> None:
        for param in _entries(owner.get("inputParameters")):
            _text(param, "name", "value")
            if "in" not in param:
                insert_after(param, "name", "in", "query")
            elif isinstance(param["in"], str):
                param["in"] = param["in"].strip().lower()
            if strip:
                for key in _CONSUMED_EXTRAS:
                    param.pop(key, None)
            else:
                _canonical_type(param)

    def _consumed_operation(self, operation: MutableMapping[str, Any], *, strip: bool) -> None:
        if "name" not in operation and "id" in operation:
            self.containers.rename(operation, "id", "name")
        _text(operation, "name", "label", "description", "outputSchema")
        _method(operation)
        if isinstance(operation.get("outputRawFormat"), str):
            operation["outputRawFormat"] = operation["outputRawFormat"].strip().lower()
        self._consumed_params(operation, strip=strip)
        for output in _entries(operation.get("outputParameters")):
            if "value" not in output and isinstance(output.get("mapping"), str):
                self.containers.rename(output, "mapping", "value")
            if isinstance(output.get("value"), str):
                output["value"] = _jsonpath(output["value"])
            _canonical_type(output)
            if output.get("type") not in _OUTPUT_TYPES:
                output["type"] = "string"  # informative only: the runtime projects by `value`
        if "body" in operation:
            self._body(operation)

    def _body(self, operation: MutableMapping[str, Any]) -> None:
        body = operation["body"]
        if body is None:
            del operation["body"]
        elif isinstance(body, MutableMapping):
            declared = body.get("type")
            if declared is None:
                if "data" in body:
                    insert_after(body, None, "type", "json")
                else:
                    wrapper = self.containers.mapping()
                    wrapper["type"] = "json"
                    wrapper["data"] = body
                    operation["body"] = wrapper
                return
            canonical = BODY_TYPES.get(str(declared).lower(), "json")
            if canonical == "raw":
                operation["body"] = body.get("data", "")
            else:
                body["type"] = canonical
        elif not isinstance(body, str):
            wrapper = self.containers.mapping()
            wrapper["type"] = "json"
            wrapper["data"] = body
            operation["body"] = wrapper

    def _split_by_operation_path(
        self, resources: MutableSequence[Any], resource: MutableMapping[str, Any]
    ) -> None:
        """An operation's own ``path`` (the dialect) is appended to its resource's: in the spec, that
        is another resource."""
        operations = _list(resource.get("operations"))
        moving = [op for op in _entries(operations) if op.get("path")]
        if not moving:
            return
        position = resources.index(resource)
        groups: dict[str, list[MutableMapping[str, Any]]] = {}
        for operation in moving:
            groups.setdefault(str(operation.pop("path")), []).append(operation)
            operations.remove(operation)
        taken = {str(r.get("name")) for r in _entries(resources)}
        for offset, (sub_path, group) in enumerate(groups.items(), start=1):
            split = self.containers.mapping()
            base_name = f"{resource.get('name') or 'resource'}-{_slug(sub_path)}"
            name, counter = base_name, 2
            while name in taken:
                name, counter = f"{base_name}-{counter}", counter + 1
            taken.add(name)
            split["name"] = name
            split["path"] = str(resource.get("path", "")).rstrip("/") + "/" + sub_path.lstrip("/")
            if resource.get("inputParameters"):
                split["inputParameters"] = resource["inputParameters"]
            split["operations"] = self.containers.sequence()
            split["operations"].extend(group)
            resources.insert(position + offset, split)
        if not operations:
            resources.remove(resource)

    def _auth(self, owner: MutableMapping[str, Any]) -> None:
        auth = owner.get("authentication")
        if not isinstance(auth, MutableMapping):
            return
        declared = str(auth.get("type", "")).strip()
        canonical = AUTH_TYPES.get(declared.lower())
        if canonical is None:
            self.note(
                f"authentication type {declared!r} has no spec form and is not served by this runtime; "
                "kept as written"
            )
            return
        auth["type"] = canonical
        if canonical == "apikey":
            if "key" not in auth:
                for alias in ("name", "header"):
                    if alias in auth:
                        self.containers.rename(auth, alias, "key")
                        break
            if "placement" not in auth and "in" in auth:
                self.containers.rename(auth, "in", "placement")
            if isinstance(auth.get("placement"), str):
                auth["placement"] = auth["placement"].lower()
        if canonical == "oauth2" and isinstance(auth.get("scopes"), str):
            scopes = self.containers.sequence()
            scopes.extend(auth["scopes"].split())
            auth["scopes"] = scopes
        _text(auth, "username", "password", "token", "value", "key")

    # -- exposes -----------------------------------------------------------------------------------

    def _expose(self, expose: MutableMapping[str, Any], path: DocPath) -> None:
        kind = str(expose.get("type", "")).lower()
        expose["type"] = kind
        if isinstance(expose.get("port"), str) and expose["port"].strip().isdigit():
            expose["port"] = int(expose["port"])
        _text(expose, "namespace", "address", "description")
        if "auth" in expose and "authentication" not in expose:
            self.containers.rename(expose, "auth", "authentication")
        self._auth(expose)
        namespace = str(expose.get("namespace"))
        if kind == "rest":
            self._rest(expose, path, namespace)
        elif kind == "mcp":
            self._mcp(expose, path, namespace)
        elif kind == "skill":
            self._skill(expose)

    def _rest(self, expose: MutableMapping[str, Any], path: DocPath, namespace: str) -> None:
        if "description" in expose:
            text = str(expose.pop("description"))
            comment_before(
                expose, "resources" if "resources" in expose else "namespace", f"description: {text}"
            )
            self.note(
                f"{namespace}: a REST adapter has no `description` in the spec; kept as a comment (the "
                "OpenAPI description now comes from info.description)"
            )
        shared = expose.pop("inputParameters", None)
        resources = _list(expose.get("resources"))
        for r_index, resource in enumerate(list(resources)):
            if not isinstance(resource, MutableMapping):
                continue
            _text(resource, "path", "name", "label", "description")
            _kebab(resource, "name")
            if shared:
                merged = self.containers.sequence()
                merged.extend([*shared, *_list(resource.get("inputParameters"))])
                resource["inputParameters"] = merged
            self._exposed_params(resource)
            forward = resource.get("forward")
            if isinstance(forward, MutableMapping) and isinstance(forward.get("trustedHeaders"), str):
                headers = self.containers.sequence()
                headers.append(forward["trustedHeaders"])
                forward["trustedHeaders"] = headers
            for o_index, operation in enumerate(_list(resource.get("operations"))):
                if not isinstance(operation, MutableMapping):
                    continue
                if "name" not in operation and "id" in operation:
                    self.containers.rename(operation, "id", "name")
                _method(operation)
                opath = (*path, "resources", r_index, "operations", o_index)
                self._declare(operation, opath, rest=True)
                self._exposed_params(operation)
                self._unit(operation, namespace)
            self._split_by_operation_path(resources, resource)

    def _exposed_params(self, owner: MutableMapping[str, Any]) -> None:
        for param in _entries(owner.get("inputParameters")):
            _text(param, "name", "description", "pattern", "value")
            if "in" not in param:
                insert_after(param, "name", "in", "body")
            elif isinstance(param["in"], str):
                param["in"] = param["in"].strip().lower()
            _canonical_type(param)
            if "type" not in param:
                insert_after(param, "in", "type", "string")
            if "description" not in param:
                insert_after(param, "type", "description", "")
            if "required" in param:
                required = param.pop("required")
                if bool(required) != (param.get("in") == "path"):
                    self.note(
                        f"REST parameter {param.get('name')!r}: exposed parameters have no `required` in the "
                        f"spec; `required: {str(required).lower()}` dropped"
                    )

    def _mcp(self, expose: MutableMapping[str, Any], path: DocPath, namespace: str) -> None:
        if isinstance(expose.get("transport"), str):
            expose["transport"] = expose["transport"].strip().lower()
        for index, tool in enumerate(_list(expose.get("tools"))):
            if not isinstance(tool, MutableMapping):
                continue
            self._callable(tool, (*path, "tools", index), namespace)
            hints = tool.get("hints")
            if isinstance(hints, MutableMapping):
                self._hints(hints)
        for resource in _entries(expose.get("resources")):
            self._unit(resource, namespace)
            _text(resource, "name", "uri", "mimeType")
            _labelled(resource)
        for prompt in _entries(expose.get("prompts")):
            if "messages" in prompt and "template" not in prompt:
                self.containers.rename(prompt, "messages", "template")
            _text(prompt, "name", "label", "description")
            _labelled(prompt)
            for argument in _entries(prompt.get("arguments")):
                _text(argument, "name", "label", "description")
                if "description" not in argument:
                    insert_after(argument, "name", "description", "")
            for message in _entries(prompt.get("template")):
                content = message.get("content")
                if isinstance(content, MutableMapping) and "text" in content:
                    message["content"] = content["text"]
                self._unit(message, namespace)

    def _hints(self, hints: MutableMapping[str, Any]) -> None:
        for key in list(hints):
            if key.endswith("Hint") and key[:-4] in _HINTS and key[:-4] not in hints:
                self.containers.rename(hints, key, key[:-4])
                key = key[:-4]
            value = hints[key]
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                hints[key] = value.strip().lower() == "true"
            elif not isinstance(value, bool):
                del hints[key]  # the reader ignored it too

    def _tool_params(self, unit: MutableMapping[str, Any]) -> None:
        for param in _entries(unit.get("inputParameters")):
            _text(param, "name", "description")
            _canonical_type(param)
            if "type" not in param:
                insert_after(param, "name", "type", "string")
            if "description" not in param:
                insert_after(param, "type", "description", "")

    def _skill(self, expose: MutableMapping[str, Any]) -> None:
        for skill in _entries(expose.get("skills")):
            allowed = skill.get("allowed-tools")
            if isinstance(allowed, MutableSequence):
                skill["allowed-tools"] = " ".join(str(a) for a in allowed)
            if "description" not in skill:
                insert_after(skill, "name", "description", "")
            for tool in _entries(skill.get("tools")):
                source = tool.get("from")
                if (
                    isinstance(source, MutableMapping)
                    and "sourceNamespace" not in source
                    and "namespace" in source
                ):
                    self.containers.rename(source, "namespace", "sourceNamespace")
                    if "name" in source:
                        self.containers.rename(source, "name", "action")
                    else:
                        source["action"] = tool.get("name")
                if "description" not in tool:
                    insert_after(tool, "name", "description", "")

    def _aggregate(self, aggregate: MutableMapping[str, Any], path: DocPath) -> None:
        namespace = str(aggregate.get("namespace"))
        if "label" not in aggregate:
            insert_after(aggregate, None, "label", namespace)
        for index, function in enumerate(_list(aggregate.get("functions"))):
            if isinstance(function, MutableMapping):
                self._callable(function, (*path, "functions", index), namespace)

    def _callable(self, unit: MutableMapping[str, Any], path: DocPath, own: str) -> None:
        """An MCP tool or an aggregate function: typed inputs, wiring, a description (a `ref` tool
        has its function's)."""
        self._declare(unit, path, rest=False)
        self._tool_params(unit)
        self._unit(unit, own)
        if "description" not in unit and not unit.get("ref"):
            insert_after(unit, "name", "description", "")

    # -- units -------------------------------------------------------------------------------------

    def _declare(self, unit: MutableMapping[str, Any], path: DocPath, *, rest: bool) -> None:
        """The inputs the runtime inferred, declared where the spec puts them."""
        inputs = self.explicit.inputs.get(path)
        if not inputs:
            return
        declared = self.containers.sequence()
        locations = self.explicit.locations.get(path, {}) if rest else None
        for spec in inputs:
            declared.append(self._param(spec, locations))
        after = "description" if "description" in unit else ("name" if "name" in unit else None)
        insert_after(unit, after, "inputParameters", declared)
        self._drop_unread_with(unit, {canonical(spec.name) for spec in inputs})

    def _drop_unread_with(self, unit: MutableMapping[str, Any], names: set[str]) -> None:
        """A ``with`` entry reading an input the unit does not take (the consumer's authentication
        supplies that parameter: the runtime never asked for it) reads nothing once inputs are
        declared, and the spec refuses it."""
        values = unit.get("with")
        if not isinstance(values, MutableMapping):
            return
        prefixes = DIALECT_REF_PREFIXES | self.namespaces
        for key, value in list(values.items()):
            reference = REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
            if reference and reference["prefix"] in prefixes and canonical(reference["name"]) not in names:
                del values[key]
                self.note(
                    f"`with: {{{key}: {value}}}` read an input the unit does not take (its consumed "
                    "operation's authentication supplies it); removed"
                )

    def _param(self, spec: InputSpec, locations: dict[str, str] | None) -> MutableMapping[str, Any]:
        """``locations``: a REST unit's, where its request carries each input (None: not REST)."""
        rest = locations is not None
        param = self.containers.mapping()
        param["name"] = spec.name
        if locations is not None:
            param["in"] = locations.get(spec.name, "query")
        param["type"] = spec.type or "string"
        param["description"] = spec.description or ""
        if rest:
            if spec.pattern:
                param["pattern"] = spec.pattern
        else:
            param["required"] = bool(spec.required)
        return param

    def _unit(self, unit: MutableMapping[str, Any], own: str) -> None:
        _text(unit, "name", "label", "description", "call", "ref")
        for key in ("call", "ref"):
            if isinstance(unit.get(key), str):
                unit[key] = unit[key].strip()
        if isinstance(unit.get("with"), MutableMapping):
            self._with(unit["with"], own)
        for step in _entries(unit.get("steps")):
            self._step(step, own)
        for mapping in _entries(unit.get("mappings")):
            if isinstance(mapping.get("value"), str):
                mapping["value"] = _jsonpath(mapping["value"])
        outputs = unit.get("outputParameters")
        if isinstance(outputs, MutableSequence):
            for output in _entries(outputs):
                self._output(output)
            if not outputs_are_named(unit):
                self._unnamed_outputs(unit)
                self._whole_answer(unit)
                for output in _entries(unit.get("outputParameters")):
                    self._object_properties(output)
            else:
                for output in _entries(outputs):
                    self._orchestrated(output)

    def _with(self, values: MutableMapping[str, Any], own: str) -> None:
        prefixes = DIALECT_REF_PREFIXES | self.namespaces | {own}
        for key, value in list(values.items()):
            if not isinstance(value, str):
                if not isinstance(value, int | float) or isinstance(value, bool):
                    self.note(
                        f"`with: {{{key}: …}}` holds a {type(value).__name__}; the spec says text or number"
                    )
                continue
            text = value.strip()
            wrapped = WRAPPED_PATH.fullmatch(text)
            if wrapped:
                values[key] = wrapped.group(1).strip()
                continue
            reference = REFERENCE.fullmatch(text)
            if (
                reference
                and "{{" not in text
                and reference["prefix"] in prefixes
                and reference["prefix"] != own
            ):
                values[key] = f"{own}.{reference['name']}"

    def _step(self, step: MutableMapping[str, Any], own: str) -> None:
        if "type" not in step:
            inferred = step_type(step)
            if inferred:
                insert_after(step, "name", "type", inferred)
        elif isinstance(step["type"], str):
            step["type"] = step["type"].strip().lower()
        _text(step, "name", "call", "index", "match", "lookupValue", "file")
        if isinstance(step.get("with"), MutableMapping):
            self._with(step["with"], own)
        outputs = step.get("outputParameters")
        if isinstance(outputs, MutableSequence):
            for index, item in enumerate(outputs):
                if isinstance(item, MutableMapping):
                    outputs[index] = item.get("name")

    def _output(self, output: MutableMapping[str, Any]) -> None:
        mapping = output.get("mapping")
        if isinstance(mapping, MutableMapping):  # `mapping: {properties|items: …}` → siblings
            inner = output.pop("mapping")
            for key in ("properties", "items", "type", "mapping"):
                if key in inner and key not in output:
                    output[key] = inner[key]
        if isinstance(output.get("mapping"), str):
            output["mapping"] = _jsonpath(output["mapping"])
        value = output.get("value")
        if isinstance(value, str) and "mapping" not in output:
            stripped = value.strip()
            if stripped.startswith("$") or WRAPPED_PATH.fullmatch(stripped):
                self.containers.rename(output, "value", "mapping")
                output["mapping"] = _jsonpath(stripped)
        _canonical_type(output)
        properties = output.get("properties")
        if isinstance(properties, MutableMapping):
            for name, child in list(properties.items()):
                if isinstance(child, MutableMapping):
                    self._output(child)
                elif isinstance(child, str):
                    inner = self.containers.mapping()
                    inner["mapping"] = _jsonpath(child)
                    properties[name] = inner
        items = output.get("items")
        if isinstance(items, MutableMapping):
            self._output(items)
        if output.get("type") is None:
            if isinstance(output.get("properties"), MutableMapping):
                insert_after(output, "name", "type", "object")
            elif isinstance(output.get("items"), MutableMapping | MutableSequence):
                insert_after(output, "name", "type", "array")

    def _unnamed_outputs(self, unit: MutableMapping[str, Any]) -> None:
        """A ``call`` maps its answer with unnamed outputs; several named ones are the object the
        runtime returned, keyed by their names."""
        outputs = unit["outputParameters"]
        named = [o for o in _entries(outputs) if "name" in o]
        if not named:
            return
        if len(outputs) == 1:
            del outputs[0]["name"]
            return
        whole = self.containers.mapping()
        whole["type"] = "object"
        whole["properties"] = self.containers.mapping()
        for index, output in enumerate(_entries(outputs)):
            key = output.pop("name", None) or _last_name(output.get("mapping"), index)
            whole["properties"][str(key)] = output
        outputs.clear()
        outputs.append(whole)

    def _whole_answer(self, unit: MutableMapping[str, Any]) -> None:
        """One ``{type: object, mapping: $}`` output is the answer as it is: no outputs at all."""
        outputs = unit["outputParameters"]
        if len(outputs) != 1 or not isinstance(outputs[0], MutableMapping):
            return
        output = outputs[0]
        shaping = {"properties", "items", "value", "const", "maxLength"} & output.keys()
        if not shaping and output.get("mapping") in ("$", "$.") and output.get("type") in (None, "object"):
            del unit["outputParameters"]

    def _object_properties(self, output: MutableMapping[str, Any]) -> None:
        """A mapped ``type: object`` has ``properties`` in the spec; none (``{}``) shapes nothing."""
        properties = output.get("properties")
        if output.get("type") == "object" and not isinstance(properties, MutableMapping):
            output["properties"] = self.containers.mapping()
        for child in (output.get("properties") or {}).values():
            if isinstance(child, MutableMapping):
                self._object_properties(child)
        if isinstance(output.get("items"), MutableMapping):
            self._object_properties(output["items"])

    def _orchestrated(self, output: MutableMapping[str, Any]) -> None:
        """Orchestrated outputs (and nested ones) carry a name; ``items`` describe each element's fields."""
        items = output.get("items")
        if isinstance(items, MutableMapping) and isinstance(items.get("properties"), MutableMapping):
            fields = self.containers.sequence()
            for name, child in items["properties"].items():
                fields.append(self.containers.with_name_first(child, "name", name))
            output["items"] = fields
        for child in _entries(
            output.get("items") if isinstance(output.get("items"), MutableSequence) else None
        ):
            self._orchestrated(child)
        properties = output.get("properties")
        if isinstance(properties, MutableMapping):
            for name, child in list(properties.items()):
                if isinstance(child, MutableMapping):
                    properties[name] = self.containers.with_name_first(child, "name", name)
                    self._orchestrated(properties[name])


# --- helpers --------------------------------------------------------------------------------------


def _list(value: Any) -> MutableSequence[Any]:
    return value if isinstance(value, MutableSequence) else []


def _entries(value: Any) -> list[MutableMapping[str, Any]]:
    return [item for item in _list(value) if isinstance(item, MutableMapping)]


def _labelled(entry: MutableMapping[str, Any]) -> None:
    """An MCP resource or prompt as the spec requires it: a ``label`` (its name, unless it has one)
    and a ``description`` (empty, unless it has one)."""
    if "label" not in entry:
        insert_after(entry, "name", "label", str(entry.get("name", "")))
    if "description" not in entry:
        insert_after(entry, "label", "description", "")


def _text(owner: MutableMapping[str, Any], *keys: str) -> None:
    """YAML reads `version: 1.0` or `name: 404` as numbers; text fields take them back as text."""
    for key in keys:
        value = owner.get(key)
        if value is not None and not isinstance(value, str | MutableMapping | MutableSequence):
            owner[key] = "true" if value is True else "false" if value is False else str(value)


def _canonical_type(owner: MutableMapping[str, Any]) -> None:
    declared = owner.get("type")
    if declared is not None:
        owner["type"] = PARAM_TYPES.get(str(declared).strip().lower(), "string")


def _method(owner: MutableMapping[str, Any]) -> None:
    method = str(owner.get("method") or "GET").strip().upper()
    if "method" in owner:
        owner["method"] = method
    else:
        insert_after(owner, "name", "method", method)


def _jsonpath(text: str) -> str:
    text = text.strip()
    wrapped = WRAPPED_PATH.fullmatch(text)
    return wrapped.group(1).strip() if wrapped else text


def _kebab(owner: MutableMapping[str, Any], key: str) -> None:
    """Resource names are identifiers (``^[a-zA-Z0-9-]+$``) that nothing refers to."""
    value = owner.get(key)
    if isinstance(value, str) and value and not all(c.isalnum() or c == "-" for c in value):
        owner[key] = _slug(value) or "resource"


def _slug(text: str) -> str:
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def _last_name(mapping: Any, index: int) -> str:
    text = str(mapping or "")
    name = text.rstrip("]'\"").split(".")[-1].split("[")[-1].strip("'\"")
    return name if name and name != "$" else f"value{index + 1}"
