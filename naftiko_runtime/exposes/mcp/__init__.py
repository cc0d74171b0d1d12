"""MCP adapter: one ``type: mcp`` expose served over Streamable HTTP or stdio.

The runtime describes the expose as an :class:`McpCatalog` (tools, resources, prompts, each bound to
an engine ``Invocable``) and asks for a transport::

    app = build_mcp_app(catalog, McpSecurity(auth=BearerAuth(token)))   # ASGI, /mcp and /
    await serve_stdio(catalog)                                          # stdin/stdout
"""

from .catalog import (
    ApiKeyAuth,
    AuthConfig,
    BasicAuth,
    BearerAuth,
    DynamicResourceEntry,
    McpCatalog,
    McpSecurity,
    OAuth2Auth,
    PromptArgument,
    PromptEntry,
    PromptMessageEntry,
    ResourceEntry,
    SecretLike,
    StaticResourceEntry,
    ToolEntry,
)
from .http import build_mcp_app
from .protocol import McpProtocol
from .stdio import serve_stdio

__all__ = [
    "ApiKeyAuth",
    "AuthConfig",
    "BasicAuth",
    "BearerAuth",
    "DynamicResourceEntry",
    "McpCatalog",
    "McpProtocol",
    "McpSecurity",
    "OAuth2Auth",
    "PromptArgument",
    "PromptEntry",
    "PromptMessageEntry",
    "ResourceEntry",
    "SecretLike",
    "StaticResourceEntry",
    "ToolEntry",
    "build_mcp_app",
    "serve_stdio",
]
