"""Property-based fuzzing of the REST adapter from its own ``/openapi.json`` (schemathesis).

The seed capability through ``naftiko serve``, in front of the Label Studio stand-in. Every
operation of the published description gets generated requests (valid and invalid); the runtime
must never answer 500 (its own failure: an upstream's failure is a 502/504 naming it), and the
server log must hold no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.mcp.conftest import Standin
from tests.mcp.engine import CONSUMED, SEED, NaftikoServe

from .conftest import SETTINGS, report


@pytest.fixture(scope="module")
def seed() -> Iterator[NaftikoServe]:
    standin = Standin()
    with standin.server, NaftikoServe(SEED, base_uris={CONSUMED: standin.url}, wait_port=None) as serve:
        yield serve


def test_rest_adapter_never_fails_on_what_its_description_allows(seed: NaftikoServe) -> None:
    base = seed.url(0, "")
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    counts = {"cases": 0, "500": 0, "5xx": 0, "operations": 0}
    failures: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for result in schema.get_all_operations():
            operation = result.ok()
            counts["operations"] += 1

            @settings(
                max_examples=SETTINGS.schemathesis_examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def probe(case: schemathesis.Case) -> None:
                kwargs = case.as_transport_kwargs(base_url=base)
                response = client.request(
                    kwargs["method"],
                    kwargs["url"],
                    params=kwargs.get("params"),
                    headers=kwargs.get("headers"),
                    cookies=kwargs.get("cookies") or None,
                    json=kwargs.get("json"),
                    content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes | str) else None,
                )
                counts["cases"] += 1
                if response.status_code >= 500:
                    counts["5xx"] += 1
                if response.status_code == 500:
                    counts["500"] += 1
                    failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

            probe()
    tracebacks = seed.log().count("Traceback")
    report(
        "fuzzing",
        target=f"REST from its /openapi.json ({counts['operations']} operations, schemathesis)",
        cases=counts["cases"],
        runtime_5xx=counts["500"],
        tracebacks=tracebacks,
    )
    assert failures == []
    assert tracebacks == 0, seed.log()[-3000:]


def test_edge_values_the_generators_rarely_reach_are_argument_errors(seed: NaftikoServe) -> None:
    # Found by hand while building this suite (issue #12): 5,000 digits for an integer input went
    # past Python's 4,300-digit conversion limit and answered 500 / "internal error".
    digits = "9" * 5000
    rest = httpx.get(seed.url(0, f"/v1/api/prompts/{digits}/versions/1/inference-runs"), timeout=30)
    assert rest.status_code == 400
    assert rest.json()["errors"][0]["name"] == "prompt-id"
    assert "more than 4000 digits" in rest.json()["errors"][0]["reason"]
    for arguments, named in (
        ({"prompt_id": digits, "version_id": 1}, "prompt_id"),
        ({"prompt_id": 1, "version_id": "\ud800"}, "version_id"),  # a lone surrogate
        ({"prompt_id": "1e999", "version_id": 1}, "prompt_id"),
    ):
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get-inference-run-info", "arguments": arguments},
        }
        sent = json.dumps(body).encode()  # ASCII escapes: a lone surrogate is valid JSON text
        headers = {"accept": "application/json", "content-type": "application/json"}
        answer = httpx.post(seed.url(1, "/mcp"), content=sent, headers=headers).json()
        if "error" in answer:  # text that is not Unicode never reaches the tool: invalid params
            assert answer["error"]["code"] == -32602 and named in answer["error"]["message"], answer
            continue
        text = answer["result"]["content"][0]["text"]
        assert answer["result"]["isError"] is True and text.startswith("Invalid arguments"), text
        assert named in text
    assert "Traceback" not in seed.log()
