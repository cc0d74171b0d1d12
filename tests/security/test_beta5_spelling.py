"""#15's security rules hold for an Ikanos 1.0.0-beta5 document as for its alpha2 twin: names as map
keys, ``from``/``import`` entries and imported adapters open no way around them.

A beta5 document is read into the same models, so one resolver, one input contract and one
inbound-credential policy serve both; these cases prove it on what crosses the wire."""

from __future__ import annotations

from pathlib import Path

import httpx

from naftiko_runtime.migrate import migrate_text
from tests.support.upstream import RecordingUpstream

from .conftest import mcp_call, run_naftiko, serve, write
from .test_cross_site import ENV as SEED_ENV
from .test_cross_site import EVIL, SEED, SEED_NAMESPACE, SIMPLE, routes

CAPABILITY = """
ikanos: "1.0.0-beta5"
info: {{display: issues}}
binds:
  - namespace: env
    keys: {{GITHUB_TOKEN: B5_GITHUB_TOKEN, MCP_TOKEN: B5_MCP_TOKEN}}
capability:
  consumes:
    - type: http
      namespace: github
      baseUri: {upstream}
      authentication: {{type: bearer, token: "{{{{GITHUB_TOKEN}}}}"}}
      resources:
        issues:
          path: /repos/{{{{owner}}}}/issues
          operations:
            list-issues:
              method: GET
              inputParameters:
                state: {{in: query}}
  exposes:
    - from: ./shared-exposes.yml
      import: issues-mcp
"""
# The MCP adapter comes from another file, as beta5 allows: its token and tools are checked as if
# written in the importing document.
SHARED_EXPOSES = """
ikanos: "1.0.0-beta5"
exposes:
  - type: mcp
    namespace: issues-mcp
    port: 9090
    authentication: {type: bearer, token: "{{MCP_TOKEN}}"}
    tools:
      list-issues:
        description: Open issues of a repository
        inputParameters:
          owner: {type: string, description: The repository owner}
          state: {type: string, required: false, description: open or closed}
        call: github.list-issues
        with: {owner: issues-mcp.owner, state: issues-mcp.state}
"""
ENV = {"B5_GITHUB_TOKEN": "ghp-b5-secret-41c9", "B5_MCP_TOKEN": "mcp-b5-7f20"}


def capability(tmp_path: Path, upstream: str, shared: str = SHARED_EXPOSES) -> Path:
    write(tmp_path, shared, "shared-exposes.yml")
    return write(tmp_path, CAPABILITY.format(upstream=upstream))


def test_beta5_variables_are_resolved_at_load_like_alpha2_ones(tmp_path: Path) -> None:
    """A misspelt bind in an imported adapter's token, a bind-shaped name in a consumed header and a
    `with` reading an undeclared input: each a located error, in the file that holds it."""
    shared = SHARED_EXPOSES.replace('"{{MCP_TOKEN}}"', '"{{MCP_TOKN}}"').replace(
        "state: issues-mcp.state", "state: issues-mcp.stat"
    )
    path = capability(tmp_path, "http://127.0.0.1:9", shared)
    text = path.read_text(encoding="utf-8").replace(
        "state: {in: query}", 'state: {in: query}\n                trace: {in: header, value: "{{TRACE_ID}}"}'
    )
    path.write_text(text, encoding="utf-8")
    done = run_naftiko("validate", str(path))
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 3, done.stdout
    shared_file = str(tmp_path / "shared-exposes.yml")
    [token] = [e for e in errors if "MCP_TOKN" in e]
    assert token.startswith(f"{shared_file}:6:")
    assert "{{MCP_TOKN}}: no bind declares MCP_TOKN" in token and f"(imported by {path}:" in token
    [with_] = [e for e in errors if "`with`" in e]
    assert with_.startswith(f"{shared_file}:14:")
    assert "tools.list-issues.with.state: `with` reads input 'stat'" in with_
    [header] = [e for e in errors if e.startswith(str(path))]
    assert "list-issues.inputParameters.trace.value: {{TRACE_ID}}: no bind declares TRACE_ID" in header


def test_a_beta5_tool_refuses_a_bind_name_as_an_argument_and_sends_the_bind(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    path = capability(tmp_path, upstream.url)
    with serve(path, env=ENV) as served:
        url = served.url("issues-mcp")
        auth = {"Authorization": "Bearer " + ENV["B5_MCP_TOKEN"]}
        arguments = {"owner": "naftiko", "GITHUB_TOKEN": "caller-token", "labels": "bug"}
        result = mcp_call(url, "list-issues", arguments, **auth)["result"]
        assert result["isError"] is True
        assert "GITHUB_TOKEN: unknown argument; this unit takes owner, state" in result["content"][0]["text"]
        assert upstream.requests == []
        assert mcp_call(url, "list-issues", {"owner": "naftiko"}, **auth)["result"]["isError"] is False
    [request] = upstream.requests
    assert request.target == "/repos/naftiko/issues"
    assert request.headers["authorization"] == "Bearer " + ENV["B5_GITHUB_TOKEN"]


def test_an_imported_beta5_mcp_adapter_with_an_empty_token_does_not_start(tmp_path: Path) -> None:
    path = capability(tmp_path, "http://127.0.0.1:9")
    done = run_naftiko("serve", str(path), "--any-port", env={**ENV, "B5_MCP_TOKEN": ""})
    assert done.returncode == 2
    assert "MCP adapter issues-mcp: authentication token renders empty" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_beta5_seed_refuses_every_browser_simple_request_from_a_foreign_origin(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    beta5 = migrate_text(SEED.read_text(encoding="utf-8"), "1.0.0-beta5").text
    assert beta5.startswith("ikanos:") or "\nikanos:" in beta5
    path = write(tmp_path, beta5)
    with serve(path, "--base-uri", f"{SEED_NAMESPACE}={upstream.url}", env=SEED_ENV) as served:
        rest = served.url(SEED_NAMESPACE + "-rest")
        operations = routes(rest)
        assert len(operations) >= 3
        for method, route in operations:
            for content_type, body in SIMPLE:
                headers = {"Origin": EVIL, **({"Content-Type": content_type} if content_type else {})}
                answer = httpx.request(method, rest + route, headers=headers, content=body, timeout=20)
                assert answer.status_code == 403, (method, route, content_type, answer.text)
    assert upstream.requests == []
