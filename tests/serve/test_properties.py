"""Properties over documents built at random from the schema's vocabulary (hypothesis).

* A well-formed document that ``validate`` accepts starts as ``serve`` starts it (runtime, every
  adapter's app, sockets bound), and the input schema each tool publishes in ``tools/list`` (read
  from the real MCP server) accepts the arguments ``naftiko call`` accepts (arguments of the
  schema's own JSON types, some left out); for a tool whose inputs the runtime infers, ``call``
  also accepts every such argument object the schema accepts.
* Fuzzed documents (a valid document with one value replaced by a hostile one: a huge or negative
  integer, a broken JSONPath or URL, a placeholder, the wrong kind of node) never make ``validate``,
  ``inspect`` or ``serve``'s startup raise: each is accepted or refused with located errors.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from naftiko_runtime.cli import main
from naftiko_runtime.cli.call_cmd import EXIT_INPUT
from naftiko_runtime.cli.inspect_cmd import describe, render_text
from naftiko_runtime.errors import NaftikoError
from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.runtime import server as serving
from naftiko_runtime.spec import check, check_text
from tests.mcp.engine import EngineServer
from tests.mcp.test_http_protocol import rpc
from tests.spec.helpers import CONFORMANCE, placeholder_environ
from tests.support.fixtures import upstream, upstream_server
from tests.support.upstream import RecordingUpstream

__all__ = ["upstream", "upstream_server"]

TUTORIAL = CONFORMANCE / "naftiko-framework-1.0.0-alpha2" / "src" / "main" / "resources" / "tutorial"

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
TYPES = ["string", "integer", "number", "boolean", "array", "object"]
LOCATIONS = ["query", "header", "path", "body"]
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)


@st.composite
def consumed_operation(draw: st.DrawFn, index: int) -> dict[str, Any]:
    params = draw(
        st.lists(
            st.fixed_dictionaries(
                {"name": NAMES, "in": st.sampled_from(LOCATIONS)},
                optional={"type": st.sampled_from(TYPES), "required": st.booleans()},
            ),
            max_size=4,
            unique_by=lambda p: p["name"],
        )
    )
    path = f"/r{index}" + "".join("/{{" + p["name"] + "}}" for p in params if p["in"] == "path")
    operation: dict[str, Any] = {
        "name": f"op{index}",
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
        "inputParameters": params,
    }
    return {"name": f"res{index}", "path": path, "operations": [operation]}


@st.composite
def tool(draw: st.DrawFn, index: int, operations: list[dict[str, Any]]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["inferred", "declared", "mock"]))
    out: dict[str, Any] = {"name": f"tool{index}", "description": f"tool {index}"}
    declared = draw(
        st.lists(
            st.fixed_dictionaries(
                {"name": NAMES, "type": st.sampled_from(TYPES), "description": st.just("an input")},
                optional={"required": st.booleans()},
            ),
            max_size=3,
            unique_by=lambda p: p["name"],
        )
    )
    if kind == "mock":
        out["inputParameters"] = declared
        names = [p["name"] for p in declared] or ["x"]
        out["outputParameters"] = [
            {"name": "echo", "type": "string", "value": " ".join("{{" + n + "}}" for n in names)}
        ]
        return out
    resource = draw(st.sampled_from(operations))
    operation = resource["operations"][0]
    out["call"] = f"api.{operation['name']}"
    params = operation["inputParameters"]
    if kind == "declared":
        # Declared inputs, each consumed parameter fed from one of them (or from a static value).
        declared = declared or [{"name": "given", "type": "string", "description": "an input"}]
        with_: dict[str, Any] = {}
        for param in params:
            source = draw(st.sampled_from([*declared, None]))
            with_[param["name"]] = f"tools.{source['name']}" if source else "fixed"
        out["inputParameters"] = declared
        if with_:
            out["with"] = with_
    elif params and draw(st.booleans()):
        renamed = draw(st.sampled_from(params))["name"]
        out["with"] = {renamed: f"tools.{renamed}x"}
    return out


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    operations = [draw(consumed_operation(i)) for i in range(draw(st.integers(1, 3)))]
    tools = [draw(tool(i, operations)) for i in range(draw(st.integers(1, 3)))]
    return {
        "naftiko": "1.0.0-alpha2",
        "info": {"label": "generated"},
        "capability": {
            "consumes": [
                {"type": "http", "namespace": "api", "baseUri": "http://api.invalid", "resources": operations}
            ],
            "exposes": [{"type": "mcp", "namespace": "tools", "port": 9090, "tools": tools}],
        },
    }


def value_of(schema: dict[str, Any], draw: st.DrawFn) -> Any:
    """A value of the schema's own JSON type (any JSON value when it names none)."""
    kind = schema.get("type")
    strategies = {
        "string": TEXT,
        "integer": st.integers(-5, 5),
        "number": st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)),
        "boolean": st.booleans(),
        "array": st.lists(TEXT, max_size=2),
        "object": st.dictionaries(NAMES, st.integers(0, 3), max_size=2),
    }
    if kind in strategies:
        return draw(strategies[kind])
    return draw(st.one_of(*strategies.values()))


SETTINGS = settings(
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking restarts servers: too slow
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(document=documents(), data=st.data())
def test_a_valid_document_serves_and_tools_list_accepts_what_call_accepts(
    document: dict[str, Any],
    data: st.DataObject,
    upstream: RecordingUpstream,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path_factory.mktemp("generated") / "generated.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    report = check(path)
    event("valid" if report.ok else "refused: " + ", ".join(sorted({p.rule for p in report.errors})))
    assume(report.ok)
    # `serve` starts: every adapter's app is built and its socket bound.
    options = RuntimeOptions(base_uris={"api": upstream.url})
    starting = Runtime.build(report.document, options)
    for listener in serving.plan([starting], any_port=True).listeners:
        serving.bind(listener).close()
    runtime = Runtime.build(report.document, options)
    with EngineServer(runtime, runtime.asgi_app("tools")) as server:
        listed = rpc(server.url + "/mcp", "tools/list").json()["result"]["tools"]
    tools = {t["name"]: t for t in document["capability"]["exposes"][0]["tools"]}
    assert [t["name"] for t in listed] == list(tools)
    for published in listed:
        schema = published["inputSchema"]
        arguments = {
            name: value_of(property_schema, data.draw)
            for name, property_schema in schema.get("properties", {}).items()
            if data.draw(st.booleans(), label=f"give {name}")
        }
        capsys.readouterr()
        code = main(
            ["call", str(path), f"tools.{published['name']}"]
            + [f"{name}={json.dumps(value)}" for name, value in arguments.items()]
            + ["--base-uri", f"api={upstream.url}"]
        )
        refusal = capsys.readouterr().err
        accepted = code != EXIT_INPUT
        valid = jsonschema.Draft202012Validator(schema).is_valid(arguments)
        # What `call` accepts, the schema accepts (the property). Where the runtime infers
        # the inputs itself (no declared inputParameters), the converse holds too.
        inferred = "inputParameters" not in tools[published["name"]]
        assert accepted <= valid if not inferred else accepted == valid, (
            f"tool {published['name']}: call {'accepted' if accepted else 'refused'} {arguments}, "
            f"its published schema {'accepts' if valid else 'refuses'} them\n{schema}\n{refusal}"
        )


HOSTILE = st.sampled_from(
    [
        -1,
        0,
        70000,
        int("9" * 30),
        "9" * 5000,  # written unquoted below: an integer literal too long to read
        "$.items[?(@.x ==",
        "http://[::1",
        "{{",
        "{{env.MISSING",
        "",
        None,
        True,
        [],
        {},
        {"type": "unknown"},
        "../../etc/passwd",
        "\u0000",
    ]
)


def _scalar_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _scalar_paths(child, (*path, key))] + [path]
    if isinstance(node, list):
        return [p for index, child in enumerate(node) for p in _scalar_paths(child, (*path, index))] + [path]
    return [path]


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(document)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _tutorials() -> list[dict[str, Any]]:
    """The framework's tutorial capabilities (when the shared folder is there): real documents to fuzz."""
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(TUTORIAL.glob("*.yml"))]


SEEDS = st.one_of(documents(), st.sampled_from(_tutorials())) if TUTORIAL.is_dir() else documents()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=SEEDS, data=st.data())
def test_fuzzed_documents_are_accepted_or_refused_never_raised(
    document: dict[str, Any], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(_scalar_paths(document)), label="where")
    hostile = data.draw(HOSTILE, label="what")
    text = yaml.safe_dump(_replace(document, target, hostile), sort_keys=False, allow_unicode=True)
    if hostile == "9" * 5000:
        text = text.replace("'" + hostile + "'", hostile)
    report = check_text(text, "fuzzed.yaml", base_dir=TUTORIAL)
    event("valid" if report.ok else "refused")
    for problem in report.problems:
        assert problem.line >= 1 and problem.column >= 1, problem.format()
    if report.document is None:
        return
    render_text(describe(report.document))  # inspect
    try:
        runtime = Runtime.build(report.document, RuntimeOptions(environ=placeholder_environ(report.document)))
        for listener in serving.plan([runtime], any_port=True).listeners:
            serving.bind(listener).close()
    except NaftikoError:
        pass  # a clean refusal, with a message
