"""The URL of a consumed operation: the document's own path text is sent as valid request-target text.

Found by the corpus run (``stripe/invoice-delete.yaml``: ``path: /v1/Invoice Items/{invoiceitem}``),
whose raw space made every request an invalid HTTP request line.
"""

from __future__ import annotations

import pytest

from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.spec import loads

DOCUMENT = """
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: http://upstream.test/base
    resources:
    - name: items
      path: {path}
      operations:
      - name: op
        method: GET
        inputParameters:
        - name: id
          in: path
  exposes: []
"""


def url(path: str, **values: object) -> str:
    runtime = Runtime.build(loads(DOCUMENT.format(path=path)), RuntimeOptions(environ={}))
    request, _ = runtime.calls["api.op"].prepare(values)
    return request.url


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("'/v1/Invoice Items/{id}'", "http://upstream.test/base/v1/Invoice%20Items/7"),
        ("/v1/caf\u00e9/{{id}}", "http://upstream.test/base/v1/caf%C3%A9/7"),
        ("/v1/a%20b/{id}", "http://upstream.test/base/v1/a%20b/7"),  # already encoded: kept
        ("/v1/items:search/{id}", "http://upstream.test/base/v1/items:search/7"),  # URL syntax kept
        ("/v1/{id}#GetItem", "http://upstream.test/base/v1/7#GetItem"),  # a fragment stays a fragment
    ],
)
def test_literal_path_text_is_percent_encoded_only_where_it_must_be(path: str, expected: str) -> None:
    assert url(path, id=7) == expected


def test_values_are_still_encoded_per_segment() -> None:
    assert (
        url("'/v1/Invoice Items/{id}'", id="a b/c")
        == "http://upstream.test/base/v1/Invoice%20Items/a%20b%2Fc"
    )
