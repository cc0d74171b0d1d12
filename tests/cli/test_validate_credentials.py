"""``naftiko validate`` warns at a credential that would render empty where it runs (#16 item 2).

Every ``authentication`` block, exposed (what an adapter checks) and consumed (what a capability
sends), is rendered with the binds as the validating environment has them: a field that comes out
blank gets a located warning naming each variable with no value or an empty one and where it was
looked for, never a value. Run as the real console script, with the environment under control.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.spec.helpers import line_of

NAFTIKO = str(Path(sys.executable).parent / "naftiko")
RULE = "credential-may-render-empty"
OURS = ("INBOUND_TOKEN", "INBOUND_USER", "API_TOKEN")

CAPABILITY = """
naftiko: 1.0.0-alpha2
binds:
  - namespace: env
    keys: {{INBOUND_TOKEN: INBOUND_TOKEN, INBOUND_USER: INBOUND_USER}}
{extra_binds}capability:
  consumes:
    - type: http
      namespace: api
      baseUri: http://127.0.0.1:9
{consumed_auth}      resources:
        - {{name: ping, path: /ping, operations: [{{name: ping}}]}}
  exposes:
    - type: rest
      namespace: guarded
      port: 8080
      authentication:
{exposed_auth}      resources:
        - {{path: /ping, operations: [{{method: GET, name: ping, call: api.ping}}]}}
"""
BEARER = '        type: bearer\n        token: "{{INBOUND_TOKEN}}"\n'


def write(tmp_path: Path, exposed_auth: str = BEARER, consumed_auth: str = "", extra_binds: str = "") -> Path:
    path = tmp_path / "capability.yaml"
    text = CAPABILITY.format(exposed_auth=exposed_auth, consumed_auth=consumed_auth, extra_binds=extra_binds)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def validate(path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``naftiko validate`` with our variables set only as given (the rest of the environment kept)."""
    environ = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        [NAFTIKO, "validate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
    )


def warnings_of(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if ": warning: " in line]


def test_an_unset_inbound_credential_is_a_located_warning(tmp_path: Path) -> None:
    path = write(tmp_path)
    done = validate(path, INBOUND_USER="ana")
    assert done.returncode == 0, done.stdout
    line = line_of(path.read_text(), 'token: "{{INBOUND_TOKEN}}"')
    assert warnings_of(done) == [
        f"{path}:{line}:16: warning: capability.exposes[0].authentication.token: bearer `token` would render "
        "empty in this environment: {{INBOUND_TOKEN}} has no value: environment variable INBOUND_TOKEN is "
        "not set; `naftiko serve` will not start until it has a value"
    ]
    assert done.stdout.splitlines()[-1] == "1 file: 1 ok, 0 with errors (0 errors, 1 warning)"


def test_an_empty_inbound_credential_is_a_warning_that_the_adapter_will_not_start(tmp_path: Path) -> None:
    done = validate(write(tmp_path), INBOUND_TOKEN="  ", INBOUND_USER="ana")
    (warning,) = warnings_of(done)
    assert warning.endswith(
        "bearer `token` would render empty in this environment: {{INBOUND_TOKEN}} is empty "
        "(environment variable INBOUND_TOKEN); the adapter will refuse to start"
    )


def test_a_credential_with_a_value_is_not_a_warning(tmp_path: Path) -> None:
    done = validate(write(tmp_path), INBOUND_TOKEN="t0ken-5e1a", INBOUND_USER="ana")
    assert done.returncode == 0
    assert warnings_of(done) == []
    assert done.stdout.splitlines()[-1] == "1 file: 1 ok, 0 with errors (0 errors, 0 warnings)"


def test_only_the_blank_field_is_named_and_no_value_is_printed(tmp_path: Path) -> None:
    basic = (
        '        type: basic\n        username: "{{env.INBOUND_USER}}"\n'
        '        password: "{{INBOUND_TOKEN}}"\n'
    )
    done = validate(write(tmp_path, basic), INBOUND_USER="ana-s3cret-user", INBOUND_TOKEN="")
    (warning,) = warnings_of(done)
    assert "capability.exposes[0].authentication.password: basic `password`" in warning
    assert "ana-s3cret-user" not in done.stdout + done.stderr
    json_done = validate(
        write(tmp_path, basic), "--format", "json", INBOUND_USER="ana-s3cret-user", INBOUND_TOKEN=""
    )
    assert "ana-s3cret-user" not in json_done.stdout + json_done.stderr


def test_a_template_with_text_of_its_own_never_renders_empty(tmp_path: Path) -> None:
    apikey = '        type: apikey\n        key: X-Key\n        value: "key-{{INBOUND_TOKEN}}"\n'
    done = validate(write(tmp_path, apikey), INBOUND_TOKEN="", INBOUND_USER="ana")
    assert warnings_of(done) == []


def test_a_consumed_credential_read_from_a_bind_file(tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text("API_TOKEN=\n", encoding="utf-8")
    extra = "  - namespace: vault\n    location: ./secrets.env\n    keys: {API_TOKEN: API_TOKEN}\n"
    consumed = '      authentication: {type: bearer, token: "{{vault.API_TOKEN}}"}\n'
    path = write(tmp_path, consumed_auth=consumed, extra_binds=extra)
    done = validate(path, INBOUND_TOKEN="t0ken", INBOUND_USER="ana")
    (warning,) = warnings_of(done)
    line = line_of(path.read_text(), "{{vault.API_TOKEN}}")
    assert warning.startswith(f"{path}:{line}:")
    assert warning.endswith(
        "capability.consumes[0].authentication.token: bearer `token` would render empty in this "
        "environment: {{vault.API_TOKEN}} is empty (key 'API_TOKEN' in ./secrets.env); calls to 'api' "
        "would send it empty"
    )
    (tmp_path / "secrets.env").write_text("API_TOKEN=abc-123\n", encoding="utf-8")
    assert warnings_of(validate(path, INBOUND_TOKEN="t0ken", INBOUND_USER="ana")) == []


def test_an_oauth2_client_secret_is_located_at_its_own_key(tmp_path: Path) -> None:
    consumed = (
        "      authentication:\n        type: oauth2\n        tokenEndpoint: http://127.0.0.1:9/token\n"
        '        clientId: app\n        clientSecret: "{{INBOUND_USER}}"\n'
    )
    path = write(tmp_path, consumed_auth=consumed)
    done = validate(path, INBOUND_TOKEN="t0ken")
    (warning,) = warnings_of(done)
    assert f":{line_of(path.read_text(), 'clientSecret:')}:" in warning
    assert "capability.consumes[0].authentication.clientSecret: oauth2 `clientSecret`" in warning


def test_json_format_carries_the_warning_located(tmp_path: Path) -> None:
    path = write(tmp_path)
    done = validate(path, "--format", "json", INBOUND_TOKEN="", INBOUND_USER="ana")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    (problem,) = [p for p in report["files"][0]["problems"] if p["rule"] == RULE]
    assert problem == {
        "file": str(path),
        "line": line_of(path.read_text(), 'token: "{{INBOUND_TOKEN}}"'),
        "column": 16,
        "severity": "warning",
        "rule": RULE,
        "path": "capability.exposes[0].authentication.token",
        "message": "bearer `token` would render empty in this environment: {{INBOUND_TOKEN}} is empty "
        "(environment variable INBOUND_TOKEN); the adapter will refuse to start",
    }
    assert report["summary"] == {"files": 1, "ok": 1, "errors": 0, "warnings": 1}
    quiet = json.loads(validate(path, "--format", "json", INBOUND_TOKEN="t", INBOUND_USER="ana").stdout)
    assert [p for p in quiet["files"][0]["problems"] if p["rule"] == RULE] == []


def test_authentication_on_an_mcp_stdio_adapter_is_said_to_be_ignored_and_not_checked(tmp_path: Path) -> None:
    path = tmp_path / "stdio.yaml"
    path.write_text(
        textwrap.dedent(
            """
            naftiko: 1.0.0-alpha2
            binds:
              - namespace: env
                keys: {INBOUND_TOKEN: INBOUND_TOKEN}
            capability:
              consumes:
                - type: http
                  namespace: api
                  baseUri: http://127.0.0.1:9
                  resources:
                    - {name: ping, path: /ping, operations: [{name: ping}]}
              exposes:
                - type: mcp
                  namespace: local
                  transport: stdio
                  authentication: {type: bearer, token: "{{INBOUND_TOKEN}}"}
                  tools:
                    - {name: ping, description: Ping, call: api.ping}
            """
        ).lstrip("\n"),
        encoding="utf-8",
    )
    done = validate(path, INBOUND_TOKEN="")  # empty, and no warning about it: nothing checks it
    (warning,) = warnings_of(done)
    assert (
        "capability.exposes[0].authentication: `authentication` is ignored when `transport` is stdio"
        in warning
    )
