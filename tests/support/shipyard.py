"""Stand-ins for the tutorial's upstreams: the Maritime Registry (JSON) and the Legacy Dockyard (XML).

They serve the data of the mock OpenAPI specs next to the tutorial (``.github/microcks/``) and of
the reference engine's tests, over real loopback sockets, and record every request:

.. code-block:: python

    with shipyard() as yard:                       # both servers, stopped on exit
        options = RuntimeOptions(base_uris=yard.base_uris)   # {"registry": ..., "legacy": ...}
        ...
        assert yard.registry.last.headers["authorization"] == "Bearer dummy-token"
        assert [r.path for r in yard.registry.requests] == ["/ships/IMO-9321483", "/crew"]

    server, log = start_registry()                 # one server; stop it with server.stop()

Registry routes (``registry_app``): ``GET /ships[?status=]``, ``GET /ships/{imo}`` (404 for unknown
ships, as the spec's example), ``GET /crew``, ``GET /cargo``, ``POST /voyages`` (201, the request's
scalars echoed with ``voyageId`` ``VOY-2026-042`` and ``status`` ``planned``; 400 for an unknown
ship), ``GET /voyages/{id}`` (the stored voyage or the spec's example; 404 otherwise). Dockyard
routes (``dockyard_app``): ``GET /vessels[?status=]``, ``GET /vessels/{code}``, ``GET /personnel``,
all ``application/xml``. Neither checks credentials unless asked (``token=`` / ``api_key=``: a
wrong or missing one gets 401); both always record them. ``latency`` (seconds) delays every answer.

The data are module constants; each app works on deep copies, so a test may change an app's data
(``app.state.data``) without affecting another.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .servers import ServerThread
from .upstream import RecordedRequest

SHIPS: list[dict[str, Any]] = [
    {
        "imo_number": "IMO-9321483",
        "vessel_name": "Northern Star",
        "vessel_type": "cargo",
        "flag_code": "NO",
        "operational_status": "active",
        "year_built": 2015,
        "gross_tonnage": 42000,
        "dimensions": {"length_overall": 229, "beam": 32, "draft": 12.5},
        "assignedCrew": ["CREW-001", "CREW-003"],
    },
    {
        "imo_number": "IMO-9456781",
        "vessel_name": "Pacific Dawn",
        "vessel_type": "tanker",
        "flag_code": "SG",
        "operational_status": "maintenance",
        "year_built": 2018,
        "gross_tonnage": 55000,
        "dimensions": {"length_overall": 274, "beam": 48, "draft": 16.0},
        "assignedCrew": ["CREW-002", "CREW-004"],
    },
]
SUMMARY_FIELDS = ("imo_number", "vessel_name", "vessel_type", "flag_code", "operational_status")

CREW: list[dict[str, Any]] = [
    {
        "crewId": "CREW-001",
        "fullName": "Erik Lindström",
        "role": "captain",
        "certifications": ["STCW-II/2", "GMDSS"],
    },
    {
        "crewId": "CREW-002",
        "fullName": "Maria Santos",
        "role": "first_officer",
        "certifications": ["STCW-II/2"],
    },
    {"crewId": "CREW-003", "fullName": "Aiko Tanaka", "role": "cook", "certifications": ["STCW-VI/3"]},
    {"crewId": "CREW-004", "fullName": "Hans Mueller", "role": "engineer", "certifications": ["STCW-III/2"]},
]

CARGO: list[dict[str, Any]] = [
    {
        "cargoId": "CARGO-2024-0451",
        "type": "container",
        "description": "Electronics components",
        "weight": 12.5,
        "hazardous": False,
    },
    {
        "cargoId": "CARGO-2024-0452",
        "type": "bulk",
        "description": "Iron ore samples",
        "weight": 85.0,
        "hazardous": False,
    },
    {
        "cargoId": "CARGO-2024-0453",
        "type": "container",
        "description": "Industrial solvents",
        "weight": 5.2,
        "hazardous": True,
    },
]

VOYAGE_ID = "VOY-2026-042"
VOYAGES: dict[str, dict[str, Any]] = {
    VOYAGE_ID: {
        "voyageId": VOYAGE_ID,
        "shipImo": "IMO-9321483",
        "departurePort": "Oslo",
        "arrivalPort": "Singapore",
        "departureDate": "2026-04-10T08:00:00Z",
        "arrivalDate": "2026-05-02T14:00:00Z",
        "crewIds": ["CREW-001", "CREW-003"],
        "cargoIds": ["CARGO-2024-0451"],
        "status": "planned",
    }
}

LEGACY_VESSELS: list[dict[str, str]] = [
    {
        "vesselCode": "LEGACY-4012",
        "vesselName": "Old Faithful",
        "category": "cargo",
        "flagState": "GB",
        "operationalStatus": "active",
        "buildYear": "1998",
        "deadweight": "28000",
        "homePort": "Liverpool",
    },
    {
        "vesselCode": "LEGACY-2087",
        "vesselName": "Iron Maiden",
        "category": "bulk_carrier",
        "flagState": "PA",
        "operationalStatus": "laid_up",
    },
]
LEGACY_SUMMARY_FIELDS = ("vesselCode", "vesselName", "category", "flagState", "operationalStatus")
PERSONNEL: list[dict[str, str]] = [
    {"emp_id": "EMP-301", "name": "James Harlow", "position": "captain", "vessel_id": "LEGACY-4012"},
    {"emp_id": "EMP-302", "name": "Mei-Lin Chow", "position": "engineer", "vessel_id": "LEGACY-4012"},
]

#: The tutorial's ``shared/secrets.yaml`` values, for tests that check credentials.
REGISTRY_TOKEN = "dummy-token"
DOCKYARD_API_KEY = "dummy-dockyard-key"


# -- recording -------------------------------------------------------------------------------------


class RequestLog:
    """Every request an app received, as :class:`~tests.support.upstream.RecordedRequest`. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def add(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the stand-in received no request")
            return self._requests[-1]

    @property
    def paths(self) -> list[str]:
        """``METHOD path`` of each request, oldest first (``["GET /ships/IMO-9321483", ...]``)."""
        return [f"{r.method} {r.path}" for r in self.requests]

    def requests_for(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        ]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._requests)


class Recorder:
    """ASGI middleware: records each HTTP request into ``log`` (body included), then passes it on."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received_at, timestamp = time.monotonic(), time.time()
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        items = tuple(parse_qsl(raw_query, keep_blank_values=True))
        query: dict[str, list[str]] = {}
        for key, value in items:
            query.setdefault(key, []).append(value)
        try:
            parsed, is_json = json.loads(body), True
        except ValueError:
            parsed, is_json = None, False
        client = scope.get("client")
        self.log.add(
            RecordedRequest(
                method=scope["method"].upper(),
                raw_path=bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
                path=scope["path"],
                raw_query=raw_query,
                query=query,
                query_items=items,
                headers=Headers(raw=list(scope["headers"])),
                body=body,
                json=parsed,
                is_json=is_json and bool(body.strip()),
                received_at=received_at,
                timestamp=timestamp,
                http_version=scope.get("http_version", "1.1"),
                client=(client[0], client[1]) if client else None,
            )
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# -- the registry ----------------------------------------------------------------------------------


def registry_app(*, token: str | None = None, latency: float = 0.0) -> Starlette:
    """The Maritime Registry as a Starlette app (JSON). ``token``: require ``Bearer <token>``."""
    data = {
        "ships": copy.deepcopy(SHIPS),
        "crew": copy.deepcopy(CREW),
        "cargo": copy.deepcopy(CARGO),
        "voyages": copy.deepcopy(VOYAGES),
    }

    async def guard(request: Request) -> Response | None:
        if latency:
            await asyncio.sleep(latency)
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "unauthorized", "message": "a valid bearer token is required"}, 401)
        return None

    async def list_ships(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        status = request.query_params.get("status")
        ships = [s for s in data["ships"] if status is None or s["operational_status"] == status]
        return JSONResponse([{k: s[k] for k in SUMMARY_FIELDS} for s in ships])

    async def get_ship(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        imo = request.path_params["imo"]
        for ship in data["ships"]:
            if ship["imo_number"] == imo:
                return JSONResponse(ship)
        return JSONResponse({"error": "not_found", "message": f"Ship with IMO number {imo} not found"}, 404)

    async def list_crew(request: Request) -> Response:
        return await guard(request) or JSONResponse(data["crew"])

    async def list_cargo(request: Request) -> Response:
        return await guard(request) or JSONResponse(data["cargo"])

    async def create_voyage(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "bad_request", "message": "the body is not JSON"}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "bad_request", "message": "the body must be an object"}, 400)
        imo = body.get("shipImo")
        if not any(s["imo_number"] == imo for s in data["ships"]):
            return JSONResponse(
                {"error": "bad_request", "message": f"Ship {imo} not found or not available"}, 400
            )
        voyage = {
            "voyageId": VOYAGE_ID,
            **{k: v for k, v in body.items() if not isinstance(v, (dict, list))},
            "crewIds": body.get("crewIds") if isinstance(body.get("crewIds"), list) else [],
            "cargoIds": body.get("cargoIds") if isinstance(body.get("cargoIds"), list) else [],
            "status": "planned",
        }
        data["voyages"][VOYAGE_ID] = voyage
        return JSONResponse(voyage, 201)

    async def get_voyage(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        voyage = data["voyages"].get(request.path_params["voyage_id"])
        if voyage is None:
            message = f"Voyage {request.path_params['voyage_id']} not found"
            return JSONResponse({"error": "not_found", "message": message}, 404)
        return JSONResponse(voyage)

    app = Starlette(
        routes=[
            Route("/ships", list_ships, methods=["GET"]),
            Route("/ships/{imo}", get_ship, methods=["GET"]),
            Route("/crew", list_crew, methods=["GET"]),
            Route("/cargo", list_cargo, methods=["GET"]),
            Route("/voyages", create_voyage, methods=["POST"]),
            Route("/voyages/{voyage_id}", get_voyage, methods=["GET"]),
        ]
    )
    app.state.data = data
    return app


# -- the legacy dockyard ---------------------------------------------------------------------------


def _element(name: str, row: dict[str, str], fields: tuple[str, ...] | None = None, indent: str = "") -> str:
    inner = "".join(
        f"{indent}  <{key}>{escape(str(row[key]))}</{key}>\n" for key in fields or tuple(row) if key in row
    )
    return f"{indent}<{name}>\n{inner}{indent}</{name}>"


def _xml(root: str, element: str, rows: list[dict[str, str]], fields: tuple[str, ...] | None = None) -> str:
    body = "".join(_element(element, row, fields, "  ") + "\n" for row in rows)
    return f"<{root}>\n{body}</{root}>"


def dockyard_app(*, api_key: str | None = None, latency: float = 0.0) -> Starlette:
    """The Legacy Dockyard as a Starlette app (XML). ``api_key``: require ``X-Dock-Key``."""
    data = {"vessels": copy.deepcopy(LEGACY_VESSELS), "personnel": copy.deepcopy(PERSONNEL)}

    def xml(text: str, status: int = 200) -> Response:
        return Response(text, status, media_type="application/xml")

    async def guard(request: Request) -> Response | None:
        if latency:
            await asyncio.sleep(latency)
        if api_key is not None and request.headers.get("x-dock-key") != api_key:
            return xml("<error><code>unauthorized</code><message>bad API key</message></error>", 401)
        return None

    async def list_vessels(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        status = request.query_params.get("status")
        rows = [v for v in data["vessels"] if status is None or v["operationalStatus"] == status]
        return xml(_xml("vessels", "vessel", rows, LEGACY_SUMMARY_FIELDS))

    async def get_vessel(request: Request) -> Response:
        denied = await guard(request)
        if denied:
            return denied
        code = request.path_params["code"]
        for vessel in data["vessels"]:
            if vessel["vesselCode"] == code:
                return xml(_element("vessel", vessel))
        return xml(
            f"<error><code>not_found</code><message>Vessel {escape(code)} not found</message></error>", 404
        )

    async def list_personnel(request: Request) -> Response:
        return await guard(request) or xml(_xml("personnel", "employee", data["personnel"]))

    app = Starlette(
        routes=[
            Route("/vessels", list_vessels, methods=["GET"]),
            Route("/vessels/{code}", get_vessel, methods=["GET"]),
            Route("/personnel", list_personnel, methods=["GET"]),
        ]
    )
    app.state.data = data
    return app


# -- starting them ---------------------------------------------------------------------------------


def start_registry(**options: Any) -> tuple[ServerThread, RequestLog]:
    """The registry on a loopback port, started; ``options`` go to :func:`registry_app`."""
    log = RequestLog()
    return ServerThread(Recorder(registry_app(**options), log)).start(), log


def start_dockyard(**options: Any) -> tuple[ServerThread, RequestLog]:
    """The dockyard on a loopback port, started; ``options`` go to :func:`dockyard_app`."""
    log = RequestLog()
    return ServerThread(Recorder(dockyard_app(**options), log)).start(), log


@dataclass
class Shipyard:
    """Both stand-ins, running. ``base_uris`` is ready for ``RuntimeOptions(base_uris=...)``."""

    registry_server: ServerThread
    registry: RequestLog
    dockyard_server: ServerThread
    dockyard: RequestLog

    @property
    def base_uris(self) -> dict[str, str]:
        return {"registry": self.registry_server.url, "legacy": self.dockyard_server.url}

    def clear(self) -> None:
        self.registry.clear()
        self.dockyard.clear()

    def stop(self) -> None:
        self.registry_server.stop()
        self.dockyard_server.stop()


@contextlib.contextmanager
def shipyard(
    *, token: str | None = None, api_key: str | None = None, latency: float = 0.0
) -> Iterator[Shipyard]:
    """Start the registry and the dockyard; stop both on exit."""
    registry_server, registry = start_registry(token=token, latency=latency)
    try:
        dockyard_server, dockyard = start_dockyard(api_key=api_key, latency=latency)
    except BaseException:
        registry_server.stop()
        raise
    yard = Shipyard(registry_server, registry, dockyard_server, dockyard)
    try:
        yield yard
    finally:
        yard.stop()
