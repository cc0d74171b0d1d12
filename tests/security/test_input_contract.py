"""#15 item 2: a unit's inputs are its contract on every adapter; an argument none of them takes is an
input error naming it, never a value sent upstream (``naftiko call --allow-unknown`` drops them)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.upstream import RecordingUpstream

from .conftest import MCP_HEADERS, mcp_call, run_naftiko, serve, write

ISSUES = """
naftiko: 1.0.0-alpha2
capability:
  consumes:
    - type: http
      namespace: github
      baseUri: {upstream}
      resources:
        - name: issues
          path: /repos/{{{{owner}}}}/issues
          operations:
            - name: list-issues
              inputParameters:
                - {{name: owner, in: path}}
                - {{name: state, in: query}}
                - {{name: labels, in: query}}
                - {{name: creator, in: query}}
            - name: create-issue
              method: POST
              inputParameters:
                - {{name: owner, in: path}}
              body: {{type: json, data: {{title: "{{{{title}}}}"}}}}
  exposes:
    - type: rest
      namespace: issues-rest
      port: 8080
      resources:
        - path: /repos/{{owner}}/issues
          inputParameters:
            - {{name: owner, in: path}}
          operations:
            - method: GET
              name: list-issues
              inputParameters:
                - {{name: state, in: query}}
              call: github.list-issues
              with: {{owner: issues-rest.owner, state: issues-rest.state}}
            - method: POST
              name: create-issue
              inputParameters:
                - {{name: title, in: body}}
              call: github.create-issue
              with: {{owner: issues-rest.owner, title: issues-rest.title}}
    - type: mcp
      namespace: issues-mcp
      port: 9090
      tools:
        - name: list-issues
          description: Open issues of a repository
          inputParameters:
            - {{name: owner, type: string}}
            - {{name: state, type: string, required: false}}
          call: github.list-issues
          with: {{owner: issues-mcp.owner, state: issues-mcp.state}}
      prompts:
        - name: triage
          arguments:
            - {{name: owner, required: true}}
          template:
            - {{role: user, content: "Triage the issues of {{{{owner}}}}"}}
"""


def test_mcp_tools_refuse_undeclared_arguments_instead_of_forwarding_them(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    capability = write(tmp_path, ISSUES.format(upstream=upstream.url))
    with serve(capability) as served:
        url = served.url("issues-mcp")
        result = mcp_call(url, "list-issues", {"owner": "naftiko", "labels": "bug", "creator": "me"})[
            "result"
        ]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "labels: unknown argument; this unit takes owner, state" in text
        assert "creator: unknown argument" in text
        assert upstream.requests == []
        assert (
            mcp_call(url, "list-issues", {"owner": "naftiko", "state": "open"})["result"]["isError"] is False
        )
        # a prompt with declared arguments takes those only
        message = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "prompts/get",
            "params": {"name": "triage", "arguments": {"owner": "naftiko", "tone": "angry"}},
        }
        error = httpx.post(url + "/mcp", json=message, headers=MCP_HEADERS, timeout=20).json()["error"]
        assert "unknown argument(s) for 'triage': tone" in error["message"]
    assert [r.target for r in upstream.requests] == ["/repos/naftiko/issues?state=open"]


def test_rest_refuses_unknown_query_parameters_and_body_members(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    capability = write(tmp_path, ISSUES.format(upstream=upstream.url))
    with serve(capability) as served:
        rest = served.url("issues-rest")
        answer = httpx.get(
            f"{rest}/repos/naftiko/issues", params={"state": "open", "labels": "bug"}, timeout=20
        )
        assert answer.status_code == 400
        assert answer.json()["errors"] == [
            {"name": "labels", "in": "query", "reason": "unknown argument; this unit takes owner, state"}
        ]
        answer = httpx.post(f"{rest}/repos/naftiko/issues", json={"title": "t", "assignee": "me"}, timeout=20)
        assert answer.status_code == 400
        assert [(e["name"], e["in"]) for e in answer.json()["errors"]] == [("assignee", "body")]
        assert upstream.requests == []
        # Headers and cookies a browser, a proxy or a tracer adds are not arguments.
        extra = {"X-Request-Id": "r-1", "traceparent": "00-abc-def-01", "Cookie": "_ga=1"}
        assert httpx.get(f"{rest}/repos/naftiko/issues", headers=extra, timeout=20).status_code == 200
        assert httpx.post(f"{rest}/repos/naftiko/issues", json={"title": "t"}, timeout=20).status_code == 200
    assert [r.method for r in upstream.requests] == ["GET", "POST"]
    assert upstream.requests[1].json == {"title": "t"}


def test_naftiko_call_refuses_unknown_arguments_unless_allowed(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    capability = write(tmp_path, ISSUES.format(upstream=upstream.url))
    done = run_naftiko("call", str(capability), "issues-mcp.list-issues", "owner=naftiko", "labels=bug")
    assert done.returncode == 2
    assert "input 'labels': unknown argument; this unit takes owner, state" in done.stderr
    assert "--allow-unknown" in done.stderr
    assert upstream.requests == []
    done = run_naftiko(
        "call", str(capability), "issues-mcp.list-issues", "owner=naftiko", "labels=bug", "--allow-unknown"
    )
    assert done.returncode == 0, done.stderr
    assert "issues-mcp.list-issues does not take labels; dropped" in done.stderr
    assert upstream.last.target == "/repos/naftiko/issues"
