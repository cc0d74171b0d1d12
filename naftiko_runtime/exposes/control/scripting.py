"""``GET /scripting`` (the script settings in force) and ``PUT /scripting`` (change them here).

A PUT takes the keys of the schema's ``ScriptingManagementSpec`` (any subset), checks them as the
schema does (400 naming the key otherwise) and rebuilds what is served with them, atomically, as a
reload does. It changes this process only: the capability file is untouched, other replicas keep
their settings, and a restart forgets the change; the answer says so.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .plane import ControlPlane
from .problems import problem, read_limited

LANGUAGES = ("javascript", "python", "groovy")
SCOPE_NOTE = (
    "changed in this process only: the capability file is unchanged, other replicas keep their "
    "settings, and a restart returns to the file's"
)


def scripting_routes(plane: ControlPlane, current: dict[str, Any]) -> list[Route]:
    async def show(_: Request) -> Response:
        return JSONResponse(current)

    async def change(request: Request) -> Response:
        body = await read_limited(request, 16_384)
        if isinstance(body, Response):
            return body
        try:
            changes = orjson.loads(body)
        except orjson.JSONDecodeError:
            return problem(400, "Bad Request", "the body must be a JSON object of scripting settings")
        error = check_scripting(changes)
        if error is not None:
            key, message = error
            return problem(400, "Bad Request", message, parameter=key)
        outcome = await plane.reload(reason="PUT /scripting", scripting=changes)
        if not outcome.ok:
            return JSONResponse(outcome.body, status_code=outcome.status)
        return JSONResponse({**{**current, **changes}, "scope": "process", "note": SCOPE_NOTE})

    return [Route("/scripting", show, methods=["GET"]), Route("/scripting", change, methods=["PUT"])]


def check_scripting(changes: Any) -> tuple[str, str] | None:
    """``(key, why)`` for the first setting the schema refuses, else ``None``."""
    if not isinstance(changes, dict) or not changes:
        return "body", "the body must be a non-empty JSON object of scripting settings"
    for key, value in changes.items():
        if key == "enabled":
            if not isinstance(value, bool):
                return key, "`enabled` must be true or false"
        elif key in ("timeout", "statementLimit"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                return key, f"`{key}` must be an integer of at least 1"
        elif key == "defaultLocation":
            if not isinstance(value, str) or not value.startswith("file:///"):
                return key, "`defaultLocation` must be a file:/// URI"
        elif key == "defaultLanguage":
            if value not in LANGUAGES:
                return key, f"`defaultLanguage` must be one of {', '.join(LANGUAGES)}"
        elif key == "allowedLanguages":
            if not isinstance(value, list) or any(item not in LANGUAGES for item in value):
                return key, f"`allowedLanguages` must be a list of {', '.join(LANGUAGES)}"
        else:
            return key, (
                f"unknown scripting setting {key!r} (enabled, timeout, statementLimit, "
                "defaultLocation, defaultLanguage, allowedLanguages)"
            )
    return None
