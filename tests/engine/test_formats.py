"""Every ``outputRawFormat`` through a real call: the upstream answers bytes, the unit shapes them."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.errors import DecodeError
from tests.support.upstream import RecordingUpstream

from .helpers import call, doc, failure

DATA = Path(__file__).resolve().parents[1] / "consumes" / "data"


def formatted(fmt: str, outputs: str = "", schema: str | None = None) -> str:
    output_lines = "\n".join("      " + line for line in outputs.strip("\n").splitlines())
    return doc(
        f"""
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: data
      path: /data
      operations:
      - name: get
        outputRawFormat: {fmt}
{f"        outputSchema: {json.dumps(schema)}" if schema else ""}
  exposes:
  - type: mcp
    namespace: tools
    port: 9000
    tools:
    - name: t
      description: shaped
      call: up.get
{"      outputParameters:" if outputs else ""}
{output_lines}
"""
    )


def fetch(
    upstream: RecordingUpstream, fmt: str, body: bytes, content_type: str, outputs: str = "", **kw: Any
) -> Any:
    upstream.route("GET", "/data", body=body, content_type=content_type)
    return call(formatted(fmt, outputs, kw.pop("schema", None)), upstream.url, "t", **kw).value


NAMES = "- type: array\n  mapping: $[*].name"


def test_json(upstream: RecordingUpstream) -> None:
    body = b'[{"name": "Alice", "n": 1.5}, {"name": "Bob", "n": 2}]'
    assert fetch(upstream, "json", body, "application/json", NAMES) == ["Alice", "Bob"]
    assert upstream.last.headers["accept"] == "application/json"


def test_xml(upstream: RecordingUpstream) -> None:
    outputs = "- type: array\n  mapping: $.user[*].name"
    body = (DATA / "sample-users.xml").read_bytes()
    assert fetch(upstream, "xml", body, "application/xml", outputs) == [
        "Alice Smith",
        "Bob Johnson",
        "Carol White",
    ]
    assert "xml" in upstream.last.headers["accept"]


def test_yaml_keeps_types(upstream: RecordingUpstream) -> None:
    outputs = "- {name: first, type: object, mapping: '$.users[0]'}"
    first = fetch(upstream, "yaml", (DATA / "sample-users.yaml").read_bytes(), "application/yaml", outputs)
    assert first["id"] == 1 and first["active"] is True


@pytest.mark.parametrize(
    ("fmt", "file"), [("csv", "sample-users.csv"), ("tsv", "sample-users.tsv"), ("psv", "sample-users.psv")]
)
def test_delimited_rows_are_objects_of_strings(upstream: RecordingUpstream, fmt: str, file: str) -> None:
    rows = fetch(upstream, fmt, (DATA / file).read_bytes(), "text/plain")
    assert rows[0] == {"id": "1", "name": "Alice Smith", "email": "alice@example.com"}
    assert fetch(upstream, fmt, (DATA / file).read_bytes(), "text/plain", NAMES)[:2] == [
        "Alice Smith",
        "Bob Johnson",
    ]


def test_html_tables_with_a_selector(upstream: RecordingUpstream) -> None:
    body = (DATA / "sample-products.html").read_bytes()
    outputs = "- type: string\n  mapping: $.tables[0][0].Name"
    upstream.route("GET", "/data", body=body, content_type="text/html")
    text = formatted("html", outputs, "table.products")
    assert call(text, upstream.url, "t").value == "Widget"


def test_markdown_front_matter_tables_and_sections(upstream: RecordingUpstream) -> None:
    body = (DATA / "sample-readme.md").read_bytes()
    outputs = """
- {name: title, type: string, mapping: $.frontMatter.title}
- {name: status, type: string, mapping: "$.tables[0][0].Status"}
- {name: headings, type: array, mapping: "$.sections[*].heading"}
"""
    result = fetch(upstream, "markdown", body, "text/markdown", outputs)
    assert result["title"] == "Product Release Notes"
    assert result["status"] == "GA"
    assert "Overview" in result["headings"]


def test_avro_record_with_a_schema_file(upstream: RecordingUpstream, tmp_path: Path) -> None:
    fastavro = pytest.importorskip("fastavro")
    shutil.copy(DATA / "sample-record.avsc", tmp_path / "record.avsc")
    schema = fastavro.parse_schema(json.loads((DATA / "sample-record.avsc").read_text()))
    buffer = io.BytesIO()
    record = {
        "records": [{"id": "r1", "title": "First", "description": None}],
        "checksum": b"\x00\x01",
        "created": 1700000000000,
        "amount": __import__("decimal").Decimal("12.50"),
    }
    fastavro.schemaless_writer(buffer, schema, record)
    upstream.route("GET", "/data", body=buffer.getvalue(), content_type="application/avro")
    text = formatted("avro", "- type: string\n  mapping: $.records[0].title", "record.avsc")
    assert call(text, upstream.url, "t", base_dir=tmp_path).value == "First"


def test_protobuf_is_refused_with_a_reason(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/data", body=b"\x08\x01", content_type="application/x-protobuf")
    error = failure(DecodeError, formatted("protobuf", schema="x.proto"), upstream.url, "t")
    assert error.operation == "up.get"
    assert "protobuf" in str(error)


def test_malformed_xml_names_the_operation(upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/data", body=b"<users><user>", content_type="application/xml")
    error = failure(DecodeError, formatted("xml"), upstream.url, "t")
    assert (error.operation, error.format) == ("up.get", "xml")
