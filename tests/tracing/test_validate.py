"""``naftiko validate`` on observability: every key of the schema is implemented, so a document
declaring all of them gets no warning; an endpoint that can only be OTLP/gRPC gets one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .collector import NAFTIKO, write_capability

EVERY_KEY = """      observability:
        enabled: true
        metrics: {local: {enabled: true}}
        traces:
          sampling: 0.5
          propagation: b3
          local: {enabled: true, buffer-size: 50}
        exporters:
          otlp: {endpoint: "ENDPOINT"}
"""


def validate(tmp_path: Path, endpoint: str) -> list[dict]:
    path, _ = write_capability(tmp_path, "http://127.0.0.1:9", observability=False)
    path.write_text(path.read_text().rstrip("\n") + "\n" + EVERY_KEY.replace("ENDPOINT", endpoint))
    result = subprocess.run(
        [NAFTIKO, "validate", str(path), "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["files"][0]["problems"]


def test_every_observability_key_is_implemented(tmp_path: Path) -> None:
    assert validate(tmp_path, "http://collector:4318") == []
    assert validate(tmp_path, "{{OTLP_COLLECTOR}}") == []


def test_an_otlp_grpc_port_or_a_non_http_endpoint_is_named(tmp_path: Path) -> None:
    (grpc,) = validate(tmp_path, "http://collector:4317")
    assert grpc["rule"] == "otlp-endpoint" and grpc["severity"] == "warning"
    assert grpc["path"] == "capability.exposes[2].observability.exporters.otlp.endpoint"
    assert "4318" in grpc["message"] and grpc["line"] > 0
    (scheme,) = validate(tmp_path, "collector:4318")
    assert "not an http(s) URL" in scheme["message"]
