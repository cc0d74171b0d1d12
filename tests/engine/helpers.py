"""Small helpers for engine tests: inline capability documents, one-shot invocations, error capture.

Every helper builds a real :class:`~naftiko_runtime.runtime.Runtime` from YAML text and sends real
requests over loopback sockets, so a test reads as "this document, these arguments, and the upstream
received exactly this".
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.consumes.transport import TransportSettings
from naftiko_runtime.engine.contract import Result
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import loads
from naftiko_runtime.spec.models import Document

HEADER = "naftiko: 1.0.0-alpha2\ninfo:\n  label: engine test\n"

#: Short timeouts and quick retries: a failing test must fail in well under a second.
FAST = TransportSettings(connect_timeout=1.0, read_timeout=2.0, retries=2, retry_backoff=0.01)


def doc(body: str) -> str:
    """A document: the standard header plus ``body`` (``binds:`` and ``capability:`` YAML)."""
    return HEADER + textwrap.dedent(body).lstrip("\n")


def document(text: str, base_dir: Path | None = None) -> Document:
    """Load ``text``; with ``base_dir`` it reads as a file in that folder (relative paths resolve there)."""
    if base_dir is None:
        return loads(text)
    return loads(text, str(base_dir / "capability.yaml"), base_dir=base_dir)


def runtime(
    text: str,
    base_uri: str | Mapping[str, str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    transport: TransportSettings = FAST,
    base_dir: Path | None = None,
    deadline_s: float = 10.0,
) -> Runtime:
    """A runtime for ``text`` whose every consumed namespace is sent to ``base_uri`` (a URL or a map)."""
    parsed = document(text, base_dir)
    if isinstance(base_uri, str):
        base_uris = {c.namespace: base_uri for c in parsed.all_consumes}
    else:
        base_uris = dict(base_uri or {})
    options = RuntimeOptions(
        base_uris=base_uris, environ=environ or {}, transport=transport, unit_deadline_s=deadline_s
    )
    return Runtime.build(parsed, options)


@asynccontextmanager
async def running(text: str, base_uri: Any = None, **options: Any) -> AsyncIterator[Runtime]:
    """``async with running(doc, upstream.url) as rt: await rt.invoke(...)`` — closed afterwards."""
    built = runtime(text, base_uri, **options)
    try:
        yield built
    finally:
        await built.aclose()


def call(
    text: str, base_uri: Any, target: str, arguments: Mapping[str, Any] | None = None, **options: Any
) -> Result:
    """Build, invoke ``target`` once with ``arguments``, close; the shaped result."""

    async def go() -> Result:
        async with running(text, base_uri, **options) as built:
            return await built.invoke(target, dict(arguments or {}))

    return asyncio.run(go())


def failure(
    error: type[BaseException] | tuple[type[BaseException], ...],
    text: str,
    base_uri: Any,
    target: str,
    arguments: Mapping[str, Any] | None = None,
    **options: Any,
) -> Any:
    """The error of type ``error`` that invoking ``target`` raises (the test fails if none is)."""
    with pytest.raises(error) as caught:
        call(text, base_uri, target, arguments, **options)
    return caught.value


def error_texts(exc: BaseException) -> str:
    """Every text an error can show: message, repr, args and the public attributes' reprs."""
    parts = [str(exc), repr(exc), *map(repr, exc.args)]
    for name in dir(exc):
        if name.startswith("_") or name in ("args", "with_traceback", "add_note"):
            continue
        try:
            parts.append(repr(getattr(exc, name)))
        except Exception:  # pragma: no cover - a property that cannot be read is not shown either
            continue
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not exc.__suppress_context__:
        parts.append(error_texts(cause))
    return "\n".join(parts)
