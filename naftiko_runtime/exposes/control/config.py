"""``GET /config``, ``POST /config/validate`` and ``POST /config/reload``."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...spec import check_text
from ...spec.report import validation_json
from .plane import ControlPlane
from .problems import problem, read_limited

MAX_DOCUMENT_BYTES = 1 << 20  # a capability document to validate: 1 MiB is far beyond any real one
VALIDATED_FILE = "<request body>"


def config_routes(
    plane: ControlPlane, *, info: bool, validate: bool, reload: bool, base_dir: Path | None
) -> list[Route]:
    async def configuration(_: Request) -> Response:
        return JSONResponse(plane.configuration())

    async def validate_document(request: Request) -> Response:
        body = await read_limited(request, MAX_DOCUMENT_BYTES)
        if isinstance(body, Response):
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return problem(
                400, "Bad Request", "the body is not UTF-8 text (a YAML or JSON capability document)"
            )
        # Imports resolve from the control adapter's own directory, as for a file dropped beside it.
        report = check_text(text, VALIDATED_FILE, base_dir=base_dir)
        return JSONResponse(validation_json([report]))

    async def reload_now(_: Request) -> Response:
        outcome = await plane.reload(reason="POST /config/reload")
        return JSONResponse(outcome.body, status_code=outcome.status)

    routes = []
    if info:
        routes.append(Route("/config", configuration))
    if validate:
        routes.append(Route("/config/validate", validate_document, methods=["POST"]))
    if reload:
        routes.append(Route("/config/reload", reload_now, methods=["POST"]))
    return routes
