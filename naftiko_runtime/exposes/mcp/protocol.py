"""The MCP method dispatcher: one JSON-RPC message in, one reply out, no state between messages.

Both protocol eras are served by the same object:

* the handshake era (2024-11-05 … 2025-11-25): ``initialize`` negotiates a version, later requests
  carry it in the ``MCP-Protocol-Version`` header (absent: 2025-03-26). Nothing is remembered
  between requests, so ``initialize`` is optional and any replica can answer anything.
* the 2026-07-28 revision: every request carries its envelope in ``params._meta``; the checks of
  that envelope (and, over HTTP, of its mirror headers) are the SDK's own classifier.

Everything that does not depend on a request (listings, ``initialize``, ``server/discover``) is
built once, validated against the SDK's per-version result schemas, and shared.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS, InboundLadderRejection, classify_inbound_request
from mcp_types import PROTOCOL_VERSION_META_KEY, SERVER_INFO_META_KEY
from mcp_types import methods as sdk_methods
from mcp_types.version import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    KNOWN_PROTOCOL_VERSIONS,
    LATEST_HANDSHAKE_VERSION,
    MODERN_PROTOCOL_VERSIONS,
)

from naftiko_runtime.engine.contract import Result
from naftiko_runtime.observability import tracing
from naftiko_runtime.observability.progress import unwatch, watch

from .catalog import McpCatalog, ToolEntry
from .jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    UNSUPPORTED_PROTOCOL_VERSION,
    RpcError,
    error_message,
    result_message,
)
from .news import LOG_LEVELS, CallNews, Channel
from .prompts import PromptIndex
from .resources import ResourceIndex
from .tools import describe_failure, failure, success, tool_descriptor, unencodable_argument

DEFAULT_HANDSHAKE_VERSION = "2025-03-26"  # what a header-less request means (streamable HTTP spec)
_LEGACY_SCHEMA_VERSION = LATEST_HANDSHAKE_VERSION  # one result schema covers every handshake version
_MODERN_VERSION = MODERN_PROTOCOL_VERSIONS[-1]
# What ``server/discover`` lists, and what an unsupported-version error names: the same list, so a
# client that retries with a version from the error is served (the handshake era's versions are
# negotiated by ``initialize``, not named here).
SUPPORTED_VERSIONS = list(MODERN_PROTOCOL_VERSIONS)
# The methods of the 2026-07-28 revision; the ones it removed (``initialize``, ``ping``,
# ``logging/setLevel``, ``resources/(un)subscribe``) answer 404 / -32601 there, as it says.
_MODERN_METHODS = frozenset(m for m, version in sdk_methods.CLIENT_REQUESTS if version == _MODERN_VERSION)
_CACHEABLE = frozenset(
    {
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
        "resources/read",
        "server/discover",
    }
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a transport sends back: a JSON-RPC message (``None`` for a notification) and, for
    HTTP, the status that goes with it."""

    message: dict[str, Any] | None
    status: int = 200


Handler = Callable[[dict[str, Any], Channel | None], Awaitable[dict[str, Any]]]


class McpProtocol:
    """Dispatches MCP messages for one catalog. Safe to share between tasks, connections, transports."""

    def __init__(self, catalog: McpCatalog, *, private: bool = False, list_changed: bool = False) -> None:
        """``list_changed``: the transport sends ``notifications/*/list_changed`` when the catalog
        is replaced (stdio, on reload), so the capabilities declare ``listChanged: true``."""
        self.catalog = catalog
        _unique("tool name", [entry.name for entry in catalog.tools])
        _unique("prompt name", [entry.name for entry in catalog.prompts])
        _unique("resource URI", [entry.uri for entry in catalog.resources])
        self._tools: dict[str, ToolEntry] = {entry.name: entry for entry in catalog.tools}
        self._resources = ResourceIndex(catalog.resources)
        self._prompts = PromptIndex(catalog.prompts)
        self._cache_scope = catalog.cache_scope or ("private" if private else "public")
        self._ttl_ms = catalog.ttl_ms

        # Every listing is served, empty when the document declares none: agent frameworks
        # (LangChain's and LlamaIndex's adapters, the Inspector CLI) list all three regardless and
        # fail on -32601. Logging: records of a call are sent when a request (or, on stdio, the
        # session) asks for them.
        capabilities: dict[str, Any] = {
            "logging": {},
            "tools": {"listChanged": list_changed},
            "resources": {"subscribe": False, "listChanged": list_changed},
            "prompts": {"listChanged": list_changed},
        }
        server_info: dict[str, Any] = {"name": catalog.server_name, "version": catalog.server_version}
        if catalog.title:
            server_info["title"] = catalog.title
        self._stamp = {SERVER_INFO_META_KEY: server_info}

        # Listings that never change are answered from ``self._legacy`` / ``self._modern``; the
        # handlers are for what depends on the request.
        self._handlers: dict[str, Handler] = {
            "ping": self._ping,
            "logging/setLevel": self._set_log_level,
            "tools/call": self._call_tool,
            "resources/list": self._list_resources,
            "resources/read": self._read_resource,
            "prompts/get": self._get_prompt,
        }
        static: dict[str, dict[str, Any]] = {
            "tools/list": {"tools": [tool_descriptor(entry) for entry in catalog.tools]},
            "resources/templates/list": {"resourceTemplates": self._resources.list_templates()},
            "prompts/list": {"prompts": self._prompts.listing},
        }

        initialize: dict[str, Any] = {"capabilities": capabilities, "serverInfo": server_info}
        discover: dict[str, Any] = {
            "supportedVersions": SUPPORTED_VERSIONS,
            "capabilities": capabilities,
        }
        if catalog.instructions:
            initialize["instructions"] = discover["instructions"] = catalog.instructions
        # Validate (and normalise) once, against the SDK's result schema of each era: a catalog
        # the schema rejects fails here, at start-up, not in front of an agent.
        self._legacy = {m: _checked(m, _LEGACY_SCHEMA_VERSION, r) for m, r in static.items()}
        self._modern = {m: _checked(m, _MODERN_VERSION, self._modernize(m, r)) for m, r in static.items()}
        self._initialize = _checked(
            "initialize", _LEGACY_SCHEMA_VERSION, {"protocolVersion": "x", **initialize}
        )
        self._modern["server/discover"] = _checked(
            "server/discover", _MODERN_VERSION, self._modernize("server/discover", discover)
        )
        # The tracing hook: a server span per request, when this process traces (else unchanged).
        self.handle = tracing.mcp_spans(self.handle)  # type: ignore[method-assign,assignment]

    def lists(self) -> dict[str, Any]:
        """What a client lists (tools, resources, prompts): compared across a reload to know which
        ``notifications/*/list_changed`` to send."""
        return {
            "tools": self._legacy.get("tools/list"),
            "resources": (
                self._legacy.get("resources/templates/list"),
                [(entry.name, entry.uri) for entry in self.catalog.resources],
            ),
            "prompts": self._legacy.get("prompts/list"),
        }

    # --- entry point -----------------------------------------------------------------------------

    async def handle(
        self, message: Any, headers: Mapping[str, str] | None = None, channel: Channel | None = None
    ) -> Reply:
        """Answer one decoded JSON-RPC message.

        ``headers`` (lower-case names) are given by the HTTP transport and checked against the
        2026-07-28 envelope; stdio passes ``None``. ``channel`` carries the request's progress and
        log notifications (see :mod:`.news`), when the transport can send them before the reply.
        """
        if not isinstance(message, dict):
            # A batch, or a JSON scalar: MCP has no batches since 2025-06-18.
            return _reject(None, INVALID_REQUEST, "Invalid Request: expected a single JSON-RPC object")
        request_id = message.get("id")
        method = message.get("method")
        if message.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _reject(_safe_id(request_id), INVALID_REQUEST, "Invalid Request: jsonrpc must be '2.0'")
        header_version = headers.get("mcp-protocol-version") if headers is not None else None
        if header_version is not None and header_version not in KNOWN_PROTOCOL_VERSIONS:
            return _unsupported_version(_safe_id(request_id), header_version)
        if "id" not in message:
            return Reply(None, 202)  # notifications are accepted and dropped: no state to act on
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            return _reject(None, INVALID_REQUEST, "Invalid Request: id must be a string or an integer")
        params = message.get("params")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            return _reject(request_id, INVALID_PARAMS, "Invalid params: params must be an object")

        if header_version is None:
            # No header: stdio decides by the envelope; over HTTP it means the handshake era.
            modern = headers is None and _has_modern_envelope(params)
        else:
            modern = header_version in MODERN_PROTOCOL_VERSIONS
        session = channel.session if channel is not None else None
        if session is not None:
            if modern:
                session.modern = True
            elif method == "initialize" and session.modern:
                # A connection that has spoken the 2026-07-28 revision stays in it. A client whose
                # ``server/discover`` timed out while this process was starting falls back to
                # ``initialize``; naming the modern versions here tells it to probe again.
                requested = params.get("protocolVersion")
                return _unsupported_version(request_id, requested if isinstance(requested, str) else None)
        if modern:
            return await self._handle_modern(request_id, method, params, message, headers, channel)
        return await self._handle_legacy(request_id, method, params, channel)

    # --- eras ------------------------------------------------------------------------------------

    async def _handle_legacy(
        self, request_id: Any, method: str, params: dict[str, Any], channel: Channel | None
    ) -> Reply:
        if method == "initialize":
            requested = params.get("protocolVersion")
            version = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
            return Reply(result_message(request_id, {**self._initialize, "protocolVersion": version}))
        cached = self._legacy.get(method)
        if cached is not None:
            return Reply(result_message(request_id, cached))
        handler = self._handlers.get(method)
        if handler is None:
            return Reply(error_message(request_id, _method_not_found(method)))
        try:
            return Reply(result_message(request_id, await handler(params, channel)))
        except RpcError as error:
            return Reply(error_message(request_id, error))

    async def _handle_modern(
        self,
        request_id: Any,
        method: str,
        params: dict[str, Any],
        message: dict[str, Any],
        headers: Mapping[str, str] | None,
        channel: Channel | None,
    ) -> Reply:
        verdict = classify_inbound_request(message, headers=headers)
        if isinstance(verdict, InboundLadderRejection):
            return _reject(request_id, verdict.code, verdict.message, verdict.data)
        cached = self._modern.get(method)
        if cached is not None:
            return Reply(result_message(request_id, cached))
        handler = self._handlers.get(method) if method in _MODERN_METHODS else None
        if handler is None:
            return _reject(request_id, METHOD_NOT_FOUND, f"Method not found: {method}")
        try:
            result = await handler(params, channel)
        except RpcError as error:
            return _reject(request_id, error.code, error.message, error.data)
        return Reply(result_message(request_id, self._modernize(method, result)))

    def _modernize(self, method: str, result: dict[str, Any]) -> dict[str, Any]:
        """2026-07-28 results say what they are, carry cache hints when cacheable, and identify the server."""
        out = {**result, "resultType": "complete", "_meta": self._stamp}
        if method in _CACHEABLE:
            # Listings come from the document, so they never vary by caller; but with
            # authentication on, a shared cache must still not serve them across credentials,
            # unless the document says otherwise (`ttlMs`, `cacheScope`).
            out["ttlMs"] = self._ttl_ms
            out["cacheScope"] = self._cache_scope
        return out

    # --- methods ---------------------------------------------------------------------------------

    async def _ping(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        return {}

    async def _set_log_level(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        """Remembered by a stdio session; over HTTP there is no session to remember it in, so it is
        acknowledged and a request asks for its own records (``_meta`` logLevel)."""
        level = params.get("level")
        if level not in LOG_LEVELS:
            raise RpcError(INVALID_PARAMS, f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}")
        if channel is not None and channel.session is not None:
            channel.session.log_level = level
        return {}

    async def _call_tool(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        name = params.get("name")
        if not isinstance(name, str) or not name:
            raise RpcError(INVALID_PARAMS, "Invalid params: name is required")
        entry = self._tools.get(name)
        if entry is None:
            raise RpcError(INVALID_PARAMS, f"Invalid params: Unknown tool: {name}")
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            raise RpcError(INVALID_PARAMS, "Invalid params: arguments must be an object")
        unencodable = unencodable_argument(arguments)
        if unencodable is not None:
            raise RpcError(
                INVALID_PARAMS,
                f"Invalid params: argument {unencodable!r} is not valid Unicode (a lone UTF-16 surrogate)",
            )
        news = CallNews.for_call(channel, name, params)
        if news is not None:
            return await self._call_watched(entry, arguments, news)
        try:
            # Only the arguments cross into the engine: no request header (the agent's own
            # Authorization included) can reach an upstream from here.
            result = await entry.invocable.invoke(arguments)
        except Exception as exc:
            return failure(describe_failure(exc, name))
        return self._tool_result(entry, result)

    async def _call_watched(
        self, entry: ToolEntry, arguments: dict[str, Any], news: CallNews
    ) -> dict[str, Any]:
        """A call whose client asked for progress or log records of it."""
        news.begin()
        token = watch(news)
        try:
            result = await entry.invocable.invoke(arguments)
        except Exception as exc:
            reason = describe_failure(exc, entry.name)
            news.end(reason)
            return failure(reason)
        finally:
            unwatch(token)
        news.end(None)
        return self._tool_result(entry, result)

    def _tool_result(self, entry: ToolEntry, result: Result) -> dict[str, Any]:
        name = entry.name
        if type(result.value) is bytes:
            media = getattr(entry.invocable, "media_type", None) or result.content_type
            uri = f"naftiko://transient/{self.catalog.server_name}/{name}/{uuid.uuid4()}"
            return success(Result(result.value, result.status, media), transient_uri=uri)
        return success(result, budget=self.catalog.result_budget, entry=entry)

    async def _list_resources(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        return {"resources": await self._resources.list_resources()}

    async def _read_resource(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        uri = params.get("uri")
        if not isinstance(uri, str) or not uri:
            raise RpcError(INVALID_PARAMS, "Invalid params: uri is required")
        return await self._resources.read(uri)

    async def _get_prompt(self, params: dict[str, Any], channel: Channel | None) -> dict[str, Any]:
        return await self._prompts.get(params.get("name"), params.get("arguments"))


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate MCP {what}: {value!r}")
        seen.add(value)


def _checked(method: str, version: str, result: dict[str, Any]) -> dict[str, Any]:
    return sdk_methods.serialize_server_result(method, version, result)


def _has_modern_envelope(params: dict[str, Any]) -> bool:
    meta = params.get("_meta")
    return isinstance(meta, dict) and PROTOCOL_VERSION_META_KEY in meta


def _safe_id(value: Any) -> Any:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _method_not_found(method: str) -> RpcError:
    return RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")


def _unsupported_version(request_id: Any, requested: str | None) -> Reply:
    """-32022, naming the versions a client may use instead (and the one it asked for, if any)."""
    data: dict[str, Any] = {"supported": SUPPORTED_VERSIONS}
    if requested is not None:
        data["requested"] = requested
    return _reject(request_id, UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version", data)


def _reject(request_id: Any, code: int, message: str, data: Any = None) -> Reply:
    """An error with the HTTP status the streamable-HTTP spec maps to its code (400, 404)."""
    error = RpcError(code, message, data)
    return Reply(error_message(request_id, error), ERROR_CODE_HTTP_STATUS.get(code, 200))
