"""naftiko-runtime: load Naftiko capability documents and serve them (REST, MCP, Skill, Control).

Embedding::

    from naftiko_runtime import build, load

    runtime = build(load("capabilities/label-studio-runs.yaml"), environ={"LABEL_STUDIO_API_KEY": "Token …"})
    result = await runtime.invoke("get-inference-run-info", {"prompt_id": 1, "version_id": 1})
    app.mount("/runs", runtime.asgi_app("label-studio-subpackage-prompts-subpackage-prompts-runs-rest"))

``naftiko serve`` is built on exactly this API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consumes.transport import TransportSettings
    from .embedding import build, invoke
    from .engine.contract import Invocable, Result
    from .errors import (
        BindError,
        InputError,
        InvocationError,
        NaftikoError,
        Problem,
        SpecError,
        UpstreamError,
        UpstreamTimeout,
        UpstreamUnavailable,
    )
    from .runtime import Runtime, RuntimeOptions
    from .spec import Document, check, load, loads

# Each public name and the module that defines it. They are imported on first use, so that
# `naftiko validate` or `import naftiko_runtime.spec` does not pay for the servers' libraries
# (aiohttp, starlette, uvicorn, the MCP SDK: about a second of CPU at every process start).
_PUBLIC = {
    "BindError": "errors",
    "InputError": "errors",
    "InvocationError": "errors",
    "NaftikoError": "errors",
    "Problem": "errors",
    "SpecError": "errors",
    "UpstreamError": "errors",
    "UpstreamTimeout": "errors",
    "UpstreamUnavailable": "errors",
    "Document": "spec",
    "check": "spec",
    "load": "spec",
    "loads": "spec",
    "Invocable": "engine.contract",
    "Result": "engine.contract",
    "Runtime": "runtime",
    "RuntimeOptions": "runtime",
    "TransportSettings": "consumes.transport",
    "build": "embedding",
    "invoke": "embedding",
}

__all__ = [
    "BindError",
    "Document",
    "InputError",
    "Invocable",
    "InvocationError",
    "NaftikoError",
    "Problem",
    "Result",
    "Runtime",
    "RuntimeOptions",
    "SpecError",
    "TransportSettings",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "build",
    "check",
    "invoke",
    "load",
    "loads",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
