"""Request bodies of every kind, as the upstream received them.

A value inserted into JSON is JSON (a list stays a list, a quote stays escaped); text, XML and
SPARQL bodies are text; form bodies are URL-encoded; multipart bodies are real multipart.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from typing import Any

import pytest

from tests.support.upstream import RecordedRequest, RecordingUpstream

from .helpers import call, doc

NASTY = 'say "hi"\\ \n\t</x> & {{not a tag}} é'


def one_operation(body_yaml: str, params: str = "") -> str:
    """A document with one POST operation ``up.send`` whose ``body`` is ``body_yaml``."""
    body = "\n".join("            " + line for line in body_yaml.strip("\n").splitlines())
    extra = "\n".join("            " + line for line in params.strip("\n").splitlines())
    return doc(
        f"""
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: things
      path: /things
      operations:
      - name: send
        method: POST
        inputParameters:
{extra or "            []"}
        body:
{body}
"""
    ).replace("inputParameters:\n            []", "inputParameters: []")


def sent(
    upstream: RecordingUpstream, body_yaml: str, arguments: dict[str, Any], params: str = ""
) -> RecordedRequest:
    call(one_operation(body_yaml, params), upstream.url, "up.send", arguments)
    return upstream.last


JSON_STRING = """
type: json
data: '{"name": "{{name}}", "crew": {{crew}}, "size": {{size}}, "ok": {{ok}},
  "note": "{{missing}}", "gone": {{gone}}}'
"""


def test_json_string_template_inserts_json(upstream: RecordingUpstream) -> None:
    got = sent(upstream, JSON_STRING, {"name": NASTY, "crew": ["a", 'b"c'], "size": 5, "ok": True})
    assert got.headers["content-type"] == "application/json"
    # `note` and `gone` have no value: members that are one unset value are left out.
    assert got.json == {"name": NASTY, "crew": ["a", 'b"c'], "size": 5, "ok": True}


def test_json_object_template_keeps_types(upstream: RecordingUpstream) -> None:
    body = """
type: json
data:
  name: "{{name}}"
  crew: "{{crew}}"
  count: "{{count}}"
  greeting: "hello {{name}}!"
  fixed: 5
  flag: false
  nested:
    list: ["{{count}}", "static", 1.5]
    absent: "{{nobody}}"
"""
    got = sent(upstream, body, {"name": NASTY, "crew": ["x"], "count": 3})
    assert got.json == {
        "name": NASTY,
        "crew": ["x"],
        "count": 3,
        "greeting": f"hello {NASTY}!",
        "fixed": 5,
        "flag": False,
        "nested": {"list": [3, "static", 1.5]},  # `absent` has no value: left out
    }


def test_json_array_template(upstream: RecordingUpstream) -> None:
    body = """
type: json
data:
- id: "{{id}}"
- "{{id}}"
- plain
"""
    got = sent(upstream, body, {"id": 7})
    assert got.json == [{"id": 7}, 7, "plain"]
    assert got.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("kind", "media"),
    [
        ("text", "text/plain; charset=utf-8"),
        ("sparql", "application/sparql-query"),
    ],
)
def test_text_bodies_are_text(upstream: RecordingUpstream, kind: str, media: str) -> None:
    body = f"""
type: {kind}
data: "<q id='{{{{id}}}}'>{{{{name}}}}</q>"
"""
    got = sent(upstream, body, {"id": 12, "name": "Ever Given"})
    assert got.headers["content-type"] == media
    assert got.text == "<q id='12'>Ever Given</q>"


def test_sparql_block_scalar_is_sent_verbatim(upstream: RecordingUpstream) -> None:
    body = """
type: sparql
data: |
  SELECT ?s WHERE { ?s a <{{type}}> }
  LIMIT {{limit}}
"""
    got = sent(upstream, body, {"type": "http://schema.org/Ship", "limit": 10})
    assert got.text == "SELECT ?s WHERE { ?s a <http://schema.org/Ship> }\nLIMIT 10\n"


def test_form_urlencoded_object(upstream: RecordingUpstream) -> None:
    body = """
type: formUrlEncoded
data:
  username: "{{user}}"
  password: "{{password}}"
  scope: read write
  tags: "{{tags}}"
  missing: "{{nobody}}"
"""
    got = sent(upstream, body, {"user": "ana+bob@x.org", "password": "p&ss=w rd;%", "tags": ["a", "b"]})
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.form() == {
        "username": ["ana+bob@x.org"],
        "password": ["p&ss=w rd;%"],
        "scope": ["read write"],
        "tags": ["a", "b"],
    }
    assert "+" not in got.text.replace("%2B", "")  # a literal + would read back as a space


def test_form_urlencoded_string(upstream: RecordingUpstream) -> None:
    got = sent(upstream, 'type: formUrlEncoded\ndata: "a=1&b={{b}}"', {"b": "two"})
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.text == "a=1&b=two"


def parse_multipart(request: RecordedRequest) -> list[tuple[dict[str, str], bytes, str | None]]:
    """(Content-Disposition params, payload bytes, part Content-Type) for each part."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition")
        params = dict(disposition.params)
        parts.append((params, part.get_payload(decode=True), part.get("Content-Type")))
    return parts


def test_multipart_form_with_a_file_part(upstream: RecordingUpstream) -> None:
    body = """
type: multipartForm
data:
- name: file
  value: "{{content}}"
  filename: report.csv
  contentType: text/csv
- name: description
  value: "{{description}}"
- name: count
  value: 3
"""
    content = "id,name\n1,Ever Given\n"
    got = sent(upstream, body, {"content": content, "description": 'My "upload"'})
    assert got.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(got)
    assert [p[0]["name"] for p in parts] == ["file", "description", "count"]
    file_params, file_bytes, file_type = parts[0]
    assert file_params["filename"] == "report.csv"
    assert file_type == "text/csv"
    assert file_bytes.decode() == content
    assert parts[1][1].decode() == 'My "upload"'
    assert parts[2][1] == b"3"


def test_raw_json_string_body_is_sent_as_written(upstream: RecordingUpstream) -> None:
    body = """|
  {
    "filter": {"property": "Status", "equals": "{{status}}"},
    "size": {{size}}
  }
"""
    got = sent(upstream, body, {"status": 'Act"ive', "size": 3})
    assert got.headers["content-type"] == "application/json"
    assert got.text == '{\n  "filter": {"property": "Status", "equals": "Act\\"ive"},\n  "size": 3\n}\n'
    assert got.json == {"filter": {"property": "Status", "equals": 'Act"ive'}, "size": 3}


def test_raw_string_body_that_is_not_json_is_plain_text(upstream: RecordingUpstream) -> None:
    got = sent(upstream, '"Hello {{name}}, you have {{count}} new messages"', {"name": "Ana", "count": 2})
    assert got.text == "Hello Ana, you have 2 new messages"
    assert got.headers["content-type"] == "text/plain; charset=utf-8"


def test_a_declared_content_type_header_wins(upstream: RecordingUpstream) -> None:
    got = sent(
        upstream,
        '"id={{id}}"',
        {"id": 4},
        params="- {name: Content-Type, in: header, value: application/vnd.custom}",
    )
    assert got.headers["content-type"] == "application/vnd.custom"
    assert got.text == "id=4"


def test_get_without_body_sends_no_body_and_no_content_type(upstream: RecordingUpstream) -> None:
    text = doc(
        """
        capability:
          consumes:
          - type: http
            namespace: up
            baseUri: http://upstream.invalid
            resources:
            - name: things
              path: /things
              operations:
              - name: list
        """
    )
    call(text, upstream.url, "up.list")
    assert upstream.last.body == b""
    assert "content-type" not in upstream.last.headers
    assert upstream.last.headers["accept"] == "application/json"


def test_json_body_from_bind_and_argument(upstream: RecordingUpstream) -> None:
    text = one_operation('type: json\ndata: {token: "{{env.TOKEN}}", who: "{{who}}"}').replace(
        "capability:", "binds:\n- namespace: env\n  keys:\n    TOKEN: TOKEN\ncapability:", 1
    )
    call(text, upstream.url, "up.send", {"who": "me"}, environ={"TOKEN": "t0k3n-value"})
    assert json.loads(upstream.last.body) == {"token": "t0k3n-value", "who": "me"}
