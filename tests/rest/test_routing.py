"""Route matching on the raw path (tests/rest/capabilities/routing.yaml, mocks only) and the router itself."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Mount

from naftiko_runtime.exposes.rest.routing import Router, parse_template
from tests.support.servers import ServerThread

from .conftest import CAPABILITIES, RestServer, serve_rest

ROUTING = CAPABILITIES / "routing.yaml"


@pytest.fixture(scope="module")
def routes_server() -> Iterator[RestServer]:
    with serve_rest(ROUTING) as server:
        yield server


@pytest.fixture
def routes(routes_server: RestServer) -> Iterator[httpx.Client]:
    with routes_server.client() as client:
        yield client


def test_a_literal_path_wins_over_a_template(routes: httpx.Client) -> None:
    assert routes.get("/ships/search").json() == "literal"
    assert routes.get("/ships/IMO-9321483").json() == {"imo": "IMO-9321483", "route": "template"}


def test_one_shape_is_one_path(routes: httpx.Client) -> None:
    # /ships/{{imo}} and /ships/{{id}} are one path: GET and DELETE
    assert routes.get("/ships/1").json()["route"] == "template"
    assert routes.delete("/ships/1").status_code == 204
    answer = routes.put("/ships/1")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, DELETE"


def test_placeholder_inside_a_segment(routes: httpx.Client) -> None:
    assert routes.get("/files/report.json").json() == "report"
    assert routes.get("/files/report.xml").status_code == 404


def test_path_values_are_percent_decoded(routes: httpx.Client) -> None:
    assert routes.get("/ships/IMO%209811000").json()["imo"] == "IMO 9811000"
    assert routes.get("/ships/a%2Fb").json()["imo"] == "a/b"
    assert routes.get("/ships/caf%C3%A9").json()["imo"] == "café"


def test_trailing_slashes_matter(routes: httpx.Client) -> None:
    assert routes.get("/slash/").json() == "slash"
    assert routes.get("/slash").status_code == 404
    assert routes.get("/ships/1/").status_code == 404
    assert routes.get("/ships/").status_code == 404


def test_methods(routes: httpx.Client) -> None:
    head = routes.head("/ships/search")
    assert head.status_code == 200 and head.content == b""
    options = routes.options("/ships/search")
    assert options.status_code == 405
    assert options.headers["allow"] == "GET, HEAD"
    assert routes.request("BREW", "/ships/search").status_code == 405


def test_openapi_of_merged_shapes_is_valid(routes: httpx.Client) -> None:
    document = routes.get("/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == {"/ships/{imo}", "/ships/search", "/files/{name}.json", "/slash/"}
    assert set(document["paths"]["/ships/{imo}"]) == {"get", "delete"}


def test_mounted_under_a_prefix(routes_server: RestServer) -> None:
    outer = Starlette(routes=[Mount("/api", app=routes_server.server.app)])
    with ServerThread(outer) as server:
        assert httpx.get(server.url + "/api/ships/search").json() == "literal"
        assert httpx.get(server.url + "/api/openapi.json").json()["servers"] == [{"url": server.url + "/api"}]


# -- the router on its own ------------------------------------------------------------------------


def test_router_literal_template_and_order() -> None:
    router: Router[str] = Router.build(
        [
            (parse_template("/a/{x}"), "template-x"),
            (parse_template("/a/b"), "literal"),
            (parse_template("/a/{{y}}"), "template-y"),
            (parse_template("/c/{p}/d/{q}"), "two"),
        ]
    )

    assert router.match("/a/b").target == "literal"
    found = router.match("/a/zz")
    assert (found.target, found.values) == ("template-x", ("zz",))
    assert router.match("/c/1/d/%20").values == ("1", "%20")
    assert router.match("/c/1/d/") is None
    assert router.match("/a/b/c") is None


def test_router_forward_tails() -> None:
    router: Router[str] = Router.build(
        [(parse_template("/notion/{{path}}"), "notion"), (parse_template("/proxy"), "proxy")], tail="path"
    )

    assert router.match("/notion/v1/pages").values == ("v1/pages",)
    assert router.match("/notion/").values == ("",)
    assert router.match("/notion") is None
    assert router.match("/proxy").values == ("",)
    assert router.match("/proxy/x/y").values == ("x/y",)
    assert router.match("/proxyx") is None


def test_template_parsing() -> None:
    template = parse_template("/v1/{{prompt-id}}/x/{version_id}.json")

    assert template.names == ("prompt-id", "version_id")
    assert template.openapi == "/v1/{prompt-id}/x/{version_id}.json"
    assert template.shape == "/v1/{}/x/{}.json"


def test_router_prefers_a_literal_segment_over_a_placeholder_whatever_the_order() -> None:
    """Generated files declare ``/orgs/{org}/scans/{id}`` before ``/orgs/{org}/scans/archive``
    (corpus: socket-dev); in document order the archive could never be reached."""
    router: Router[str] = Router.build(
        [
            (parse_template("/orgs/{org}/scans/{id}"), "scan"),
            (parse_template("/orgs/{org}/scans/archive"), "archive"),
            (parse_template("/orgs/{org}/{kind}/x"), "kind"),
        ]
    )

    found = router.match("/orgs/acme/scans/archive")
    assert (found.target, found.values) == ("archive", ("acme",))
    assert router.match("/orgs/acme/scans/42").target == "scan"
    assert router.match("/orgs/acme/scans/x").target == "scan"  # its literal `scans` comes first
