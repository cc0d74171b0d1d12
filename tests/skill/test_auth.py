"""The skill expose's ``authentication`` (tests/skill/capabilities/auth.yaml): one expose per kind,
each guarding every route, unknown ones included, before anything else is looked at."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator

import httpx
import pytest

from .conftest import CAPABILITIES, SkillServer, make_skill_dir, place_capability, serve_skill

TOKEN = "skill-token-8c2f"
USER, PASSWORD = "ada", "pa:ss wörd"
ENV = {"SKILL_TOKEN": TOKEN, "SKILL_USER": USER, "SKILL_PASSWORD": PASSWORD}
EXPOSES = ["bearer", "apikey-header", "apikey-query", "basic", "unsupported"]
ROUTES = [
    "/skills",
    "/skills/guide",
    "/skills/guide/contents",
    "/skills/guide/contents/order-guide.md",
    "/skills/guide/download",
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SkillServer]]:
    directory = tmp_path_factory.mktemp("auth")
    make_skill_dir(directory / "guide")
    capability = place_capability(CAPABILITIES / "auth.yaml", directory)
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(serve_skill(capability, expose=index, environ=ENV))
            for index, name in enumerate(EXPOSES)
        }


def assert_unauthorized(answer: httpx.Response, scheme: str) -> None:
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith(scheme + " ")
    assert answer.headers["content-type"] == "application/problem+json"
    assert TOKEN not in answer.text and PASSWORD not in answer.text


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("path", [*ROUTES, "/nowhere", "/skills/unknown"])
def test_bearer_guards_every_route(servers: dict[str, SkillServer], path: str) -> None:
    with servers["bearer"].client() as client:
        assert_unauthorized(client.get(path), "Bearer")
        assert_unauthorized(client.get(path, headers={"Authorization": f"Bearer {TOKEN}x"}), "Bearer")
        assert_unauthorized(client.get(path, headers={"Authorization": f"Token {TOKEN}"}), "Bearer")
        assert_unauthorized(client.post(path), "Bearer")  # before the 405 too
        answer = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == (200 if path in ROUTES else 404)


def test_bearer_answers_with_the_token(servers: dict[str, SkillServer]) -> None:
    with servers["bearer"].client(headers={"Authorization": f"bearer {TOKEN}"}) as client:
        assert client.get("/skills").json()["count"] == 1
        assert client.get("/skills/guide/download").content[:2] == b"PK"


def test_apikey_header(servers: dict[str, SkillServer]) -> None:
    with servers["apikey-header"].client() as client:
        assert_unauthorized(client.get("/skills"), "ApiKey")
        assert_unauthorized(client.get("/skills", headers={"X-API-Key": TOKEN[:-1]}), "ApiKey")
        assert_unauthorized(client.get("/skills", params={"X-API-Key": TOKEN}), "ApiKey")
        for path in ROUTES:
            assert client.get(path, headers={"x-api-key": TOKEN}).status_code == 200


def test_apikey_query(servers: dict[str, SkillServer]) -> None:
    with servers["apikey-query"].client() as client:
        assert_unauthorized(client.get("/skills"), "ApiKey")
        assert_unauthorized(client.get("/skills", headers={"api_key": TOKEN}), "ApiKey")
        assert_unauthorized(client.get("/skills", params={"api_key": "nope"}), "ApiKey")
        for path in ROUTES:
            assert client.get(path, params={"api_key": TOKEN}).status_code == 200


def test_basic(servers: dict[str, SkillServer]) -> None:
    with servers["basic"].client() as client:
        assert_unauthorized(client.get("/skills"), "Basic")
        assert_unauthorized(client.get("/skills", headers={"Authorization": basic(USER, "wrong")}), "Basic")
        assert_unauthorized(client.get("/skills", headers={"Authorization": basic("eve", PASSWORD)}), "Basic")
        assert_unauthorized(client.get("/skills", headers={"Authorization": "Basic !!!"}), "Basic")
        for path in ROUTES:
            assert client.get(path, headers={"Authorization": basic(USER, PASSWORD)}).status_code == 200


def test_unsupported_authentication_fails_closed(servers: dict[str, SkillServer]) -> None:
    with servers["unsupported"].client() as client:
        answer = client.get("/skills", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 501
        assert answer.headers["content-type"] == "application/problem+json"
        assert "hawk" in answer.json()["detail"]
