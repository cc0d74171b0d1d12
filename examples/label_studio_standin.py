"""A stand-in for Label Studio's prompt inference-run API, for the demo, the README and e2e tests.

The seed capability (Label Studio, ``subpackage_prompts/runs``) calls three endpoints of Label
Studio Enterprise. This small Starlette app answers them the way Label Studio (Django REST
framework) does, closely enough that the runtime cannot tell: same paths, same ``ModelRun`` JSON,
same ``Authorization: Token <token>`` check, same error bodies. State lives in memory.

Run it::

    python examples/label_studio_standin.py --host 127.0.0.1 --port 8000 --token demo-token
    LABEL_STUDIO_STANDIN_TOKEN=demo-token python examples/label_studio_standin.py

and point the capability at it with ``LABEL_STUDIO_API_KEY="Token demo-token"``.

Endpoints (all but ``/health`` need ``Authorization: Token <token>``):

* ``GET  /api/prompts/{prompt_id}/versions/{version_id}/inference-runs`` — list the version's
  ``ModelRun`` objects. Query filters: ``project``, ``parent_model`` (integers),
  ``project_subset`` (``All``, ``HasGT``, ``Sample``) and ``ordering`` (a field name, ``-`` for
  descending, comma-separated; unknown fields are ignored, as DRF's OrderingFilter does).
* ``POST /api/prompts/{prompt_id}/versions/{version_id}/inference-runs`` — start a run. JSON body
  (a form body works too): ``project`` (required, an existing project id), ``project_subset``
  (``All`` by default, ``HasGT``, ``Sample``, ``Custom``), optional ``sample_subset_size``,
  ``job_id``, ``organization``, ``total_*``, ``only_missing_predictions``, ``filters_json``,
  ``predictions_updated_at``. Answers 201 with the new run, status ``Pending``.
* ``POST .../inference-runs/{inference_run_id}/cancel`` — cancel a run: 200 with the run, status
  ``Canceled``. Label Studio's reference documents this answer as ``{"detail": "..."}``; the
  stand-in returns the run *and* that ``detail`` field so clients of either shape work.
* ``GET /health`` — ``{"status": "ok"}`` for readiness checks (no token).

Errors, as DRF writes them: 401 ``{"detail": "Authentication credentials were not provided."}``
(no or non-``Token`` header) or ``{"detail": "Invalid token."}``; 404 ``{"detail": "Not found."}``
for an unknown prompt, version or run and for a non-integer id; 405 for a wrong method; 415 for an
unsupported body type; 400 with per-field lists (``{"project": ["This field is required."]}``).

Seeded state: projects 1 to 5; prompt 1 with versions 1 and 2; runs 1 (``Completed``),
2 (``InProgress``) and 3 (``Pending``) on prompt 1 / version 1; version 2 has none. New runs get
ids from 4.

Every request is logged as one line on stderr (the CLI configures that; in-process users get the
``label_studio_standin`` logger). The token is never logged. ``create_app(token, recorder=...)``
passes a :class:`StandinRecord` of each request to ``recorder`` just before its answer is sent, so an e2e
test can check exactly what the runtime sent.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hmac
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_ENV = "LABEL_STUDIO_STANDIN_TOKEN"

log = logging.getLogger("label_studio_standin")

PROJECT_SUBSETS = ("All", "HasGT", "Sample", "Custom")
LIST_PROJECT_SUBSETS = ("All", "HasGT", "Sample")  # the list filter's enum has no Custom
STATUSES = ("Pending", "InProgress", "Completed", "Failed", "Canceled")

# The order Label Studio's ModelRun serializer writes fields in; also the fields one can order by.
MODEL_RUN_FIELDS = (
    "id",
    "parent_model",
    "project",
    "project_subset",
    "status",
    "job_id",
    "created_by",
    "created_at",
    "triggered_at",
    "predictions_updated_at",
    "completed_at",
    "total_predictions",
    "total_correct_predictions",
    "total_tasks",
    "sample_subset_size",
    "source_model_run",
    "task_ids",
    "filters_json",
    "organization",
)

DEMO_USER = {
    "id": 1,
    "username": "demo",
    "email": "demo@example.com",
    "first_name": "Demo",
    "last_name": "User",
    "avatar": "",
}


# -- state -----------------------------------------------------------------------------------------


@dataclass
class StoredRun:
    prompt_id: int
    data: dict[str, Any]


@dataclass
class Store:
    """In-memory Label Studio: projects, prompts with their versions, inference runs."""

    projects: set[int] = field(default_factory=set)
    prompts: dict[int, set[int]] = field(default_factory=dict)  # prompt id -> version ids
    runs: dict[int, StoredRun] = field(default_factory=dict)
    next_run_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def seeded(cls) -> Store:
        store = cls(projects={1, 2, 3, 4, 5}, prompts={1: {1, 2}})
        store.add_run(
            1,
            version_id=1,
            project=1,
            project_subset="All",
            status="Completed",
            job_id="adala-job-0001",
            created_at="2026-05-01T09:00:00.000000Z",
            triggered_at="2026-05-01T09:00:04.512000Z",
            predictions_updated_at="2026-05-01T09:04:31.200000Z",
            completed_at="2026-05-01T09:04:31.200000Z",
            total_tasks=120,
            total_predictions=120,
            total_correct_predictions=103,
        )
        store.add_run(
            1,
            version_id=1,
            project=1,
            project_subset="HasGT",
            status="InProgress",
            job_id="adala-job-0002",
            created_at="2026-05-02T10:15:00.000000Z",
            triggered_at="2026-05-02T10:15:03.048000Z",
            total_tasks=40,
            total_predictions=12,
        )
        store.add_run(
            1,
            version_id=1,
            project=2,
            project_subset="Sample",
            status="Pending",
            created_at="2026-05-03T16:42:10.000000Z",
            sample_subset_size=25,
        )
        return store

    def add_run(self, prompt_id: int, *, version_id: int, project: int, **fields: Any) -> dict[str, Any]:
        """Store a new run and return its ModelRun representation."""
        with self.lock:
            run_id = self.next_run_id
            self.next_run_id += 1
            data: dict[str, Any] = dict.fromkeys(MODEL_RUN_FIELDS)
            data.update(
                id=run_id,
                parent_model=version_id,
                project=project,
                project_subset="All",
                status="Pending",
                created_by=dict(DEMO_USER),
                created_at=_now(),
                organization=1,
            )
            data.update({key: value for key, value in fields.items() if key in data})
            self.runs[run_id] = StoredRun(prompt_id, data)
            return copy.deepcopy(data)

    def has_version(self, prompt_id: int, version_id: int) -> bool:
        return version_id in self.prompts.get(prompt_id, set())

    def runs_of(self, prompt_id: int, version_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(run.data)
                for run in self.runs.values()
                if run.prompt_id == prompt_id and run.data["parent_model"] == version_id
            ]

    def cancel(self, prompt_id: int, version_id: int, run_id: int) -> dict[str, Any] | None:
        with self.lock:
            run = self.runs.get(run_id)
            if run is None or run.prompt_id != prompt_id or run.data["parent_model"] != version_id:
                return None
            run.data["status"] = "Canceled"
            return copy.deepcopy(run.data)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- DRF-shaped answers ----------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer in DRF's shape."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        self.status, self.body, self.headers = status, dict(body), dict(headers or {})


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(payload, status, headers=dict(headers or {}), media_type="application/json")


def _not_found() -> ApiError:
    return ApiError(404, {"detail": "Not found."})


def _method_not_allowed(method: str, allowed: Sequence[str]) -> ApiError:
    return ApiError(405, {"detail": f'Method "{method}" not allowed.'}, {"Allow": ", ".join(allowed)})


def _authenticate(request: Request, token: str) -> None:
    """DRF's TokenAuthentication: ``Authorization: Token <key>``; anything else is "not provided"."""
    parts = request.headers.get("authorization", "").encode("latin-1", "replace").split()
    if not parts or parts[0].lower() != b"token":
        raise ApiError(
            401, {"detail": "Authentication credentials were not provided."}, {"WWW-Authenticate": "Token"}
        )
    if len(parts) == 1:
        detail = "Invalid token header. No credentials provided."
    elif len(parts) > 2:
        detail = "Invalid token header. Token string should not contain spaces."
    elif not hmac.compare_digest(parts[1], token.encode("utf-8")):
        detail = "Invalid token."
    else:
        return
    raise ApiError(401, {"detail": detail}, {"WWW-Authenticate": "Token"})


# -- request validation (DRF serializer / django-filter messages) ----------------------------------

_REQUIRED = "This field is required."
_NULL = "This field may not be null."


def _validate_run_request(data: Any, store: Store) -> dict[str, Any]:
    """The ModelRunRequest serializer: returns the accepted fields or raises 400 with field errors."""
    if data is None:
        raise ApiError(400, {"non_field_errors": [_NULL]})
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise ApiError(400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]})
    errors: dict[str, list[str]] = {}
    accepted: dict[str, Any] = {}

    def check(name: str, convert: Callable[[Any], Any], *, nullable: bool = True) -> None:
        if name not in data:
            return
        value = data[name]
        if value is None:
            if nullable:
                accepted[name] = None
            else:
                errors[name] = [_NULL]
            return
        try:
            accepted[name] = convert(value)
        except ValueError as exc:
            errors[name] = [str(exc)]

    if "project" not in data:
        errors["project"] = [_REQUIRED]
    check("project", lambda value: _project_pk(value, store), nullable=False)
    check("project_subset", _choice(PROJECT_SUBSETS), nullable=False)
    integer_fields = ("sample_subset_size", "organization", "total_predictions", "total_correct_predictions")
    for name in (*integer_fields, "total_tasks"):
        check(name, _integer)
    check("job_id", _string)
    check("only_missing_predictions", _boolean, nullable=False)
    check("predictions_updated_at", _datetime)
    check("filters_json", lambda value: value)
    if errors:
        raise ApiError(400, errors)
    return accepted


def _project_pk(value: Any, store: Store) -> int:
    """PrimaryKeyRelatedField: an existing project id."""
    pk: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        pk = value
    elif isinstance(value, float) and value.is_integer():
        pk = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        pk = int(value.strip())
    if pk is None:
        raise ValueError(f"Incorrect type. Expected pk value, received {type(value).__name__}.")
    if pk not in store.projects:
        raise ValueError(f'Invalid pk "{value}" - object does not exist.')
    return pk


def _choice(choices: Sequence[str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if str(value) not in choices:
            raise ValueError(f'"{value}" is not a valid choice.')
        return str(value)

    return convert


_INTEGER = re.compile(r"-?\d+(?:\.0*)?")


def _integer(value: Any) -> int:
    """IntegerField: ints, integral floats and numeric strings (``"5"``, ``"5.00"``); not booleans."""
    text = str(value).strip()
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        raise ValueError("A valid integer is required.")
    return int(text.split(".")[0])


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("Not a valid string.")
    return str(value)


def _boolean(value: Any) -> bool:
    truthy = {"true", "1", "yes", "y", "on", "t"}
    falsy = {"false", "0", "no", "n", "off", "f"}
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in truthy:
        return True
    if text in falsy:
        return False
    raise ValueError("Must be a valid boolean.")


def _datetime(value: Any) -> str:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _list_filters(request: Request) -> tuple[dict[str, Any], list[str]]:
    """django-filter on project / parent_model / project_subset, plus DRF's OrderingFilter."""
    errors: dict[str, list[str]] = {}
    filters: dict[str, Any] = {}
    params = request.query_params
    for name in ("project", "parent_model"):
        raw = params.get(name, "").strip()
        if raw:
            if raw.lstrip("-").isdigit():
                filters[name] = int(raw)
            else:
                errors[name] = ["Enter a whole number."]
    subset = params.get("project_subset", "")
    if subset:
        if subset in LIST_PROJECT_SUBSETS:
            filters["project_subset"] = subset
        else:
            errors["project_subset"] = [
                f"Select a valid choice. {subset} is not one of the available choices."
            ]
    if errors:
        raise ApiError(400, errors)
    ordering = [
        term.strip()
        for term in params.get("ordering", "").split(",")
        if term.strip().lstrip("-") in MODEL_RUN_FIELDS
    ]
    return filters, ordering


def _ordered(runs: list[dict[str, Any]], ordering: list[str]) -> list[dict[str, Any]]:
    """Sort like the database would: by id by default, NULLs last ascending and first descending."""
    result = sorted(runs, key=lambda run: run["id"])
    for term in reversed(ordering):
        name = term.lstrip("-")
        descending = term.startswith("-")

        def key(run: dict[str, Any], name: str = name) -> tuple[bool, Any]:
            value = run.get(name)
            if isinstance(value, dict):
                value = value.get("id")
            elif value is not None and not isinstance(value, int | float | str):
                value = json.dumps(value, sort_keys=True)
            return (value is None, value if value is not None else 0)

        result.sort(key=key, reverse=descending)
    return result


async def _request_data(request: Request) -> Any:
    """DRF's parsers: JSON, form, multipart; an empty body is an empty mapping."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if not body.strip() and media_type in ("", "application/json"):
        return {}
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raise ApiError(415, {"detail": f'Unsupported media type "{content_type}" in request.'})


# -- the app ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandinRecord:
    """One request as the stand-in received it, with the status it answered."""

    method: str
    path: str
    raw_path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    duration_ms: float

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


Recorder = Callable[[StandinRecord], object]
View = Callable[[Request], Awaitable[Response]]


def create_app(
    token: str, *, recorder: Recorder | list[StandinRecord] | None = None, store: Store | None = None
) -> Starlette:
    """The stand-in as a Starlette app.

    ``token`` is the key a client must send as ``Authorization: Token <token>``. ``recorder``, if
    given, gets a :class:`StandinRecord` after every request: a callable is called with it, a list
    has it appended.
    ``store`` replaces the seeded state. The live state is ``app.state.store``: assign
    ``Store.seeded()`` to it to reset a running stand-in between tests.
    """
    if not token:
        raise ValueError("the stand-in needs a non-empty token")
    if isinstance(recorder, list):
        recorder = recorder.append

    def store_of(request: Request) -> Store:
        return request.app.state.store  # looked up per request, so tests can swap it

    def guarded(allowed: Sequence[str], handler: View) -> _Guarded:
        return _Guarded(token, allowed, handler)

    def version_of(request: Request) -> tuple[int, int]:
        prompt_id = request.path_params["prompt_id"]
        version_id = request.path_params["version_id"]
        if not store_of(request).has_version(prompt_id, version_id):
            raise _not_found()
        return prompt_id, version_id

    async def inference_runs(request: Request) -> Response:
        prompt_id, version_id = version_of(request)
        if request.method == "POST":
            state = store_of(request)
            accepted = _validate_run_request(await _request_data(request), state)
            project = accepted.pop("project")
            accepted.pop("only_missing_predictions", None)  # a request option, not a run field
            run = state.add_run(prompt_id, version_id=version_id, project=project, **accepted)
            return _json(run, 201)
        filters, ordering = _list_filters(request)
        runs = [
            run
            for run in store_of(request).runs_of(prompt_id, version_id)
            if all(run.get(name) == value for name, value in filters.items())
        ]
        return _json(_ordered(runs, ordering))

    async def cancel(request: Request) -> Response:
        prompt_id, version_id = version_of(request)
        run = store_of(request).cancel(prompt_id, version_id, request.path_params["inference_run_id"])
        if run is None:
            raise _not_found()
        return _json({**run, "detail": f"Inference run {run['id']} canceled."})

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    async def routing_error(request: Request, exc: Exception) -> Response:
        """Starlette's own 404 (no route, or a non-integer id) and 405 (``/health``), in DRF's words."""
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip())
            error = _method_not_allowed(request.method, allowed)
            return _json(error.body, error.status, error.headers)
        return _json({"detail": "Not found."}, 404)

    runs_path = "/api/prompts/{prompt_id:int}/versions/{version_id:int}/inference-runs"
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET", "HEAD"]),
            Route(runs_path, guarded(["GET", "POST", "HEAD"], inference_runs)),
            Route(runs_path + "/{inference_run_id:int}/cancel", guarded(["POST"], cancel)),
        ],
        exception_handlers={404: routing_error, 405: routing_error},
        middleware=[Middleware(_RequestLog, recorder=recorder)],
    )
    app.router.redirect_slashes = False  # Label Studio's paths have no trailing slash: 404, no redirect
    app.state.store = store if store is not None else Store.seeded()
    return app


class _Guarded:
    """A view behind DRF's checks, in DRF's order: authentication, then the method, then the view.

    An ASGI object rather than a function, so Starlette routes every method here instead of
    answering 405 itself before the token is checked.
    """

    def __init__(self, token: str, allowed: Sequence[str], view: View) -> None:
        self.token, self.allowed, self.view = token, tuple(allowed), view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            _authenticate(request, self.token)
            if request.method not in self.allowed:
                raise _method_not_allowed(request.method, self.allowed)
            response = await self.view(request)
        except ApiError as error:
            response = _json(error.body, error.status, error.headers)
        await response(scope, receive, send)


class _RequestLog:
    """Logs one line per request (never the Authorization header) and feeds the recorder."""

    def __init__(self, app: ASGIApp, recorder: Recorder | None = None) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        chunks: list[bytes] = []
        more = True
        while more:  # read the whole body first so the recorder sees it, then replay it
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        done = False

        def finish() -> None:
            nonlocal done
            if done:
                return
            done = True
            elapsed = (time.perf_counter() - started) * 1000
            raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            query = scope.get("query_string", b"").decode("latin-1")
            target = f"{raw_path}?{query}" if query else raw_path
            client = scope.get("client") or ("-", 0)
            log.info(
                '%s "%s %s HTTP/%s" %d %.1fms',
                client[0],
                scope["method"],
                target,
                scope.get("http_version", "1.1"),
                status,
                elapsed,
            )
            if self.recorder is not None:
                headers = tuple(
                    (key.decode("latin-1").lower(), value.decode("latin-1"))
                    for key, value in scope["headers"]
                )
                record = StandinRecord(
                    scope["method"], scope["path"], raw_path, query, headers, body, status, elapsed
                )
                self.recorder(record)

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Record before the client can see the answer, so a test that reads the recorder
                # right after its request returns always finds it there.
                finish()
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            finish()


# -- command line ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python examples/label_studio_standin.py [--host H] [--port P] [--token T]``."""
    parser = argparse.ArgumentParser(description="Stand-in for Label Studio's prompt inference-run API.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"API token clients must send as 'Authorization: Token <token>' (default: ${TOKEN_ENV})",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(f"a token is required: pass --token or set {TOKEN_ENV}")

    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s label-studio-standin %(message)s",
    )
    app = create_app(args.token)
    print(
        f"label-studio-standin serving on http://{args.host}:{args.port} "
        "(prompt 1, versions 1-2, projects 1-5); clients send 'Authorization: Token <token>'",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, access_log=False, log_level="warning", http="h11")
    )

    async def serve() -> None:
        # SIGINT/SIGTERM (once or several times: Ctrl-C reaches the whole process group, and a
        # parent may signal too) only ask for a graceful stop; the process then exits with 0.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server._serve()  # uvicorn's own serve() would re-raise the signal after stopping

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
