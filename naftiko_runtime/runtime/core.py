"""A capability wired for running: binds resolved, consumed calls compiled, every unit built.

``Runtime.build(document)`` does all the work that does not depend on a request, once. Adapters
(REST, MCP, skill, control) and ``naftiko call`` read what they need from it; nothing here knows
about a protocol.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..binds import BindValues, Redactor, Secret, resolve_binds
from ..consumes.forward import Forwarder
from ..consumes.namespace import ConsumedNamespace
from ..consumes.operation import ConsumedCall
from ..consumes.transport import ClientPool, TransportSettings
from ..engine.contract import Invocable, Result
from ..engine.orchestration import ScriptSettings
from ..engine.plans import (
    AdapterContext,
    DynamicResource,
    McpPlan,
    PromptPlan,
    RestForward,
    RestPlan,
    RestRoute,
    Role,
    SkillPlan,
)
from ..engine.units import Unit
from ..errors import NaftikoError
from ..exposes.origin import BrowserPolicy
from ..expressions import MissingVariable
from ..expressions.names import placeholder_names
from ..spec import Document
from ..spec.models import (
    AggregateFunction,
    AuthBasic,
    AuthDigest,
    ConsumesHttp,
    ControlExpose,
    ForwardConfig,
    McpExpose,
    RestExpose,
    SkillExpose,
)
from ..spec.models.base import parse_binary_size
from ..spec.models.control import ScriptingManagement
from ..spec.variables import bind_text
from .units import UnitFactory

log = logging.getLogger("naftiko.runtime")


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run a document on this machine (none of it is in the document)."""

    base_uris: Mapping[str, str] = field(default_factory=dict)  # consumed namespace → baseUri override
    environ: Mapping[str, str] | None = None  # for environment binds; default os.environ
    transport: TransportSettings = field(default_factory=TransportSettings)
    unit_deadline_s: float = 60.0
    mcp_result_chars: int | None = 100_000  # an MCP tool result's budget (exposes/mcp/budget.py)
    # Browsers every HTTP adapter admits (exposes/origin.py): None is the default policy.
    allowed_origins: tuple[str, ...] | None = None
    allowed_hosts: tuple[str, ...] | None = None
    # management.scripting keys (schema spelling) changed for this process by PUT /scripting.
    scripting_overrides: Mapping[str, Any] = field(default_factory=dict)

    def browser_policy(self) -> BrowserPolicy:
        return BrowserPolicy(self.allowed_origins, self.allowed_hosts)


class UnknownTarget(NaftikoError):
    def __init__(self, target: str, candidates: list[str]) -> None:
        self.target = target
        self.candidates = candidates
        listing = ", ".join(candidates[:30]) + (", …" if len(candidates) > 30 else "")
        super().__init__(f"no exposed unit or consumed operation named {target!r} (known: {listing})")


class AmbiguousTarget(NaftikoError):
    def __init__(self, target: str, candidates: list[str]) -> None:
        self.target = target
        self.candidates = candidates
        super().__init__(
            f"{target!r} names {len(candidates)} units: {', '.join(candidates)}; give the qualified name"
        )


_KINDS = {
    "tool": "MCP tool",
    "rest": "REST operation",
    "function": "function",
    "operation": "consumed operation",
}


class Runtime:
    """Everything needed to serve one capability document."""

    def __init__(
        self,
        document: Document,
        binds: BindValues,
        options: RuntimeOptions,
        pool: ClientPool | None = None,
    ) -> None:
        self.document = document
        self.binds = binds
        self.options = options
        self.base_dir = Path(document.source_file).parent if document.source_file else Path.cwd()
        self.pool = pool or ClientPool(options.transport)  # a reload passes one holding kept clients
        self.secrets = binds.secrets() + _credential_pairs(document, binds)
        redactor = Redactor(self.secrets)  # an upstream may echo a credential in its error
        self.calls: dict[str, ConsumedCall] = {}
        self._namespaces: dict[str, ConsumedNamespace] = {}
        for consumes in document.all_consumes:
            for resource in consumes.resources:
                for operation in resource.operations:
                    namespace = self._namespace(consumes)
                    self.calls[f"{consumes.namespace}.{operation.name}"] = ConsumedCall(
                        consumes,
                        resource,
                        operation,
                        binds=binds,
                        client=namespace.client,
                        authenticator=namespace.authenticator,
                        base_uri=namespace.base_uri,
                        schema_dir=self.base_dir,
                        redactor=redactor,
                    )
        capability = document.capability
        functions: dict[str, AggregateFunction] = {}
        for aggregate in capability.aggregates if capability else ():
            for function in aggregate.functions:
                functions[f"{aggregate.namespace}.{function.name}"] = function
        exposes = capability.exposes if capability else ()
        self.control: ControlExpose | None = next((e for e in exposes if isinstance(e, ControlExpose)), None)
        self.scripting = _script_settings(
            self.control, self.base_dir, options.environ, options.scripting_overrides
        )
        self.factory = UnitFactory(
            self.calls, functions, binds, deadline_s=options.unit_deadline_s, scripting=self.scripting
        )
        self.functions = {ref: self.factory.function(ref.split(".", 1)[0], f) for ref, f in functions.items()}
        self.rest: list[RestPlan] = []
        self.mcp: list[McpPlan] = []
        for expose in exposes:
            if isinstance(expose, RestExpose):
                self.rest.append(self._rest(expose))
            elif isinstance(expose, McpExpose):
                self.mcp.append(self._mcp(expose))
        # A skill's derived tools point at the units of its sibling REST and MCP adapters.
        self.skills = [
            SkillPlan(expose, tuple(self.rest), tuple(self.mcp))
            for expose in exposes
            if isinstance(expose, SkillExpose)
        ]
        info = document.info
        self.context = AdapterContext(
            binds=binds,
            base_dir=self.base_dir,
            title=document.title,
            description=info.description if info else None,
            version=info.version if info else None,
            spec_version=document.spec_version,
            allowed_origins=options.allowed_origins,
            allowed_hosts=options.allowed_hosts,
            mcp_result_chars=options.mcp_result_chars,
            forwarder=self._forwarder,
        )
        self._consumed_units: dict[str, Unit] = {}

    @classmethod
    def build(
        cls, document: Document, options: RuntimeOptions | None = None, pool: ClientPool | None = None
    ) -> Runtime:
        """Resolve binds (a missing value raises :class:`~naftiko_runtime.errors.BindError`) and compile."""
        options = options or RuntimeOptions()
        base_dir = Path(document.source_file).parent if document.source_file else None
        binds = resolve_binds(document.all_binds, base_dir, options.environ)
        runtime = cls(document, binds, options, pool)
        for call in runtime.calls.values():
            if call.unusable is not None:
                raise NaftikoError(call.unusable)
        return runtime

    @classmethod
    def for_reading(cls, document: Document) -> Runtime:
        """The document's units with every bind left empty: what tools that describe or rewrite a
        document without serving it (inspect, export, migrate) read. Never for calling upstreams."""
        return cls(document, BindValues.placeholders(document.all_binds), RuntimeOptions())

    # -- adapters ----------------------------------------------------------------------------------

    def _rest(self, expose: RestExpose) -> RestPlan:
        plan = RestPlan(expose)
        cap = _binary_bytes(expose.max_binary_size)
        for resource in expose.resources:
            for operation in resource.operations:
                path = resource.path + (operation.path or "")
                unit, inputs = self.factory.rest_operation(
                    expose.namespace,
                    path,
                    [*expose.input_parameters, *resource.input_parameters],
                    operation,
                    placeholder_names(path),
                    max_binary_bytes=cap,
                )
                plan.routes.append(
                    RestRoute(
                        path,
                        operation.method,
                        unit,
                        resource,
                        operation,
                        binary_media_type=unit.binary_media_type,
                        answers_nothing=unit.answers_nothing,
                        inputs=inputs,
                    )
                )
            if resource.forward is not None:
                target = self.document.find_consumes(resource.forward.target_namespace)
                base = self.options.base_uris.get(resource.forward.target_namespace) or (
                    target.base_uri if target else ""
                )
                plan.forwards.append(RestForward(resource.path, resource.forward, base))
        return plan

    def _namespace(self, spec: ConsumesHttp) -> ConsumedNamespace:
        """The namespace's one client, authenticator and base URI, built when first needed."""
        found = self._namespaces.get(spec.namespace)
        if found is None:
            found = self._namespaces[spec.namespace] = ConsumedNamespace.build(
                spec, self.pool.client(spec.namespace), self.binds, self.options.base_uris.get(spec.namespace)
            )
        return found

    def _forwarder(self, operation: str, forward: ForwardConfig, base_uri: str) -> Forwarder:
        """A ``forward`` resource's forwarder, sharing its target namespace's client and
        authenticator with the namespace's operations."""
        spec = self.document.find_consumes(forward.target_namespace)
        target = self._namespace(spec) if spec is not None else None
        return Forwarder(
            operation=operation,
            base_uri=base_uri,
            trusted_headers=forward.trusted_headers,
            client=target.client if target else self.pool.client(forward.target_namespace),
            binds=self.binds,
            consumes=spec,
            authenticator=target.authenticator if target else None,
        )

    def _mcp(self, expose: McpExpose) -> McpPlan:
        plan = McpPlan(expose)
        cap = _binary_bytes(expose.max_binary_size)
        plan.tools = [
            self.factory.tool(expose.namespace, tool, max_binary_bytes=cap) for tool in expose.tools
        ]
        for resource in expose.resources:
            if resource.location:
                plan.static_resources.append(resource)
                continue
            unit = self.factory.dynamic(
                expose.namespace,
                resource.name,
                "resource",
                call=resource.call,
                with_=resource.with_,
                steps=resource.steps,
                mappings=resource.mappings,
                outputs=resource.output_parameters,
                extra_inputs=placeholder_names(resource.uri),
                description=resource.description,
                max_binary_bytes=cap,
            )
            plan.dynamic_resources.append(DynamicResource(resource, unit))
        for prompt in expose.prompts:
            messages: list[tuple[Role, str | Invocable]] = []
            for index, message in enumerate(prompt.template):
                if message.call or message.steps:
                    unit = self.factory.dynamic(
                        expose.namespace,
                        f"{prompt.name}-message-{index + 1}",
                        "prompt",
                        call=message.call,
                        with_=message.with_,
                        steps=message.steps,
                        mappings=message.mappings,
                        outputs=message.output_parameters,
                    )
                    messages.append((message.role, unit))
                else:
                    messages.append((message.role, message.content or ""))
            plan.prompts.append(PromptPlan(prompt, tuple(messages)))
        return plan

    # -- finding and invoking ----------------------------------------------------------------------

    def units(self) -> list[Invocable]:
        """Every exposed unit, in document order (tools, REST operations, functions)."""
        out: list[Invocable] = []
        for plan in self.mcp:
            out += plan.tools
        for rest in self.rest:
            out += [route.unit for route in rest.routes]
        out += list(self.functions.values())
        return out

    def find(self, target: str) -> Invocable:
        """A unit by qualified name (``adapter.unit``, ``aggregate.function``, ``namespace.operation``)
        or by bare name: an exposed unit (MCP tool, REST operation), else an aggregate function
        (which the tools that ``ref`` it are named after). A name that several units answer to is
        :class:`AmbiguousTarget`, listing their qualified names: nothing is picked silently."""
        units = self.units()
        matches = [unit for unit in units if unit.qualified == target]
        if target in self.calls:
            if target not in self._consumed_units:
                self._consumed_units[target] = self.factory.consumed(target)
            matches.append(self._consumed_units[target])
        if not matches:
            named = [unit for unit in units if unit.name == target]
            matches = [unit for unit in named if unit.kind != "function"] or named
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousTarget(target, [f"{_KINDS.get(u.kind, u.kind)} {u.qualified}" for u in matches])
        names = sorted({u.name for u in units} | set(self.calls))
        raise UnknownTarget(target, names)

    async def invoke(self, target: str, arguments: Mapping[str, Any] | None = None) -> Result:
        """Invoke a unit by name (see :meth:`find`) with plain arguments."""
        return await self.find(target).invoke(arguments or {})

    def asgi_app(self, namespace: str, metrics: Any = None) -> Any:
        """The ASGI app of the adapter ``namespace`` (REST, MCP, control), to mount in any ASGI server."""
        from ..observability import Metrics
        from .apps import build_adapter

        capability = self.document.capability
        metrics = metrics or Metrics()
        metrics.watch_upstreams(self.pool.states)
        for expose in capability.exposes if capability else ():
            if getattr(expose, "namespace", expose.type) == namespace:
                built = build_adapter(self, expose, metrics, [self])
                if isinstance(built, str):
                    raise NaftikoError(f"adapter {namespace!r} cannot be served: {built}")
                return built[0]
        names = [getattr(e, "namespace", e.type) for e in (capability.exposes if capability else ())]
        raise UnknownTarget(namespace, names)

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _credential_pairs(document: Document, binds: BindValues) -> tuple[Secret, ...]:
    """``user:password`` of every basic and digest credential, consumed or exposed: what a
    redactor must also mask, as ``Authorization: Basic`` carries the pair's base64, not each value."""
    capability = document.capability
    auths = [c.authentication for c in document.all_consumes]
    auths += [getattr(e, "authentication", None) for e in (capability.exposes if capability else ())]
    pairs: list[Secret] = []
    for auth in auths:
        if isinstance(auth, (AuthBasic, AuthDigest)):
            try:
                pair = f"{bind_text(auth.username, binds)}:{bind_text(auth.password, binds)}"
            except MissingVariable:
                continue  # not a usable credential: the adapter or the call says so itself
            pairs.append(Secret(pair))
    return tuple(pairs)


def _binary_bytes(size: str | None) -> int | None:
    return parse_binary_size(size) if size else None


_SCRIPTING_FIELDS = {
    "enabled": "enabled",
    "timeout": "timeout",
    "statementLimit": "statement_limit",
    "defaultLocation": "default_location",
    "defaultLanguage": "default_language",
    "allowedLanguages": "allowed_languages",
}


def _script_settings(
    control: ControlExpose | None,
    base_dir: Path,
    environ: Mapping[str, str] | None,
    overrides: Mapping[str, Any] = {},
) -> ScriptSettings:
    scripting = control.management.scripting if control else None
    if overrides:
        changes = {_SCRIPTING_FIELDS[key]: value for key, value in overrides.items()}
        if "allowed_languages" in changes:
            changes["allowed_languages"] = tuple(changes["allowed_languages"])
        scripting = (scripting or ScriptingManagement()).model_copy(update=changes)
    # The environment handed to the runtime, like every other setting it reads; the process's without one.
    switch = (os.environ if environ is None else environ).get("NAFTIKO_SCRIPTING", "")
    enabled = switch.strip().lower() not in ("false", "0", "no")
    if scripting is None:
        return ScriptSettings(enabled=enabled, base_dir=base_dir)
    return ScriptSettings(
        enabled=enabled and scripting.enabled,
        timeout_ms=scripting.timeout,
        memory_mb=scripting.memory_limit_mb or 256,
        statement_limit=scripting.statement_limit,
        default_location=scripting.default_location,
        default_language=scripting.default_language,
        allowed_languages=scripting.allowed_languages,
        base_dir=base_dir,
    )
