"""Catalogue §10d: skill, control, response formats and request bodies; the rows that cannot apply.

The skill fixture (``skill-capability.yaml``) names an absolute ``location`` under ``/tmp``; it is
served from a copy whose ``location`` points at a skill directory made for the test. The format
fixtures are served as published where they are consistent; the sample documents of the Java tests
(``schemas/sample-*``, not in the published set) are reproduced here as the stand-in's answers.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import fastavro
import httpx
import pytest

from tests.support.upstream import RecordedRequest, RecordingUpstream

from .framework import (
    ServeGroup,
    inline,
    not_applicable,
    requires_framework,
    resource,
    scenario,
    unit,
)
from .framework.serve import naftiko_argv

pytestmark = [requires_framework]

USERS = [
    {"id": "1", "name": "Alice Smith", "email": "alice@example.com"},
    {"id": "2", "name": "Bob Johnson", "email": "bob@example.com"},
    {"id": "3", "name": "Carol White", "email": "carol@example.com"},
]
USERS_CSV = "id,name,email\n" + "".join(f"{u['id']},{u['name']},{u['email']}\n" for u in USERS)
USERS_TSV = USERS_CSV.replace(",", "\t")
USERS_PSV = USERS_CSV.replace(",", "|")
USERS_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<root>\n'
    + "".join(
        f"  <user>\n    <id>{u['id']}</id>\n    <name>{u['name']}</name>\n"
        f"    <email>{u['email']}</email>\n  </user>\n"
        for u in USERS
    )
    + "</root>\n"
)
USERS_YAML = "users:\n" + "".join(
    f'  - id: "{u["id"]}"\n    name: "{u["name"]}"\n    email: "{u["email"]}"\n' for u in USERS
)
PRODUCTS_HTML = """<html><body>
<table class="other"><tr><th>Ignored</th></tr><tr><td>x</td></tr></table>
<section class="inventory">
  <table class="products">
    <thead><tr><th>Name</th><th>Price</th><th>Stock</th></tr></thead>
    <tbody>
      <tr><td>Widget</td><td>$42</td><td>150</td></tr>
      <tr><td>Gadget</td><td>$99</td><td>30</td></tr>
    </tbody>
  </table>
</section>
</body></html>
"""
README_MD = """---
title: Product Release Notes
version: 2.1.0
---

## Overview
This release introduces **table extraction** for markdown.

| Feature | Status |
|---------|--------|
| HTML support | GA |
| Markdown support | Beta |

## Changelog
Nothing else.
"""
RECORDS = {
    "records": [
        {"id": "r-1", "title": "First", "description": "one"},
        {"id": "r-2", "title": "Second", "description": None},
    ]
}
SKILL_FILES = {
    "SKILL.md": "# Order management\n\nUse the tools to manage orders.\n",
    "order-guide.md": "# Working with orders\n",
    "docs/overview.md": "# Overview\n",
}


def _avro_body() -> bytes:
    schema = fastavro.parse_schema(
        json.loads(inline("formats/test-records.avsc").read_text(encoding="utf-8"))
    )
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, RECORDS)
    return buffer.getvalue()


# -- servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as stub:
        stub.route("GET", "/csv/api/users", body=USERS_CSV, content_type="text/csv")
        for prefix in ("xml", "xml-inline"):
            stub.route("GET", f"/{prefix}/api/users", body=USERS_XML, content_type="application/xml")
        stub.route("GET", "/yaml/api/users", body=USERS_YAML, content_type="application/yaml")
        stub.route("GET", "/html/api/products", body=PRODUCTS_HTML, content_type="text/html")
        stub.route("GET", "/markdown/api/readme", body=README_MD, content_type="text/markdown")
        for prefix in ("avro", "avro-inline", "proto"):
            stub.route("GET", f"/{prefix}/api/records", body=_avro_body(), content_type="application/avro")
        stub.route("GET", "/converter/users.tsv", body=USERS_TSV, content_type="text/tab-separated-values")
        stub.route("GET", "/converter/users.psv", body=USERS_PSV, content_type="text/plain")
        stub.route("GET", "/converter/page.html", body=PRODUCTS_HTML, content_type="text/html")
        stub.route("GET", "/converter/readme.md", body=README_MD, content_type="text/markdown")
        stub.route("GET", "/orders/v1/orders", json=[{"id": "o-1"}])
        stub.route("POST", "/bodies/{name}", json={"ok": True})
        yield stub


@pytest.fixture(scope="module")
def skill_document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``skill-capability.yaml`` with its ``location`` pointing at a skill directory of the test's."""
    root = Path(tmp_path_factory.mktemp("skills"))
    skill_dir = root / "order-management"
    for name, text in SKILL_FILES.items():
        (skill_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (skill_dir / name).write_text(text, encoding="utf-8")
    (root / "outside.txt").write_text("not part of the skill\n", encoding="utf-8")
    text = resource("skill-capability.yaml").read_text(encoding="utf-8")
    original = "file:///tmp/naftiko-test-skills/order-management"
    assert original in text
    document = root / "skill-capability.yaml"
    document.write_text(text.replace(original, skill_dir.as_uri()), encoding="utf-8")
    return document


@pytest.fixture(scope="module")
def servers(
    upstream: RecordingUpstream, skill_document: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeGroup]:
    up = upstream.url
    group = ServeGroup(Path(tmp_path_factory.mktemp("misc")))
    group.add("skill", skill_document, base_uris={"mock-orders": f"{up}/orders/v1"})
    group.add("control", resource("control/control-capability.yaml"))
    group.add("control-off", resource("control/control-observability-disabled.yaml"))
    group.add("scripting", resource("control/control-scripting-capability.yaml"))
    group.add("csv", resource("formats/csv-capability.yaml"), base_uris={"mock-csv": f"{up}/csv"})
    group.add("xml", resource("formats/xml-capability.yaml"), base_uris={"mock-xml": f"{up}/xml"})
    group.add("xml-inline", inline("formats/xml-users.yaml"), base_uris={"mock-xml": f"{up}/xml-inline"})
    group.add("yaml", resource("formats/yaml-capability.yaml"), base_uris={"mock-yaml": f"{up}/yaml"})
    group.add("html", resource("formats/html-capability.yaml"), base_uris={"mock-html": f"{up}/html"})
    group.add(
        "markdown",
        resource("formats/markdown-capability.yaml"),
        base_uris={"mock-markdown": f"{up}/markdown"},
    )
    group.add("avro", resource("formats/avro-capability.yaml"), base_uris={"mock-avro": f"{up}/avro"})
    group.add(
        "avro-inline", inline("formats/avro-records.yaml"), base_uris={"mock-avro": f"{up}/avro-inline"}
    )
    group.add("converter", inline("formats/converter.yaml"), base_uris={"mock": f"{up}/converter"})
    group.add("bodies", inline("bodies.yaml"), base_uris={"api": f"{up}/bodies"})
    group.start()
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture
def stub(upstream: RecordingUpstream) -> RecordingUpstream:
    upstream.clear_requests()
    return upstream


def received(stub: RecordingUpstream, prefix: str) -> list[RecordedRequest]:
    return [r for r in stub.requests if r.path.startswith(prefix)]


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


# -- skill -----------------------------------------------------------------------------------------


@scenario("10d", "Skill catalog", java="T:engine/exposes/skill/SkillIntegrationTest")
def test_skill_catalog(servers: ServeGroup) -> None:
    """The skill adapter's catalog: list, detail (derived and instruction tools), contents, files,
    download; unknown names 404; a path that leaves the skill directory is refused."""
    base = servers["skill"].base("orders-skills")
    with unit("GET /skills ⇒ count 2, order-management then onboarding-guide"):
        listing = httpx.get(f"{base}/skills").json()
        assert listing["count"] == 2
        assert [s["name"] for s in listing["skills"]] == ["order-management", "onboarding-guide"]
    with unit("GET /skills/order-management ⇒ allowed-tools, argument-hint, derived + instruction tools"):
        detail = httpx.get(f"{base}/skills/order-management").json()
        assert detail["name"] == "order-management"
        assert detail["description"] == "Tools for managing orders"
        assert detail["allowed-tools"] == "list-orders"
        assert detail["argument-hint"] == "Use for order operations"
        derived, instruction = detail["tools"]
        assert (derived["name"], derived["type"]) == ("list-orders", "derived")
        reference = derived["invocationRef"]
        assert {k: reference[k] for k in ("targetNamespace", "action", "mode")} == {
            "targetNamespace": "orders-rest",
            "action": "list-orders",
            "mode": "rest",
        }
        assert (instruction["name"], instruction["type"], instruction["instruction"]) == (
            "order-guide",
            "instruction",
            "order-guide.md",
        )
    with unit("unknown skill ⇒ 404"):
        assert httpx.get(f"{base}/skills/unknown-skill").status_code == 404
    with unit("descriptive skill ⇒ tools []"):
        detail = httpx.get(f"{base}/skills/onboarding-guide").json()
        assert detail["name"] == "onboarding-guide" and detail["tools"] == []
    with unit("contents ⇒ every file with path, size, type"):
        answer = httpx.get(f"{base}/skills/order-management/contents")
        assert answer.status_code == 200
        files = {f["path"]: f for f in answer.json()["files"]}
        assert set(files) == set(SKILL_FILES)
        assert files["order-guide.md"]["size"] == len(SKILL_FILES["order-guide.md"])
        assert files["order-guide.md"]["type"].startswith("text/markdown")
    with unit("contents/<file> ⇒ the bytes, typed; nested path too"):
        answer = httpx.get(f"{base}/skills/order-management/contents/order-guide.md")
        assert answer.status_code == 200 and answer.text == SKILL_FILES["order-guide.md"]
        assert media_type(answer) == "text/markdown"
        nested = httpx.get(f"{base}/skills/order-management/contents/docs/overview.md")
        assert nested.status_code == 200 and nested.text == SKILL_FILES["docs/overview.md"]
    with unit("traversal refused; missing file 404"):
        for path in ("../outside.txt", "..%2Foutside.txt", "docs/../../outside.txt"):
            answer = httpx.get(f"{base}/skills/order-management/contents/{path}")
            assert answer.status_code in (400, 404) and "not part of the skill" not in answer.text, path
        assert httpx.get(f"{base}/skills/order-management/contents/nope.md").status_code == 404
    with unit("download ⇒ application/zip (PK) with the skill's files"):
        answer = httpx.get(f"{base}/skills/order-management/download")
        assert answer.status_code == 200 and answer.content[:2] == b"PK"
        assert media_type(answer) == "application/zip"
        assert set(zipfile.ZipFile(io.BytesIO(answer.content)).namelist()) >= set(SKILL_FILES)
    with unit("unknown skill contents / download ⇒ 404"):
        assert httpx.get(f"{base}/skills/unknown-skill/contents").status_code == 404
        assert httpx.get(f"{base}/skills/unknown-skill/download").status_code == 404


# -- control ---------------------------------------------------------------------------------------


@scenario(
    "10d",
    "Control (health, status, metrics, flags)",
    java="T:engine/exposes/control/ControlIntegrationTest, ControlServerAdapterTest, HealthLiveResourceTest, "
    "MetricsResourceTest",
)
def test_control(servers: ServeGroup) -> None:
    """The control adapter's routes follow ``management`` and ``observability``; a capability may
    expose only a control adapter. (``/traces`` and the trace ring buffer are OpenTelemetry
    features: see the OTel row.)"""
    base = servers["control"].base(type="control")
    off = servers["control-off"].base(type="control")
    with unit("GET /health/live ⇒ {status: UP}"):
        assert httpx.get(f"{base}/health/live").json() == {"status": "UP"}
    with unit("GET /health/ready ⇒ 200 UP (the control adapter's own state not counted)"):
        answer = httpx.get(f"{base}/health/ready")
        assert answer.status_code == 200 and answer.json()["status"] == "UP"
    with unit("GET /status (info: true) ⇒ capability label and spec version, uptime, adapters"):
        status = httpx.get(f"{base}/status").json()
        assert status["capability"] == {
            "label": "Control Port Test Capability",
            "specVersion": "1.0.0-alpha2",
        }
        assert status["uptime"].startswith("PT") and status["adapters"]
    with unit("GET /metrics ⇒ Prometheus text"):
        answer = httpx.get(f"{base}/metrics")
        assert answer.status_code == 200 and media_type(answer) == "text/plain"
        assert "# TYPE" in answer.text
    with unit("observability disabled ⇒ no /metrics, no /traces; health still served"):
        assert httpx.get(f"{off}/metrics").status_code == 404
        assert httpx.get(f"{off}/traces").status_code == 404
        assert httpx.get(f"{off}/health/live").status_code == 200
    with unit("info absent ⇒ no /status; scripting absent ⇒ no /scripting"):
        scripting = servers["scripting"].base(type="control")
        assert httpx.get(f"{scripting}/status").status_code == 404
        assert httpx.get(f"{base}/scripting").status_code == 404


@scenario("10d", "Control scripting (GET)", java="T:engine/exposes/control/ScriptingIntegrationTest")
def test_control_scripting(servers: ServeGroup) -> None:
    """``GET /scripting`` reports the document's scripting governance."""
    base = servers["scripting"].base(type="control")
    with unit("GET /scripting ⇒ enabled, defaults, limits, allowed languages"):
        config = httpx.get(f"{base}/scripting").json()
        assert config["enabled"] is True
        assert config["defaultLocation"] == "file:///app/scripts"
        assert config["defaultLanguage"] == "javascript"
        assert config["timeout"] == 3000
        assert config["statementLimit"] == 50000
        assert config["allowedLanguages"] == ["javascript", "python"]


@scenario("10d", "Control scripting (PUT, stats)", java="T:engine/exposes/control/ScriptingIntegrationTest")
def test_control_scripting_put(servers: ServeGroup) -> None:
    """``PUT /scripting`` changes the scripting governance of the running process (this process
    only, and the answer says so); a setting the schema refuses is a 400 naming it. Java's
    per-process execution counters are not kept: every figure this runtime reports is in /metrics."""
    base = servers["scripting"].base(type="control")
    try:
        with unit("PUT /scripting {timeout: 1500} ⇒ 200, scope process; GET shows it"):
            answer = httpx.put(f"{base}/scripting", json={"timeout": 1500}, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["scope"] == "process" and answer.json()["timeout"] == 1500
            assert httpx.get(f"{base}/scripting").json()["timeout"] == 1500
        with unit("PUT /scripting {colour: 1} ⇒ 400 naming the key"):
            answer = httpx.put(f"{base}/scripting", json={"colour": 1}, timeout=30)
            assert answer.status_code == 400 and "colour" in answer.text, answer.text
    finally:  # test_control_scripting reads the file's settings
        httpx.put(f"{base}/scripting", json={"timeout": 3000}, timeout=30)


@scenario(
    "10d",
    "Observability (OTel traces, spans, Prometheus exporter)",
    java="Observability*, Telemetry*, *Span*, Prometheus*, TracesResourceTest, TraceRingBufferTest",
)
def test_observability(servers: ServeGroup) -> None:
    """The trace ring buffer the control capability declares (``traces.local.buffer-size: 50``) is
    served at ``/traces``. Spans across REST → unit → step → upstream, ``traceparent`` in and out,
    sampling and OTLP export are tested against a real OTLP receiver in ``tests/tracing``; the OTel
    Prometheus exporter is not used (``/metrics`` is the runtime's own recorder: bench/metrics.py)."""
    base = servers["control"].base(type="control")
    with unit("GET /traces ⇒ 200, the summaries of a 50-trace buffer"):
        answer = httpx.get(f"{base}/traces")
        assert answer.status_code == 200, answer.text
        assert answer.json()["bufferSize"] == 50 and isinstance(answer.json()["traces"], list), answer.text
    with unit("GET /traces/{unknown id} ⇒ 404"):
        assert httpx.get(f"{base}/traces/{'0' * 31}1").status_code == 404


# -- formats ---------------------------------------------------------------------------------------


@scenario("10d", "CSV", java="T:engine/consumes/http/CsvIntegrationTest")
def test_csv(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """``outputRawFormat: csv``: one object per row, keyed by the header row, every value a string."""
    answer = httpx.get(f"{servers['csv'].base('test-csv')}/csv/users")
    with unit("GET /csv/users ⇒ 3 rows, string values"):
        assert answer.status_code == 200, answer.text
        assert answer.json() == USERS
    with unit("consumer header User-Agent sent"):
        assert received(stub, "/csv")[-1].headers.get("user-agent") == "Naftiko/1.0.0-alpha2"


@scenario("10d", "XML", java="T:engine/consumes/http/XmlIntegrationTest")
def test_xml(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """``outputRawFormat: xml``: the root element is dropped, repeated ``<user>`` become an array,
    leaves are strings (Java checks this with ``XmlMapper`` directly: ``$.user``).

    The published fixture maps ``$.root.user``, which cannot match under that contract in either
    engine (the Java test never runs the mapping); it is served and answers without error, and the
    shape is asserted through an inline copy mapping ``$.user``.
    """
    with unit("inline copy ($.user) ⇒ 3 users, string values"):
        answer = httpx.get(f"{servers['xml-inline'].base('xml-users')}/xml/users")
        assert answer.status_code == 200, answer.text
        assert answer.json() == USERS
    with unit("published fixture ($.root.user) ⇒ 200, upstream called with its User-Agent"):
        answer = httpx.get(f"{servers['xml'].base('test-xml')}/xml/users")
        assert answer.status_code == 200, answer.text
        assert received(stub, "/xml/")[-1].headers.get("user-agent") == "Naftiko/1.0.0-alpha2"


@scenario("10d", "YAML", java="T:engine/consumes/http/YamlIntegrationTest")
def test_yaml(servers: ServeGroup) -> None:
    """``outputRawFormat: yaml``: the document parsed, types kept."""
    answer = httpx.get(f"{servers['yaml'].base('test-yaml')}/yaml/users")
    with unit("GET /yaml/users ⇒ 3 users"):
        assert answer.status_code == 200, answer.text
        assert answer.json() == USERS


@scenario("10d", "HTML", java="T:engine/consumes/http/HtmlIntegrationTest")
def test_html(servers: ServeGroup) -> None:
    """``outputRawFormat: html`` with ``outputSchema: table.products`` (a CSS selector)."""
    answer = httpx.get(f"{servers['html'].base('test-html')}/html/products")
    with unit("GET /html/products ⇒ Widget $42, Gadget $99 (the other table ignored)"):
        assert answer.status_code == 200, answer.text
        assert answer.json() == [
            {"name": "Widget", "price": "$42", "stock": "150"},
            {"name": "Gadget", "price": "$99", "stock": "30"},
        ]


@scenario("10d", "Markdown", java="T:engine/consumes/http/MarkdownIntegrationTest")
def test_markdown(servers: ServeGroup) -> None:
    """``outputRawFormat: markdown``: front matter, tables and sections; the fixture maps the first
    table."""
    answer = httpx.get(f"{servers['markdown'].base('test-markdown')}/markdown/features")
    with unit("GET /markdown/features ⇒ HTML support GA, Markdown support Beta"):
        assert answer.status_code == 200, answer.text
        assert answer.json() == [
            {"feature": "HTML support", "status": "GA"},
            {"feature": "Markdown support", "status": "Beta"},
        ]


@scenario("10d", "Avro", java="T:engine/consumes/http/AvroIntegrationTest")
def test_avro(servers: ServeGroup) -> None:
    """``outputRawFormat: avro`` decodes one binary record with the ``.avsc`` named by
    ``outputSchema``. The published fixture declares none (the spec says it is required for avro):
    the document is flagged when validated and its calls fail cleanly (Java: an IOException
    "requires outputSchema" per request)."""
    with unit("with outputSchema ⇒ the records"):
        answer = httpx.get(f"{servers['avro-inline'].base('test-avro')}/avro/records")
        assert answer.status_code == 200, answer.text
        assert answer.json() == RECORDS["records"]
    with unit("published fixture (no outputSchema) ⇒ validate warns; a call ⇒ 502, no traceback"):
        done = subprocess.run(
            naftiko_argv("validate", str(resource("formats/avro-capability.yaml"))),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "needs `outputSchema`" in done.stdout + done.stderr, done.stdout + done.stderr
        answer = httpx.get(f"{servers['avro'].base('test-avro')}/avro/records")
        assert answer.status_code == 502, answer.text
        assert "Traceback" not in answer.text


@scenario("10d", "Protobuf", java="T:engine/consumes/http/ProtobufIntegrationTest")
def test_protobuf() -> None:
    """``outputRawFormat: protobuf``."""
    not_applicable(
        "protobuf decoding is not supported by this runtime: reading a message needs its .proto "
        "compiled at run time (the runtime refuses the format with this reason, "
        "naftiko_runtime.consumes.decoding.UNSUPPORTED_FORMATS)"
    )


@scenario("10d", "Converter (TSV, PSV, selectors)", java="T:engine/util/ConverterTest")
def test_converter(servers: ServeGroup) -> None:
    """The conversion contracts not covered by the per-format rows: TSV and PSV, an HTML selector
    picking one table of two, Markdown sections filtered by a heading prefix."""
    base = servers["converter"].base("converter")
    with unit("TSV ⇒ rows of strings"):
        assert httpx.get(f"{base}/tsv").json() == USERS
    with unit("PSV ⇒ rows of strings"):
        assert httpx.get(f"{base}/psv").json() == USERS
    with unit("HTML table.products ⇒ only that table"):
        tables = httpx.get(f"{base}/html").json()["tables"]
        assert tables == [
            [
                {"Name": "Widget", "Price": "$42", "Stock": "150"},
                {"Name": "Gadget", "Price": "$99", "Stock": "30"},
            ]
        ]
    with unit("Markdown: frontMatter, tables, sections filtered by 'Over'"):
        document = httpx.get(f"{base}/markdown").json()
        assert document["frontMatter"]["title"] == "Product Release Notes"
        assert document["tables"][0][0] == {"Feature": "HTML support", "Status": "GA"}
        assert [s["heading"] for s in document["sections"]] == ["Overview"]


# -- bodies and unit-level rows --------------------------------------------------------------------


@scenario("10d", "Request bodies", java="T:engine/util/OperationStepExecutorBranchTest (bodies)")
def test_request_bodies(servers: ServeGroup, stub: RecordingUpstream) -> None:
    """Every request body form, rendered from the request's values.

    [BUG] in Java (notes §3.5): text, xml, sparql, formUrlEncoded and multipartForm bodies are sent
    as JSON text (text even as ``application/json``). Asserted instead: each is encoded as its
    content type says.
    """
    answer = httpx.post(f"{servers['bodies'].base('bodies')}/send", params={"x": "a b"})
    with unit("orchestration of the seven calls ⇒ 200"):
        assert answer.status_code == 200, answer.text
    seen = {r.path.rsplit("/", 1)[-1]: r for r in received(stub, "/bodies")}

    def content_type(name: str) -> str:
        return seen[name].headers.get("content-type", "").split(";")[0].strip()

    with unit("raw string ⇒ application/json, as written"):
        assert content_type("raw") == "application/json"
        assert seen["raw"].body == b'{"x": "a b"}\n'
    with unit("json object ⇒ application/json"):
        assert content_type("json") == "application/json" and seen["json"].json == {"x": "a b", "n": 2}
    with unit("text ⇒ text/plain, raw"):
        assert content_type("text") == "text/plain" and seen["text"].body == b"hello a b"
    with unit("xml ⇒ application/xml, raw"):
        assert content_type("xml") == "application/xml" and seen["xml"].body == b"<note><to>a b</to></note>"
    with unit("sparql ⇒ application/sparql-query, raw"):
        assert content_type("sparql") == "application/sparql-query"
        assert seen["sparql"].body == b'SELECT ?s WHERE { ?s ?p "a b" }'
    with unit("formUrlEncoded ⇒ q=a+b&page=2"):
        assert content_type("form") == "application/x-www-form-urlencoded"
        assert seen["form"].body.decode() in ("q=a+b&page=2", "q=a%20b&page=2")
    with unit("multipartForm ⇒ multipart/form-data with a field and a file part"):
        assert content_type("multipart") == "multipart/form-data"
        text = seen["multipart"].body.decode()
        assert 'name="field"' in text and "a b" in text
        assert 'filename="a.txt"' in text and "file-content" in text


@scenario(
    "10d",
    "Resolver / OutputMapping / LookupExecutor unit tests",
    java="T:engine/util/ResolverTest, OutputMappingExtensionTest, LookupExecutorTest, "
    "OperationStepExecutorTest",
)
def test_unit_semantics() -> None:
    """Java-internal unit tests of the template resolver, output mapping and lookup executor."""
    not_applicable(
        "Java-internal unit tests with no wire behaviour of their own; what they pin down reaches "
        "the wire through other rows: templates (10b OperationsRestlet), with/namespace refs (10b "
        "RestNamespaceRef, 10c StepWithNamespace), mappings and lookups (10a Step7/Step11, 10b "
        "OperationStepExecutor), output shaping (10b ResourceRestlet, 10c NestedObjectOutputMapping)"
    )


@scenario("10d", "OpenAPI import/export and CLI", java="T:spec/openapi/Oas*Test, T:cli/*Test")
def test_openapi_and_cli() -> None:
    """The Java CLI (``import openapi``, ``export openapi``, control-port commands)."""
    not_applicable(
        "tooling, not runtime behaviour (the catalogue marks them so): the Java CLI's commands and "
        "exit codes differ from this runtime's `naftiko` command, which has its own tests"
    )
