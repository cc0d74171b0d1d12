"""The skill adapter: a read-only HTTP catalog of agent skills, one Starlette app per ``type: skill``.

Routes (GET and HEAD; anything else is 405):

    /skills                            {"count", "skills": [{name, description, license?, tools: [names]}]}
    /skills/{name}                     the skill's frontmatter fields (spec spellings: allowed-tools,
                                       argument-hint, user-invocable, disable-model-invocation), its
                                       tools (derived: invocationRef + inputSchema; instruction: file)
                                       and "instructions": "SKILL.md" when its directory has one
    /skills/{name}/contents            {"name", "files": [{path, size, type}]} sorted by path
    /skills/{name}/contents/{path}     one file, typed by extension (400 unsafe path, 404 missing)
    /skills/{name}/download            the directory as a zip, streamed (application/zip)

Errors are ``application/problem+json`` (RFC 9457). The expose's ``authentication`` (bearer, apikey,
basic, digest, oauth2) guards every route, before routing, with the REST adapter's guards; with
oauth2 the RFC 9728 metadata document is served without credentials at its well-known path.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from ...engine.plans import AdapterContext, SkillPlan
from ...spec.models import SkillExpose
from ..auth import Guard, GuardMiddleware, build_guard, close_at_shutdown
from ..origin import BrowserGuardMiddleware, BrowserPolicy
from ..problem import Problem
from .catalog import Skill, build_catalog
from .files import (
    SKILL_FILE,
    FileProblem,
    has_skill_file,
    list_files,
    real_directory,
    resolve_file,
    zip_stream,
)

log = logging.getLogger("naftiko.skill")

_PROBLEM = "application/problem+json"
_TYPE = "urn:naftiko:problem:"
# A skill's files are served from the catalog's origin: never let a browser sniff or run them.
_FILE_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox"}


def build_skill_app(plan: SkillPlan, context: AdapterContext) -> Starlette:
    """The ASGI app of one skill expose (``plan``: one of ``runtime.skills``; ``context``:
    ``runtime.context``); its catalog is ``app.state.catalog`` (a :class:`SkillCatalog`)."""
    catalog = build_catalog(plan, context.base_dir)
    listing = orjson.dumps(catalog.listing())
    guard = _guard(plan.expose, context)

    def skill_of(request: Request) -> Skill:
        name = request.path_params["name"]
        skill = catalog.skills.get(name)
        if skill is None:
            raise _Refused(
                Problem(404, "Not Found", f"no skill named '{name[:64]}'", _TYPE + "unknown-skill")
            )
        return skill

    async def skills(_: Request) -> Response:
        return Response(listing, media_type="application/json")

    async def detail(request: Request) -> Response:
        skill = skill_of(request)
        body = skill.detail
        if skill.root is not None and await anyio.to_thread.run_sync(_has_instructions, skill.root):
            body = {**body, "instructions": SKILL_FILE}
        return Response(orjson.dumps(body), media_type="application/json")

    async def contents(request: Request) -> Response:
        skill = skill_of(request)
        real = await anyio.to_thread.run_sync(_directory, skill)
        files = await anyio.to_thread.run_sync(list_files, real)
        body = {"name": skill.name, "files": [f.listing() for f in files]}
        return Response(orjson.dumps(body), media_type="application/json")

    async def file(request: Request) -> Response:
        skill = skill_of(request)
        relative = request.path_params["path"]
        if relative == "":  # /skills/{name}/contents/ is the listing
            return await contents(request)
        real = await anyio.to_thread.run_sync(_directory, skill)
        try:
            published = await anyio.to_thread.run_sync(resolve_file, real, relative)
        except FileProblem as exc:
            title = "Bad Request" if exc.status == 400 else "Not Found"
            kind = "unsafe-path" if exc.status == 400 else "file-not-found"
            raise _Refused(Problem(exc.status, title, exc.detail, _TYPE + kind)) from None
        media = published.media_type
        if media.startswith("text/"):
            media += "; charset=utf-8"
        return FileResponse(published.real, media_type=media, headers=_FILE_HEADERS)

    async def download(request: Request) -> Response:
        skill = skill_of(request)
        real = await anyio.to_thread.run_sync(_directory, skill)
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", skill.name) + ".zip"
        headers = {"content-disposition": f'attachment; filename="{filename}"'}
        if request.method == "HEAD":
            return Response(b"", media_type="application/zip", headers=headers)
        files = await anyio.to_thread.run_sync(list_files, real)
        return StreamingResponse(zip_stream(files), media_type="application/zip", headers=headers)

    app = Starlette(
        routes=[
            Route("/skills", skills, methods=["GET"]),
            Route("/skills/{name}", detail, methods=["GET"]),
            Route("/skills/{name}/contents", contents, methods=["GET"]),
            Route("/skills/{name}/contents/{path:path}", file, methods=["GET"]),
            Route("/skills/{name}/download", download, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                BrowserGuardMiddleware, policy=BrowserPolicy(context.allowed_origins, context.allowed_hosts)
            ),
            *([] if guard is None else [Middleware(GuardMiddleware, guard=guard)]),
        ],
        exception_handlers={
            _Refused: _refused,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.catalog = catalog
    return close_at_shutdown(app, guard)


def _has_instructions(root: Path) -> bool:
    real = real_directory(root)
    return real is not None and has_skill_file(real)


def _directory(skill: Skill) -> str:
    """The real path of the skill's directory, or a 404 saying why there is none."""
    if skill.root is None:
        raise _Refused(
            Problem(404, "Not Found", skill.location_problem or "no location", _TYPE + "no-location")
        )
    real = real_directory(skill.root)
    if real is None:
        raise _Refused(
            Problem(
                404,
                "Not Found",
                f"the location directory of skill '{skill.name}' does not exist on this server",
                _TYPE + "no-location",
            )
        )
    return real


# -- errors ----------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _problem_response(problem: Problem) -> Response:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in problem.headers}
    return Response(
        orjson.dumps(problem.document()), status_code=problem.status, headers=headers, media_type=_PROBLEM
    )


async def _refused(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Refused)
    return _problem_response(exc.problem)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        problem = Problem(404, "Not Found", "no resource of the skill catalog has this path")
    elif status == 405:
        allow = "GET, HEAD"  # every route is read-only (Starlette's own Allow comes from a set)
        problem = Problem(
            405,
            "Method Not Allowed",
            f"the skill catalog is read-only; allowed: {allow}",
            headers=[(b"allow", allow.encode("latin-1"))],
        )
    else:
        problem = Problem(status, str(exc.detail), str(exc.detail))
    return _problem_response(problem)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("skill adapter: %s %s failed", request.method, request.url.path, exc_info=exc)
    return _problem_response(Problem(500, "Internal Server Error", "the skill catalog failed to answer"))


# -- authentication --------------------------------------------------------------------------------


def _guard(expose: SkillExpose, context: AdapterContext) -> Guard | None:
    return build_guard(expose.authentication, context.binds, expose.namespace, "skill")


__all__ = ["build_skill_app"]
