"""Logging for ``naftiko serve``: text or JSON lines on stderr, secrets scrubbed, one line per request.

stdout is left alone on purpose: with ``--stdio`` it carries only MCP protocol messages.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

import orjson

from ..binds import Secret, SecretRedactingFilter

ACCESS = logging.getLogger("naftiko.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "info", fmt: str = "text", secrets: Iterable[Secret] = ()) -> None:
    """Route every ``naftiko.*`` and ``uvicorn.*`` record to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    secrets = tuple(secrets)
    if secrets:
        handler.addFilter(SecretRedactingFilter(secrets))
    numeric = getattr(logging, level.upper(), logging.INFO)
    for name in ("naftiko", "uvicorn", "uvicorn.error", "mcp"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        # uvicorn repeats its start/stop lines for every adapter; our own summary says it once.
        logger.setLevel(
            numeric
            if name.startswith("naftiko") or numeric <= logging.DEBUG
            else max(numeric, logging.WARNING)
        )
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # our own access log replaces it
