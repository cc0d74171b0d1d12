"""Script steps: run in a fresh, limited process; failures are ScriptErrors naming the step."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.engine.orchestration import ScriptSettings
from naftiko_runtime.engine.scripts import ScriptStepRunner, javascript_available
from naftiko_runtime.errors import ScriptError, SpecError
from naftiko_runtime.spec.models import StepScript
from tests.support.servers import ServerThread

from .capabilities import capability
from .conftest import write

pytestmark = pytest.mark.anyio


def control(enabled: bool = True, extra: str = "") -> str:
    return f"""
    - type: control
      port: 19999
      management:
        scripting:
          enabled: {str(enabled).lower()}
          defaultLocation: "file:///./scripts"
          defaultLanguage: python
          timeout: 1000
          memoryLimitMb: 128
{extra}"""


def script_tool(
    script: str, *, with_: str = "", name: str = "t", extra_steps: str = "", language: str = ""
) -> str:
    with_line = f", with: {with_}" if with_ else ""
    language_line = f", language: {language}" if language else ""
    return f"""
        - name: {name}
          description: script tool
          inputParameters:
            - {{name: imo, type: string, required: false}}
          steps:
            - {{type: call, name: get-ship, call: registry.get-ship, with: {{imo_number: IMO-9321483}}}}
{extra_steps}            - {{type: script, name: summarize, file: {script}{with_line}{language_line}}}
          mappings:
            - {{targetName: summary, value: $.summarize}}
"""


def tools(*entries: str, enabled: bool = True) -> str:
    return "    - type: mcp\n      namespace: tools\n      tools:\n" + "".join(entries) + control(enabled)


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    directory = tmp_path / "scripts"
    write(
        directory,
        "lib/helpers.py",
        """
        def describe(ship, crew_count):
            return f"{ship['vessel_name']} ({ship['flag_code']}) with {crew_count} crew"
        """,
    )
    write(
        directory,
        "summarize.py",
        """
        print("this goes to the log, not to the result")
        result = {
            "text": describe(getShip, len(context["get-ship"]["assignedCrew"])),
            "imo": imo,
            "note": note,
            "names": sorted(k for k in ("getShip", "get-ship", "imo", "note") if k in globals()),
        }
        """,
    )
    write(directory, "loop.py", "while True:\n    pass\n")
    write(directory, "hog.py", "hog = []\nwhile True:\n    hog.append(' ' * 10_000_000)\n")
    write(directory, "silent.py", "x = 1\n")
    write(directory, "broken.py", "def f():\n    raise ValueError('bad ship')\nf()\n")
    write(
        directory,
        "summarize.js",
        "var result = {text: getShip.vessel_name + ' / ' + note,\n"
        "              n: context['get-ship'].assignedCrew.length};",
    )
    write(directory, "loop.js", "while (true) {}")
    return directory


def _with_dependency(script: str) -> str:
    return script_tool(script, with_='{note: "from with"}').replace(
        "file: summarize.py", "file: summarize.py, dependencies: [lib/helpers.py]"
    )


async def test_a_script_sees_inputs_step_results_and_with_values(build, scripts):
    async with build(capability(tools(_with_dependency("summarize.py")))) as runtime:
        result = await runtime.invoke("t", {"imo": "IMO-9321483"})
    assert result.value == {
        "summary": {
            "text": "Northern Star (NO) with 2 crew",
            "imo": "IMO-9321483",
            "note": "from with",
            "names": ["get-ship", "getShip", "imo", "note"],
        }
    }


async def test_a_missing_result_or_an_exception_is_a_script_error(build, scripts):
    async with build(
        capability(tools(script_tool("silent.py"), script_tool("broken.py", name="b")))
    ) as runtime:
        with pytest.raises(ScriptError, match="did not assign `result`") as caught:
            await runtime.invoke("t", {})
        assert caught.value.step == "summarize"
        with pytest.raises(ScriptError, match=r"ValueError: bad ship \(at broken.py:2 <- broken.py:3\)"):
            await runtime.invoke("b", {})


async def test_an_endless_loop_is_stopped_by_the_time_limit(build, scripts):
    async with build(capability(tools(script_tool("loop.py")))) as runtime:
        started = time.monotonic()
        with pytest.raises(ScriptError, match="time limit of 1000 ms") as caught:
            await runtime.invoke("t", {})
        elapsed = time.monotonic() - started
    assert caught.value.step == "summarize"
    assert 0.9 < elapsed < 2.5, elapsed


async def test_the_units_deadline_caps_the_script(build, scripts):
    async with build(capability(tools(script_tool("loop.py"))), unit_deadline_s=0.5) as runtime:
        started = time.monotonic()
        with pytest.raises(ScriptError, match="the unit's deadline"):
            await runtime.invoke("t", {})
        assert time.monotonic() - started < 1.5


async def test_unbounded_allocation_is_stopped_by_the_memory_limit(build, scripts):
    async with build(capability(tools(script_tool("hog.py")))) as runtime:
        started = time.monotonic()
        with pytest.raises(ScriptError, match="memory limit of 128 MB") as caught:
            await runtime.invoke("t", {})
    assert caught.value.step == "summarize"
    assert time.monotonic() - started < 2.5


async def test_the_server_keeps_serving_after_a_runaway_script(build, scripts, yard):
    from naftiko_runtime.exposes.rest import build_rest_app

    exposes = """
    - type: rest
      namespace: api-rest
      resources:
        - path: /runaway
          name: runaway
          operations:
            - name: runaway
              method: GET
              steps:
                - {type: script, name: spin, file: loop.py}
        - path: /ship
          name: ship
          operations:
            - name: ship
              method: GET
              call: registry.get-ship
              with: {imo_number: IMO-9321483}
              outputParameters:
                - {type: string, mapping: $.vessel_name}
""" + control()
    runtime = build(capability(exposes))
    app = build_rest_app(runtime.rest[0], runtime.context)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        failed = client.get("/runaway")
        assert failed.status_code == 500
        assert "spin" in failed.text
        assert client.get("/ship").json() == "Northern Star"


async def test_scripting_disabled_by_the_control_adapter(build, scripts):
    async with build(capability(tools(script_tool("summarize.py"), enabled=False))) as runtime:
        with pytest.raises(ScriptError, match="scripting is disabled") as caught:
            await runtime.invoke("t", {})
    assert caught.value.step == "summarize"


async def test_scripting_disabled_by_the_environment(build, scripts):
    disabled = {"NAFTIKO_SCRIPTING": "false"}
    async with build(capability(tools(_with_dependency("summarize.py"))), environ=disabled) as runtime:
        with pytest.raises(ScriptError, match="scripting is disabled"):
            await runtime.invoke("t", {})


async def test_the_switch_is_read_from_the_environment_handed_to_the_runtime(build, scripts, monkeypatch):
    """An embedder's ``environ=`` is the whole environment: the process's switch does not leak in."""
    monkeypatch.setenv("NAFTIKO_SCRIPTING", "false")
    async with build(capability(tools(_with_dependency("summarize.py"))), environ={}) as runtime:
        assert runtime.scripting.enabled


@pytest.mark.parametrize("file", ["../outside.py", "lib/../../outside.py", "/etc/passwd", "a b.py"])
def test_paths_outside_the_script_directory_are_refused_at_load(tmp_path, file):
    path = write(tmp_path, "cap.yml", capability(tools(script_tool(f'"{file}"'))))
    (tmp_path / "secrets.yaml").write_text("registry-bearer-token: x\n")
    with pytest.raises(SpecError) as caught:
        from naftiko_runtime.spec.loader import load

        load(path)
    [problem] = [p for p in caught.value.errors if p.rule == "script-path"]
    assert problem.line > 0 and "[a-zA-Z0-9._-]+" in problem.message


async def test_a_symlink_out_of_the_script_directory_is_refused_when_run(tmp_path, scripts):
    secret = write(tmp_path, "secret.py", "result = 'leaked'\n")
    os.symlink(secret, scripts / "link.py")
    settings = ScriptSettings(timeout_ms=1000, base_dir=tmp_path)
    runner = ScriptStepRunner(
        StepScript(name="s", file="link.py", location="file:///./scripts"), settings, "u"
    )
    with pytest.raises(ScriptError, match="outside the script directory"):
        await runner.run({}, time_left=5)


def test_a_step_without_location_and_no_default_is_refused_at_load(tmp_path):
    exposes = """
    - type: mcp
      namespace: tools
      tools:
        - name: t
          description: x
          steps:
            - {type: script, name: s, file: a.py}
"""
    path = write(tmp_path, "cap.yml", capability(exposes))
    (tmp_path / "secrets.yaml").write_text("registry-bearer-token: x\n")
    from naftiko_runtime.spec.loader import load

    with pytest.raises(SpecError, match="defaultLocation"):
        load(path)


def test_an_unsupported_language_is_refused_at_load(tmp_path):
    path = write(tmp_path, "cap.yml", capability(tools(script_tool("a.groovy", language="groovy"))))
    (tmp_path / "secrets.yaml").write_text("registry-bearer-token: x\n")
    from naftiko_runtime.spec.loader import load

    with pytest.raises(SpecError, match="script language 'groovy' is not supported"):
        load(path)


def test_the_runner_refuses_languages_outside_allowed_languages(tmp_path):
    settings = ScriptSettings(allowed_languages=("javascript",), base_dir=tmp_path)
    with pytest.raises(ScriptError, match="allowedLanguages"):
        ScriptStepRunner(StepScript(name="s", file="a.py", location="file:///./x"), settings, "u")


@pytest.mark.skipif(not javascript_available(), reason="javascript needs the mini-racer package")
async def test_javascript_runs_with_the_same_bindings_and_limits(build, scripts):
    exposes = tools(
        script_tool("summarize.js", with_='{note: "js"}', language="javascript"),
        script_tool("loop.js", name="spin", language="javascript"),
    ).replace("timeout: 1000", "timeout: 3000")
    async with build(capability(exposes)) as runtime:
        result = await runtime.invoke("t", {})
        assert result.value == {"summary": {"text": "Northern Star / js", "n": 2}}
        started = time.monotonic()
        with pytest.raises(ScriptError, match="time limit") as caught:
            await runtime.invoke("spin", {})
        assert caught.value.step == "summarize"
        assert time.monotonic() - started < 4.5
