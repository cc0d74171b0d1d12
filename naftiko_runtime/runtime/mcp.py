"""From a runtime's MCP plan to the MCP adapter's catalog and security, and the servers built on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from ..engine.plans import AdapterContext, McpPlan
from ..errors import AdapterConfigError
from ..exposes.auth import DigestAuth, inbound_auth
from ..exposes.mcp.catalog import (
    AuthConfig,
    DynamicResourceEntry,
    McpCatalog,
    McpSecurity,
    PromptArgument,
    PromptEntry,
    PromptMessageEntry,
    StaticResourceEntry,
    ToolEntry,
)
from ..locations import LocationError, resolve_location
from ..spec.models import AuthDigest, Authentication
from ..version import runtime_version
from .core import Runtime


def tool_entries(plan: McpPlan) -> list[ToolEntry]:
    """The tools ``tools/list`` publishes for ``plan`` (``naftiko inspect`` shows the same)."""
    return [ToolEntry(unit.name, unit.title, unit.description, unit, tags=unit.tags) for unit in plan.tools]


def catalog(plan: McpPlan, context: AdapterContext) -> McpCatalog:
    expose = plan.expose
    tools = tool_entries(plan)
    resources: list[Any] = [
        StaticResourceEntry(
            r.name,
            r.uri.rstrip("/"),
            _directory(r.location or "", context.base_dir),
            r.label,
            r.description,
            r.mime_type,
        )
        for r in plan.static_resources
    ]
    resources += [
        DynamicResourceEntry(
            d.spec.name,
            d.spec.uri,
            d.unit,
            d.spec.label,
            d.spec.description,
            d.spec.mime_type or (None if d.spec.binary else "application/json"),
            d.spec.binary,
        )
        for d in plan.dynamic_resources
    ]
    prompts = [
        PromptEntry(
            p.spec.name,
            [
                PromptMessageEntry(role, text=content)
                if isinstance(content, str)
                else PromptMessageEntry(role, invocable=content)
                for role, content in p.messages
            ]
            or [PromptMessageEntry("user", text=_prompt_file(p.spec.location, context.base_dir))],
            p.spec.label,
            p.spec.description,
            [PromptArgument(a.name, a.label, a.description, a.required) for a in p.spec.arguments],
        )
        for p in plan.prompts
    ]
    return McpCatalog(
        server_name=expose.namespace,
        server_version=context.version or runtime_version(),
        title=context.title,
        instructions=expose.description,
        ttl_ms=expose.ttl_ms or 0,
        cache_scope=expose.cache_scope,
        result_budget=context.mcp_result_chars,
        tools=tools,
        resources=resources,
        prompts=prompts,
    )


def security(context: AdapterContext, auth: Authentication | None, namespace: str = "mcp") -> McpSecurity:
    """Adapter authentication with its secrets rendered from binds, once, by the pipeline and the
    policy every adapter shares (:func:`~naftiko_runtime.exposes.auth.inbound_auth`: empty refuses
    to start). Digest is not offered on MCP adapters."""
    checked: AuthConfig | None = None
    if auth is not None:
        where = f"MCP adapter {namespace}"
        inbound = None if isinstance(auth, AuthDigest) else inbound_auth(auth, context.binds, where)
        if inbound is None or isinstance(inbound, DigestAuth):
            raise AdapterConfigError(
                f"{where}: digest authentication is not supported on MCP adapters "
                "(bearer, apikey, basic and oauth2 are)"
            )
        checked = inbound
    return McpSecurity(checked, allowed_origins=context.allowed_origins, allowed_hosts=context.allowed_hosts)


def mcp_app(plan: McpPlan, context: AdapterContext) -> ASGIApp:
    from ..exposes.mcp.http import build_mcp_app

    expose = plan.expose
    return build_mcp_app(catalog(plan, context), security(context, expose.authentication, expose.namespace))


async def serve_stdio(runtime: Runtime, plan: McpPlan, *, reloads: Any = None) -> None:
    """The MCP adapter over stdin/stdout (no authentication: the client launched us).

    ``reloads`` (``runtime/reload.py``'s :class:`StdioReload` factory) rebuilds it on SIGHUP or
    file changes and tells the client which lists changed."""
    from ..exposes.mcp.stdio import StdioSession
    from ..exposes.mcp.stdio import serve_stdio as serve

    session = StdioSession(catalog(plan, runtime.context), list_changed=reloads is not None)
    reloader = reloads(session) if reloads is not None else None
    try:
        await serve(session)
    finally:
        if reloader is not None:
            await reloader.close()
        await runtime.aclose()


def _directory(location: str, base_dir: Path) -> Path:
    try:
        return resolve_location(location, base_dir).resolve()
    except LocationError as exc:
        raise AdapterConfigError(f"location {exc.reason}") from None


def _prompt_file(location: str | None, base_dir: Path) -> str:
    if not location:
        return ""
    try:
        return _directory(location, base_dir).read_text(encoding="utf-8")
    except OSError as exc:
        raise AdapterConfigError(f"prompt file {location}: {exc.strerror}") from None
