"""#15 item 4: no web page can make a visitor's browser use the capability's stored credentials.

Every HTTP adapter checks Host (DNS rebinding) and Origin (cross-site requests) with one policy, and
a request body must be of the type the operation declares (JSON), so no browser "simple" request
(``text/plain``, a form) reaches an operation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.support.upstream import RecordingUpstream

from .conftest import MCP_HEADERS, serve, write

SEED = Path(__file__).resolve().parents[2] / "capabilities" / "label-studio-runs.yaml"
SEED_NAMESPACE = "label-studio-subpackage-prompts-subpackage-prompts-runs"
ENV = {"LABEL_STUDIO_API_KEY": "Token seed-key-51aa"}
EVIL = "http://evil.example"
# What a page on another site can send without a preflight: GET/HEAD/POST with these types, no
# custom header (https://fetch.spec.whatwg.org/#cors-safelisted-request-header).
SIMPLE = [
    ("text/plain", b"{}"),
    ("application/x-www-form-urlencoded", b"project=1"),
    (
        "multipart/form-data; boundary=x",
        b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
    ),
    (None, b""),
]
EXTRA_ADAPTERS = """
  - type: skill
    namespace: seed-skills
    port: 9093
    skills:
      - name: runs
        description: Inference runs
        tools:
          - name: get-inference-run-info
            description: Inference runs
            from: {sourceNamespace: SEED-mcp, action: get-inference-run-info}
  - type: control
    port: 9094
    management: {info: true}
"""


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed, pointed at the recording upstream's address by `--base-uri`, plus a skill and a
    control adapter, so every kind of HTTP adapter is served."""
    text = SEED.read_text(encoding="utf-8")
    extra = EXTRA_ADAPTERS.replace("SEED-mcp", SEED_NAMESPACE + "-mcp")
    return write(tmp_path_factory.mktemp("seed"), text.rstrip("\n") + "\n" + extra)


def routes(served_rest: str) -> list[tuple[str, str]]:
    """Every operation of the seed's REST adapter, from its OpenAPI description, with path values."""
    document = httpx.get(served_rest + "/openapi.json", timeout=20).json()
    out = []
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        out += [(m.upper(), concrete) for m in item if m in ("get", "post", "put", "patch", "delete")]
    return out


def test_every_seed_operation_sent_as_a_browser_simple_request_from_a_foreign_origin_is_refused(
    seed: Path, upstream: RecordingUpstream
) -> None:
    base = ["--base-uri", f"{SEED_NAMESPACE}={upstream.url}"]
    with serve(seed, *base, env=ENV) as served:
        rest = served.url(SEED_NAMESPACE + "-rest")
        operations = routes(rest)
        assert len(operations) >= 3
        sent = 0
        for method, path in operations:
            for content_type, body in SIMPLE:
                headers = {"Origin": EVIL, **({"Content-Type": content_type} if content_type else {})}
                answer = httpx.request(method, rest + path, headers=headers, content=body, timeout=20)
                assert answer.status_code == 403, (method, path, content_type, answer.text)
                assert "access-control-allow-origin" not in answer.headers
                sent += 1
        # The same from every other adapter: MCP, skill, control.
        mcp = served.url(SEED_NAMESPACE + "-mcp")
        call = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get-inference-run-info"}}
        ).encode()
        for content_type, _ in SIMPLE:
            headers = {"Origin": EVIL, **({"Content-Type": content_type} if content_type else {})}
            assert httpx.post(mcp + "/mcp", headers=headers, content=call, timeout=20).status_code == 403
        others = [served.url("seed-skills") + "/skills", served.url("control") + "/status"]
        for url in others:
            assert httpx.get(url, headers={"Origin": EVIL}, timeout=20).status_code == 403
        # DNS rebinding: evil.example resolved to 127.0.0.1; a same-origin GET carries no Origin.
        for url in [rest + operations[0][1], mcp + "/mcp", *others]:
            answer = httpx.get(url, headers={"Host": "evil.example:8080"}, timeout=20)
            assert answer.status_code == 403, url
    assert sent == len(operations) * len(SIMPLE)
    assert upstream.requests == []  # refused before any upstream call


def test_the_same_requests_without_a_browser_reach_the_json_operations_only(
    seed: Path, upstream: RecordingUpstream
) -> None:
    upstream.route("*", "/{rest:path}", json=[])
    with serve(seed, "--base-uri", f"{SEED_NAMESPACE}={upstream.url}", env=ENV) as served:
        rest = served.url(SEED_NAMESPACE + "-rest")
        run = f"{rest}/v1/api/prompts/1/versions/1/inference-runs"
        # A form POST (curl -d) is 415: never read, never forwarded as JSON.
        form = httpx.post(run, data={"project": "1", "project_subset": "All"}, timeout=20)
        assert form.status_code == 415 and form.headers["accept-post"] == "application/json"
        plain = httpx.post(run, content=b'{"project": 1}', headers={"Content-Type": "text/plain"}, timeout=20)
        assert plain.status_code == 415
        assert upstream.requests == []
        assert httpx.get(run, timeout=20).status_code == 200  # a plain client, no Origin
        loopback = httpx.get(
            run, headers={"Origin": "http://localhost:3000"}, timeout=20
        )  # a local web client
        assert loopback.status_code == 200
        assert loopback.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_a_configured_origin_is_admitted_with_cors_on_every_adapter(
    seed: Path, upstream: RecordingUpstream
) -> None:
    upstream.route("*", "/{rest:path}", json=[])
    app = "https://app.example.com"
    args = ["--base-uri", f"{SEED_NAMESPACE}={upstream.url}", "--allow-origin", app]
    with serve(seed, *args, env=ENV) as served:
        rest = served.url(SEED_NAMESPACE + "-rest")
        run = f"{rest}/v1/api/prompts/1/versions/1/inference-runs"
        preflight = httpx.options(
            run,
            headers={
                "Origin": app,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=20,
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == app
        assert "POST" in preflight.headers["access-control-allow-methods"]
        answer = httpx.get(run, headers={"Origin": app}, timeout=20)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == app
        # A configured list replaces the loopback default.
        assert httpx.get(run, headers={"Origin": "http://localhost:3000"}, timeout=20).status_code == 403
        mcp = served.url(SEED_NAMESPACE + "-mcp")
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        answer = httpx.post(mcp + "/mcp", json=ping, headers={**MCP_HEADERS, "Origin": app}, timeout=20)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == app
        skills = httpx.get(served.url("seed-skills") + "/skills", headers={"Origin": app}, timeout=20)
        assert skills.status_code == 200 and skills.headers["access-control-allow-origin"] == app


def test_a_configured_host_is_answered_and_others_are_not(seed: Path, upstream: RecordingUpstream) -> None:
    upstream.route("*", "/{rest:path}", json=[])
    args = ["--base-uri", f"{SEED_NAMESPACE}={upstream.url}", "--allow-host", "runs.example.com"]
    with serve(seed, *args, env=ENV) as served:
        run = served.url(SEED_NAMESPACE + "-rest") + "/v1/api/prompts/1/versions/1/inference-runs"
        for host, status in [("runs.example.com", 200), ("runs.example.com:8080", 200), ("localhost", 200)]:
            assert httpx.get(run, headers={"Host": host}, timeout=20).status_code == status, host
        assert httpx.get(run, headers={"Host": "evil.example"}, timeout=20).status_code == 403
        # its own pages are same-origin
        same = httpx.get(
            run, headers={"Host": "runs.example.com", "Origin": "https://runs.example.com"}, timeout=20
        )
        assert same.status_code == 200
