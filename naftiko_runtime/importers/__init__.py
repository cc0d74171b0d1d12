"""Importers: other API descriptions → capability documents in the spec's own form.

::

    from naftiko_runtime.importers import openapi, to_yaml

    document, warnings = openapi("https://example.com/openapi.json", include_tags=["pets"])
    for warning in warnings:
        print(warning.format())
    Path("petstore.yaml").write_text(to_yaml(document))

``document`` is the capability as plain, ordered data (``naftiko: 1.0.0-alpha2``…), so a converter
can be applied to it before it is written; ``warnings`` lists, located in the description, every
construct it does not carry. This package reads descriptions and writes documents: it never imports
the engine, the adapters or the runtime.
"""

from __future__ import annotations

from typing import Any

import httpx

from .capability import build_capability
from .description import read_description
from .diagnostics import Diagnostic, Diagnostics, ImportFailed
from .options import ImportOptions
from .refs import Refs
from .schemas import Schemas
from .selection import select
from .sources import load_source, retriever
from .writer import to_yaml

__all__ = ["Diagnostic", "ImportFailed", "ImportOptions", "openapi", "to_yaml"]


def openapi(
    source: str, *, client: httpx.Client | None = None, **options: Any
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Import the OpenAPI 3.0/3.1 or Swagger 2.0 description at ``source`` (a file or an http(s) URL).

    ``options`` are the fields of :class:`ImportOptions`. Returns the capability document and the
    diagnostics; raises :class:`ImportFailed` when the source cannot be read or is not OpenAPI, when
    the selection is empty or too large, and (with ``strict=True``) when there is any diagnostic.
    ``client`` fetches remote documents (default: a client made for the call).
    """
    chosen = ImportOptions.of(options)
    loaded = load_source(source, client)
    diagnostics = Diagnostics(locate=loaded.position)
    refs = Refs(loaded, retriever(loaded.uri, client), diagnostics)
    api = read_description(loaded, refs, diagnostics)
    operations = select(api.operations, chosen, diagnostics)
    document = build_capability(api, operations, Schemas(refs), chosen, diagnostics, loaded.label)
    if chosen.strict and diagnostics.items:
        count = len(diagnostics.items)
        raise ImportFailed(
            f"{count} construct{'s' if count != 1 else ''} not imported (--strict)", diagnostics.items
        )
    return document, diagnostics.items
