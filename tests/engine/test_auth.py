"""Consumer authentication of every kind, checked by the upstream that receives it.

Digest is answered to a real challenge and verified by a handler that recomputes the response;
OAuth2 client credentials run against a stand-in token endpoint on the same loopback server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import threading
import time
from typing import Any

import pytest

from naftiko_runtime.errors import InputError, UpstreamError
from tests.support.upstream import HandlerResult, RecordedRequest, RecordingUpstream

from .helpers import call, doc, failure, running

ENV = {"API_KEY": "k3y-0f-the-capability", "USER": "ana", "PASSWORD": "pa:ss wörd", "TOKEN": "t0k3n"}


def secured(authentication: str, params: str = "[]") -> str:
    return doc(
        f"""
        binds:
        - namespace: env
          keys:
            API_KEY: API_KEY
            USER: USER
            PASSWORD: PASSWORD
            TOKEN: TOKEN
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            authentication: {authentication}
            resources:
            - name: items
              path: /items
              operations:
              - name: list
                inputParameters: {params}
              - name: create
                method: POST
                body: {{type: json, data: {{name: "{{{{name}}}}"}}}}
        """
    )


def test_apikey_in_a_header(upstream: RecordingUpstream) -> None:
    text = secured("{type: apikey, key: X-API-Key, value: '{{API_KEY}}', placement: header}")
    call(text, upstream.url, "up.list", environ=ENV)
    assert upstream.last.headers["x-api-key"] == ENV["API_KEY"]
    assert "authorization" not in upstream.last.headers


def test_apikey_in_the_query_is_encoded(upstream: RecordingUpstream) -> None:
    text = secured(
        "{type: apikey, key: api_key, value: '{{env.API_KEY}}&x=1', placement: query}",
        "[{name: q, in: query}]",
    )
    call(text, upstream.url, "up.list", {"q": "ships"}, environ=ENV)
    assert upstream.last.query == {"q": ["ships"], "api_key": [ENV["API_KEY"] + "&x=1"]}
    assert upstream.last.raw_query == f"q=ships&api_key={ENV['API_KEY']}%26x%3D1"


def test_bearer(upstream: RecordingUpstream) -> None:
    call(secured("{type: bearer, token: '{{TOKEN}}'}"), upstream.url, "up.list", environ=ENV)
    assert upstream.last.headers["authorization"] == "Bearer t0k3n"


def test_basic(upstream: RecordingUpstream) -> None:
    text = secured("{type: basic, username: '{{USER}}', password: '{{PASSWORD}}'}")
    call(text, upstream.url, "up.list", environ=ENV)
    scheme, _, encoded = upstream.last.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "ana:pa:ss wörd"


def test_static_credentials_without_binds(upstream: RecordingUpstream) -> None:
    call(secured("{type: bearer, token: literal-token}"), upstream.url, "up.list", environ=ENV)
    assert upstream.last.headers["authorization"] == "Bearer literal-token"


@pytest.mark.parametrize(
    ("authentication", "params", "arguments", "where", "expected"),
    [
        (
            "{type: apikey, key: Authorization, value: 'Token {{API_KEY}}', placement: header}",
            "[{name: Authorization, in: header}]",
            {"Authorization": "Token caller-value"},
            "header",
            "Token " + ENV["API_KEY"],
        ),
        (
            "{type: bearer, token: '{{TOKEN}}'}",
            "[{name: authorization, in: header}]",
            {"authorization": "Bearer caller-value"},
            "header",
            "Bearer t0k3n",
        ),
        (
            "{type: apikey, key: api_key, value: '{{API_KEY}}', placement: query}",
            "[{name: api_key, in: query}]",
            {"api_key": "caller-value"},
            "query",
            ENV["API_KEY"],
        ),
    ],
    ids=["apikey-header", "bearer", "apikey-query"],
)
def test_a_caller_value_for_a_credential_key_is_refused_before_any_call(
    upstream: RecordingUpstream,
    authentication: str,
    params: str,
    arguments: dict[str, Any],
    where: str,
    expected: str,
) -> None:
    # The key the authentication supplies is not an input: the caller's value is an unknown argument.
    error = failure(
        InputError, secured(authentication, params), upstream.url, "up.list", arguments, environ=ENV
    )
    assert [p.name for p in error.problems] == list(arguments)
    assert "unknown argument" in error.problems[0].message
    assert upstream.requests == []
    call(secured(authentication, params), upstream.url, "up.list", environ=ENV)
    got = upstream.last
    if where == "header":
        assert got.headers.getlist("authorization") == [expected]
    else:
        assert got.query["api_key"] == [expected]


def test_the_seed_does_not_ask_the_caller_for_the_credential(upstream: RecordingUpstream) -> None:
    text = secured(
        "{type: apikey, key: Authorization, value: '{{API_KEY}}', placement: header}",
        "[{name: Authorization, in: header, required: true}, {name: q, in: query}]",
    )

    async def go() -> list[str]:
        async with running(text, upstream.url, environ=ENV) as rt:
            unit = rt.find("up.list")
            await unit.invoke({})  # Authorization is required upstream, yet nothing is missing
            return [spec.name for spec in unit.inputs]

    assert asyncio.run(go()) == ["q"]
    assert upstream.last.headers["authorization"] == ENV["API_KEY"]


# -- digest ----------------------------------------------------------------------------------------

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class DigestServer:
    """A digest-protected route: challenges, then checks every answer by recomputing it (RFC 7616)."""

    def __init__(self, user: str, password: str, algorithm: str = "MD5", realm: str = "ships@test") -> None:
        self.user, self.password, self.algorithm, self.realm = user, password, algorithm, realm
        self.nonce = secrets.token_hex(8)
        self.opaque = secrets.token_hex(4)
        self.challenges = 0
        self.accepted: list[dict[str, str]] = []
        self.seen_nc: set[str] = set()
        self._lock = threading.Lock()

    def _hash(self, text: str) -> str:
        name = "sha256" if self.algorithm.upper().startswith("SHA-256") else "md5"
        return hashlib.new(name, text.encode()).hexdigest()

    def __call__(self, request: RecordedRequest) -> HandlerResult:
        header = request.headers.get("authorization", "")
        if header.startswith("Digest "):
            fields = {name: quoted or bare for name, quoted, bare in _PARAM.findall(header[7:])}
            if self._valid(fields, request):
                with self._lock:
                    self.accepted.append(fields)
                return 200, None, {"ok": True, "user": fields["username"]}
        with self._lock:
            self.challenges += 1
        challenge = (
            f'Digest realm="{self.realm}", qop="auth", nonce="{self.nonce}", '
            f'opaque="{self.opaque}", algorithm={self.algorithm}'
        )
        return 401, {"WWW-Authenticate": challenge}, {"detail": "digest required"}

    def _valid(self, f: dict[str, str], request: RecordedRequest) -> bool:
        if f.get("username") != self.user or f.get("realm") != self.realm or f.get("nonce") != self.nonce:
            return False
        if f.get("opaque") != self.opaque or f.get("uri") != request.target or f.get("qop") != "auth":
            return False
        with self._lock:
            if f["nc"] in self.seen_nc:  # a replayed nonce count is refused
                return False
            self.seen_nc.add(f["nc"])
        ha1 = self._hash(f"{self.user}:{self.realm}:{self.password}")
        ha2 = self._hash(f"{request.method}:{f['uri']}")
        expected = self._hash(f"{ha1}:{self.nonce}:{f['nc']}:{f['cnonce']}:auth:{ha2}")
        return f.get("response") == expected


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_answers_a_real_challenge(upstream: RecordingUpstream, algorithm: str) -> None:
    server = DigestServer(ENV["USER"], ENV["PASSWORD"], algorithm)
    upstream.route("*", "/items", handler=server)
    text = secured("{type: digest, username: '{{USER}}', password: '{{PASSWORD}}'}", "[{name: q, in: query}]")

    async def go() -> list[Any]:
        async with running(text, upstream.url, environ=ENV) as rt:
            first = await rt.invoke("up.list", {"q": "a b"})
            second = await rt.invoke("up.create", {"name": "x"})
            return [first.value, second.value]

    assert asyncio.run(go()) == [{"ok": True, "user": "ana"}, {"ok": True, "user": "ana"}]
    assert server.challenges == 1  # the second call reused the challenge, with the next nonce count
    assert [f["nc"] for f in server.accepted] == ["00000001", "00000002"]
    assert server.accepted[0]["uri"] == "/items?q=a%20b"
    assert upstream.requests[-1].json == {"name": "x"}  # the body went with the answered request


def test_digest_with_a_wrong_password_is_an_upstream_401(upstream: RecordingUpstream) -> None:
    upstream.route("*", "/items", handler=DigestServer("ana", "other"))
    text = secured("{type: digest, username: '{{USER}}', password: '{{PASSWORD}}'}")
    error = failure(UpstreamError, text, upstream.url, "up.list", environ=ENV)
    assert error.status == 401
    assert len(upstream.requests) == 2  # challenge, one answer, no loop


# -- oauth2 client credentials -----------------------------------------------------------------


class TokenEndpoint:
    """Issues ``token-1``, ``token-2``… to the right client; the API accepts only the latest."""

    def __init__(self, expires_in: float = 3600) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.forms: list[dict[str, list[str]]] = []
        self.revoked: set[str] = set()

    def token(self, request: RecordedRequest) -> HandlerResult:
        form = request.form()
        self.forms.append(form)
        if form.get("client_id") != ["app"] or form.get("client_secret") != ["s3cr3t/+="]:
            return 401, None, {"error": "invalid_client"}
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        return 200, None, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def api(self, request: RecordedRequest) -> HandlerResult:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not self.issued or given != self.issued[-1] or given in self.revoked:
            return 401, None, {"detail": "invalid token"}
        return 200, None, {"token": given}


def oauth2(upstream: RecordingUpstream, endpoint: TokenEndpoint) -> str:
    upstream.route("POST", "/oauth/token", handler=endpoint.token)
    upstream.route("*", "/items", handler=endpoint.api)
    return doc(
        f"""
        binds:
        - namespace: env
          keys:
            CLIENT_ID: CLIENT_ID
            CLIENT_SECRET: CLIENT_SECRET
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            authentication:
              type: oauth2
              tokenEndpoint: {upstream.url}/oauth/token
              clientId: "{{{{CLIENT_ID}}}}"
              clientSecret: "{{{{env.CLIENT_SECRET}}}}"
              scopes: [runs.read, runs.write]
            resources:
            - name: items
              path: /items
              operations:
              - name: list
              - name: create
                method: POST
        """
    )


OAUTH_ENV = {"CLIENT_ID": "app", "CLIENT_SECRET": "s3cr3t/+="}


def test_oauth2_token_is_fetched_once_and_cached(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint()
    text = oauth2(upstream, endpoint)

    async def go() -> list[Any]:
        async with running(text, upstream.url, environ=OAUTH_ENV) as rt:
            first = await rt.invoke("up.list", {})
            rest = await asyncio.gather(*(rt.invoke("up.list", {}) for _ in range(5)))
            return [first.value, *(r.value for r in rest)]

    assert asyncio.run(go()) == [{"token": "token-1"}] * 6
    assert endpoint.issued == ["token-1"]
    form = endpoint.forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["runs.read runs.write"]
    token_request = upstream.requests_for("POST", "/oauth/token")[0]
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_oauth2_token_is_fetched_again_after_expiry(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint(expires_in=1.2)  # refreshed early: usable for half its lifetime
    text = oauth2(upstream, endpoint)

    async def go() -> list[Any]:
        async with running(text, upstream.url, environ=OAUTH_ENV) as rt:
            first = await rt.invoke("up.list", {})
            again = await rt.invoke("up.list", {})
            await asyncio.sleep(0.7)
            later = await rt.invoke("up.list", {})
            return [first.value, again.value, later.value]

    assert asyncio.run(go()) == [{"token": "token-1"}, {"token": "token-1"}, {"token": "token-2"}]
    assert endpoint.issued == ["token-1", "token-2"]


def test_oauth2_token_is_refreshed_on_401(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint()
    text = oauth2(upstream, endpoint)

    async def go() -> list[Any]:
        async with running(text, upstream.url, environ=OAUTH_ENV) as rt:
            first = await rt.invoke("up.list", {})
            endpoint.revoked.add("token-1")  # the upstream forgets the token before it expires
            second = await rt.invoke("up.list", {})
            return [first.value, second.value]

    assert asyncio.run(go()) == [{"token": "token-1"}, {"token": "token-2"}]
    api_calls = upstream.requests_for(path="/items")
    assert [r.headers["authorization"] for r in api_calls] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_oauth2_bad_client_is_an_error_naming_the_token_endpoint(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint()
    text = oauth2(upstream, endpoint)
    error = failure(
        UpstreamError, text, upstream.url, "up.list", environ={**OAUTH_ENV, "CLIENT_SECRET": "nope"}
    )
    assert error.status == 401
    assert "token endpoint" in str(error)
    assert "invalid_client" in str(error)
    assert "nope" not in str(error)
    assert upstream.requests_for(path="/items") == []


def test_oauth2_token_shared_by_concurrent_first_calls(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint()
    text = oauth2(upstream, endpoint)

    async def go() -> None:
        async with running(text, upstream.url, environ=OAUTH_ENV) as rt:
            await asyncio.gather(*(rt.invoke("up.list", {}) for _ in range(8)))

    started = time.monotonic()
    asyncio.run(go())
    assert endpoint.issued == ["token-1"]
    assert time.monotonic() - started < 5


def test_oauth2_token_is_shared_by_every_operation_of_the_namespace(upstream: RecordingUpstream) -> None:
    endpoint = TokenEndpoint()
    text = oauth2(upstream, endpoint)

    async def go() -> list[Any]:
        async with running(text, upstream.url, environ=OAUTH_ENV) as rt:
            return [(await rt.invoke(op, {})).value for op in ("up.list", "up.create", "up.list")]

    assert asyncio.run(go()) == [{"token": "token-1"}] * 3
    assert endpoint.issued == ["token-1"]
