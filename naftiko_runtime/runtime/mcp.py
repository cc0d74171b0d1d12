"""From a runtime's MCP plan to the MCP adapter's catalog and security, and the servers built on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from ..binds import Secret
from ..errors import AdapterConfigError
from ..exposes.auth import adapter_credential
from ..exposes.mcp.catalog import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    DynamicResourceEntry,
    McpCatalog,
    McpSecurity,
    PromptArgument,
    PromptEntry,
    PromptMessageEntry,
    StaticResourceEntry,
    ToolEntry,
)
from ..exposes.oauth import oauth2_config
from ..locations import LocationError, resolve_location
from ..spec.models import AuthApiKey, AuthBasic, AuthBearer, Authentication, AuthOAuth2
from ..version import runtime_version
from .core import McpPlan, Runtime


def catalog(runtime: Runtime, plan: McpPlan) -> McpCatalog:
    expose = plan.expose
    tools = [ToolEntry(unit.name, unit.title, unit.description, unit, tags=unit.tags) for unit in plan.tools]
    resources: list[Any] = [
        StaticResourceEntry(
            r.name,
            r.uri.rstrip("/"),
            _directory(r.location or "", runtime.base_dir),
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
                if isinstance(content, str)  # type: ignore[arg-type]
                else PromptMessageEntry(role, invocable=content)
                for role, content in p.messages
            ]  # type: ignore[arg-type]
            or [PromptMessageEntry("user", text=_prompt_file(p.spec.location, runtime.base_dir))],
            p.spec.label,
            p.spec.description,
            [PromptArgument(a.name, a.label, a.description, a.required) for a in p.spec.arguments],
        )
        for p in plan.prompts
    ]
    info = runtime.document.info
    return McpCatalog(
        server_name=expose.namespace,
        server_version=(info.version if info and info.version else None) or runtime_version(),
        title=runtime.document.title,
        instructions=expose.description,
        ttl_ms=expose.ttl_ms or 0,
        cache_scope=expose.cache_scope,
        tools=tools,
        resources=resources,
        prompts=prompts,
    )


def security(runtime: Runtime, auth: Authentication | None, namespace: str = "mcp") -> McpSecurity:
    """Adapter authentication with its secrets rendered from binds, once, by the policy every adapter
    shares (:func:`~naftiko_runtime.exposes.auth.adapter_credential`: empty refuses to start)."""
    binds = runtime.binds
    where = f"MCP adapter {namespace}"
    browsers = {
        "allowed_origins": runtime.options.allowed_origins,
        "allowed_hosts": runtime.options.allowed_hosts,
    }

    def secret(template: str | None, field: str) -> Secret:
        return adapter_credential(template, binds, where, field)

    if auth is None:
        return McpSecurity(**browsers)
    if isinstance(auth, AuthBearer):
        return McpSecurity(auth=BearerAuth(secret(auth.token, "token")), **browsers)
    if isinstance(auth, AuthApiKey):
        key = auth.key or "X-API-Key"
        return McpSecurity(auth=ApiKeyAuth(key, secret(auth.value, "value"), auth.placement), **browsers)
    if isinstance(auth, AuthBasic):
        credentials = BasicAuth(secret(auth.username, "username"), secret(auth.password, "password"))
        return McpSecurity(auth=credentials, **browsers)
    if isinstance(auth, AuthOAuth2):
        try:
            return McpSecurity(auth=oauth2_config(auth, binds), **browsers)
        except ValueError as exc:
            raise AdapterConfigError(f"{where}: authentication {exc}") from None
    raise AdapterConfigError(
        f"{auth.type} authentication is not supported on MCP adapters (bearer, apikey, basic and oauth2 are)"
    )


def mcp_app(runtime: Runtime, plan: McpPlan) -> ASGIApp:
    from ..exposes.mcp.http import build_mcp_app

    expose = plan.expose
    return build_mcp_app(catalog(runtime, plan), security(runtime, expose.authentication, expose.namespace))


async def serve_stdio(runtime: Runtime, plan: McpPlan, *, reloads: Any = None) -> None:
    """The MCP adapter over stdin/stdout (no authentication: the client launched us).

    ``reloads`` (``runtime/reload.py``'s :class:`StdioReload` factory) rebuilds it on SIGHUP or
    file changes and tells the client which lists changed."""
    from ..exposes.mcp.stdio import StdioSession
    from ..exposes.mcp.stdio import serve_stdio as serve

    session = StdioSession(catalog(runtime, plan), list_changed=reloads is not None)
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
