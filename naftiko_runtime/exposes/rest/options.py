"""How a REST adapter treats requests: limits and where it describes itself, set by whoever builds the
app (``build_rest_app(..., options)``), never by the capability document."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RestOptions:
    """How the adapter treats requests; nothing here is in the capability document."""

    max_body_bytes: int = 1 << 20
    """Largest JSON or form body an operation accepts (413 above it)."""
    max_forward_body_bytes: int | None = None
    """Largest body a ``forward`` resource streams upstream (None: no limit, except for targets whose
    credentials need a round trip, digest or OAuth2, whose bodies are buffered: ``max_body_bytes``)."""
    openapi_path: str | None = "/openapi.json"
    """Where the adapter serves its OpenAPI description as JSON (None: not served)."""
    openapi_yaml_path: str | None = "/openapi.yaml"
    """Where it serves the same description as YAML (None: not served)."""
    docs_path: str | None = "/docs"
    """Where it serves the interactive documentation page over ``openapi_path`` (None: not served)."""
