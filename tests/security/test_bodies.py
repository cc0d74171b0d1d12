"""#15 item 6: request bodies are built as data and serialised by their content type. A value never
becomes markup: ``<`` or ``&`` in an argument cannot make an XML body malformed or add an element,
an ``&`` cannot add a form field; a multipart ``filename`` template is rendered."""

from __future__ import annotations

import email.parser
import email.policy
from pathlib import Path
from xml.etree import ElementTree

import httpx

from tests.support.upstream import RecordingUpstream

from .conftest import run_naftiko, serve, write

BODIES = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys: {{SOAP_USER: SOAP_USER}}
capability:
  consumes:
    - type: http
      namespace: soap
      baseUri: {upstream}
      resources:
        - name: issues
          path: /issues
          operations:
            - name: create-issue
              method: POST
              body:
                type: xml
                data: |
                  <?xml version="1.0" encoding="UTF-8"?>
                  <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
                    <soap:Body>
                      <issue user="{{{{SOAP_USER}}}}" priority="{{{{priority}}}}">
                        <!-- filled per request -->
                        <title>{{{{title}}}}</title>
                        <notes><![CDATA[{{{{notes}}}}]]></notes>
                      </issue>
                    </soap:Body>
                  </soap:Envelope>
            - name: search
              method: POST
              body: {{type: formUrlEncoded, data: "q={{{{q}}}}&scope=all"}}
            - name: upload
              method: POST
              body:
                type: multipartForm
                data:
                  - name: file
                    value: "{{{{content}}}}"
                    filename: "{{{{filename}}}}"
                    contentType: text/csv
                  - name: comment
                    value: "{{{{comment}}}}"
  exposes:
    - type: rest
      namespace: bodies
      port: 8080
      resources:
        - path: /issues
          operations:
            - method: POST
              name: create-issue
              inputParameters:
                - {{name: title, in: body}}
                - {{name: priority, in: body}}
                - {{name: notes, in: body}}
              call: soap.create-issue
              with: {{title: bodies.title, priority: bodies.priority, notes: bodies.notes}}
"""
INJECTION = "</title><admin>yes</admin><title>"


def test_xml_body_values_are_character_data_never_markup(tmp_path: Path, upstream: RecordingUpstream) -> None:
    capability = write(tmp_path, BODIES.format(upstream=upstream.url))
    arguments = {"title": f"a < b & {INJECTION}", "priority": 'high" evil="1', "notes": "x ]]> <y/>"}
    with serve(capability, env={"SOAP_USER": "ana & bob"}) as served:
        answer = httpx.post(served.url("bodies") + "/issues", json=arguments, timeout=20)
        assert answer.status_code == 200, answer.text
    request = upstream.last
    assert request.headers["content-type"] == "application/xml"
    assert request.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(request.body)  # well-formed, whatever the values held
    issue = root.find(".//issue")
    assert issue is not None and root.find(".//admin") is None
    assert issue.findtext("title") == arguments["title"]
    assert issue.get("priority") == arguments["priority"] and issue.get("evil") is None
    assert issue.get("user") == "ana & bob"
    assert issue.findtext("notes") == arguments["notes"]
    assert "soap:Envelope" in request.text and "<!-- filled per request -->" in request.text


def test_an_xml_body_that_is_not_xml_is_a_validate_error(tmp_path: Path, upstream: RecordingUpstream) -> None:
    text = BODIES.format(upstream=upstream.url).replace(
        "<title>{{title}}</title>", "<title>{{title}}</titel>"
    )
    done = run_naftiko("validate", str(write(tmp_path, text)))
    assert done.returncode == 1
    assert "operations[0].body.data: the XML body is not well-formed XML: mismatched tag" in done.stdout


def test_a_form_value_cannot_add_a_field(tmp_path: Path, upstream: RecordingUpstream) -> None:
    capability = write(tmp_path, BODIES.format(upstream=upstream.url))
    done = run_naftiko(
        "call", str(capability), "soap.search", "q=a&scope=mine&admin=1", env={"SOAP_USER": "u"}
    )
    assert done.returncode == 0, done.stderr
    assert upstream.last.form() == {"q": ["a&scope=mine&admin=1"], "scope": ["all"]}


def test_a_multipart_filename_template_is_rendered(tmp_path: Path, upstream: RecordingUpstream) -> None:
    capability = write(tmp_path, BODIES.format(upstream=upstream.url))
    arguments = ["content=id,name\n1,Ever Given\n", 'filename=ships "2026".csv']
    done = run_naftiko("call", str(capability), "soap.upload", *arguments, env={"SOAP_USER": "u"})
    assert done.returncode == 0, done.stderr
    request = upstream.last
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    [part] = list(message.iter_parts())  # `comment` was not given: its part is not sent
    assert part.get_filename() == 'ships "2026".csv'
    assert part.get_payload(decode=True) == b"id,name\n1,Ever Given\n"


def test_a_multipart_part_is_sent_when_its_optional_input_is_given(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    capability = write(tmp_path, BODIES.format(upstream=upstream.url))
    arguments = ["content=x", "filename=f.csv", "comment=first upload"]
    done = run_naftiko("call", str(capability), "soap.upload", *arguments, env={"SOAP_USER": "u"})
    assert done.returncode == 0, done.stderr
    request = upstream.last
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert sorted(parts) == ["comment", "file"]
    assert parts["comment"].get_payload(decode=True) == b"first upload"
