"""Catalogue §10b: REST behaviours, through ``naftiko serve`` and httpx, against recording stand-ins.

The Java tests of this section mostly call engine internals (``ResourceRestlet.handle``,
``Resolver``, ``findClientRequestFor``) or build a request without sending it; each is rewritten
here as "HTTP in ⇒ what the upstream received and what the caller got back". Fixtures come from
the framework (``src/test/resources``) when it has one, else from the inline YAML of the Java test
(``framework/capabilities/``). Every consumed namespace is pointed at one
:class:`~tests.support.upstream.RecordingUpstream` under its own path prefix (so ``baseUri`` path
prefixes like ``/v1`` stay visible), or at the Shipyard registry stand-in where the Java test used
the tutorial's data.

Documents the runtime must refuse are run once with :func:`serve_once`, asserting the exit code
and the error named on stderr.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.shipyard import Shipyard, shipyard
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .framework import (
    ServeGroup,
    inline,
    mcp_client,
    requires_framework,
    resource,
    scenario,
    serve_once,
    tool_json,
    unit,
)
from .framework.serve import naftiko_argv

pytestmark = [requires_framework, pytest.mark.anyio]

IMO = "IMO-9321483"
PATH_VALUE = "/conformance/bin:/usr/bin"
ENV = {
    "CONFORMANCE_CAPABILITY_VALUE": "capability-level-value",
    "CONFORMANCE_BASIC_USER": "alice",
    "CONFORMANCE_BASIC_PASSWORD": "basic-pass",
    "CONFORMANCE_QUERY_TOKEN": "abc123",
    "CONFORMANCE_NOTION_API_KEY": "ntn_test_abc123",
    "CONFORMANCE_DECLARED_TOKEN": "declared-token-value",
    "CONFORMANCE_DECLARED_KEY": "declared-key-value",
}
VESSELS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<vessels>
  <vessel>
    <vesselCode>V001</vesselCode>
    <vesselName>Sea Eagle</vesselName>
  </vessel>
  <vessel>
    <vesselCode>V002</vesselCode>
    <vesselName>Harbor Star</vesselName>
  </vessel>
</vessels>
"""
USERS_XML = "<root><user><id>1</id><name>Alice</name></user><user><id>2</id><name>Bob</name></user></root>"
ONE_VESSEL_XML = (
    "<vessels><vessel><vesselCode>V001</vesselCode><vesselName>Sea Eagle</vesselName></vessel></vessels>"
)
DIGEST_REALM = "conformance"
DIGEST_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"


# -- stand-ins -------------------------------------------------------------------------------------


def _digest_protected(request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
    """An upstream behind HTTP digest (RFC 7616, MD5, qop=auth) for ``digest-user``/``digest-pass``."""
    challenge = {
        "WWW-Authenticate": (
            f'Digest realm="{DIGEST_REALM}", qop="auth", nonce="{DIGEST_NONCE}", algorithm=MD5'
        )
    }
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("digest "):
        return 401, challenge, {"error": "digest required"}
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"digest-user:{DIGEST_REALM}:digest-pass")
    ha2 = md5(f"{request.method}:{fields.get('uri', '')}")
    expected = md5(f"{ha1}:{DIGEST_NONCE}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    if fields.get("username") != "digest-user" or fields.get("response") != expected:
        return 401, challenge, {"error": "bad digest"}
    return 200, {}, {"ok": True, "user": fields["username"]}


def _echo_trace(request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
    return 200, {"content-type": "text/plain"}, request.headers.get("x-trace", "")


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as stub:
        stub.route("POST", "/http-body/create", json={"created": True})
        stub.route("POST", "/header-query/items", json=[])
        stub.route("GET", "/notion/v1/pages", json={"ok": True})
        stub.route("GET", "/trusted/echo", handler=_echo_trace)
        stub.route("GET", "/xml/vessels", body=VESSELS_XML, content_type="application/xml")
        stub.route("GET", "/restlet/internal/user", json={"user": {"id": "u-1", "name": "Alice"}})
        stub.route("GET", "/restlet/internal/raw", json={"id": "u-1"})
        stub.route("GET", "/restlet/internal/users.xml", body=USERS_XML, content_type="application/xml")
        stub.route("GET", "/ini/ini", text="id=1\n")
        users = [{"id": "u-1", "email": "alice@example.com"}, {"id": "u-2", "email": "bob@example.com"}]
        stub.route("GET", "/workflow/v1/users", json=users)
        stub.route("GET", "/workflow/v1/profiles/u-1", json={"profile": {"region": "eu"}})
        stub.route("GET", "/workflow/v1/echo/eu", json={"ok": True})
        stub.route("GET", "/workflow/v1/user", json={"user": {"id": "u-1"}})
        stub.route("GET", "/workflow/v1/vessels", body=ONE_VESSEL_XML, content_type="application/xml")
        stub.route("GET", "/auth/digest/v1/items", handler=_digest_protected)
        yield stub


@pytest.fixture(scope="module")
def yard() -> Iterator[Shipyard]:
    with shipyard() as stand_ins:
        yield stand_ins


@pytest.fixture(scope="module")
def servers(
    upstream: RecordingUpstream, yard: Shipyard, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeGroup]:
    up = upstream.url
    group = ServeGroup(Path(tmp_path_factory.mktemp("rest")))
    group.add("body", resource("http/http-body-capability.yaml"), base_uris={"testns": f"{up}/http-body"})
    group.add(
        "header-query",
        resource("http/http-header-query-capability.yaml"),
        base_uris={"testns": f"{up}/header-query"},
    )
    group.add("forward-header", inline("forward-header.yaml"), base_uris={"notion": f"{up}/notion/v1"})
    group.add(
        "forward-value",
        resource("http/http-forward-value-capability.yaml"),
        base_uris={"external": f"{up}/forward-value/v1"},
    )
    group.add(
        "header-template", inline("header-value-template.yaml"), base_uris={"external": f"{up}/headers/v1"}
    )
    group.add("trusted", inline("forward-trusted-headers.yaml"), base_uris={"upstream": f"{up}/trusted"})
    registry = {"registry": yard.registry_server.url}
    group.add("path-param", inline("rest-path-param.yaml"), base_uris=registry)
    group.add("namespace-ref", inline("rest-namespace-ref.yaml"), base_uris=registry)
    group.add("xml", inline("rest-xml-output.yaml"), base_uris={"legacy": f"{up}/xml"})
    group.add("auth", inline("rest-auth.yaml"))
    group.add("shared-mock", resource("aggregates/aggregate-shared-mock.yaml"))
    group.add("restlet", inline("resource-restlet.yaml"), base_uris={"api": f"{up}/restlet"})
    group.add("ini", inline("resource-restlet-ini-format.yaml"), base_uris={"api": f"{up}/ini"})
    group.add("workflow", inline("workflow.yaml"), base_uris={"testns": f"{up}/workflow/v1"})
    group.add("templates", inline("templates.yaml"), base_uris={"api": f"{up}/templates"})
    group.add(
        "binds",
        inline("binds/file-and-env-binds.yaml"),
        base_uris={"api": f"{up}/binds"},
        env={"PATH": PATH_VALUE, **ENV},
    )
    group.add(
        "imports",
        inline("imports/imports.yaml"),
        base_uris={
            "json-api": f"{up}/imports/json",
            "my-api": f"{up}/imports/my",
            "local-api": f"{up}/imports/local",
        },
    )
    group.add(
        "consumer-auth",
        inline("consumer-auth.yaml"),
        base_uris={
            "basic-api": f"{up}/auth/basic/v1",
            "digest-api": f"{up}/auth/digest/v1",
            "query-api": f"{up}/auth/query/v1",
            "bearer-api": f"{up}/auth/bearer/v1",
            "header-api": f"{up}/auth/headers/v1",
        },
        env=ENV,
    )
    group.add("no-placement", inline("consumer-auth-no-placement.yaml"), base_uris={"dock-api": f"{up}/dock"})
    group.add("server-auth", inline("server-auth.yaml"), env=ENV)
    group.add(
        "trailing-slash",
        resource("baseuri-trailing-slash-capability.yaml"),
        base_uris={"backend": f"{up}/slash/v1/"},
    )
    group.start()
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture
def stub(upstream: RecordingUpstream, yard: Shipyard) -> RecordingUpstream:
    upstream.clear_requests()
    yard.clear()
    return upstream


def received(stub: RecordingUpstream, prefix: str) -> list[RecordedRequest]:
    return [r for r in stub.requests if r.path.startswith(prefix)]


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def refused(tmp_path: Path, document: Path, *needles: str, env: dict[str, str] | None = None) -> None:
    """``naftiko serve`` refuses the document (exit 2) and names every needle on stderr."""
    code, output = serve_once(document, tmp_path / document.stem, env=env)
    assert code == 2, f"expected exit 2, got {code}:\n{output}"
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output}"
    assert "Traceback" not in output, output


# -- 10b rows --------------------------------------------------------------------------------------


@scenario("10b", "HttpBody", java="T:engine/exposes/rest/HttpBodyIntegrationTest")
def test_http_body(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Body inputs read by JSONPath (``$.user.id``) fill a block-scalar JSON body template."""
    base = servers["body"].base("test-http-body")
    answer = httpx.post(f"{base}/users", json={"user": {"id": "123", "name": "Alice"}})
    with unit("POST /users ⇒ 2xx"):
        assert answer.is_success, answer.text
    with unit("upstream POST /create with the rendered body"):
        [seen] = received(stub, "/http-body")
        assert (seen.method, seen.path) == ("POST", "/http-body/create")
        assert seen.json == {"id": "123", "name": "Alice"}
        assert '"id":"123"' in seen.body.decode() and '"name":"Alice"' in seen.body.decode()


@scenario("10b", "HeaderQuery", java="T:engine/exposes/rest/HeaderQueryIntegrationTest")
def test_header_query(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """A query parameter valued ``{{userId}}`` (from ``$.user.id``) and a static consumer header."""
    base = servers["header-query"].base("test-http")
    answer = httpx.post(f"{base}/search", json={"user": {"id": "999"}})
    with unit("POST /search ⇒ 2xx"):
        assert answer.is_success, answer.text
    [seen] = received(stub, "/header-query")
    with unit("upstream query q=999 (not a JSON-quoted string)"):
        assert seen.raw_query == "q=999"
    with unit("consumer header X-API-Key: ABC123"):
        assert seen.headers.get("x-api-key") == "ABC123"


@scenario("10b", "ForwardHeader", java="T:engine/exposes/rest/ForwardHeaderIntegrationTest")
def test_forward_header(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """A ``forward`` resource: the consumer's static ``Notion-Version`` header is applied and the
    upstream answer is passed through (a ``naftiko: "0.4"`` document, read as the current spec)."""
    answer = httpx.get(f"{servers['forward-header'].base('sample')}/notion/pages")
    with unit("200 application/json {ok: true} passed through"):
        assert answer.status_code == 200
        assert media_type(answer) == "application/json"
        assert answer.json() == {"ok": True}
    with unit("upstream GET /v1/pages with Notion-Version: 2025-09-03"):
        [seen] = received(stub, "/notion")
        assert (seen.method, seen.path) == ("GET", "/notion/v1/pages")
        assert seen.headers.get("notion-version") == "2025-09-03"


@scenario("10b", "ForwardValueField", java="T:engine/consumes/http/ForwardValueFieldTest")
def test_forward_value_field(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Consumer header parameters with ``value``: static ones on a forward, a ``{{requestId}}`` one
    rendered from the request's parameters.

    [BUG] in Java (notes §3.7): ``setHeaders`` re-sends every consumer ``value`` header raw at the
    end, so ``{{requestId}}`` would reach the upstream literally on a real call. Asserted instead:
    the rendered value ``req-12345``.
    """
    answer = httpx.get(f"{servers['forward-value'].base('sample')}/forward/test")
    with unit("forward: static X-API-Version and X-API-Key applied"):
        assert answer.status_code == 200, answer.text
        [seen] = received(stub, "/forward-value")
        assert seen.path == "/forward-value/v1/test"
        assert seen.headers.get("x-api-version") == "2026-03-03"
        assert seen.headers.get("x-api-key") == "secret-key-123"
    stub.clear_requests()
    answer = httpx.get(
        f"{servers['header-template'].base('headers')}/items", params={"requestId": "req-12345"}
    )
    with unit("value {{requestId}} ⇒ X-Request-Id: req-12345"):
        assert answer.status_code == 200, answer.text
        [seen] = received(stub, "/headers")
        assert seen.headers.get("x-request-id") == "req-12345"
        assert seen.headers.get("x-api-version") == "2026-03-03"


@scenario(
    "10b",
    "ResourceRestlet forward + trusted headers",
    java="T:engine/exposes/rest/ResourceRestletTest#handleShouldForwardRequestAndPropagateTrustedHeaders",
)
def test_forward_trusted_headers(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Only ``trustedHeaders`` travel to the forward target; the answer comes back as sent."""
    answer = httpx.get(
        f"{servers['trusted'].base('proxy')}/proxy/echo",
        headers={"X-Trace": "abc-123", "X-Untrusted": "nope"},
    )
    with unit("200 with the echoed X-Trace"):
        assert answer.status_code == 200
        assert answer.text == "abc-123"
    with unit("untrusted header not forwarded"):
        [seen] = received(stub, "/trusted")
        assert seen.path == "/trusted/echo"
        assert "x-untrusted" not in seen.headers


@scenario("10b", "RestPathParamWithResolution", java="T:engine/exposes/rest/RestPathParamWithResolutionTest")
def test_path_param_with_resolution(servers: ServeGroup, stub: RecordingUpstream, yard: Shipyard) -> None:
    """``/ships/{{imo}}`` ⇒ ``with imo_number: "{{imo}}"`` ⇒ consumed ``/ships/{{imo_number}}``.

    [BUG] in Java (notes §5, §11.8): path values pass through still percent-encoded and are inserted
    raw. Asserted instead: the decoded value is re-encoded as exactly one path segment.
    """
    answer = httpx.get(f"{servers['path-param'].base('shipyard-api')}/ships/{IMO}")
    with unit("GET /ships/IMO-9321483 ⇒ 200"):
        assert answer.status_code == 200, answer.text
    with unit("registry saw /ships/IMO-9321483"):
        assert yard.registry.paths == [f"GET /ships/{IMO}"]
    with unit("a value with '/' and ' ' is one encoded segment upstream"):
        yard.clear()
        httpx.get(f"{servers['path-param'].base('shipyard-api')}/ships/A%2FB%20C")
        assert yard.registry.last.raw_path == "/ships/A%2FB%20C"


@scenario(
    "10b", "RestNamespaceRefWithResolution", java="T:engine/exposes/rest/RestNamespaceRefWithResolutionTest"
)
def test_namespace_ref_with_resolution(servers: ServeGroup, stub: RecordingUpstream, yard: Shipyard) -> None:
    """``with shipImo: "shipyard-api.shipImo"`` refers to the body input; the block-scalar body is
    sent exactly as written (trailing newline included) and the upstream 201 passes through."""
    answer = httpx.post(f"{servers['namespace-ref'].base('shipyard-api')}/voyages", json={"shipImo": IMO})
    with unit("POST /voyages ⇒ 201 (upstream status)"):
        assert answer.status_code == 201, answer.text
    with unit('registry body exactly {"shipImo": "IMO-9321483"}\\n'):
        seen = yard.registry.last
        assert (seen.method, seen.path) == ("POST", "/voyages")
        assert seen.body == b'{"shipImo": "IMO-9321483"}\n'


@scenario("10b", "RestXmlOutputFormat", java="T:engine/exposes/rest/RestXmlOutputFormatIntegrationTest")
def test_xml_output_format(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """The consumed operation's ``outputRawFormat: xml`` decodes the answer before shaping."""
    answer = httpx.get(f"{servers['xml'].base('test-rest')}/legacy/vessels")
    with unit("200 [{code, name} × 2]"):
        assert answer.status_code == 200, answer.text
        assert answer.json() == [
            {"code": "V001", "name": "Sea Eagle"},
            {"code": "V002", "name": "Harbor Star"},
        ]


@scenario("10b", "Authentication (REST adapter)", java="T:engine/exposes/rest/AuthenticationIntegrationTest")
def test_rest_adapter_authentication(servers: ServeGroup) -> None:
    """Bearer and API-key REST adapters in front of a mock operation answering ``"ok"``."""
    server = servers["auth"]
    bearer_url = f"{server.base('bearer-sample')}/hello"
    apikey_url = f"{server.base('apikey-sample')}/hello"
    with unit("bearer: no credentials ⇒ 401"):
        assert httpx.get(bearer_url).status_code == 401
    with unit("bearer: token-123 ⇒ 200 application/json containing ok"):
        answer = httpx.get(bearer_url, headers={"Authorization": "Bearer token-123"})
        assert answer.status_code == 200 and media_type(answer) == "application/json"
        assert "ok" in answer.text
    with unit("apikey: no credentials ⇒ 401"):
        assert httpx.get(apikey_url).status_code == 401
    with unit("apikey: X-API-Key abc123 ⇒ 200 application/json containing ok"):
        answer = httpx.get(apikey_url, headers={"X-API-Key": "abc123"})
        assert answer.status_code == 200 and media_type(answer) == "application/json"
        assert "ok" in answer.text


@scenario("10b", "AggregateSharedMock", java="T:engine/exposes/rest/AggregateSharedMockIntegrationTest")
async def test_aggregate_shared_mock(servers: ServeGroup) -> None:
    """One mock aggregate function behind an MCP tool and a REST operation: identical JSON."""
    server = servers["shared-mock"]
    expected = {"message": "Hello, Nina!", "source": "aggregate-mock"}
    with unit("REST GET /hello?name=Nina ⇒ 200 greeting"):
        answer = httpx.get(f"{server.base('greeting-rest')}/hello", params={"name": "Nina"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected
    with unit("MCP tools/call hello {name: Nina} ⇒ the same JSON"):
        async with mcp_client(server.url("greeting-mcp")) as client:
            assert tool_json(await client.call_tool("hello", {"name": "Nina"})) == expected


@scenario("10b", "ResourceRestlet", java="T:engine/exposes/rest/ResourceRestletTest")
def test_resource_restlet(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """Mock, mapped, raw and XML answers of REST operations; a method no operation declares; an
    invalid ``call``; an output format the runtime cannot decode.

    Differences asserted on purpose: an invalid ``call`` (``invalidCallFormat``) is a document error
    refused at startup, naming the place (Java answers 400 per request); a method no operation
    declares gets a 4xx without touching the upstream (Java: 404 with a fixed text).
    [BUG] in Java (notes §4d, §11.4): nested ``value`` properties are ignored in call mode (null).
    Asserted instead: the static value. [BUG] (notes §3.8, §11.9): an unreachable upstream gives a
    connector pseudo-status / 500 with the exception text. Asserted instead: 502, no traceback.
    """
    base = servers["restlet"].base("restlet")
    with unit("mock: nested object and array from static values"):
        answer = httpx.get(f"{base}/preview")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "ready", "payload": {"id": "42", "tags": ["active"]}}
    with unit("mapped object from $.user.id / $.user.name, nested static value kept"):
        answer = httpx.get(f"{base}/user")
        assert answer.status_code == 200
        assert answer.json() == {"id": "u-1", "name": "Alice", "source": "naftiko"}
    with unit("upstream down ⇒ 502, no traceback"):
        stub.stop()
        try:
            answer = httpx.get(f"{base}/user")
        finally:
            stub.start()
        assert answer.status_code == 502 and "Traceback" not in answer.text
    with unit("no outputParameters ⇒ raw upstream body"):
        answer = httpx.get(f"{base}/raw")
        assert answer.status_code == 200 and answer.json() == {"id": "u-1"}
    with unit("XML by the consumed outputRawFormat ⇒ [{id, name} × 2]"):
        answer = httpx.get(f"{base}/users-xml")
        assert answer.json() == [{"id": "1", "name": "Alice"}, {"id": "2", "name": "Bob"}]
    with unit("undeclared method ⇒ 4xx, no upstream call"):
        stub.clear_requests()
        answer = httpx.post(f"{base}/user", json={})
        assert answer.status_code in (404, 405), answer.status_code
        assert received(stub, "/restlet") == []
    with unit("call 'invalidCallFormat' ⇒ refused at startup, naming it"):
        refused(tmp_path, inline("resource-restlet-invalid-call.yaml"), "invalidCallFormat")
    with unit("outputRawFormat INI ⇒ 5xx naming the format, no traceback"):
        answer = httpx.get(f"{servers['ini'].base('restlet')}/ini")
        assert answer.status_code >= 500, answer.status_code
        assert "ini" in answer.text.lower() and "Traceback" not in answer.text


@scenario(
    "10b", "OperationStepExecutor (orchestration)", java="T:engine/util/OperationStepExecutorIntegrationTest"
)
def test_operation_step_executor(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """call → lookup (``{{targetEmail}}``) → call with a consumed output projection → call whose
    path uses ``{{fetch-profile.region}}``; the Java test reads the step context, here mappings
    expose it.

    [BUG] in Java (notes §4e/§11.4): of several output parameters only the first non-null one is
    returned, unwrapped (``"u-1"``). Asserted instead: all named outputs, keyed by name.
    [BUG] in Java (notes §4a): orchestrated steps ignore ``outputRawFormat``. Asserted instead: an
    XML step is decoded (``$.get-vessels.vessel.vesselCode`` ⇒ ``V001``).
    Invalid ``call`` and a lookup over an unknown step are refused at startup (Java: per request).
    """
    base = servers["workflow"].base("steps")
    answer = httpx.get(
        f"{base}/workflow", params={"targetEmail": "bob@example.com", "requestingUserId": "u-1"}
    )
    with unit("find-user.id u-2, fetch-profile.region eu"):
        assert answer.status_code == 200, answer.text
        assert answer.json()["foundUserId"] == "u-2"
        assert answer.json()["region"] == "eu"
    with unit("requests: users, profiles/u-1, echo/eu (last)"):
        paths = [r.path for r in received(stub, "/workflow")]
        assert paths == ["/workflow/v1/users", "/workflow/v1/profiles/u-1", "/workflow/v1/echo/eu"]
    with unit("several named outputs ⇒ all returned, keyed by name"):
        answer = httpx.get(f"{base}/first-mapped")
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == "u-1"
        assert answer.json().get("missing") is None
    with unit("XML step honours outputRawFormat ⇒ V001"):
        answer = httpx.get(f"{base}/vessel-code")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"code": "V001"}
    with unit("invalid call and unknown lookup index ⇒ refused at startup"):
        refused(tmp_path, inline("workflow-invalid.yaml"), "bad.call", "does-not-exist")


@scenario("10b", "OperationsRestlet (templates)", java="T:engine/exposes/rest/OperationsRestletTest")
def test_templates(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Template resolution, over the wire: several placeholders, numbers as written (``db42``, not
    ``db42.0``), a placeholder used twice.

    [BUG] in Java (notes §0, §11.5): a missing value renders ``""`` and the request goes out as
    ``/api/v1/users//posts/``. Asserted instead: required inputs are validated first (400), and the
    upstream is not called. (Java's empty-map passthrough is internal: no wire behaviour.)
    """
    base = servers["templates"].base("templates")
    with unit("three placeholders"):
        answer = httpx.get(
            f"{base}/posts", params={"version": "v1", "userId": "user123", "postId": "post456"}
        )
        assert answer.status_code == 200, answer.text
        assert received(stub, "/templates")[-1].path == "/templates/api/v1/users/user123/posts/post456"
    with unit("numbers: db42 / table7"):
        answer = httpx.get(f"{base}/tables", params={"id": "42", "tableNum": "7"})
        assert answer.status_code == 200, answer.text
        assert received(stub, "/templates")[-1].path == "/templates/databases/db42/tables/table7"
    with unit("repeated placeholder"):
        answer = httpx.get(f"{base}/twice/abc")
        assert answer.status_code == 200, answer.text
        assert received(stub, "/templates")[-1].path == "/templates/abc/and/abc"
    with unit("missing required inputs ⇒ 400, upstream not called"):
        stub.clear_requests()
        answer = httpx.get(f"{base}/posts", params={"version": "v1"})
        assert answer.status_code == 400, answer.text
        assert "userId" in answer.text
        assert received(stub, "/templates") == []


@scenario("10b", "BaseUriTrailingSlash", java="T:engine/consumes/http/BaseUriTrailingSlashIntegrationTest")
def test_base_uri_trailing_slash(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Java refuses ``baseUri: https://api.example.com/v1/`` at load. The bundled JSON schema allows
    it (``^https?://[^/]+(/[^{]*)?$``), and this runtime reads it tolerantly; asserted is the intent
    of the Java check — no ``//`` reaches the upstream — with the trailing-slash base URI kept."""
    answer = httpx.get(f"{servers['trailing-slash'].base('test')}/items/widgets")
    with unit("forward to <base>/ ⇒ upstream /v1/widgets (no double slash)"):
        assert answer.status_code == 200, answer.text
        [seen] = received(stub, "/slash")
        assert seen.raw_path == "/slash/v1/widgets"


@scenario("10b", "CapabilityBootstrap", java="T:CapabilityBootstrapTest")
def test_capability_bootstrap(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """``exposes: []`` cannot start; an environment bind (``env_path: PATH``) resolves."""
    document = inline("bootstrap/no-exposes.yaml")
    with unit("exposes [] ⇒ serve refuses (exit 2)"):
        refused(tmp_path, document, "no adapter")
    with unit("exposes [] ⇒ validate --strict names capability.exposes"):
        done = subprocess.run(
            naftiko_argv("validate", "--strict", str(document)), capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 1 and "capability.exposes" in done.stdout + done.stderr
    with unit("env bind env_path: PATH ⇒ the PATH value"):
        httpx.get(f"{servers['binds'].base('binds')}/echo").raise_for_status()
        assert received(stub, "/binds")[-1].headers.get("x-env") == PATH_VALUE


@scenario("10b", "BindingResolver", java="T:engine/util/BindingResolverTest")
def test_binding_resolver(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """File binds (JSON and YAML), env binds, ``{{namespace.VAR}}`` and capability-level binds.

    [BUG] in Java (notes §2): bind values are never injected into templates, capability-level binds
    are ignored and ``{{namespace.VAR}}`` is not implemented. Asserted instead: every form reaches
    the upstream. ``file:///./x`` resolves next to the capability (Java: the process CWD), as the
    runtime documents. Errors name the variable and never show a secret.
    """
    httpx.get(f"{servers['binds'].base('binds')}/echo").raise_for_status()
    headers = received(stub, "/binds")[-1].headers
    with unit("JSON file bind"):
        assert headers.get("x-json") == "ntn_json_value"
    with unit("YAML file bind (number stringified)"):
        assert headers.get("x-yaml") == "registry-yaml-value"
        assert headers.get("x-number") == "8080"
    with unit("{{json-secrets.NOTION_TOKEN}}"):
        assert headers.get("x-qualified") == "ntn_json_value"
    with unit("capability-level bind"):
        assert headers.get("x-capability") == "capability-level-value"
    with unit("missing key in the file ⇒ refused, naming NOTION_TOKEN"):
        refused(tmp_path, inline("binds/missing-file-key.yaml"), "NOTION_TOKEN")
    with unit("unset environment variable ⇒ refused, naming it"):
        refused(tmp_path, inline("binds/missing-env.yaml"), "CONFORMANCE_UNSET_API_KEY")


@scenario("10b", "Import", java="T:engine/consumes/http/ImportIntegrationTest, ConsumesImportResolverTest")
def test_import(servers: ServeGroup, stub: RecordingUpstream, tmp_path: Path) -> None:
    """Imported consumes (relative ``location``), the same namespace imported ``as`` an alias, next to
    an inline one; a missing file or namespace is refused at startup."""
    base = servers["imports"].base("proxy")
    with unit("imported namespace json-api"):
        assert httpx.get(f"{base}/imported/7").status_code == 200
        assert received(stub, "/imports")[-1].path == "/imports/json/items/7"
    with unit("alias my-api"):
        assert httpx.get(f"{base}/aliased/8").status_code == 200
        assert received(stub, "/imports")[-1].path == "/imports/my/items/8"
    with unit("inline namespace next to imports"):
        assert httpx.get(f"{base}/local").status_code == 200
        assert received(stub, "/imports")[-1].path == "/imports/local/local"
    with unit("missing file ⇒ refused (not found)"):
        refused(tmp_path, inline("imports/missing-file.yaml"), "nonexistent.consumes.yml", "not found")
    with unit("missing namespace ⇒ refused (not found)"):
        refused(tmp_path, inline("imports/missing-namespace.yaml"), "no-such-api", "not found")


@scenario(
    "10b",
    "Consumer authentication and headers",
    java="T:engine/consumes/http/HttpClientAdapterTest, AuthenticationTest, HeadersTest",
)
def test_consumer_authentication(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """What each consumed authentication puts on the wire.

    [BUG] in Java (notes §3.6): basic/digest passwords are sent as ``[C@…`` garbage. Asserted
    instead: ``Basic base64(alice:basic-pass)`` and a digest answer the upstream verifies.
    [BUG] in Java (notes §3.4): resource-level consumer parameters are ignored and ``in: cookie``
    is never sent. Asserted instead: both reach the upstream.
    The Java test's "missing apikey placement ⇒ IllegalArgumentException" contradicts the schema
    (``placement`` defaults to ``header``); asserted instead: the key is sent as a header.
    Java forwards the caller's ``Authorization`` on a forward whenever the consumer declares no
    authentication; this runtime forwards only ``trustedHeaders`` (an allowlist), so the unit
    trusts ``Authorization`` explicitly.
    [BUG] in Java (notes §2): consumed credentials are rendered from the request's parameters, so a
    caller supplies them (the Java test passes the basic username and the query api key as request
    parameters). Here a credential reads binds only (a request value never fills it, and a credential
    naming no bind is a load error); the units send the same values from binds, and a caller's own
    ``username`` / ``token`` argument does not change what is sent.
    """
    base = servers["consumer-auth"].base("calls")
    with unit("basic: Authorization Basic base64(alice:basic-pass)"):
        assert httpx.get(f"{base}/basic", params={"username": "mallory"}).status_code == 200
        seen = received(stub, "/auth/basic")[-1]
        assert seen.headers.get("authorization") == "Basic YWxpY2U6YmFzaWMtcGFzcw=="
    with unit("digest: challenge answered for digest-user"):
        answer = httpx.get(f"{base}/digest")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ok": True, "user": "digest-user"}
    with unit("apikey query: ?api_key=abc123"):
        assert httpx.get(f"{base}/apikey-query", params={"token": "forged"}).status_code == 200
        seen = received(stub, "/auth/query")[-1]
        assert seen.path == "/auth/query/v1/items" and seen.raw_query == "api_key=abc123"
    with unit("bearer from a bind: Bearer ntn_test_abc123"):
        assert httpx.get(f"{base}/bearer").status_code == 200
        assert received(stub, "/auth/bearer")[-1].headers.get("authorization") == "Bearer ntn_test_abc123"
    with unit("headers: static Notion-Version kept, trace-{{requestId}} ⇒ trace-abc-123"):
        assert httpx.get(f"{base}/headers", params={"requestId": "abc-123"}).status_code == 200
        seen = received(stub, "/auth/headers")[-1]
        assert seen.headers.get("notion-version") == "2025-09-03"
        assert seen.headers.get("x-trace") == "trace-abc-123"
    with unit("resource-level header parameter and cookie parameter sent"):
        assert seen.headers.get("x-resource-level") == "resource"
        assert seen.headers.get("cookie") == "session=abc123"
    with unit("forward, no consumer auth: the caller's Authorization passes when trusted"):
        answer = httpx.get(
            f"{servers['trusted'].base('proxy')}/proxy/echo", headers={"Authorization": "Bearer caller-token"}
        )
        assert answer.status_code == 200
        assert received(stub, "/trusted")[-1].headers.get("authorization") == "Bearer caller-token"
    with unit("apikey without placement ⇒ header (schema default)"):
        assert httpx.get(f"{servers['no-placement'].base('calls')}/vessels").status_code == 200
        assert received(stub, "/dock")[-1].headers.get("x-dock-key") == "MY_API_KEY"


@scenario(
    "10b",
    "Server authentication",
    java="T:engine/exposes/ServerAuthenticationRestletTest, ServerAdapterAuthenticationTest, "
    "RestServerAdapterTest",
)
def test_server_authentication(servers: ServeGroup, tmp_path: Path) -> None:
    """Every REST adapter authentication kind: match ⇒ 200, mismatch/missing ⇒ 401; secrets from
    declared binds resolve. Java answers 401 to everything when the expected token names a variable
    no bind declares; here that document is refused at load (spec: an undeclared variable makes the
    document invalid), naming the variable, so the mistake is found before anything is served."""
    server = servers["server-auth"]

    def get(namespace: str, **kwargs: Any) -> int:
        return httpx.get(f"{server.base(namespace)}/hello", **kwargs).status_code

    with unit("bearer: match 200, mismatch 401"):
        assert get("bearer", headers={"Authorization": "Bearer token-123"}) == 200
        assert get("bearer", headers={"Authorization": "Bearer token-124"}) == 401
    with unit("apikey header: match 200, missing 401"):
        assert get("apikey-header", headers={"X-API-Key": "abc123"}) == 200
        assert get("apikey-header") == 401
    with unit("apikey query: match 200, mismatch 401"):
        assert get("apikey-query", params={"api_key": "abc123"}) == 200
        assert get("apikey-query", params={"api_key": "abc124"}) == 401
    with unit("basic: challenge, match 200, mismatch 401"):
        answer = httpx.get(f"{server.base('basic')}/hello")
        assert answer.status_code == 401 and answer.headers["www-authenticate"].lower().startswith("basic")
        assert get("basic", auth=("admin", "s3cret")) == 200
        assert get("basic", auth=("admin", "wrong")) == 401
    with unit("digest: challenge, match 200, mismatch 401"):
        answer = httpx.get(f"{server.base('digest')}/hello")
        assert answer.status_code == 401 and answer.headers["www-authenticate"].lower().startswith("digest")
        assert get("digest", auth=httpx.DigestAuth("admin", "s3cret")) == 200
        assert get("digest", auth=httpx.DigestAuth("admin", "wrong")) == 401
    with unit("declared bind variables resolve (bearer, apikey)"):
        assert get("bearer-bind", headers={"Authorization": "Bearer declared-token-value"}) == 200
        assert get("bearer-bind", headers={"Authorization": "Bearer {{declared_token}}"}) == 401
        assert get("apikey-bind", headers={"X-API-Key": "declared-key-value"}) == 200
    with unit("undeclared variable ⇒ refused at load, naming it"):
        refused(
            tmp_path,
            inline("server-auth-undeclared.yaml"),
            "{{UNDECLARED_TOKEN}}",
            "no bind declares UNDECLARED_TOKEN",
            env={"UNDECLARED_TOKEN": "env-token"},
        )
