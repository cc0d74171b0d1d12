"""Every valid corpus capability, served by ``naftiko serve`` and called end to end.

For each capability under ``../shared/corpus`` that validates, every REST operation and every MCP
tool is called once, with arguments generated from the adapter's own description (``/openapi.json``
for REST, ``tools/list`` ``inputSchema`` for MCP), and the one generic upstream below must have
received the request the consumed operation declares: its method, and its path with every
placeholder filled. A unit passes when the upstream saw the right request(s) and the adapter
answered 2xx.

How it runs (the whole corpus in ~10 s on 2 cores)::

    plan_corpus()      check each file; give every environment bind variable a dummy value; build
                       it in-process (a valid file the runtime cannot build fails); list its units
                       and what each must reach, or why it cannot run
    batches()          ≤ 60 files per `naftiko serve --any-port --ready-file` process, two
                       processes at a time (one starts while another is called and stops)
    GenericUpstream    one RecordingUpstream; every consumed namespace of a batch gets its own base
                       URI /b/<batch>/<index>; files sharing a namespace name take turns, so each
                       request is filed under the one file running under that prefix; answers 200
                       in the operation's outputRawFormat
    Caller             files of a batch concurrently (bounded), the units of one file one after
                       another: the requests that arrive while a unit runs are that unit's — no
                       marker needed, and units without any parameter are covered too

Expectations come from the document, not from the runtime: ``call`` → that operation; ``steps`` →
every ``call`` step's operation; ``ref`` → the aggregate function's (the unit's own fields win); a
mock → no upstream request at all; a ``forward`` resource → the target namespace with the sample
remaining path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import yarl

from naftiko_runtime.errors import NaftikoError
from naftiko_runtime.exposes.rest.routing import parse_template
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import check
from naftiko_runtime.spec.models import (
    AggregateFunction,
    AuthApiKey,
    AuthBasic,
    AuthBearer,
    ConsumedOperation,
    ConsumedResource,
    ConsumesHttp,
    Document,
    McpExpose,
    RestExpose,
    SkillExpose,
    StepCall,
    UnitFields,
)
from tests.support.upstream import RecordedRequest, RecordingUpstream

from .samples import STRING, NoSample, sample

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
DUMMY = "conformance-dummy"
"""The value of every environment bind variable while the corpus is served."""
FORWARD_SAMPLE = "conformance/sample"
"""The remaining path sent to ``forward`` resources."""
MCP_VERSION = "2025-11-25"
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": MCP_VERSION,
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{([^{}/]+)\}")
_UNFILLED = ("None", "null", "undefined")  # what an unfilled placeholder is often rendered as
_PATH_SAFE = "/-._~!$&'()*+,;=:@%"


# -- what each unit must do ------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A consumed operation a unit must reach: the request the upstream must receive."""

    namespace: str
    operation: str
    method: str
    template: str  # the resource path + the operation's own path, as declared
    suffix: str = ""  # forward: the remaining path sent after the template

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}{('/' + self.suffix) if self.suffix else ''}"

    def match(self, request_path: str) -> str | None:
        """None if ``request_path`` (after the namespace prefix, decoded) is this request, else why not.

        The template's fragment (``/#ListTables``, how generated files keep one path per operation)
        is never sent, and base URI and path are joined with one slash, so both are left out.
        """
        regex, names = _shape(self.template, self.suffix)
        found = regex.fullmatch(request_path.lstrip("/"))
        if found is None:
            return f"path {request_path or '/'} does not have the shape {self.label}"
        for name, value in zip(names, found.groups(), strict=False):
            if not value:
                return f"placeholder {{{name}}} is empty in {request_path}"
            if "{" in value or "}" in value or value in _UNFILLED:
                return f"placeholder {{{name}}} is not filled in {request_path} ({value!r})"
        return None


@functools.cache
def _shape(template: str, suffix: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A regex over the request path (without its leading slashes) and the placeholder names."""
    path = template.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    regex, names, position = "", [], 0
    for found in _PLACEHOLDER.finditer(path):
        regex += re.escape(path[position : found.start()])
        regex += "([^/]*)"
        names.append((found.group(1) or found.group(2)).strip())
        position = found.end()
    regex += re.escape(path[position:])
    if suffix:
        regex = (regex.rstrip("/") + "/" if regex else "") + re.escape(suffix)
    return re.compile(regex), tuple(names)


@dataclass
class UnitPlan:
    """One exposed unit to call."""

    file_id: int
    kind: str  # "rest", "forward", "mcp" or "skill" (its catalog entry; it calls nothing)
    adapter: str  # the expose's namespace
    name: str  # the tool's name; REST: "METHOD /path (operation name)"
    method: str = "POST"
    route: str = ""  # REST: the path as OpenAPI publishes it (``{name}`` placeholders)
    expected: tuple[Expected, ...] = ()
    reason: str | None = None  # set when the unit cannot be called, with why
    unsupplied: dict[str, str] = field(default_factory=dict)
    """Consumed path parameters the document gives no value (canonical name → why): the runtime
    must refuse the call, and the unit is then n/a, not failed."""
    tools: tuple[str, ...] = ()  # skill: the tools it declares, which its catalog entry must list

    @property
    def label(self) -> str:
        return f"{self.kind} {self.adapter} {self.name}"


@dataclass(eq=False)
class FilePlan:
    file_id: int
    path: Path
    rel: str
    valid: bool
    reason: str = ""
    document: Document | None = None
    environ: dict[str, str] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)  # consumed namespaces; index = prefix part
    units: list[UnitPlan] = field(default_factory=list)
    auth: dict[str, dict[str, str]] = field(default_factory=dict)  # adapter → credential headers/query
    failure: str = ""  # the runtime cannot run this valid file (a failure, unlike `reason`: n/a)


@dataclass
class UnitResult:
    unit: UnitPlan
    status: str  # "pass", "fail" or "n/a"
    reason: str = ""
    http_status: int | None = None


@dataclass
class FileResult:
    plan: FilePlan
    units: list[UnitResult] = field(default_factory=list)
    reason: str = ""  # a file-level failure (did not start), else empty

    @property
    def passed(self) -> int:
        return sum(1 for u in self.units if u.status == "pass")

    @property
    def total(self) -> int:
        return len(self.units)

    @property
    def status(self) -> str:
        if not self.plan.valid or (not self.units and not self.reason):
            return "n/a"
        if self.reason or any(u.status == "fail" for u in self.units):
            return "fail"
        if all(u.status == "n/a" for u in self.units):
            return "n/a"
        return "pass"

    def summary(self) -> str:
        """Why the file is not a plain pass: its own reason, or each failed and n/a unit's."""
        if self.reason:
            return self.reason
        if not self.units:
            return self.plan.reason or "exposes no REST operation or MCP tool"
        if self.plan.reason:
            return self.plan.reason
        parts = [f"{u.unit.label}: {u.reason}" for u in self.units if u.status == "fail"]
        parts += [f"{u.unit.label} n/a: {u.reason}" for u in self.units if u.status == "n/a"]
        return "; ".join(parts)


@dataclass(repr=False)
class CorpusReport:
    files: list[FileResult]
    seconds: float
    serve_processes: int = 0
    stray: list[str] = field(default_factory=list)
    """Upstream requests no running file owned: the attribution of requests to calls failed."""
    warnings: list[str] = field(default_factory=list)
    """What the serve processes logged as warnings (``logger: message``)."""
    errors: list[str] = field(default_factory=list)
    """What they logged as errors, and tracebacks: an internal fault of the runtime."""

    def __repr__(self) -> str:  # asyncio.run may repr its result: keep that cheap
        return f"<CorpusReport {len(self.files)} files in {self.seconds:.1f} s>"

    def summary(self) -> list[str]:
        """The totals, as printed under the corpus rows of the conformance table."""
        valid = [r for r in self.files if r.plan.valid]
        served = [r for r in valid if r.units and not r.plan.reason and not r.reason]
        units = [u for r in self.files for u in r.units]
        passed = sum(1 for u in units if u.status == "pass")
        kinds = "; ".join(
            f"{kind} {p}/{p + f + n}" + (f" ({f} failed, {n} n/a)" if f or n else "")
            for kind, (p, f, n) in self.by_kind().items()
        )
        return [
            f"files: {len(self.files)} in the corpus, {len(valid)} valid, {len(served)} with units to call "
            f"(served by {self.serve_processes} `naftiko serve` processes)",
            f"units: {passed}/{len(units)} passed — {kinds}",
            f"run time: {self.seconds:.1f} s; serve logged {len(self.warnings)} warnings, "
            f"{len(self.errors)} errors",
        ]

    def by_kind(self) -> dict[str, tuple[int, int, int]]:
        """kind → (passed, failed, not applicable)."""
        out: dict[str, list[int]] = {}
        for result in self.files:
            for unit in result.units:
                counts = out.setdefault(unit.unit.kind, [0, 0, 0])
                counts[("pass", "fail", "n/a").index(unit.status)] += 1
        return {kind: (c[0], c[1], c[2]) for kind, c in sorted(out.items())}


# -- planning --------------------------------------------------------------------------------------


def corpus_files(root: Path = CORPUS) -> list[Path]:
    return sorted(root.rglob("*.yaml")) if root.is_dir() else []


def plan_corpus(root: Path = CORPUS, files: Sequence[Path] | None = None) -> list[FilePlan]:
    """Check and build every file; say for each unit what it must reach, or why it cannot run."""
    root = root.resolve()
    plans = []
    for file_id, path in enumerate(files if files is not None else corpus_files(root)):
        plans.append(plan_file(file_id, path.resolve(), root))
    return plans


def plan_file(file_id: int, path: Path, root: Path) -> FilePlan:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    report = check(path)
    if not report.ok or report.document is None:
        errors = [p for p in report.problems if p.severity == "error"]
        first = errors[0] if errors else None
        why = f"{first.message} [{first.rule}]" if first else "does not load"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return FilePlan(file_id, path, rel, False, f"does not validate: {why}{more}")
    document = report.document
    plan = FilePlan(file_id, path, rel, True, document=document)
    if document.capability is None:
        plan.reason = "a shared consumes document: it exposes nothing to serve"
        return plan
    plan.namespaces = list(dict.fromkeys(c.namespace for c in document.all_consumes))
    missing: list[str] = []
    for bind in document.all_binds:
        if (bind.location or "").strip():
            missing += _bind_file_problem(bind.location or "", path.parent)
            continue
        for source in (bind.keys or {}).values():
            plan.environ[source] = DUMMY
    if missing:
        plan.reason = "; ".join(missing)
        plan.units = [_na(u, plan.reason) for u in _units(plan, document)]
        return plan
    plan.units = _units(plan, document)
    plan.auth = _credentials(document)
    # A valid document the runtime cannot build is the runtime's failure, not the file's. Built as
    # it is served: every consumed namespace sent to the stand-in (placeholder bind values are not
    # base URIs: a port read from a bind would not be a number).
    stand_in = dict.fromkeys(plan.namespaces, "http://127.0.0.1:9")
    try:
        Runtime.build(document, RuntimeOptions(environ=plan.environ, base_uris=stand_in))
    except NaftikoError as exc:
        plan.failure = f"the runtime cannot build it: {exc}"
    return plan


def _na(unit: UnitPlan, reason: str) -> UnitPlan:
    unit.reason = unit.reason or reason
    return unit


def _bind_file_problem(location: str, base: Path) -> list[str]:
    target = location.removeprefix("file://")
    candidate = Path(target) if Path(target).is_absolute() else base / target
    return [] if candidate.exists() else [f"bind location {location} is no file next to the capability"]


def _units(plan: FilePlan, document: Document) -> list[UnitPlan]:
    capability = document.capability
    assert capability is not None
    functions = {
        f"{aggregate.namespace}.{function.name}": function
        for aggregate in capability.aggregates
        for function in aggregate.functions
    }
    units: list[UnitPlan] = []
    for expose in capability.exposes:
        if isinstance(expose, RestExpose):
            units += _rest_units(plan, document, expose, functions)
        elif isinstance(expose, McpExpose):
            units += _mcp_units(plan, document, expose, functions)
        elif isinstance(expose, SkillExpose):
            seen: set[str] = set()
            for skill in expose.skills:
                unit = UnitPlan(plan.file_id, "skill", expose.namespace, skill.name, "GET")
                unit.tools = tuple(tool.name for tool in skill.tools)
                if skill.name in seen:
                    unit.reason = f"shadowed: an earlier skill of this adapter is named {skill.name!r}"
                seen.add(skill.name)
                units.append(unit)
    return units


def _rest_units(
    plan: FilePlan, document: Document, expose: RestExpose, functions: Mapping[str, AggregateFunction]
) -> list[UnitPlan]:
    units: list[UnitPlan] = []
    served: dict[tuple[str, str], str] = {}
    for resource_ in expose.resources:
        for operation in resource_.operations:
            template = parse_template(resource_.path + (operation.path or ""))
            label = f"{operation.method} {template.text}"
            if operation.name:
                label += f" ({operation.name})"
            unit = UnitPlan(plan.file_id, "rest", expose.namespace, label, operation.method, template.openapi)
            first = served.setdefault((template.shape, operation.method), label)
            if first != label or any(u.name == label for u in units if u.kind == "rest"):
                unit.reason = f"shadowed: {first} is what the adapter serves for this method and path"
            else:
                params = (*expose.input_parameters, *resource_.input_parameters, *operation.input_parameters)
                declared = [p.name for p in params]
                _expect(unit, document, operation, functions, declared or None, template.names)
            units.append(unit)
        if resource_.forward is not None:
            target = resource_.forward.target_namespace
            template = parse_template(resource_.path)
            name = f"forward {resource_.path}"
            unit = UnitPlan(plan.file_id, "forward", expose.namespace, name, "GET", template.openapi)
            unit.expected = (Expected(target, "(forward)", "GET", "", FORWARD_SAMPLE),)
            units.append(unit)
    return units


def _mcp_units(
    plan: FilePlan, document: Document, expose: McpExpose, functions: Mapping[str, AggregateFunction]
) -> list[UnitPlan]:
    units: list[UnitPlan] = []
    seen: set[str] = set()
    for tool in expose.tools:
        function = functions.get(tool.ref) if tool.ref else None
        name = tool.name or (function.name if function else None) or "tool"
        unit = UnitPlan(plan.file_id, "mcp", expose.namespace, name)
        if expose.transport == "stdio":
            unit.reason = "stdio transport: served by `naftiko serve --stdio`, not over HTTP"
        elif name in seen:
            unit.reason = f"shadowed: an earlier tool of this adapter is named {name!r}"
        else:
            params = tool.input_parameters or (function.input_parameters if function else ())
            _expect(unit, document, tool, functions, [p.name for p in params] or None, ())
        seen.add(name)
        units.append(unit)
    return units


def _expect(
    unit: UnitPlan,
    document: Document,
    fields: UnitFields,
    functions: Mapping[str, AggregateFunction],
    declared: Sequence[str] | None,
    route: Sequence[str],
) -> None:
    """Fill ``unit.expected`` (the consumed operations the unit reaches, after its ``ref`` is merged
    field by field as the spec says: what the unit sets wins) and ``unit.unsupplied``."""
    call, steps, with_ = fields.call, fields.steps, fields.with_
    if fields.ref:
        function = functions.get(fields.ref)
        if function is None:
            unit.reason = f"ref {fields.ref!r} names no aggregate function"
            return
        own = fields.model_fields_set
        call = call if "call" in own else function.call
        steps = steps if "steps" in own else function.steps
        with_ = with_ if "with_" in own else function.with_
    targets = [call] if call else [step.call for step in steps if isinstance(step, StepCall)]
    expected: list[Expected] = []
    for target in targets:
        namespace, _, name = target.partition(".")
        consumes = document.find_consumes(namespace)
        found = consumes.find_operation(name) if consumes else None
        if consumes is None or found is None:
            unit.reason = f"calls {target}, which the document does not declare"
            return
        resource_, operation = found
        expected.append(Expected(namespace, name, operation.method, resource_.path + (operation.path or "")))
        if call and declared is not None:
            given = {_key(n) for n in (*with_, *declared, *route)}
            for missing in _path_gaps(document, consumes, resource_, operation, given):
                unit.unsupplied[missing] = (
                    f"the document never gives {target} its path parameter {missing!r}: the unit "
                    f"declares inputs ({', '.join(declared) or 'none'}) and no `with` maps it"
                )
    unit.expected = tuple(dict.fromkeys(expected))


def _path_gaps(
    document: Document,
    consumes: ConsumesHttp,
    resource_: ConsumedResource,
    operation: ConsumedOperation,
    given: set[str],
) -> list[str]:
    """Placeholders of the operation's path that nothing fills: no bind, static value or input."""
    binds = {
        name
        for bind in document.all_binds
        for variable in bind.keys
        for name in (variable, f"{bind.namespace}.{variable}")
    }
    static = {
        _key(p.name)
        for p in (*consumes.input_parameters, *resource_.input_parameters, *operation.input_parameters)
        if p.in_ == "path" and (p.value is not None or p.template is not None)
    }
    names = [
        (found.group(1) or found.group(2)).strip()
        for found in _PLACEHOLDER.finditer(resource_.path + (operation.path or ""))
    ]
    return [_key(n) for n in names if n not in binds and _key(n) not in static | given]


def _key(name: str) -> str:
    """Parameter names match across spellings (``dag-id`` is ``dag_id``), as the spec's examples do."""
    return name.lower().replace("-", "_")


def _credentials(document: Document) -> dict[str, dict[str, str]]:
    """What a client sends to each authenticated adapter, from its declaration and the dummy binds."""
    out: dict[str, dict[str, str]] = {}
    capability = document.capability
    for expose in capability.exposes if capability else ():
        auth = getattr(expose, "authentication", None)
        if auth is None:
            continue
        if isinstance(auth, AuthBearer):
            out[expose.namespace] = {"header:Authorization": f"Bearer {_render(auth.token)}"}
        elif isinstance(auth, AuthBasic):
            import base64

            pair = f"{_render(auth.username)}:{_render(auth.password)}".encode()
            out[expose.namespace] = {"header:Authorization": "Basic " + base64.b64encode(pair).decode()}
        elif isinstance(auth, AuthApiKey):
            where = "query" if auth.placement == "query" else "header"
            out[expose.namespace] = {f"{where}:{auth.key or 'X-API-Key'}": _render(auth.value)}
        else:
            out[expose.namespace] = {"unsupported": getattr(auth, "type", "?")}
    return out


def _render(template: str | None) -> str:
    return _PLACEHOLDER.sub(DUMMY, template or "")


# -- the generic upstream --------------------------------------------------------------------------

_BODIES: dict[str, tuple[str, bytes]] = {
    "json": ("application/json", b"{}"),
    "xml": ("application/xml", b"<root><item>abc</item></root>"),
    "yaml": ("application/yaml", b"item: abc\n"),
    "csv": ("text/csv", b"item,count\nabc,1\n"),
    "tsv": ("text/tab-separated-values", b"item\tcount\nabc\t1\n"),
    "psv": ("text/plain", b"item|count\nabc|1\n"),
    "html": (
        "text/html",
        b"<html><body><table><tr><th>item</th></tr><tr><td>abc</td></tr></table></body></html>",
    ),
    "markdown": ("text/markdown", b"# Item\n\nabc\n"),
    "text": ("text/plain; charset=utf-8", b"abc"),
}


@dataclass
class Seen:
    namespace: str
    path: str  # decoded, after the namespace prefix
    request: RecordedRequest


@dataclass
class Slot:
    """One consumed namespace of one batch: its prefix, and the file whose units are running now."""

    namespace: str
    prefix: str
    lock: asyncio.Lock
    owner: FilePlan | None = None


class GenericUpstream:
    """One recording upstream for the whole corpus: every namespace of a batch under its own prefix.

    ``--base-uri`` is per namespace and process-wide, and a namespace name may be consumed by several
    files of a batch (``naftiko-control``, ``github``…): such files take turns (:meth:`claim`), so
    a request under a prefix always belongs to the one file that owns it at that moment. Each request
    is answered 200 with a body in the format its consumed operation expects (``outputRawFormat``:
    ``{}`` for JSON, a small document for the others) and filed under that file.
    """

    def __init__(self) -> None:
        self.upstream = RecordingUpstream()
        self.upstream.route("*", "*", handler=self._answer)
        self._slots: dict[str, Slot] = {}
        self._batches: dict[int, dict[str, Slot]] = {}
        self.seen: dict[int, list[Seen]] = {}
        self.stray: list[RecordedRequest] = []

    def __enter__(self) -> GenericUpstream:
        self.upstream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.upstream.stop()

    def base_uris(self, batch_id: int, batch: Sequence[FilePlan]) -> dict[str, str]:
        """``--base-uri`` of every namespace the batch consumes."""
        slots = self._batches.setdefault(batch_id, {})
        for plan in batch:
            self.seen.setdefault(plan.file_id, [])
            for namespace in plan.namespaces:
                if namespace not in slots:
                    prefix = f"/b/{batch_id}/{len(slots)}"
                    slots[namespace] = self._slots[prefix] = Slot(namespace, prefix, asyncio.Lock())
        return {namespace: self.upstream.url + slot.prefix for namespace, slot in slots.items()}

    @contextlib.asynccontextmanager
    async def claim(self, batch_id: int, plan: FilePlan) -> AsyncIterator[None]:
        """Own every namespace ``plan`` consumes in its batch (in a fixed order: no deadlock)."""
        slots = [self._batches[batch_id][namespace] for namespace in sorted(plan.namespaces)]
        async with contextlib.AsyncExitStack() as stack:
            for slot in slots:
                await stack.enter_async_context(slot.lock)
                slot.owner = plan
            try:
                yield
            finally:
                for slot in slots:
                    slot.owner = None

    def _answer(self, request: RecordedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = request.path.split("/", 4)  # "", "b", batch, index, rest
        slot = self._slots.get("/".join(parts[:4])) if len(parts) >= 4 else None
        plan = slot.owner if slot is not None else None
        if slot is None or plan is None:
            self.stray.append(request)
            return 404, [("content-type", "application/json")], b'{"error": "nobody owns this prefix"}'
        rest = "/" + parts[4] if len(parts) > 4 else ""
        self.seen[plan.file_id].append(Seen(slot.namespace, rest, request))
        operation = _operation_for(plan, slot.namespace, request.method, rest)
        fmt = (operation.output_raw_format if operation else _format_from_accept(request)) or "json"
        content_type, body = _BODIES.get(fmt.lower(), _BODIES["json"])
        return 200, [("content-type", content_type)], body


def _operation_for(plan: FilePlan, namespace: str, method: str, path: str) -> ConsumedOperation | None:
    consumes: ConsumesHttp | None = plan.document.find_consumes(namespace) if plan.document else None
    for resource_ in consumes.resources if consumes else ():
        for operation in resource_.operations:
            if operation.method != method:
                continue
            expected = Expected(namespace, operation.name, method, resource_.path + (operation.path or ""))
            if expected.match(path) is None:
                return operation
    return None


def _format_from_accept(request: RecordedRequest) -> str:
    accept = (request.headers.get("accept") or "").lower()
    for fmt, (content_type, _) in _BODIES.items():
        if content_type.split(";")[0] in accept:
            return fmt
    return "json"


# -- serving ---------------------------------------------------------------------------------------


def batches(plans: Sequence[FilePlan], size: int) -> list[list[FilePlan]]:
    """Groups of at most ``size`` files, as even as possible."""
    if not plans:
        return []
    count = -(-len(plans) // size)
    return [list(plans[index::count]) for index in range(count)]


@dataclass
class Served:
    process: asyncio.subprocess.Process
    listeners: dict[tuple[str, str], str]  # (source file, adapter namespace) → URL
    log: Path


async def serve(batch_id: int, batch: Sequence[FilePlan], upstream: GenericUpstream, workdir: Path) -> Served:
    """``naftiko serve`` the batch on system-chosen ports; returns once every adapter accepts requests."""
    ready = workdir / f"ready-{batch_id}.json"
    log = workdir / f"serve-{batch_id}.log"
    command = [
        sys.executable,
        "-c",
        "import sys; from naftiko_runtime.cli import main; sys.exit(main())",
        "serve",
        "--any-port",
        "--host",
        "127.0.0.1",
        "--ready-file",
        str(ready),
        "--log-level",
        "warning",
        "--log-format",
        "json",
        "--shutdown-timeout",
        "1",
        "--read-timeout",
        "15",
    ]
    for namespace, url in upstream.base_uris(batch_id, batch).items():
        command += ["--base-uri", f"{namespace}={url}"]
    command += [str(plan.path) for plan in batch]
    environ = dict(os.environ)
    for plan in batch:
        environ.update(plan.environ)
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink, env=environ
        )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if process.returncode is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError("naftiko serve did not start: " + " | ".join(tail))
        await asyncio.sleep(0.02)
    document = json.loads(ready.read_text())
    listeners = {
        (str(Path(item["source"]).resolve()), item["namespace"]): item["url"]
        for item in document["listeners"]
    }
    return Served(process, listeners, log)


async def stop(served: Served) -> list[dict[str, Any]]:
    """Stop the serve process (SIGTERM, graceful); returns the warnings and errors it logged."""
    if served.process.returncode is None:
        served.process.terminate()
        try:
            await asyncio.wait_for(served.process.wait(), 10)
        except TimeoutError:
            served.process.kill()
            await served.process.wait()
    records = []
    for line in served.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        elif line.startswith("Traceback"):
            records.append({"level": "error", "logger": "stderr", "message": line})
    return [r for r in records if r.get("level") in ("warning", "error", "critical")]


# -- calling ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the adapter answered: its status, what was wrong (None: success) and, for a refusal of
    the arguments, the names of the parameters it refused."""

    status: int
    problem: str | None = None
    refused: frozenset[str] = frozenset()


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A plain HTTP client over one aiohttp session: the URL goes out exactly as given (no
    re-quoting), and hundreds of origins cost nothing per request (httpx's pool scans them all)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def request(
        self,
        method: str,
        url: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        if query:
            url += ("&" if "?" in url else "?") + urlencode(list(query))
        async with self.session.request(
            method, yarl.URL(url, encoded=True), headers=dict(headers or {}), data=body
        ) as response:
            payload = await response.read()
            return Answer(response.status, response.headers.get("content-type", ""), payload)


class Caller:
    """Calls the units of one file, one after another, and judges each against the upstream."""

    def __init__(self, client: Client, upstream: GenericUpstream, served: Served) -> None:
        self.client = client
        self.upstream = upstream
        self.served = served
        self._openapi: dict[str, Any] = {}
        self._tools: dict[str, dict[str, Any]] = {}
        self._skills: dict[str, dict[str, Any]] = {}

    async def run_file(self, plan: FilePlan) -> FileResult:
        result = FileResult(plan)
        for unit in plan.units:
            result.units.append(await self.run_unit(plan, unit))
        return result

    async def run_unit(self, plan: FilePlan, unit: UnitPlan) -> UnitResult:
        if unit.reason:
            return UnitResult(unit, "n/a", unit.reason)
        url = self.served.listeners.get((str(plan.path), unit.adapter))
        if url is None:
            return UnitResult(unit, "fail", f"the adapter {unit.adapter!r} is not in the ready file")
        credentials = plan.auth.get(unit.adapter, {})
        if "unsupported" in credentials:
            return UnitResult(unit, "n/a", f"adapter authentication {credentials['unsupported']!r}")
        seen = self.upstream.seen[plan.file_id]
        before = len(seen)
        try:
            if unit.kind == "mcp":
                outcome = await self._call_tool(url, unit, credentials)
            elif unit.kind == "skill":
                outcome = await self._read_skill(url, unit, credentials)
            else:
                outcome = await self._call_rest(url, unit, credentials)
        except NoSample as exc:
            return UnitResult(unit, "n/a", f"no argument can be generated: {exc}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return UnitResult(unit, "fail", f"the adapter did not answer: {type(exc).__name__}: {exc}")
        received = seen[before:]
        mismatch = judge(unit.expected, received)
        if outcome.problem:
            if unit.unsupplied and not received and outcome.refused <= set(unit.unsupplied):
                gaps = [unit.unsupplied[name] for name in sorted(outcome.refused)]
                return UnitResult(unit, "n/a", "; ".join(gaps), outcome.status)
            upstream = f"; upstream saw {_describe(received)}" if mismatch else ""
            return UnitResult(unit, "fail", outcome.problem + upstream, outcome.status)
        if mismatch:
            return UnitResult(unit, "fail", mismatch, outcome.status)
        return UnitResult(unit, "pass", "", outcome.status)

    # -- REST --------------------------------------------------------------------------------------

    async def _call_rest(self, url: str, unit: UnitPlan, credentials: Mapping[str, str]) -> Outcome:
        headers, query = _split_credentials(credentials)
        if unit.kind == "forward":
            path = _fill(unit.route, {}) + "/" + FORWARD_SAMPLE
            return _rest_outcome(await self.client.request("GET", url + path, query=query, headers=headers))
        document = self._openapi.get(url)
        if document is None:
            answer = await self.client.request("GET", url + "/openapi.json", query=query, headers=headers)
            if answer.status != 200:
                return Outcome(answer.status, f"GET /openapi.json answered {answer.status}")
            document = self._openapi[url] = json.loads(answer.body)
        operation = (document.get("paths", {}).get(unit.route) or {}).get(unit.method.lower())
        if operation is None:
            return Outcome(0, f"/openapi.json does not describe {unit.method} {unit.route}")
        path_values: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for parameter in operation.get("parameters", []):
            value = sample(parameter.get("schema"), name=parameter["name"])
            where = parameter.get("in")
            if where == "path":
                path_values[parameter["name"]] = _text(value)
            elif where == "query":
                values = value if isinstance(value, list) else [value]
                query += [(parameter["name"], _text(v)) for v in values]
            elif where == "header":
                headers[parameter["name"]] = _text(value)
            elif where == "cookie":
                cookies[parameter["name"]] = _text(value)
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        content = (operation.get("requestBody") or {}).get("content") or {}
        if "application/json" in content:
            schema = content["application/json"].get("schema") or {"type": "object"}
            body = json.dumps(sample(schema, name="body")).encode()
            headers["Content-Type"] = "application/json"
        target = url + _fill(unit.route, path_values)
        answer = await self.client.request(unit.method, target, query=query, headers=headers, body=body)
        return _rest_outcome(answer)

    # -- skills ------------------------------------------------------------------------------------

    async def _read_skill(self, url: str, unit: UnitPlan, credentials: Mapping[str, str]) -> Outcome:
        """``GET /skills`` lists the skill with its declared tools, and ``GET /skills/{name}`` answers."""
        headers, query = _split_credentials(credentials)
        listing = self._skills.get(url)
        if listing is None:
            answer = await self.client.request("GET", url, query=query, headers=headers)
            if answer.status != 200:
                return Outcome(answer.status, f"GET /skills answered {answer.status}: {answer.text[:200]}")
            listing = self._skills[url] = {s["name"]: s for s in json.loads(answer.body).get("skills", [])}
        entry = listing.get(unit.name)
        if entry is None:
            return Outcome(200, f"GET /skills does not list {unit.name!r}")
        missing = [tool for tool in unit.tools if tool not in entry.get("tools", [])]
        if missing:
            return Outcome(200, f"GET /skills lists {unit.name!r} without its tools {missing}")
        answer = await self.client.request(
            "GET", f"{url}/{quote(unit.name, safe='')}", query=query, headers=headers
        )
        if answer.status != 200:
            return Outcome(
                answer.status, f"GET /skills/{unit.name} answered {answer.status}: {answer.text[:200]}"
            )
        return Outcome(answer.status)

    # -- MCP ---------------------------------------------------------------------------------------

    async def _call_tool(self, url: str, unit: UnitPlan, credentials: Mapping[str, str]) -> Outcome:
        headers, query = _split_credentials(credentials)
        headers = {**MCP_HEADERS, **headers}
        tools = self._tools.get(url)
        if tools is None:
            status, message = await self._rpc(url, headers, query, "tools/list", {})
            if status != 200 or "result" not in message:
                return Outcome(status, f"tools/list failed: {json.dumps(message)[:200]}")
            tools = self._tools[url] = {tool["name"]: tool for tool in message["result"].get("tools", [])}
        tool = tools.get(unit.name)
        if tool is None:
            return Outcome(0, f"tools/list does not list {unit.name!r}")
        arguments = sample(tool.get("inputSchema") or {"type": "object"}, name=unit.name)
        status, message = await self._rpc(
            url, headers, query, "tools/call", {"name": unit.name, "arguments": arguments}
        )
        if "error" in message:
            return Outcome(status, f"JSON-RPC error {json.dumps(message['error'])[:300]}")
        result = message.get("result") or {}
        if status != 200 or result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))
            return Outcome(status, f"tool error (HTTP {status}): {text[:300]}", _refused_by_tool(text))
        return Outcome(status)

    async def _rpc(
        self,
        url: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        method: str,
        params: Any,
    ) -> tuple[int, dict[str, Any]]:
        payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        answer = await self.client.request("POST", url, query=query, headers=headers, body=payload)
        text = answer.text
        if answer.content_type.startswith("text/event-stream"):
            data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
            text = data[-1] if data else ""
        try:
            message = json.loads(text)
        except ValueError:
            return answer.status, {"error": f"not JSON: {text[:200]}"}
        return answer.status, message if isinstance(message, dict) else {"error": message}


def judge(expected: Sequence[Expected], received: Sequence[Seen]) -> str | None:
    """None if ``received`` holds a right request for every expected operation (and nothing else
    when nothing is expected), else what is wrong."""
    if not expected:
        return f"a mock must not call the upstream, which saw {_describe(received)}" if received else None
    problems = []
    for want in expected:
        candidates = [s for s in received if s.namespace == want.namespace]
        if not candidates:
            problems.append(f"{want.namespace}.{want.operation} ({want.label}) was not called")
            continue
        reasons = []
        for seen in candidates:
            if seen.request.method != want.method:
                reasons.append(f"method {seen.request.method}, not {want.method}")
                continue
            why = want.match(seen.path)
            if why is None:
                break
            reasons.append(why)
        else:
            problems.append(f"{want.namespace}.{want.operation} expected {want.label}: {'; '.join(reasons)}")
    for seen in received:
        leak = _unrendered(seen.request)
        if leak:
            problems.append(f"{seen.request.method} {seen.path or '/'} carries an unrendered {leak}")
    return "; ".join(problems) or None


def _unrendered(request: RecordedRequest) -> str | None:
    """Where a ``{{...}}`` template reached the upstream as text (no value of ours holds braces)."""
    for name, value in request.query_items:
        if "{{" in value:
            return f"template in query parameter {name}={value!r}"
    for name, value in request.headers.items():
        if "{{" in value:
            return f"template in header {name}"
    if b"{{" in request.body:
        return f"template in the body {request.text[:80]!r}"
    return None


def _describe(received: Sequence[Seen]) -> str:
    if not received:
        return "no request"
    return ", ".join(f"{s.request.method} {s.namespace}{s.path or '/'}" for s in received[:4])


def _rest_outcome(answer: Answer) -> Outcome:
    if 200 <= answer.status < 300:
        return Outcome(answer.status)
    refused: frozenset[str] = frozenset()
    if answer.status == 400 and "json" in answer.content_type:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            problem = json.loads(answer.body)
            if str(problem.get("type", "")).endswith("invalid-input"):
                refused = frozenset(_key(str(e.get("name"))) for e in problem.get("errors", []))
    return Outcome(answer.status, f"HTTP {answer.status}: {answer.text[:300]}", refused)


def _refused_by_tool(text: str) -> frozenset[str]:
    """The parameter names of an MCP "Invalid arguments for 'x': a: why; b: why" tool error."""
    head, sep, rest = text.partition("': ")
    if not sep or not head.startswith("Invalid arguments for"):
        return frozenset()
    return frozenset(_key(part.split(":", 1)[0].strip()) for part in rest.split("; ") if ":" in part)


def _split_credentials(credentials: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    for key, value in credentials.items():
        where, _, name = key.partition(":")
        if where == "header":
            headers[name] = value
        else:
            query.append((name, value))
    return headers, query


def _fill(route: str, values: Mapping[str, str]) -> str:
    """The OpenAPI path with its placeholders filled, every part percent-encoded as a client would
    (a ``#`` in a published path is a character of the path, not a fragment)."""
    out, position = "", 0
    for found in re.finditer(r"\{([^{}]+)\}", route):
        out += quote(route[position : found.start()], safe=_PATH_SAFE)
        out += quote(values.get(found.group(1), STRING), safe="")
        position = found.end()
    return out + quote(route[position:], safe=_PATH_SAFE)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


# -- the whole run ---------------------------------------------------------------------------------


def raise_fd_limit(wanted: int = 4096) -> int:
    """Raise the soft open-files limit toward ``wanted`` (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return wanted if soft == resource.RLIM_INFINITY else soft


async def run_corpus(
    plans: Sequence[FilePlan],
    *,
    batch_size: int = 60,
    processes: int = 2,
    concurrency: int = 16,
) -> CorpusReport:
    """Serve and call every runnable file of ``plans``; one :class:`FileResult` per plan, in order.

    ``processes`` serve processes run at a time (one starts while another is being called), each
    with at most ``batch_size`` files, of which ``concurrency`` are being called at once.
    """
    started = time.monotonic()
    limit = raise_fd_limit()
    # A file holds ~3 listening sockets and a few upstream connections in the server, and a few
    # connections here; keep every live batch well inside the open-files limit.
    batch_size = max(1, min(batch_size, (limit - 200) // (12 * processes)))
    runnable = [p for p in plans if p.valid and p.units and not p.reason and not p.failure]
    chosen = {p.file_id for p in runnable}
    results: dict[int, FileResult] = {p.file_id: FileResult(p, reason=p.failure) for p in plans}
    for plan in plans:
        if plan.file_id not in chosen:
            status = "fail" if plan.failure else "n/a"
            why = plan.failure or plan.reason
            results[plan.file_id].units = [UnitResult(u, status, u.reason or why) for u in plan.units]
    groups = batches(runnable, batch_size)
    run = _Run(results, concurrency, itertools.count())
    gate = asyncio.Semaphore(processes)
    connector = aiohttp.TCPConnector(limit=concurrency * processes * 2, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    with GenericUpstream() as upstream, tempfile.TemporaryDirectory(prefix="naftiko-corpus-") as tmp:
        run.upstream, run.workdir = upstream, Path(tmp)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            run.client = Client(session)

            async def one_batch(batch: list[FilePlan]) -> None:
                async with gate:
                    await run.batch(batch)

            await asyncio.gather(*(one_batch(batch) for batch in groups))
            await asyncio.gather(*run.stopping)
        stray = [f"{r.method} {r.target}" for r in upstream.stray]
    return CorpusReport(
        [results[p.file_id] for p in plans],
        time.monotonic() - started,
        run.started,
        stray,
        run.warnings,
        run.errors,
    )


@dataclass
class _Run:
    results: dict[int, FileResult]
    concurrency: int
    ids: Iterator[int]
    upstream: GenericUpstream = field(init=False)
    client: Client = field(init=False)
    workdir: Path = field(init=False)
    started: int = 0
    stopping: list[asyncio.Task[None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def batch(self, batch: list[FilePlan]) -> None:
        batch_id = next(self.ids)
        try:
            served = await serve(batch_id, batch, self.upstream, self.workdir)
        except RuntimeError as exc:
            if len(batch) > 1:  # find the file that keeps the batch from starting
                half = len(batch) // 2
                await self.batch(batch[:half])
                await self.batch(batch[half:])
                return
            self.results[batch[0].file_id].reason = str(exc)
            return
        self.started += 1
        try:
            caller = Caller(self.client, self.upstream, served)
            gate = asyncio.Semaphore(self.concurrency)

            async def one_file(plan: FilePlan) -> None:
                async with self.upstream.claim(batch_id, plan), gate:
                    self.results[plan.file_id] = await caller.run_file(plan)

            await asyncio.gather(*(one_file(plan) for plan in batch))
        finally:  # the next batch may start while this one shuts down
            self.stopping.append(asyncio.create_task(self._stop(served)))

    async def _stop(self, served: Served) -> None:
        for record in await stop(served):
            text = f"{record.get('logger')}: {record.get('message')}"
            (self.errors if record.get("level") != "warning" else self.warnings).append(text)


def run(root: Path = CORPUS, files: Sequence[Path] | None = None, **options: Any) -> CorpusReport:
    """Plan and run the corpus (or ``files`` of it) from synchronous code; ``seconds`` counts both."""
    started = time.monotonic()
    plans = plan_corpus(root, files)
    report = asyncio.run(run_corpus(plans, **options))
    report.seconds = time.monotonic() - started
    return report
