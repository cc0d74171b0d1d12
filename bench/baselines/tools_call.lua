-- wrk script: a stateless Streamable HTTP (JSON mode) tools/call of get-inference-run-info.
--   wrk -t1 -c8 -d10s --latency -s bench/baselines/tools_call.lua http://127.0.0.1:PORT/mcp
-- Headers, as checked against FastMCP 4.2 / mcp 2.3 (bench/README.md):
--   Accept must include application/json (else 406); both types are listed, as the spec asks of clients.
--   MCP-Protocol-Version may be left out (the SDK assumes a default); 2025-11-25 is the newest version
--   of the initialize era. 2026-07-28 would route to the SDK's 2026 entry point, which wants
--   params._meta and answers 400 to this body.
-- bench/reference.py refuses to run unless this body equals its TOOLS_CALL_BODY.
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-inference-run-info","arguments":{"prompt_id":1,"version_id":1}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
