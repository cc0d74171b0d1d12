"""``naftiko inspect`` describes the runtime as built, so it says what the servers publish.

Regression (issue #16): a tool that ``ref``s a function with ``semantics: {safe: true}`` got no hints
from ``inspect`` (it re-read the tool as written) while ``tools/list`` published the merged ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.cli import main
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import load
from tests.mcp.engine import INITIALIZE
from tests.support.servers import ServerThread

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info:
  label: Inspect reads the built runtime
capability:
  aggregates:
    - namespace: fleet
      functions:
        - name: ship-status
          description: The status of one ship
          semantics: {safe: true, idempotent: true}
          outputParameters:
            - {name: status, type: string, value: "{{imo}} is at sea"}
  exposes:
    - type: mcp
      namespace: tools
      port: 9393
      tools:
        - ref: fleet.ship-status
        - ref: fleet.ship-status
          name: risky-status
          hints: {readOnly: false, openWorld: true}
    - type: rest
      namespace: api
      port: 9394
      resources:
        - path: /ships/{{imo}}/status
          name: status
          operations:
            - method: GET
              ref: fleet.ship-status
"""


def _tools_list(url: str) -> list[dict]:
    headers = {"accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=url, timeout=10, headers=headers) as client:
        assert client.post("/mcp", json=INITIALIZE).status_code == 200
        answer = client.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    return answer.json()["result"]["tools"]


def test_inspect_hints_equal_the_tools_list_annotations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "capability.yaml"
    path.write_text(CAPABILITY)
    runtime = Runtime.build(load(str(path)), RuntimeOptions(environ={}))
    with ServerThread(runtime.asgi_app("tools")) as server:
        published = {tool["name"]: tool.get("annotations", {}) for tool in _tools_list(server.url)}

    assert main(["inspect", "--format", "json", str(path)]) == 0
    mcp, rest = json.loads(capsys.readouterr().out)["exposes"]

    described = {tool["name"]: tool["annotations"] for tool in mcp["tools"]}
    assert described == {name: {k: v for k, v in a.items() if k != "title"} for name, a in published.items()}
    assert described["ship-status"] == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
    }
    assert [tool["hints"] for tool in mcp["tools"]] == [
        ["read-only", "not destructive", "idempotent"],
        ["not read-only", "not destructive", "idempotent", "open-world"],
    ]
    # Inputs as the runtime infers them, and where a REST request carries them.
    assert mcp["tools"][0]["inputs"] == [{"name": "imo", "in": None, "type": "string", "required": False}]
    (route,) = rest["routes"]
    assert (route["name"], route["path"], route["ref"]) == (
        "ship-status",
        "/ships/{{imo}}/status",
        "fleet.ship-status",
    )
    assert route["inputs"] == [{"name": "imo", "in": "path", "type": "string", "required": True}]


def test_inspect_text_shows_merged_hints(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "capability.yaml"
    path.write_text(CAPABILITY)

    assert main(["inspect", str(path)]) == 0

    tools = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  tool ")]
    assert tools[0].split()[1] == "ship-status"
    assert tools[0].endswith("[read-only, not destructive, idempotent]")
