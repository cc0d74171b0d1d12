"""From a runtime's MCP plan to the MCP adapter's catalog and security, and the servers built on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from ..binds import Secret
from ..errors import NaftikoError
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
from ..expressions import compile_template
from ..locations import LocationError, resolve_location
from ..spec.models import AuthApiKey, AuthBasic, AuthBearer, Authentication, AuthOAuth2
from ..version import runtime_version
from .core import McpPlan, Runtime


class AdapterConfigError(NaftikoError):
    """An adapter cannot be served as declared (its authentication cannot be enforced)."""


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


def security(runtime: Runtime, auth: Authentication | None) -> McpSecurity:
    """Adapter authentication with its secrets rendered from binds, once."""
    context = runtime.bind_context
    if auth is None:
        return McpSecurity()
    if isinstance(auth, AuthBearer):
        return McpSecurity(auth=BearerAuth(_secret(auth.token, context)))
    if isinstance(auth, AuthApiKey):
        return McpSecurity(
            auth=ApiKeyAuth(auth.key or "X-API-Key", _secret(auth.value, context), auth.placement)
        )
    if isinstance(auth, AuthBasic):
        return McpSecurity(auth=BasicAuth(_secret(auth.username, context), _secret(auth.password, context)))
    if isinstance(auth, AuthOAuth2):
        try:
            return McpSecurity(auth=oauth2_config(auth, context))
        except ValueError as exc:
            raise AdapterConfigError(f"{exc} on an MCP adapter") from None
    raise AdapterConfigError(
        f"{auth.type} authentication is not supported on MCP adapters (bearer, apikey, basic and oauth2 are)"
    )


def mcp_app(runtime: Runtime, plan: McpPlan) -> ASGIApp:
    from ..exposes.mcp.http import build_mcp_app

    return build_mcp_app(catalog(runtime, plan), security(runtime, plan.expose.authentication))


async def serve_stdio(runtime: Runtime, plan: McpPlan) -> None:
    """The MCP adapter over stdin/stdout (no authentication: the client launched us)."""
    from ..exposes.mcp.stdio import serve_stdio as serve

    try:
        await serve(catalog(runtime, plan))
    finally:
        await runtime.aclose()


def _secret(text: str | None, context: Any) -> Secret:
    template = compile_template(text or "")
    missing = [name for name in template.variables if _lookup(name, context) is None]
    if missing:
        raise AdapterConfigError(f"adapter credential uses {', '.join(missing)}, which no bind declares")
    return Secret(template.render(context))


def _lookup(name: str, context: Any) -> Any:
    if name in context:
        return context[name]
    head, _, rest = name.partition(".")
    inner = context.get(head)
    return inner.get(rest) if rest and hasattr(inner, "get") else None


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
