"""decode(): every outputRawFormat, the reference engine's expectations, and every way a body can be bad."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from naftiko_runtime.consumes.decoding import SUPPORTED_FORMATS, UNSUPPORTED_FORMATS, decode
from naftiko_runtime.errors import DecodeError

DATA = Path(__file__).parent / "data"
FORMATS_DIR = (
    Path(__file__).resolve().parents[3]
    / "shared/conformance/naftiko-framework-1.0.0-alpha2/src/test/resources/formats"
)


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def run(body: bytes | str, fmt: str | None, **options: Any) -> Any:
    if isinstance(body, str):
        body = body.encode()
    return decode(body, fmt, operation="upstream.get-things", **options)


def refused(body: bytes | str, fmt: str | None, **options: Any) -> DecodeError:
    """The DecodeError decode raises; it must name the operation and carry no parser traceback."""
    with pytest.raises(DecodeError) as caught:
        run(body, fmt, **options)
    error = caught.value
    assert error.operation == "upstream.get-things"
    assert "upstream.get-things" in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None
    return error


# --- format names -------------------------------------------------------------------------------


def test_supported_formats_are_the_spec_formats_this_runtime_decodes() -> None:
    assert {
        "json",
        "xml",
        "yaml",
        "csv",
        "tsv",
        "psv",
        "html",
        "markdown",
        "text",
        "avro",
    } == SUPPORTED_FORMATS
    assert "protobuf" not in SUPPORTED_FORMATS
    assert set(UNSUPPORTED_FORMATS) == {"protobuf"}


@pytest.mark.parametrize("fmt", ["JSON", "Json", " json "])
def test_format_names_are_case_insensitive(fmt: str) -> None:
    assert run(b'{"a": 1}', fmt) == {"a": 1}
    assert run(
        "<r><a>1</a></r>", fmt.replace("json", "xml").replace("JSON", "XML").replace("Json", "Xml")
    ) == {"a": "1"}


def test_unknown_format_lists_the_supported_ones() -> None:
    error = refused(b"a=1", "INI")
    assert error.format == "INI"
    assert "unknown outputRawFormat 'INI'" in error.reason
    for name in SUPPORTED_FORMATS:
        assert name in error.reason


def test_protobuf_is_refused_with_its_reason() -> None:
    error = refused(b"\x0a\x01x", "protobuf", output_schema="schemas/records.proto")
    assert error.format == "protobuf"
    assert "protobuf decoding is not supported by this runtime" in error.reason


@pytest.mark.skipif(not FORMATS_DIR.is_dir(), reason="shared conformance fixtures not present")
def test_every_format_of_the_reference_capabilities_is_known() -> None:
    declared = {}
    for path in sorted(FORMATS_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for consumed in document["capability"]["consumes"]:
            for resource in consumed["resources"]:
                for operation in resource["operations"]:
                    if "outputRawFormat" in operation:
                        declared[operation["outputRawFormat"].lower()] = operation.get("outputSchema")
    assert set(declared) == {"avro", "csv", "html", "markdown", "protobuf", "xml", "yaml"}
    assert set(declared) <= SUPPORTED_FORMATS | set(UNSUPPORTED_FORMATS)
    assert declared["html"] == "table.products"


# --- json ---------------------------------------------------------------------------------------


def test_json_is_the_default_format() -> None:
    assert run(b'{"a": 1, "b": [true, null, 1.5, "\xc3\xa9"]}', None) == {"a": 1, "b": [True, None, 1.5, "é"]}
    assert run(b"[1, 2]", "json") == [1, 2]
    assert run(b'"x"', None) == "x"


@pytest.mark.parametrize("body", [b"", b"  \r\n\t"])
def test_empty_json_body_is_none(body: bytes) -> None:
    assert run(body, None) is None
    assert run(body, "json") is None


def test_json_with_a_byte_order_mark_is_accepted() -> None:
    assert run(b'\xef\xbb\xbf{"a": 1}', "json") == {"a": 1}


def test_invalid_json_names_the_position() -> None:
    error = refused(b'{"a": 1,\n "b": }', "json")
    assert error.format == "json"
    assert "line 2, column 7" in error.reason
    assert "byte 15" in error.reason


def test_invalid_json_hints_at_an_html_answer() -> None:
    error = refused(b"<html><body>Service unavailable</body></html>", None, content_type="text/html")
    assert "looks like XML or HTML" in error.reason
    assert "'text/html'" in error.reason


def test_truncated_json() -> None:
    assert "line 1, column 7" in refused(b'{"a": ', None).reason


# --- xml ----------------------------------------------------------------------------------------


def test_xml_reference_users_are_an_array_of_string_records() -> None:
    users = run(fixture("sample-users.xml"), "xml")
    assert list(users) == ["user"]
    assert isinstance(users["user"], list)
    assert len(users["user"]) == 3
    assert users["user"][0] == {"id": "1", "name": "Alice Smith", "email": "alice@example.com"}
    assert users["user"][1]["name"] == "Bob Johnson"


def test_xml_root_is_dropped() -> None:
    assert run("<response><status>ok</status></response>", "xml") == {"status": "ok"}
    assert run("<count>42</count>", "xml") == "42"
    assert run("<users/>", "xml") == {}


def test_xml_single_element_stays_an_object_when_nothing_repeats() -> None:
    assert run("<vessels><vessel><name>A</name></vessel></vessels>", "xml") == {"vessel": {"name": "A"}}


def test_xml_repeated_elements_are_arrays_at_every_occurrence_of_their_path() -> None:
    body = """
    <fleets>
      <fleet><vessel><name>A</name></vessel><vessel><name>B</name></vessel></fleet>
      <fleet><vessel><name>C</name></vessel></fleet>
      <harbour><vessel><name>D</name></vessel></harbour>
    </fleets>
    """
    result = run(body, "xml")
    assert result["fleet"] == [
        {"vessel": [{"name": "A"}, {"name": "B"}]},
        {"vessel": [{"name": "C"}]},  # one member, still a list: the path fleet/vessel repeats
    ]
    assert result["harbour"] == {"vessel": {"name": "D"}}  # another path: not affected


def test_xml_single_and_double_answers_shape_the_same_way() -> None:
    one = run("<r><items><item>1</item></items><items><item>2</item><item>3</item></items></r>", "xml")
    assert one == {"items": [{"item": ["1"]}, {"item": ["2", "3"]}]}


def test_xml_attributes_text_and_mixed_content() -> None:
    body = """
    <order id="7" status="open">
      <price currency="EUR"> 9.50 </price>
      <note>Leave at <b>door</b> please</note>
      <empty/>
      <flag on="yes"/>
      <raw><![CDATA[a < b]]></raw>
      <!-- a comment -->
      <?pi ignored?>
    </order>
    """
    assert run(body, "xml") == {
        "id": "7",
        "status": "open",
        "price": {"currency": "EUR", "#text": "9.50"},
        "note": {"b": "door", "#text": "Leave at  please"},
        "empty": "",
        "flag": {"on": "yes"},
        "raw": "a < b",
    }


def test_xml_leaf_text_is_kept_verbatim() -> None:
    assert run("<r><name> Alice </name></r>", "xml") == {"name": " Alice "}


def test_xml_attribute_colliding_with_an_element_is_prefixed() -> None:
    assert run('<r><item id="a"><id>b</id></item></r>', "xml") == {"item": {"@id": "a", "id": "b"}}


def test_xml_namespaces_are_stripped_to_local_names() -> None:
    body = """
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:m">
      <soap:Body><m:Price m:currency="USD">10</m:Price><m:Price>12</m:Price></soap:Body>
    </soap:Envelope>
    """
    assert run(body, "xml") == {"Body": {"Price": [{"currency": "USD", "#text": "10"}, "12"]}}


def test_xml_encoding_comes_from_the_declaration_or_the_content_type() -> None:
    declared = '<?xml version="1.0" encoding="ISO-8859-1"?><r><city>Zürich</city></r>'.encode("latin-1")
    assert run(declared, "xml") == {"city": "Zürich"}
    undeclared = "<r><city>Zürich</city></r>".encode("latin-1")
    assert run(undeclared, "xml", content_type="application/xml; charset=ISO-8859-1") == {"city": "Zürich"}


def test_empty_xml_body_is_none() -> None:
    assert run(b"", "xml") is None
    assert run(b"\n ", "xml") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<r><a>1</r>", "mismatched tag at line 1, column 10"),
        ("<r>\n<a>", "no element found at line 2, column 4"),
        ("not xml", "syntax error at line 1, column 1"),
        ("<r></r><r></r>", "junk after document element"),
    ],
)
def test_malformed_xml_names_the_place(body: str, expected: str) -> None:
    error = refused(body, "xml")
    assert error.format == "xml"
    assert expected in error.reason


def test_xml_billion_laughs_is_refused() -> None:
    error = refused(fixture("billion-laughs.xml"), "xml")
    assert "declares an entity" in error.reason
    assert "billion laughs" in error.reason


def test_xml_external_entities_are_refused() -> None:
    body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    error = refused(body, "xml")
    assert "entity" in error.reason


def test_xml_plain_doctype_is_accepted() -> None:
    assert run("<!DOCTYPE note><note><to>Tove</to></note>", "xml") == {"to": "Tove"}


def test_xml_too_deep_is_refused() -> None:
    body = "<a>" * 300 + "x" + "</a>" * 300
    assert "nested deeper than 256 levels" in refused(body, "xml").reason


# --- yaml ---------------------------------------------------------------------------------------


def test_yaml_keeps_types() -> None:
    users = run(fixture("sample-users.yaml"), "yaml")["users"]
    assert users[0] == {
        "id": 1,
        "name": "Alice Smith",
        "email": "alice@example.com",
        "active": True,
        "score": 9.5,
        "manager": None,
        "joined": "2026-02-21",  # a timestamp stays the text it was written as
    }
    assert users[1]["active"] is False
    assert users[1]["score"] == 7


def test_yaml_values_json_cannot_hold_are_made_json_like() -> None:
    body = """
    1: one
    true: yes-key
    ~: null-key
    2.5: float-key
    at: 2026-02-21T10:00:00Z
    blob: !!binary |
      aGVs
      bG8=
    tags: !!set {a, b}
    ordered: !!omap [{x: 1}, {y: 2}]
    pairs: !!pairs [{k: 1}, {k: 2}]
    """
    assert run(body, "yaml") == {
        "1": "one",
        "true": "yes-key",
        "null": "null-key",
        "2.5": "float-key",
        "at": "2026-02-21T10:00:00Z",
        "blob": "aGVsbG8=",
        "tags": ["a", "b"],
        "ordered": {"x": 1, "y": 2},
        "pairs": [["k", 1], ["k", 2]],
    }


def test_yaml_anchors_and_merge_keys_work() -> None:
    body = "base: &b {x: 1, y: 2}\nuse: *b\nmerged: {<<: *b, y: 3}\nlist: [*b, *b]\n"
    assert run(body, "yaml") == {
        "base": {"x": 1, "y": 2},
        "use": {"x": 1, "y": 2},
        "merged": {"x": 1, "y": 3},
        "list": [{"x": 1, "y": 2}, {"x": 1, "y": 2}],
    }


def test_empty_yaml_is_none() -> None:
    assert run(b"", "yaml") is None
    assert run(b"# only a comment\n", "yaml") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a: [1, 2\nb: 3\n", "line 2, column 2"),
        ("a: 1\n b: 2\n", "mapping values are not allowed in this context at line 2, column 3"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("x: !!python/object:os.system {}\n", "could not determine a constructor"),
        ("? [a, b]\n: 1\n", "unhashable key"),
    ],
)
def test_malformed_yaml_names_the_problem(body: str, expected: str) -> None:
    error = refused(body, "yaml")
    assert error.format == "yaml"
    assert expected in error.reason


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    error = refused("\n".join(lines), "yaml")
    assert "alias bomb" in error.reason


def test_yaml_recursive_alias_is_refused() -> None:
    assert "recursive" in refused("a: &a [1, *a]\n", "yaml").reason


def test_yaml_invalid_utf8_is_refused() -> None:
    assert "not valid utf-8: byte 0xff at offset 3" in refused(b"a: \xff\n", "yaml").reason


# --- csv / tsv / psv ----------------------------------------------------------------------------

USERS = [
    {"id": "1", "name": "Alice Smith", "email": "alice@example.com"},
    {"id": "2", "name": "Bob Johnson", "email": "bob@example.com"},
]


def test_csv_reference_users_values_are_strings() -> None:
    rows = run(fixture("sample-users.csv"), "csv")
    assert rows[:2] == USERS
    assert rows[2]["name"] == "Carol White"
    assert rows[0]["id"] == "1"


@pytest.mark.parametrize(("fmt", "name"), [("tsv", "sample-users.tsv"), ("psv", "sample-users.psv")])
def test_tsv_and_psv(fmt: str, name: str) -> None:
    assert run(fixture(name), fmt) == USERS


def test_csv_quoting_bom_crlf_and_blank_lines() -> None:
    body = (
        "\ufeffid, name ,note\r\n"
        '1,"Smith, Alice","said ""hi"""\r\n'
        "\r\n"
        '2,Bob,"two\r\nlines"\r\n'
        "3,Carol\r\n"
        "4,Dan,x,\r\n"
        "\r\n\r\n"
    ).encode()
    assert run(body, "csv") == [
        {"id": "1", "name": "Smith, Alice", "note": 'said "hi"'},
        {"id": "2", "name": "Bob", "note": "two\r\nlines"},
        {"id": "3", "name": "Carol", "note": ""},
        {"id": "4", "name": "Dan", "note": "x"},
    ]


def test_psv_with_a_quoted_pipe() -> None:
    assert run('a|b\n"x|y"|2\n', "psv") == [{"a": "x|y", "b": "2"}]


def test_delimited_empty_bodies() -> None:
    assert run(b"", "csv") == []
    assert run(b"id,name\n", "csv") == []
    assert run(b"\n\n", "tsv") == []


def test_csv_charset_from_content_type() -> None:
    body = "city\nZürich\n".encode("latin-1")
    assert run(body, "csv", content_type="text/csv; charset=iso-8859-1") == [{"city": "Zürich"}]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'id,name\n1,"Alice\n', "line 2: unexpected end of data"),
        (b'id,name\n1,"Al"ice\n', "line 2: ',' expected after '\"'"),
        (b"id,name\n1,Alice,extra\n", "line 2: the row has 3 fields but the header has 2"),
        (b"id,name\n1,\xe9\n", "not valid utf-8: byte 0xe9 at offset 10"),
    ],
)
def test_malformed_csv_names_the_line(body: bytes, expected: str) -> None:
    error = refused(body, "csv")
    assert error.format == "csv"
    assert expected in error.reason


# --- html ---------------------------------------------------------------------------------------


def test_html_reference_products_with_selector() -> None:
    result = run(fixture("sample-products.html"), "html", output_schema="table.products")
    assert len(result["tables"]) == 1
    products = result["tables"][0]
    assert len(products) == 2
    assert products[0]["Name"] == "Widget"
    assert products[1]["Price"] == "$99"
    assert products[1] == {"Name": "Gadget Pro", "Price": "$99", "Stock": "0"}


def test_html_without_selector_takes_every_table() -> None:
    result = run(fixture("sample-products.html"), "html")
    assert result["tables"][0] == [{"Link": "Home"}]
    assert result["tables"][1][0]["Name"] == "Widget"


def test_html_selector_of_a_container_takes_its_tables() -> None:
    result = run(fixture("sample-products.html"), "html", output_schema="#catalogue")
    assert [row["Name"] for row in result["tables"][0]] == ["Widget", "Gadget Pro"]
    assert run(fixture("sample-products.html"), "html", output_schema="table.missing") == {"tables": []}


def test_html_invalid_selector_is_refused() -> None:
    error = refused(fixture("sample-products.html"), "html", output_schema="table[")
    assert "outputSchema 'table[' is not a valid CSS selector" in error.reason


def test_html_header_sources() -> None:
    thead = "<table><thead><tr><th>A</th><th>B</th></tr><tr><th>a</th><th>b</th></tr></thead>"
    thead += "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    first_row_th = "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"
    first_row_td = "<table><tr><td>A</td><td>B</td></tr><tr><td>1</td><td>2</td></tr></table>"
    for body in (thead, first_row_th, first_row_td):
        assert run(body, "html") == {"tables": [[{"A": "1", "B": "2"}]]}, body


def test_html_rows_cells_and_text() -> None:
    body = """
    <table>
      <tr><th>Name</th><th>Note</th><th>Qty</th></tr>
      <tr><th>Section</th><th>header</th></tr>
      <tr><th>Row head</th><td>first<br>line &amp; more</td><td> 3 </td></tr>
      <tr><td>Short</td></tr>
      <tr><td>Long</td><td>x</td><td>1</td><td>dropped</td></tr>
      <tr><td><p>para</p><p>two</p></td><td><script>ignored()</script>kept</td><td></td></tr>
    </table>
    """
    assert run(body, "html")["tables"][0] == [
        {"Name": "Row head", "Note": "first line & more", "Qty": "3"},
        {"Name": "Short", "Note": "", "Qty": ""},
        {"Name": "Long", "Note": "x", "Qty": "1"},
        {"Name": "para two", "Note": "kept", "Qty": ""},
    ]


def test_html_unclosed_cells_and_rows_are_repaired() -> None:
    body = "<table class=t><tr><th>Name<th>Price<tr><td>Widget<td>$10<tr><td>Gadget<td>$99</table><p>after"
    assert run(body, "html", output_schema="table.t") == {
        "tables": [[{"Name": "Widget", "Price": "$10"}, {"Name": "Gadget", "Price": "$99"}]]
    }


def test_html_nested_tables_are_separate() -> None:
    body = """
    <table id="outer">
      <tr><th>Key</th><th>Value</th></tr>
      <tr><td>k</td><td><table><tr><th>In</th></tr><tr><td>i</td></tr></table></td></tr>
    </table>
    """
    outer, inner = run(body, "html")["tables"]
    assert outer == [{"Key": "k", "Value": "In i"}]
    assert inner == [{"In": "i"}]


def test_html_tables_without_headers_are_left_out() -> None:
    assert run("<table><tr><td></td></tr><tr><td>x</td></tr></table><table></table>", "html") == {
        "tables": []
    }
    assert run(b"", "html") == {"tables": []}


def test_html_charset_and_bad_bytes() -> None:
    body = "<table><tr><th>City</th></tr><tr><td>Zürich</td></tr></table>".encode("latin-1")
    assert run(body, "html", content_type="text/html; charset=latin-1")["tables"][0] == [{"City": "Zürich"}]
    assert run(body, "html")["tables"][0] == [{"City": "Z\ufffdrich"}]


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_reference_readme() -> None:
    result = run(fixture("sample-readme.md"), "markdown")
    assert result["frontMatter"] == {
        "title": "Product Release Notes",
        "version": 2,
        "tags": ["release", "ga"],
    }
    assert len(result["tables"]) == 1
    assert result["tables"][0] == [
        {"Feature": "Orders API", "Status": "GA"},
        {"Feature": "Webhooks | events", "Status": "Beta"},
    ]
    assert result["sections"] == [
        {
            "heading": "Overview",
            "level": 1,
            "content": "This release makes the API generally available. It adds orders and webhooks.",
        },
        {"heading": "Results", "level": 2, "content": "Latency down 30%\nErrors down 50%"},
        {"heading": "Known issues", "level": 2, "content": "timeouts on bulk export"},
        {"heading": "Workarounds", "level": 3, "content": "Retry with a smaller page."},
    ]


def test_markdown_section_filter_with_hashes_fixes_the_level() -> None:
    body = fixture("sample-readme.md")
    assert [s["heading"] for s in run(body, "markdown", output_schema="## Results")["sections"]] == [
        "Results"
    ]
    assert [s["heading"] for s in run(body, "markdown", output_schema="## ")["sections"]] == [
        "Results",
        "Known issues",
    ]
    assert [s["heading"] for s in run(body, "markdown", output_schema="### ")["sections"]] == ["Workarounds"]
    assert run(body, "markdown", output_schema="## Overview")["sections"] == []


def test_markdown_section_filter_without_hashes_matches_the_text() -> None:
    body = fixture("sample-readme.md")
    assert [s["heading"] for s in run(body, "markdown", output_schema="Kno")["sections"]] == ["Known issues"]
    # the filter scopes sections only
    assert run(body, "markdown", output_schema="Kno")["tables"][0][0]["Status"] == "GA"


def test_markdown_without_front_matter_and_setext_headings() -> None:
    body = "Intro before any heading\n\nTitle\n=====\n\nText  \nwith break\n\n> quoted\n> line\n"
    assert run(body, "markdown") == {
        "frontMatter": {},
        "tables": [],
        "sections": [{"heading": "Title", "level": 1, "content": "Text\nwith break\nquoted line"}],
    }


def test_markdown_crlf_and_front_matter_variants() -> None:
    body = b"---\r\ntitle: Windows\r\n...\r\n# Head\r\n\r\nbody\r\n"
    result = run(body, "markdown")
    assert result["frontMatter"] == {"title": "Windows"}
    assert result["sections"] == [{"heading": "Head", "level": 1, "content": "body"}]
    assert run("---\n- a list\n---\n# H\n", "markdown")["frontMatter"] == {}
    assert run("---\n---\n# H\n", "markdown")["frontMatter"] == {}


def test_markdown_table_cells_and_padding() -> None:
    body = "| A | B | C |\n|---|:-:|--:|\n| `x\\|y` | **bold** [link](http://e) |\n| a | b | c | d |\n"
    assert run(body, "markdown")["tables"] == [
        [{"A": "x|y", "B": "bold link", "C": ""}, {"A": "a", "B": "b", "C": "c"}]
    ]


def test_markdown_invalid_front_matter_is_refused() -> None:
    error = refused("---\ntitle: [unclosed\n---\n# H\n", "markdown")
    assert error.format == "markdown"
    assert "front matter is not valid YAML" in error.reason


def test_empty_markdown() -> None:
    assert run(b"", "markdown") == {"frontMatter": {}, "tables": [], "sections": []}


# --- text ---------------------------------------------------------------------------------------


def test_text() -> None:
    assert run("héllo\n".encode(), "text") == "héllo\n"
    assert run("héllo".encode("latin-1"), "text", content_type='text/plain; charset="ISO-8859-1"') == "héllo"
    assert run(b"caf\xe9", "text") == "caf\ufffd"
    assert run(b"abc", "text", content_type="text/plain; charset=no-such-charset") == "abc"
    assert run(b"\xef\xbb\xbfabc", "TEXT") == "abc"
    assert run(b"", "text") == ""


# --- avro ---------------------------------------------------------------------------------------


def _avro_record(**overrides: Any) -> bytes:
    fastavro = pytest.importorskip("fastavro")
    schema = fastavro.schema.load_schema(str(DATA / "sample-record.avsc"))
    record = {
        "records": [
            {"id": "1", "title": "First", "description": "one"},
            {"id": "2", "title": "Second", "description": None},
        ],
        "checksum": b"\x00\xff",
        "created": datetime(2026, 2, 21, 12, 30, tzinfo=UTC),
        "amount": Decimal("12.50"),
        **overrides,
    }
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, record)
    return buffer.getvalue()


def test_avro_decodes_one_record() -> None:
    result = run(_avro_record(), "avro", output_schema="sample-record.avsc", schema_dir=DATA)
    assert result == {
        "records": [
            {"id": "1", "title": "First", "description": "one"},
            {"id": "2", "title": "Second", "description": None},
        ],
        "checksum": "AP8=",
        "created": "2026-02-21T12:30:00+00:00",
        "amount": "12.50",
    }


def test_avro_schema_path_may_be_absolute() -> None:
    result = run(_avro_record(), "AVRO", output_schema=str(DATA / "sample-record.avsc"))
    assert result["records"][0]["title"] == "First"


def test_avro_needs_its_schema() -> None:
    assert "avro needs outputSchema" in refused(b"\x00", "avro").reason
    error = refused(b"\x00", "avro", output_schema="missing.avsc", schema_dir=DATA)
    assert "'missing.avsc' was not found" in error.reason


def test_avro_invalid_schema_file(tmp_path: Path) -> None:
    (tmp_path / "bad.avsc").write_text(
        '{"type": "record", "name": "R", "fields": [{"name": "x", "type": "nope"}]}'
    )
    error = refused(b"\x00", "avro", output_schema="bad.avsc", schema_dir=tmp_path)
    assert "'bad.avsc' is not a valid schema" in error.reason


def test_avro_truncated_and_trailing_data_are_refused() -> None:
    body = _avro_record()
    assert (
        "ends before a whole record"
        in refused(body[:5], "avro", output_schema="sample-record.avsc", schema_dir=DATA).reason
    )
    error = refused(body + b"\x00\x00", "avro", output_schema="sample-record.avsc", schema_dir=DATA)
    assert "2 byte(s) remain after the record" in error.reason
