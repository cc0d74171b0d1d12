"""Stand-ins for the engine while it is written in parallel — the ONLY engine-shaped code in tests/mcp.

Everything the MCP tests need from the engine comes from here:

* :class:`FakeInvocable` implements the ``Invocable`` contract (schema from ``InputSpec``s,
  validation before anything runs, a coroutine for the work).
* :class:`HttpOperation` is a tiny consumed operation: it sends a real HTTP request to an upstream
  (the tests' ``RecordingUpstream``) with the consumer's own credentials and maps failures to the
  runtime's errors, so the tests assert on what the upstream received.
* :func:`seed_catalog` is the MCP expose of ``capabilities/label-studio-runs.yaml`` as the runtime
  will build it; :func:`demo_catalog` adds resources and prompts; :func:`conformance_catalog` is
  what the official conformance suite looks for.

When the engine lands, replace these builders by ``runtime.build(load(...))`` of the same documents
and keep the tests.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from naftiko_runtime.engine.contract import Hints, InputSpec, Result
from naftiko_runtime.errors import (
    InputError,
    InputProblem,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from naftiko_runtime.exposes.mcp import (
    DynamicResourceEntry,
    McpCatalog,
    PromptArgument,
    PromptEntry,
    PromptMessageEntry,
    StaticResourceEntry,
    ToolEntry,
)

Runner = Callable[[dict[str, Any]], Awaitable[Result]]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class Secret:
    """A bind value: masked everywhere except ``reveal()``."""

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def schema_of(inputs: Sequence[InputSpec]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for spec in inputs:
        prop: dict[str, Any] = {"type": spec.type} if spec.type else {}
        if spec.description:
            prop["description"] = spec.description
        if spec.items is not None:
            prop["items"] = dict(spec.items)
        properties[spec.name] = prop
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    required = [spec.name for spec in inputs if spec.required]
    if required:
        schema["required"] = required
    return schema


def coerce(name: str, inputs: Sequence[InputSpec], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Required and typed, as the engine promises; integer-looking strings are accepted for integers."""
    problems: list[InputProblem] = []
    out: dict[str, Any] = {}
    declared = {spec.name: spec for spec in inputs}
    for spec in inputs:
        if arguments.get(spec.name) is None:
            if spec.required:
                problems.append(InputProblem(spec.name, "is required"))
            continue
        value = arguments[spec.name]
        if spec.type == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if spec.type is None:  # nothing declares a type: any JSON value
            out[spec.name] = value
            continue
        ok = isinstance(value, _JSON_TYPES[spec.type]) and not (
            isinstance(value, bool) and spec.type in ("integer", "number")
        )
        if not ok:
            problems.append(InputProblem(spec.name, f"must be of type {spec.type}"))
            continue
        out[spec.name] = value
    for extra, value in arguments.items():
        if extra not in declared:
            out[extra] = value
    if problems:
        raise InputError(problems, operation=name)
    return out


@dataclass
class FakeInvocable:
    """An ``Invocable`` whose work is ``runner(coerced_arguments)``; remembers what it was given."""

    name: str
    runner: Runner
    description: str | None = None
    title: str | None = None
    inputs: tuple[InputSpec, ...] = ()
    hints: Hints | None = None
    output_schema: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None  # an explicit input schema (else built from ``inputs``)
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.schema if self.schema is not None else schema_of(self.inputs)

    def coerce(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return coerce(self.name, self.inputs, arguments)

    async def invoke(self, arguments: Mapping[str, Any]) -> Result:
        values = self.coerce(arguments)
        self.calls.append(values)
        return await self.runner(values)


def constant(value: Any, content_type: str = "application/json") -> Runner:
    async def run(arguments: dict[str, Any]) -> Result:
        return Result(value=value, content_type=content_type)

    return run


def failing(exc: Exception) -> Runner:
    async def run(arguments: dict[str, Any]) -> Result:
        raise exc

    return run


@dataclass
class HttpOperation:
    """One consumed operation: ``method`` ``base_url + path`` with path/query/body from the arguments
    and the consumer's ``headers`` (its authentication). Nothing else reaches the upstream."""

    base_url: str
    method: str
    path: str
    query: tuple[str, ...] = ()
    body: str | None = None
    headers: Mapping[str, Secret] = field(default_factory=dict)
    timeout: float = 5.0
    client: httpx.AsyncClient | None = None

    async def __call__(self, arguments: dict[str, Any]) -> Result:
        path = self.path.format(**{k: v for k, v in arguments.items() if f"{{{k}}}" in self.path})
        params = {k: str(arguments[k]) for k in self.query if k in arguments}
        json_body = arguments.get(self.body) if self.body else None
        headers = {k: v.reveal() for k, v in self.headers.items()}
        operation = f"{self.method} {self.path}"
        if self.client is None:
            # One pool per operation for its lifetime, as the real consumer keeps one per namespace.
            self.client = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self.client.request(
                self.method, self.base_url + path, params=params, json=json_body, headers=headers
            )
        except httpx.TimeoutException:
            raise UpstreamTimeout(operation, self.timeout * 1000) from None
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(operation, type(exc).__name__) from None
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = response.text
        if response.status_code >= 400:
            raise UpstreamError(operation, response.status_code, data, response.headers.get("content-type"))
        return Result(value=data, status=response.status_code)


# --- the seed: capabilities/label-studio-runs.yaml, MCP expose --------------------------------------

SEED_NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs-mcp"
SEED_INSTRUCTIONS = (
    "MCP adapter for API Reference — subpackage_prompts.subpackage_prompts/runs. One tool per consumed "
    "operation, routed inline through this capability's consumes block."
)
_RUNS = "/api/prompts/{prompt_id}/versions/{version_id}/inference-runs"
_IDS = (
    InputSpec("prompt_id", "integer", required=True),
    InputSpec("version_id", "integer", required=True),
)


def seed_tools(upstream_url: str, api_key: str = "Token seed-secret-123") -> list[ToolEntry]:
    auth = {"Authorization": Secret(api_key)}
    list_inputs = (
        *_IDS,
        InputSpec("ordering", "string", description="Which field to use when ordering the results."),
        InputSpec("parent_model", "integer", description="The ID of the parent model for this Inference Run"),
        InputSpec(
            "project", "integer", description="The ID of the project this Inference Run makes predictions on"
        ),
        InputSpec("project_subset", "string", description="Defines which tasks are operated on"),
    )
    get_runs = FakeInvocable(
        "get-inference-run-info",
        HttpOperation(upstream_url, "GET", _RUNS, query=tuple(i.name for i in list_inputs[2:]), headers=auth),
        description="✨ Get inference run info",
        inputs=list_inputs,
        hints=Hints(read_only=True, destructive=False, idempotent=True),
    )
    run_inference = FakeInvocable(
        "run-prompt-inference",
        HttpOperation(upstream_url, "POST", _RUNS, body="body", headers=auth),
        description="✨ Run prompt inference",
        inputs=(*_IDS, InputSpec("body", "object", description="Request body (JSON).")),
        hints=Hints(read_only=False, destructive=False, idempotent=False),
    )
    cancel = FakeInvocable(
        "cancel-inference-run-api",
        HttpOperation(upstream_url, "POST", _RUNS + "/{inference_run_id}/cancel", headers=auth),
        description="✨ Cancel Inference Run API",
        inputs=(InputSpec("inference_run_id", "integer", required=True), *_IDS),
        hints=Hints(read_only=False, destructive=False, idempotent=False),
    )
    return [ToolEntry(unit.name, None, None, unit) for unit in (get_runs, run_inference, cancel)]


def seed_catalog(upstream_url: str, api_key: str = "Token seed-secret-123") -> McpCatalog:
    return McpCatalog(
        server_name=SEED_NAMESPACE,
        server_version="1.0.0",
        instructions=SEED_INSTRUCTIONS,
        tools=seed_tools(upstream_url, api_key),
    )


# --- resources and prompts ----------------------------------------------------------------------


def docs_directory(root: Path) -> Path:
    docs = root / "docs"
    (docs / "guides").mkdir(parents=True, exist_ok=True)
    (docs / "guide.md").write_text("# guide\n", encoding="utf-8")
    (docs / "guides" / "setup.yaml").write_text("steps: [install, run]\n", encoding="utf-8")
    (docs / "logo.png").write_bytes(PNG_PIXEL)
    (root / "secrets.txt").write_text("do not serve me\n", encoding="utf-8")
    return docs


def demo_catalog(upstream_url: str, root: Path) -> McpCatalog:
    """The seed plus a static directory, dynamic resources and prompts (static and dynamic)."""
    profile = FakeInvocable(
        "user-profile",
        HttpOperation(upstream_url, "GET", "/users/{user_id}"),
        inputs=(InputSpec("user_id", "string", required=True),),
    )
    config = FakeInvocable("current-config", constant({"mode": "demo", "replicas": 2}))
    summary = FakeInvocable(
        "run-summary",
        HttpOperation(upstream_url, "GET", "/summaries/{prompt_id}"),
        inputs=(InputSpec("prompt_id", "string", required=True),),
    )
    return McpCatalog(
        server_name=SEED_NAMESPACE,
        server_version="1.0.0",
        title="Label Studio runs",
        instructions=SEED_INSTRUCTIONS,
        tools=seed_tools(upstream_url),
        resources=[
            StaticResourceEntry("docs", "docs://reference", docs_directory(root), title="Reference docs"),
            DynamicResourceEntry("current-config", "config://app/current", config, title="Current config"),
            DynamicResourceEntry(
                "user-profile", "data://users/{user_id}/profile", profile, description="A user's profile"
            ),
        ],
        prompts=[
            PromptEntry(
                "review-run",
                title="Review a run",
                description="Ask for a review of an inference run",
                arguments=[
                    PromptArgument("run_id", description="The run to review", required=True),
                    PromptArgument("focus", title="Focus", description="What to look at"),
                ],
                messages=[
                    PromptMessageEntry("user", text="Please review run {{run_id}} focusing on {focus}."),
                    PromptMessageEntry("assistant", text="I will review run {run_id}."),
                ],
            ),
            PromptEntry(
                "summarize-prompt",
                description="Summarize a prompt's runs (dynamic message)",
                arguments=[PromptArgument("prompt_id", required=True)],
                messages=[PromptMessageEntry("user", invocable=summary)],
            ),
        ],
    )


# --- the official conformance suite's expectations ---------------------------------------------

PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def conformance_catalog() -> McpCatalog:
    """What ``npx @modelcontextprotocol/conformance server`` calls, expressed as Naftiko units.

    Each unit is what a mock-mode tool (static ``outputParameters``) or a dynamic resource over a
    stub operation returns; see tests/mcp/conformance/NOTES.md for the mapping to a document.
    """
    simple = FakeInvocable(
        "test_simple_text",
        constant("This is a simple text response for testing.", "text/plain"),
        description="Returns a simple text response",
    )
    error = FakeInvocable(
        "test_error_handling",
        failing(
            UpstreamError(
                "stub.fail", 500, {"message": "This tool intentionally returns an error for testing"}
            )
        ),
        description="Always fails: the upstream answers 500",
    )
    schema_2020 = FakeInvocable(
        "json_schema_2020_12_tool",
        constant({"ok": True}),
        description="Tool with JSON Schema 2020-12 features",
        schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        },
    )

    async def template_data(arguments: dict[str, Any]) -> Result:
        item = arguments["id"]
        return Result({"id": item, "templateTest": True, "data": f"Data for ID: {item}"})

    return McpCatalog(
        server_name="naftiko-conformance",
        server_version="1.0.0",
        instructions="Naftiko capability built for the MCP conformance suite.",
        tools=[ToolEntry(unit.name, None, None, unit) for unit in (simple, error, schema_2020)],
        resources=[
            DynamicResourceEntry(
                "static-text",
                "test://static-text",
                FakeInvocable("static-text", constant("This is the content of the static text resource.")),
                description="A static text resource",
                mime_type="text/plain",
            ),
            DynamicResourceEntry(
                "static-binary",
                "test://static-binary",
                FakeInvocable("static-binary", constant(base64.b64encode(PNG_PIXEL).decode())),
                description="A static binary resource (PNG)",
                mime_type="image/png",
            ),
            DynamicResourceEntry(
                "template-data",
                "test://template/{id}/data",
                FakeInvocable(
                    "template-data", template_data, inputs=(InputSpec("id", "string", required=True),)
                ),
                description="A resource template",
            ),
        ],
        prompts=[
            PromptEntry(
                "test_simple_prompt",
                description="A simple prompt without arguments",
                messages=[PromptMessageEntry("user", text="This is a simple prompt for testing.")],
            ),
            PromptEntry(
                "test_prompt_with_arguments",
                description="A prompt with required arguments",
                arguments=[
                    PromptArgument("arg1", description="First test argument", required=True),
                    PromptArgument("arg2", description="Second test argument", required=True),
                ],
                messages=[
                    PromptMessageEntry("user", text="Prompt with arguments: arg1='{{arg1}}', arg2='{{arg2}}'")
                ],
            ),
        ],
    )
