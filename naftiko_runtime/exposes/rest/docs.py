"""``GET /docs``: an interactive page (Swagger UI) over the adapter's own ``/openapi.json``.

FastAPI users expect ``/docs``; FastAPI's page loads Swagger UI from a CDN. This one is served
whole by the adapter: the Swagger UI files come from the ``swagger-ui-bundle-v2`` package (Swagger UI
5, which renders OpenAPI 3.1, maintained by the Connexion authors) and are answered under
``/docs/``. Why not a CDN: a runtime deployed in a private network or an air-gapped cluster has
none to reach, a content-security policy would have to allow a third-party origin, and the page
would break with the CDN; served locally it works wherever the API does, tests included. The page
and its script use relative URLs only, so it works behind a proxy that mounts the API under a prefix.

The files are read once, on first request, and kept (about 1.7 MB).
"""

from __future__ import annotations

import functools
import json
import posixpath
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

PAGE = b"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>API documentation</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js" charset="utf-8"></script>
    <script src="docs/init.js" charset="utf-8"></script>
  </body>
</html>
"""

# The description's URL is relative to the page (/docs → openapi.json → /openapi.json), so behind a
# proxy that adds a prefix it stays <prefix>/openapi.json.
INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: %s,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
"""

_ASSETS = {
    "swagger-ui.css": b"text/css; charset=utf-8",
    "swagger-ui-bundle.js": b"text/javascript; charset=utf-8",
    "favicon-32x32.png": b"image/png",
}


def docs_answer(path: str, docs_path: str, openapi_path: str) -> Answer | None:
    """The answer for ``path`` if it is the page or one of its files, else None."""
    if path == docs_path:
        return _answer(PAGE, b"text/html; charset=utf-8", b"no-cache")
    if path == docs_path + "/":  # the page's relative URLs need it without the slash
        return (
            308,
            [(b"location", b"../" + docs_path.rsplit("/", 1)[-1].encode()), (b"content-length", b"0")],
            b"",
        )
    prefix = docs_path + "/"
    if not path.startswith(prefix):
        return None
    name = path[len(prefix) :]
    if name == "init.js":
        return _answer(_init(docs_path, openapi_path), b"text/javascript; charset=utf-8", b"no-cache")
    kind = _ASSETS.get(name)
    if kind is None:
        return None
    return _answer(_asset(name), kind, b"public, max-age=86400")


def _answer(body: bytes, kind: bytes, cache: bytes) -> Answer:
    return (
        200,
        [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache),
            (b"x-content-type-options", b"nosniff"),
        ],
        body,
    )


@functools.cache
def _init(docs_path: str, openapi_path: str) -> bytes:
    relative = posixpath.relpath(openapi_path, posixpath.dirname(docs_path) or "/")
    return (INIT % json.dumps(relative)).encode()


@functools.cache
def _asset(name: str) -> bytes:
    return Path(str(swagger_ui_path), name).read_bytes()
