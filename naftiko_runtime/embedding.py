"""``build`` and ``invoke``: a runtime for a document, from Python (re-exported by the package)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .consumes.transport import TransportSettings
from .engine.contract import Result
from .runtime import Runtime, RuntimeOptions
from .spec import Document, load


def build(
    document: Document | str | Path,
    *,
    base_uris: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    transport: TransportSettings | None = None,
    unit_deadline_s: float = 60.0,
) -> Runtime:
    """A :class:`Runtime` for a document (or a path to one): binds resolved, every unit compiled."""
    if not isinstance(document, Document):
        document = load(document)
    options = RuntimeOptions(
        base_uris=dict(base_uris or {}),
        environ=environ,
        transport=transport or TransportSettings(),
        unit_deadline_s=unit_deadline_s,
    )
    return Runtime.build(document, options)


def invoke(
    document: Document | str | Path, target: str, arguments: Mapping[str, Any] | None = None, **options: Any
) -> Result:
    """Build, invoke one unit once and close, synchronously (scripts and notebooks)."""

    async def once() -> Result:
        runtime = build(document, **options)
        try:
            return await runtime.invoke(target, arguments or {})
        finally:
            await runtime.aclose()

    return asyncio.run(once())
