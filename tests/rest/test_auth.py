"""Adapter authentication (tests/rest/capabilities/auth.yaml): one expose per kind, same tiny API."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from naftiko_runtime.binds import Secret
from naftiko_runtime.exposes.auth import DigestGuard

from .conftest import CAPABILITIES, RestServer, serve_rest

AUTH = CAPABILITIES / "auth.yaml"
TOKEN = "rest-token-5d1e"
USER, PASSWORD = "ada", "pa:ss wörd"
# The nonce key derives from the credentials, so a guard built with the same ones (another replica)
# issues nonces the server accepts.
make_nonce = DigestGuard(Secret(USER), Secret(PASSWORD)).make_nonce
ENV = {"REST_TOKEN": TOKEN, "REST_USER": USER, "REST_PASSWORD": PASSWORD}
EXPOSES = ["bearer", "apikey-header", "apikey-query", "basic", "digest", "unsupported"]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, RestServer]]:
    import contextlib

    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(serve_rest(AUTH, environ=ENV, expose=index))
            for index, name in enumerate(EXPOSES)
        }


def client(servers: dict[str, RestServer], name: str, **options: object) -> httpx.Client:
    return servers[name].client(**options)


def assert_unauthorized(answer: httpx.Response, scheme: str) -> None:
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith(scheme + " ")
    assert answer.headers["content-type"] == "application/problem+json"
    assert TOKEN not in answer.text and PASSWORD not in answer.text


# -- bearer --------------------------------------------------------------------------------------


def test_bearer(servers: dict[str, RestServer]) -> None:
    with client(servers, "bearer") as api:
        assert_unauthorized(api.get("/ping"), "Bearer")
        assert_unauthorized(api.get("/ping", headers={"Authorization": f"Bearer {TOKEN}x"}), "Bearer")
        assert_unauthorized(api.get("/ping", headers={"Authorization": f"Token {TOKEN}"}), "Bearer")
        assert api.get("/ping", headers={"Authorization": f"Bearer {TOKEN}"}).json() == "ok"
        assert api.get("/ping", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_everything_is_guarded_unknown_paths_and_openapi_included(servers: dict[str, RestServer]) -> None:
    with client(servers, "bearer") as api:
        assert_unauthorized(api.get("/nowhere"), "Bearer")
        assert_unauthorized(api.get("/openapi.json"), "Bearer")
        assert_unauthorized(api.delete("/ping"), "Bearer")
        authorized = {"Authorization": f"Bearer {TOKEN}"}
        assert api.get("/nowhere", headers=authorized).status_code == 404
        assert api.get("/openapi.json", headers=authorized).status_code == 200


# -- API key -------------------------------------------------------------------------------------


def test_apikey_in_a_header(servers: dict[str, RestServer]) -> None:
    with client(servers, "apikey-header") as api:
        assert_unauthorized(api.get("/ping"), "ApiKey")
        assert_unauthorized(api.get("/ping", headers={"X-API-Key": "wrong"}), "ApiKey")
        assert_unauthorized(api.get("/ping", params={"X-API-Key": TOKEN}), "ApiKey")
        assert api.get("/ping", headers={"x-api-key": TOKEN}).status_code == 200


def test_apikey_in_the_query(servers: dict[str, RestServer]) -> None:
    with client(servers, "apikey-query") as api:
        assert_unauthorized(api.get("/ping", headers={"api_key": TOKEN}), "ApiKey")
        assert_unauthorized(api.get("/ping", params={"api_key": "nope"}), "ApiKey")
        assert api.get("/ping", params={"api_key": TOKEN}).status_code == 200


# -- basic ---------------------------------------------------------------------------------------


def test_basic(servers: dict[str, RestServer]) -> None:
    with client(servers, "basic") as api:
        assert_unauthorized(api.get("/ping"), "Basic")
        assert_unauthorized(api.get("/ping", auth=(USER, "wrong")), "Basic")
        assert_unauthorized(api.get("/ping", auth=("bob", PASSWORD)), "Basic")
        assert_unauthorized(api.get("/ping", headers={"Authorization": "Basic !!!"}), "Basic")
        assert api.get("/ping", auth=(USER, PASSWORD)).status_code == 200


# -- digest --------------------------------------------------------------------------------------


def test_digest_with_a_real_client(servers: dict[str, RestServer]) -> None:
    with client(servers, "digest") as api:
        challenge = api.get("/ping")
        assert_unauthorized(challenge, "Digest")
        assert 'realm="naftiko"' in challenge.headers["www-authenticate"]
        assert api.get("/ping", auth=httpx.DigestAuth(USER, PASSWORD)).json() == "ok"
        # The digest covers the query string: authenticated, then refused for `x`, which ping does not take.
        answer = api.get("/ping?x=1", auth=httpx.DigestAuth(USER, PASSWORD))
        assert answer.status_code == 400 and answer.json()["errors"][0]["name"] == "x"
        assert_unauthorized(api.get("/ping", auth=httpx.DigestAuth(USER, "wrong")), "Digest")


def digest_header(
    uri: str, nonce: str, *, method: str = "GET", password: str = PASSWORD, alg: str = "MD5"
) -> str:
    name = {"MD5": "md5", "SHA-256": "sha256"}[alg]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1, ha2 = h(f"{USER}:naftiko:{password}"), h(f"{method}:{uri}")
    response = h(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}")
    return (
        f'Digest username="{USER}", realm="naftiko", nonce="{nonce}", uri="{uri}", algorithm={alg}, '
        f'qop=auth, nc=00000001, cnonce="c0ffee", response="{response}"'
    )


def test_digest_by_hand(servers: dict[str, RestServer]) -> None:
    with client(servers, "digest") as api:
        nonce = make_nonce()
        assert api.get("/ping", headers={"Authorization": digest_header("/ping", nonce)}).status_code == 200
        sha = digest_header("/ping", nonce, alg="SHA-256")
        assert api.get("/ping", headers={"Authorization": sha}).status_code == 200
        # an answer computed for another resource is not accepted here
        other = digest_header("/other", nonce)
        assert_unauthorized(api.get("/ping", headers={"Authorization": other}), "Digest")
        # a nonce this process did not issue
        forged = digest_header("/ping", "6500000.0123456789abcdef0123456789abcdef")
        assert_unauthorized(api.get("/ping", headers={"Authorization": forged}), "Digest")


def test_digest_stale_nonce_is_challenged_again(servers: dict[str, RestServer]) -> None:
    with client(servers, "digest") as api:
        old = make_nonce(time.time() - 3600)
        answer = api.get("/ping", headers={"Authorization": digest_header("/ping", old)})

    assert_unauthorized(answer, "Digest")
    assert "stale=true" in answer.headers["www-authenticate"]
    fresh = re.search(r'nonce="([^"]+)"', answer.headers["www-authenticate"])
    assert fresh is not None and fresh.group(1) != old


# -- misconfiguration -----------------------------------------------------------------------------
# A credential that is undeclared is a load error, and one that renders empty stops the adapter from
# starting, on every adapter alike: tests/security/test_inbound_credentials.py.


def test_an_unsupported_scheme_is_501(servers: dict[str, RestServer]) -> None:
    with client(servers, "unsupported") as api:
        answer = api.get("/ping", headers={"Authorization": "Bearer anything"})

    assert answer.status_code == 501
    assert answer.headers["content-type"] == "application/problem+json"
    assert "hawk" in answer.json()["detail"]
