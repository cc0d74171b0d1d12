"""Import → validate --strict → serve → call every unit → judge what the upstream received.

For each OpenAPI description: the importer's document must validate strict with no problem at all;
then every description's capability is served by ``naftiko serve`` (many per process, two processes
at a time, on the machinery of :mod:`tests.conformance.corpus`), and every MCP tool and every REST
route is called once with a value for each of its inputs. The strings given are full of characters
that must be encoded (``a b/c?d&e=f#g%h``). The one request the upstream then received is judged
against the *OpenAPI description* (read by the importer's reader, then checked independently of the
document it generated):

* the method and the path the description declares (its ``#fragment`` aside), every path value
  percent-encoded into its own segment and decoding back to the value given;
* every query, header and cookie parameter the unit takes, under the description's own name, with
  the value given;
* the body: for object schemas, a JSON object (form, multipart) whose fields are exactly the
  description's non-read-only properties with the values given; otherwise the value itself;
* a parameter or body the unit does not take must be one an import diagnostic names, or one the
  capability sends itself (credentials), or one OpenAPI says to ignore (``Accept``, ``Content-Type``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

import aiohttp

from naftiko_runtime.exposes.rest.routing import parse_template
from naftiko_runtime.expressions.names import canonical
from naftiko_runtime.importers import Diagnostic, ImportFailed, openapi, to_yaml
from naftiko_runtime.importers.description import ApiDescription, Operation, read_description
from naftiko_runtime.importers.diagnostics import Diagnostics
from naftiko_runtime.importers.naming import parameter_name
from naftiko_runtime.importers.refs import Refs
from naftiko_runtime.importers.schemas import Schemas
from naftiko_runtime.importers.sources import load_source, retriever
from naftiko_runtime.spec import check
from tests.conformance.corpus import (
    MCP_HEADERS,
    Client,
    FilePlan,
    GenericUpstream,
    Seen,
    batches,
    plan_file,
    raise_fd_limit,
    serve,
    stop,
)

NASTY = "a b/c?d&e=f#g%h"
_SEGMENT_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*,;=:@%+]*")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


@dataclass
class UnitResult:
    kind: str  # mcp or rest
    name: str
    status: str = "pass"  # pass or fail
    reason: str = ""


@dataclass
class DocResult:
    """One description: what the import said, whether its capability validates, and its units."""

    doc_id: int
    source: Path
    label: str
    operations: int = 0
    warnings: list[Diagnostic] = field(default_factory=list)
    failure: str = ""  # could not import, does not validate, or does not serve
    units: list[UnitResult] = field(default_factory=list)
    capability: Path | None = None
    plan: FilePlan | None = None
    api: ApiDescription | None = None
    schemas: Schemas | None = None
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failure and all(u.status == "pass" for u in self.units)


@dataclass
class Report:
    docs: list[DocResult]
    seconds: float
    processes: int
    stray: list[str]
    errors: list[str]

    def counts(self) -> dict[str, int]:
        units = [u for d in self.docs for u in d.units]
        return {
            "documents": len(self.docs),
            "imported": sum(1 for d in self.docs if d.capability is not None),
            "valid strict, no warnings": sum(1 for d in self.docs if d.capability and not d.failure),
            "operations": sum(d.operations for d in self.docs),
            "units": len(units),
            "units passed": sum(1 for u in units if u.status == "pass"),
            "mcp tools passed": sum(1 for u in units if u.status == "pass" and u.kind == "mcp"),
            "rest routes passed": sum(1 for u in units if u.status == "pass" and u.kind == "rest"),
            "import warnings": sum(len(d.warnings) for d in self.docs),
            "serve processes": self.processes,
        }


def run(sources: Sequence[Path], root: Path) -> Report:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="naftiko-import-e2e-") as tmp:
        workdir = Path(tmp)
        docs = [_prepare(index, source, root, workdir) for index, source in enumerate(sources)]
        processes, stray, errors = asyncio.run(_serve_and_call(docs, workdir))
    return Report(docs, time.monotonic() - started, processes, stray, errors)


# -- import, validate, plan ------------------------------------------------------------------------


def _prepare(doc_id: int, source: Path, root: Path, workdir: Path) -> DocResult:
    label = str(source.relative_to(root)) if source.is_relative_to(root) else str(source)
    result = DocResult(doc_id, source, label)
    try:
        document, result.warnings = openapi(str(source))
    except ImportFailed as exc:
        result.failure = f"import failed: {exc}"
        return result
    result.document = document
    path = workdir / f"{doc_id:03d}-{re.sub(r'[^A-Za-z0-9]+', '-', label)[-60:]}.yaml"
    path.write_text(to_yaml(document), encoding="utf-8")
    result.capability = path
    report = check(path, strict=True)
    if report.problems:
        result.failure = "validate --strict: " + " | ".join(p.format() for p in report.problems[:5])
        return result
    loaded = load_source(str(source))
    diagnostics = Diagnostics()
    refs = Refs(loaded, retriever(loaded.uri), diagnostics)
    result.api = read_description(loaded, refs, diagnostics)
    result.schemas = Schemas(refs)
    result.operations = len(result.api.operations)
    result.plan = plan_file(doc_id, path, workdir)
    if result.plan.failure or not result.plan.valid:
        result.failure = result.plan.failure or result.plan.reason
    return result


# -- serving and calling ---------------------------------------------------------------------------


async def _serve_and_call(docs: list[DocResult], workdir: Path) -> tuple[int, list[str], list[str]]:
    limit = raise_fd_limit()
    runnable = [
        d for d in docs if d.plan is not None and not d.failure and d.document["capability"].get("exposes")
    ]
    by_plan = {id(d.plan): d for d in runnable}
    size = max(1, min(60, (limit - 200) // 24))
    started = 0
    errors: list[str] = []
    gate = asyncio.Semaphore(2)
    ids = itertools.count()
    stopping: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=64)
    with GenericUpstream() as upstream:
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60)
        ) as session:
            client = Client(session)

            async def one_batch(batch: list[FilePlan]) -> None:
                nonlocal started
                async with gate:
                    batch_id = next(ids)
                    try:
                        served = await serve(batch_id, batch, upstream, workdir)
                    except RuntimeError as exc:
                        for plan in batch:
                            by_plan[id(plan)].failure = str(exc)
                        return
                    started += 1
                    try:
                        limiter = asyncio.Semaphore(16)

                        async def one_doc(plan: FilePlan) -> None:
                            async with upstream.claim(batch_id, plan), limiter:
                                await _Caller(client, upstream, served.listeners).run(by_plan[id(plan)])

                        await asyncio.gather(*(one_doc(plan) for plan in batch))
                    finally:
                        stopping.append(asyncio.create_task(_stopped(served, errors)))

            await asyncio.gather(*(one_batch(b) for b in batches([d.plan for d in runnable], size)))
            await asyncio.gather(*stopping)
        stray = [f"{r.method} {r.target}" for r in upstream.stray]
    return started, stray, errors


async def _stopped(served: Any, errors: list[str]) -> None:
    for record in await stop(served):
        if record.get("level") != "warning":
            errors.append(f"{record.get('logger')}: {record.get('message')}")


class _Caller:
    def __init__(self, client: Client, upstream: GenericUpstream, listeners: Mapping[tuple[str, str], str]):
        self.client = client
        self.upstream = upstream
        self.listeners = listeners

    async def run(self, doc: DocResult) -> None:
        assert doc.api is not None and doc.plan is not None
        capability = doc.document["capability"]
        exposes = {e["type"]: e for e in capability.get("exposes", [])}
        operations = doc.api.operations
        if "mcp" in exposes:
            url = self.listeners[(str(doc.plan.path), exposes["mcp"]["namespace"])]
            tools = await self._tools(url)
            for op, tool in zip(operations, exposes["mcp"]["tools"], strict=True):
                doc.units.append(
                    await self._unit(doc, op, "mcp", tool["name"], self._call_tool(url, tool, tools))
                )
        if "rest" in exposes:
            url = self.listeners[(str(doc.plan.path), exposes["rest"]["namespace"])]
            published = json.loads((await self.client.request("GET", url + "/openapi.json")).body)
            routes = {
                op["name"]: (parse_template(resource["path"]).openapi, op["method"])
                for resource in exposes["rest"]["resources"]
                for op in resource["operations"]
            }
            names = [tool["name"] for tool in exposes.get("mcp", {}).get("tools", [])] or list(routes)
            for op, name in zip(operations, names, strict=True):
                route, method = routes[name]
                call = self._call_rest(url, published["paths"][route][method.lower()], route, method)
                doc.units.append(await self._unit(doc, op, "rest", f"{method} {route}", call))

    async def _unit(self, doc: DocResult, op: Operation, kind: str, name: str, call: Any) -> UnitResult:
        assert doc.plan is not None
        seen = self.upstream.seen[doc.plan.file_id]
        before = len(seen)
        try:
            arguments, outcome = await call
        except (aiohttp.ClientError, TimeoutError) as exc:
            return UnitResult(kind, name, "fail", f"no answer: {type(exc).__name__}: {exc}")
        received = seen[before:]
        if outcome:
            return UnitResult(kind, name, "fail", outcome)
        if len(received) != 1:
            return UnitResult(kind, name, "fail", f"the upstream received {len(received)} requests, not 1")
        problems = _judge(doc, op, arguments, received[0])
        return UnitResult(kind, name, "fail" if problems else "pass", "; ".join(problems))

    async def _tools(self, url: str) -> dict[str, Any]:
        message = await self._rpc(url, "tools/list", {})
        return {tool["name"]: tool for tool in message["result"]["tools"]}

    async def _call_tool(
        self, url: str, tool: dict[str, Any], tools: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        schema = tools[tool["name"]]["inputSchema"]
        arguments = {name: _sample(prop.get("type")) for name, prop in schema.get("properties", {}).items()}
        message = await self._rpc(url, "tools/call", {"name": tool["name"], "arguments": arguments})
        result = message.get("result") or {}
        if "error" in message or result.get("isError"):
            return arguments, f"tool error: {json.dumps(message.get('error') or result)[:300]}"
        return arguments, ""

    async def _rpc(self, url: str, method: str, params: Any) -> dict[str, Any]:
        payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        answer = await self.client.request("POST", url, headers=MCP_HEADERS, body=payload)
        text = answer.text
        if answer.content_type.startswith("text/event-stream"):
            data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
            text = data[-1] if data else ""
        return json.loads(text)

    async def _call_rest(
        self, url: str, published: dict[str, Any], route: str, method: str
    ) -> tuple[dict[str, Any], str]:
        arguments: dict[str, Any] = {}
        path = route
        query: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for parameter in published.get("parameters", []):
            value = arguments[parameter["name"]] = _sample((parameter.get("schema") or {}).get("type"))
            where = parameter["in"]
            if where == "path":
                path = path.replace("{" + parameter["name"] + "}", quote(_text(value), safe=""))
            elif where == "query":
                query += [
                    (parameter["name"], _text(v)) for v in (value if isinstance(value, list) else [value])
                ]
            elif where == "header":
                headers[parameter["name"]] = _text(value)
            else:
                cookies.append(f"{parameter['name']}={quote(_text(value), safe='')}")
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        body = None
        content = (published.get("requestBody") or {}).get("content", {})
        if "application/json" in content:
            schema = content["application/json"].get("schema") or {}
            if schema.get("type") == "object" and "properties" in schema:
                fields = {name: _sample(prop.get("type")) for name, prop in schema["properties"].items()}
                arguments.update(fields)
                body = json.dumps(fields).encode()
            else:
                arguments["body"] = _sample(schema.get("type"))
                body = json.dumps(arguments["body"]).encode()
            headers["Content-Type"] = "application/json"
        target = url + path + ("?" + urlencode(query) if query else "")
        answer = await self.client.request(method, target, headers=headers, body=body)
        if not 200 <= answer.status < 300:
            return arguments, f"HTTP {answer.status}: {answer.text[:300]}"
        return arguments, ""


# -- judging ---------------------------------------------------------------------------------------


def _judge(doc: DocResult, op: Operation, arguments: Mapping[str, Any], seen: Seen) -> list[str]:
    """What is wrong with ``seen`` as the request the description declares for ``op``."""
    request = seen.request
    problems: list[str] = []
    if request.method != op.method:
        problems.append(f"method {request.method}, declared {op.method}")
    given = {canonical(name): value for name, value in arguments.items()}
    warned = {d.pointer for d in doc.warnings}
    problems += _path(op, seen, given)
    sent_query = request.query
    for parameter in op.parameters:
        if parameter.location == "path":
            continue
        value = given.get(canonical(parameter_name(parameter.name)))
        if value is None:
            if not _excused(doc, parameter.name, parameter.location, parameter.where, warned):
                problems.append(f"{parameter.location} parameter {parameter.name!r} is no input of the unit")
            continue
        if parameter.location == "query":
            wanted = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
            if sent_query.get(parameter.name) != wanted:
                problems.append(f"query {parameter.name}={sent_query.get(parameter.name)}, given {wanted}")
        elif parameter.location == "header":
            if request.headers.get(parameter.name) != _text(value):
                problems.append(f"header {parameter.name}: {request.headers.get(parameter.name)!r}")
        elif parameter.location == "cookie":
            jar = dict(
                part.split("=", 1) for part in request.headers.get("cookie", "").split("; ") if "=" in part
            )
            if unquote(jar.get(parameter.name, "")) != _text(value):
                problems.append(f"cookie {parameter.name}: {jar.get(parameter.name)!r}")
    problems += _body(doc, op, given, request, warned)
    return problems


def _path(op: Operation, seen: Seen, given: Mapping[str, Any]) -> list[str]:
    raw = "/" + "/".join(seen.request.raw_path.split("/")[4:])  # the /b/<batch>/<slot> prefix off
    template = op.wire_path
    regex = "".join(
        re.escape(part) if index % 2 == 0 else "([^/]*)"
        for index, part in enumerate(_PLACEHOLDER.split(template))
    )
    found = re.fullmatch(regex.rstrip("/") if raw != "/" else regex, raw.rstrip("/") if raw != "/" else raw)
    if found is None:
        return [f"path {raw} does not have the declared shape {template}"]
    problems = []
    for name, segment in zip(_PLACEHOLDER.findall(template), found.groups(), strict=True):
        value = given.get(canonical(parameter_name(name)))
        if value is None:
            problems.append(f"path parameter {name} is no input of the unit")
        elif not _SEGMENT_OK.fullmatch(segment) or unquote(segment) != _text(value):
            problems.append(f"path parameter {name}: segment {segment!r} for {_text(value)!r}")
    return problems


def _body(
    doc: DocResult, op: Operation, given: Mapping[str, Any], request: Any, warned: set[str]
) -> list[str]:
    body = op.body
    if body is None or body.kind == "binary":
        return [f"a body was sent: {request.body[:80]!r}"] if body is None and request.body else []
    assert doc.schemas is not None
    shape = doc.schemas.shape(body.schema) if body.schema else None
    if shape is not None and shape.is_object_with_fields and body.kind in ("json", "form", "multipart"):
        expected: dict[str, Any] = {}
        for key, located in shape.properties.items():
            if doc.schemas.shape(located).read_only:
                continue
            # A field that shares its name with a parameter is the unit's input body_<name>.
            value = given.get(
                canonical("body_" + parameter_name(key)), given.get(canonical(parameter_name(key)))
            )
            if value is None:
                return [f"body field {key!r} is no input of the unit"]
            expected[key] = value
        return _fields(body.kind, expected, request)
    if body.kind == "multipart":
        return [] if body.where in warned else ["a multipart body without fields was not reported"]
    value = given.get("body")
    if value is None:
        return ["the body is no input of the unit"]
    if body.kind == "json":
        return [] if request.json == value else [f"body {request.text[:120]!r}, given {value!r}"]
    return [] if request.text == _text(value) else [f"body {request.text[:120]!r}, given {value!r}"]


def _fields(kind: str, expected: dict[str, Any], request: Any) -> list[str]:
    if kind == "json":
        return [] if request.json == expected else [f"JSON body {request.text[:200]}, expected {expected}"]
    if kind == "form":
        wanted = {
            k: [_text(i) for i in v] if isinstance(v, list) else [_text(v)] for k, v in expected.items()
        }
        got = parse_qs(request.text, keep_blank_values=True)
        return [] if got == wanted else [f"form body {got}, expected {wanted}"]
    names = re.findall(rb'form-data; name="([^"]*)"', request.body)
    wanted_names = [k.encode() for k in expected]
    return [] if names == wanted_names else [f"multipart parts {names}, expected {wanted_names}"]


def _excused(doc: DocResult, name: str, location: str, where: str, warned: set[str]) -> bool:
    """A declared parameter the unit may lack: said by a diagnostic, sent by the capability, or ignored."""
    if where in warned:
        return True
    if location == "header" and name.lower() in ("accept", "content-type", "authorization"):
        return True
    consumed = doc.document["capability"]["consumes"][0]
    auth = consumed.get("authentication") or {}
    if auth.get("type") == "apikey" and auth.get("key") == name:
        return True
    assert doc.api is not None
    return any(s.parameter == name and s.location == location for s in doc.api.schemes.values())


def _sample(kind: str | None) -> Any:
    return {"integer": 7, "number": 2.5, "boolean": True, "array": [NASTY], "object": {"k": NASTY}}.get(
        kind or "string", NASTY
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
