"""Smoke-test the baselines, then measure FastMCP against the hand-written MCP endpoint.

Checks, each against a fresh stand-in upstream (bench/upstream.py):

* ``starlette_aiohttp_proxy``: the seed's REST list route answers 200 with the upstream's runs,
  and passes an upstream 404 through as 404;
* ``jsonrpc_stateless`` and ``fastmcp_openapi``: ``tools/call`` of ``get-inference-run-info``
  answers HTTP 200 with a JSON-RPC *result* (not an error, not ``isError``) whose content is the
  upstream's runs; ``tools/list`` names the tool.

Then both MCP servers are measured with ``baselines/tools_call.lua`` (8 connections, 10 s runs,
interleaved, medians), and checked again afterwards.

Run: ``.venv/bin/python bench/reference.py`` (``--check-only`` for the smoke tests alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from _harness import BENCH, Load, Server, add_load_arguments, check, interleave, markdown_table, write_results
from upstream import MODEL_RUNS

API_KEY = "bench-token"
ENV = {"LABEL_STUDIO_API_KEY": API_KEY}
REST_PATH = "/v1/api/prompts/1/versions/1/inference-runs?project=1&ordering=-created_at"
TOOLS_CALL_LUA = BENCH / "baselines" / "tools_call.lua"
TOOLS_CALL_BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-inference-run-info",'
    b'"arguments":{"prompt_id":1,"version_id":1}}}'
)
TOOLS_LIST_BODY = b'{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def mcp_load(url: str, body: bytes = TOOLS_CALL_BODY) -> Load:
    return Load(url, method="POST", headers=MCP_HEADERS, body=body, lua_script=TOOLS_CALL_LUA)


def tool_call_runs(answer: Any) -> Any:
    """The runs inside a JSON-RPC tools/call answer; raise unless it is a successful result."""
    if not isinstance(answer, dict) or "result" not in answer:
        raise AssertionError(f"not a JSON-RPC result: {answer!r:.300}")
    result = answer["result"]
    if result.get("isError"):
        raise AssertionError(f"tool reported an error: {result!r:.300}")
    structured = result.get("structuredContent")
    if structured is not None:  # FastMCP wraps non-object results as {"result": …}
        return structured.get("result", structured)
    return json.loads(result["content"][0]["text"])


def smoke_test_rest(upstream: Server) -> None:
    with Server.python(
        "ref-rest-proxy", "baselines/starlette_aiohttp_proxy.py", "--upstream", upstream.url, env=ENV
    ) as proxy:
        if check(Load(proxy.url + REST_PATH)) != MODEL_RUNS:
            raise AssertionError("REST proxy did not return the upstream's runs")
    with Server.python(
        "ref-rest-proxy-404",
        "baselines/starlette_aiohttp_proxy.py",
        "--upstream",
        upstream.url + "/nowhere",
        env=ENV,
    ) as proxy:
        check(Load(proxy.url + REST_PATH), expect_status=404)
    print("ok  starlette_aiohttp_proxy: 200 with the runs; upstream 404 passed through", file=sys.stderr)


def smoke_test_mcp(name: str, url: str) -> None:
    tools = check(mcp_load(url, TOOLS_LIST_BODY))["result"]["tools"]
    if "get-inference-run-info" not in [tool["name"] for tool in tools]:
        raise AssertionError(f"{name}: tools/list lacks get-inference-run-info: {tools!r:.300}")
    if tool_call_runs(check(mcp_load(url))) != MODEL_RUNS:
        raise AssertionError(f"{name}: tools/call did not return the upstream's runs")
    print(f"ok  {name}: tools/list names the tool; tools/call answers 200 with the runs", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, duration_s=10.0, repeats=3, connections=8)
    parser.add_argument("--check-only", action="store_true", help="smoke tests only, no load")
    args = parser.parse_args(argv)
    if TOOLS_CALL_BODY.decode() not in TOOLS_CALL_LUA.read_text():
        raise SystemExit(f"{TOOLS_CALL_LUA} and TOOLS_CALL_BODY disagree; keep them in step")

    under_test = [0] if args.pin else None
    helpers = [1] if args.pin else None
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(Server.python("ref-upstream", "upstream.py", cpus=helpers))
        smoke_test_rest(upstream)
        servers = {
            "hand-written JSON-RPC": Server.python(
                "ref-jsonrpc",
                "baselines/jsonrpc_stateless.py",
                "--upstream",
                upstream.url,
                env=ENV,
                cpus=under_test,
            ),
            "FastMCP from_openapi": Server.python(
                "ref-fastmcp",
                "baselines/fastmcp_openapi.py",
                "--upstream",
                upstream.url,
                env=ENV,
                cpus=under_test,
            ),
        }
        for server in servers.values():
            stack.enter_context(server)
        loads = {name: mcp_load(server.url + "/mcp") for name, server in servers.items()}
        for name, load in loads.items():
            smoke_test_mcp(name, load.url)
        if args.check_only:
            return
        runs = interleave(
            loads,
            repeats=args.repeats,
            connections=args.connections,
            duration_s=args.duration,
            threads=args.threads,
            tool=args.tool,
            warmup_s=args.warmup,
            cpus=helpers,
            under_test=servers,
            watch={"upstream": upstream},
        )
        for name, load in loads.items():
            smoke_test_mcp(name, load.url)

    baseline = "FastMCP from_openapi"
    path = write_results("mcp-reference", runs, baseline=baseline, settings=dict(vars(args)))
    print(markdown_table(runs, baseline=baseline, unit="calls/s"))
    print(f"\nresults: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
