"""resolve_binds: providers, formats, the relative-path rule, and error messages without values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.binds import (
    BindDeclaration,
    BindResolutionError,
    BindValues,
    Secret,
    declared_variables,
    resolve_binds,
)
from naftiko_runtime.errors import BindError, NaftikoError

from .helpers import Bind

SECRET = "Token s3cr3t-value"


def resolve_one(tmp_path: Path, name: str, content: str, key: str, *, location: str | None = None) -> str:
    """Write ``content`` to ``tmp_path/name`` and resolve ``VAR: key`` from it."""
    (tmp_path / name).write_text(content, encoding="utf-8")
    bind = Bind("file", {"VAR": key}, location or f"file://{tmp_path / name}")
    value = resolve_binds([bind], base_dir=tmp_path).get("VAR")
    assert isinstance(value, Secret)
    return value.reveal()


# -- the environment provider ----------------------------------------------------------------------


def test_seed_capability_bind_reads_the_whole_header_value_from_the_environment() -> None:
    binds = [Bind("env", {"LABEL_STUDIO_API_KEY": "LABEL_STUDIO_API_KEY"})]
    values = resolve_binds(binds, base_dir=None, environ={"LABEL_STUDIO_API_KEY": "Token abc123"})
    assert values["LABEL_STUDIO_API_KEY"].reveal() == "Token abc123"
    assert values["env.LABEL_STUDIO_API_KEY"].reveal() == "Token abc123"


def test_keys_map_variable_names_to_source_names() -> None:
    binds = [Bind("secrets", {"NOTION_TOKEN": "NOTION_INTEGRATION_TOKEN"})]
    values = resolve_binds(binds, None, environ={"NOTION_INTEGRATION_TOKEN": "ntn_1"})
    assert values.get("NOTION_TOKEN") == Secret("ntn_1")
    assert "NOTION_INTEGRATION_TOKEN" not in values


def test_default_environment_is_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAFTIKO_TEST_BIND_VALUE", "from-os-environ")
    values = resolve_binds([Bind("env", {"V": "NAFTIKO_TEST_BIND_VALUE"})], None)
    assert values["V"].reveal() == "from-os-environ"


def test_empty_environment_variable_is_a_value() -> None:
    values = resolve_binds([Bind("env", {"V": "EMPTY"})], None, environ={"EMPTY": ""})
    assert values["V"].reveal() == ""


def test_missing_environment_variable_names_variable_bind_and_source() -> None:
    with pytest.raises(BindError) as info:
        resolve_binds([Bind("env", {"LABEL_STUDIO_API_KEY": "LS_KEY"})], None, environ={})
    error = info.value
    assert isinstance(error, NaftikoError)
    assert (error.variable, error.bind) == ("LABEL_STUDIO_API_KEY", "env")
    assert str(error) == (
        "bind 'env': variable LABEL_STUDIO_API_KEY has no value: environment variable LS_KEY is not set"
    )


def test_every_missing_value_is_collected_into_one_error() -> None:
    binds = [
        Bind("one", {"A": "A_SRC", "B": "B_SRC", "C": "C_SRC"}),
        Bind("two", {"D": "D_SRC"}),
    ]
    with pytest.raises(BindResolutionError) as info:
        resolve_binds(binds, None, environ={"B_SRC": SECRET})
    error = info.value
    assert [(p.variable, p.bind) for p in error.problems] == [("A", "one"), ("C", "one"), ("D", "two")]
    assert (error.variable, error.bind) == ("A", "one")  # the first, for plain BindError handlers
    text = str(error)
    assert text.startswith("3 bind variables could not be resolved:")
    for name in ("A_SRC", "C_SRC", "D_SRC"):
        assert name in text
    assert SECRET not in text and SECRET not in repr(error)


# -- file providers and formats --------------------------------------------------------------------


def test_json_file(tmp_path: Path) -> None:
    doc = {"token": SECRET, "port": 5, "ratio": 1.10, "flag": True, "off": False}
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(doc).replace("1.1", "1.10"), encoding="utf-8")
    keys = {"TOKEN": "token", "PORT": "port", "RATIO": "ratio", "FLAG": "flag", "OFF": "off"}
    values = resolve_binds([Bind("f", keys, f"file://{path}")], tmp_path)
    got = {name: values[name].reveal() for name in keys}
    assert got == {"TOKEN": SECRET, "PORT": "5", "RATIO": "1.10", "FLAG": "true", "OFF": "false"}


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_yaml_file_keeps_scalars_as_written(tmp_path: Path, suffix: str) -> None:
    content = (
        "token: 'Token abc123'\n"
        "enabled: true\n"
        "legacy_bool: yes\n"
        "count: 5\n"
        "version: 1.10\n"
        "hex: 0x1F\n"
        "date: 2026-05-19\n"
        "quoted_number: '007'\n"
        "multi: |\n  line one\n  line two\n"
    )
    path = tmp_path / f"secrets{suffix}"
    path.write_text(content, encoding="utf-8")
    names = ["token", "enabled", "legacy_bool", "count", "version", "hex", "date", "quoted_number", "multi"]
    keys = {name.upper(): name for name in names}
    values = resolve_binds([Bind("y", keys, f"file://{path}")], tmp_path)
    assert {name: values[name.upper()].reveal() for name in names} == {
        "token": "Token abc123",
        "enabled": "true",
        "legacy_bool": "yes",
        "count": "5",
        "version": "1.10",
        "hex": "0x1F",
        "date": "2026-05-19",
        "quoted_number": "007",
        "multi": "line one\nline two\n",
    }


def test_nested_values_become_compact_json(tmp_path: Path) -> None:
    yaml_value = resolve_one(tmp_path, "s.yaml", "sa:\n  type: service_account\n  n: 5\n", "sa")
    assert json.loads(yaml_value) == {"type": "service_account", "n": 5}
    json_value = resolve_one(tmp_path, "s.json", '{"sa": {"n": 5, "ok": true}, "l": [1]}', "sa")
    assert json_value == '{"n":5,"ok":true}'


def test_dotenv_file_uses_python_dotenv_parsing(tmp_path: Path) -> None:
    content = (
        "# comment\n"
        "export API_KEY=Token abc123\n"
        'QUOTED="with spaces # not a comment"\n'
        "SINGLE='literal $HOME'\n"
        'ESCAPED="line1\\nline2"\n'
        "REF=${API_KEY}\n"
        "BARE\n"
    )
    path = tmp_path / "secrets.env"
    path.write_text(content, encoding="utf-8")
    keys = {"API_KEY": "API_KEY", "QUOTED": "QUOTED", "SINGLE": "SINGLE", "ESCAPED": "ESCAPED", "REF": "REF"}
    values = resolve_binds([Bind("d", keys, f"file://{path}")], tmp_path, environ={"API_KEY": "ENV!"})
    assert values["API_KEY"].reveal() == "Token abc123"
    assert values["QUOTED"].reveal() == "with spaces # not a comment"
    assert values["SINGLE"].reveal() == "literal $HOME"
    assert values["ESCAPED"].reveal() == "line1\nline2"
    # No interpolation: the file means what it says, and never reads the process environment.
    assert values["REF"].reveal() == "${API_KEY}"


@pytest.mark.parametrize("name", [".env", ".env.local", "prod.env"])
def test_dotenv_file_names(tmp_path: Path, name: str) -> None:
    assert resolve_one(tmp_path, name, "KEY=value-1\n", "KEY") == "value-1"


def test_a_file_is_read_once_for_several_binds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from naftiko_runtime.binds import providers

    path = tmp_path / "s.json"
    path.write_text('{"a": "1111", "b": "2222"}', encoding="utf-8")
    reads: list[Path] = []
    real = providers.read_values_file
    monkeypatch.setattr(providers, "read_values_file", lambda p: reads.append(p) or real(p))
    location = "./s.json"
    values = resolve_binds([Bind("x", {"A": "a"}, location), Bind("y", {"B": "b"}, location)], tmp_path)
    assert (values["A"].reveal(), values["B"].reveal()) == ("1111", "2222")
    assert reads == [tmp_path / "s.json"]


# -- locations: absolute, relative to the capability file, unsupported -----------------------------


@pytest.mark.parametrize(
    "location",
    ["file:///./conf/secrets.yaml", "file://./conf/secrets.yaml", "./conf/secrets.yaml", "conf/secrets.yaml"],
)
def test_relative_locations_resolve_against_the_capability_directory_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    capability_dir = tmp_path / "capability"
    (capability_dir / "conf").mkdir(parents=True)
    (capability_dir / "conf" / "secrets.yaml").write_text("token: right\n", encoding="utf-8")
    # A decoy where the Java engine would look: relative to the working directory.
    cwd = tmp_path / "elsewhere"
    (cwd / "conf").mkdir(parents=True)
    (cwd / "conf" / "secrets.yaml").write_text("token: wrong\n", encoding="utf-8")
    monkeypatch.chdir(cwd)

    values = resolve_binds([Bind("cfg", {"TOKEN": "token"}, location)], base_dir=capability_dir)
    assert values["TOKEN"].reveal() == "right"


@pytest.mark.parametrize(
    "location", ["file:///../shared/s.json", "file://../shared/s.json", "../shared/s.json"]
)
def test_parent_relative_locations(tmp_path: Path, location: str) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "s.json").write_text('{"k": "parent"}', encoding="utf-8")
    (tmp_path / "caps").mkdir()
    values = resolve_binds([Bind("p", {"K": "k"}, location)], base_dir=tmp_path / "caps")
    assert values["K"].reveal() == "parent"


@pytest.mark.parametrize("form", ["file://{path}", "file://localhost{path}", "file:{path}", "{path}"])
def test_absolute_locations(tmp_path: Path, form: str) -> None:
    path = tmp_path / "abs.json"
    path.write_text('{"k": "absolute"}', encoding="utf-8")
    location = form.format(path=path)
    values = resolve_binds([Bind("a", {"K": "k"}, location)], base_dir=tmp_path / "unrelated")
    assert values["K"].reveal() == "absolute"


def test_percent_encoded_file_uri(tmp_path: Path) -> None:
    folder = tmp_path / "my secrets"
    folder.mkdir()
    (folder / "s.json").write_text('{"k": "spaced"}', encoding="utf-8")
    location = f"file://{tmp_path}/my%20secrets/s.json"
    assert resolve_binds([Bind("a", {"K": "k"}, location)], None)["K"].reveal() == "spaced"


def test_relative_location_without_a_capability_directory_is_an_error_not_the_cwd() -> None:
    with pytest.raises(BindError, match="capability file's directory") as info:
        resolve_binds([Bind("f", {"K": "k"}, "./secrets.json")], base_dir=None)
    assert info.value.variable == "K"


@pytest.mark.parametrize(
    "location", ["vault://secrets/myapp", "k8s://secrets/myapp", "https://vault.example/v1/x", "VAULT://x"]
)
def test_other_schemes_are_not_supported(location: str) -> None:
    with pytest.raises(BindError) as info:
        resolve_binds([Bind("remote", {"TOKEN": "token"}, location)], None, environ={"token": SECRET})
    error = info.value
    assert (error.variable, error.bind) == ("TOKEN", "remote")
    assert "not supported by this runtime" in str(error)
    assert location.split(":")[0].lower() + "://" in str(error)


def test_unsupported_location_message_does_not_repeat_credentials_in_the_uri() -> None:
    with pytest.raises(BindError) as info:
        resolve_binds([Bind("v", {"T": "t"}, "vault://s.hvs-TOPSECRET@vault:8200/kv")], None)
    assert "TOPSECRET" not in str(info.value)


def test_remote_file_host_is_not_supported() -> None:
    with pytest.raises(BindError, match="another host"):
        resolve_binds([Bind("f", {"K": "k"}, "file://fileserver/share/s.json")], None)


# -- file errors -----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BindResolutionError) as info:
        resolve_binds([Bind("notion-env", {"NOTION_TOKEN": "t", "DB_ID": "d"}, "./missing.json")], tmp_path)
    error = info.value
    assert [p.variable for p in error.problems] == ["NOTION_TOKEN", "DB_ID"]
    assert f"file not found: {tmp_path / 'missing.json'}" in str(error)
    assert error.bind == "notion-env"


def test_missing_key_in_file_names_key_and_file_but_no_value(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"present: {SECRET}\n", encoding="utf-8")
    with pytest.raises(BindError) as info:
        resolve_binds([Bind("f", {"OK": "present", "NOTION_TOKEN": "absent"}, "./s.yaml")], tmp_path)
    error = info.value
    assert (error.variable, error.bind) == ("NOTION_TOKEN", "f")
    assert str(error) == f"bind 'f': variable NOTION_TOKEN has no value: key 'absent' not found in {path}"
    assert SECRET not in str(error)


@pytest.mark.parametrize(
    ("name", "content"), [("s.yaml", "k:\n"), ("s.yaml", "k: null\n"), ("s.json", '{"k": null}')]
)
def test_null_value_counts_as_missing(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(BindError, match="key 'k' is empty"):
        resolve_binds([Bind("f", {"K": "k"}, f"./{name}")], tmp_path)


def test_bare_dotenv_key_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("K\n", encoding="utf-8")
    with pytest.raises(BindError, match="key 'K' is empty"):
        resolve_binds([Bind("f", {"K": "K"}, "./.env")], tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [("s.json", '["a", "b"]', "list"), ("s.yaml", "just text\n", "str"), ("s.yaml", "", "nothing")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, name: str, content: str, found: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(BindError, match=f"must hold a mapping .* found {found}"):
        resolve_binds([Bind("f", {"K": "k"}, f"./{name}")], tmp_path)


def test_invalid_json_reports_position_not_content(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"token": "%s",,}' % SECRET, encoding="utf-8")  # noqa: UP031
    with pytest.raises(BindError, match=r"not valid JSON \(line 1, column") as info:
        resolve_binds([Bind("f", {"K": "token"}, "./s.json")], tmp_path)
    assert SECRET not in str(info.value)


def test_invalid_yaml_reports_position_not_content(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(f'token: "{SECRET}\nother: [unclosed\n', encoding="utf-8")
    with pytest.raises(BindError, match=r"not valid YAML \(line \d+, column \d+") as info:
        resolve_binds([Bind("f", {"K": "token"}, "./s.yaml")], tmp_path)
    assert "s3cr3t" not in str(info.value)


def test_unsupported_file_extension(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("k=v\n", encoding="utf-8")
    with pytest.raises(
        BindError, match=r"unsupported format '\.txt' \(expected \.json, \.yaml, \.yml or \.env\)"
    ):
        resolve_binds([Bind("f", {"K": "k"}, "./s.txt")], tmp_path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(BindError, match="is a directory"):
        resolve_binds([Bind("f", {"K": "k"}, "./dir.json")], tmp_path)


def test_conformance_tutorial_secrets_resolve_relative_to_the_tutorial_directory() -> None:
    """The Java tutorial's ``file:///./shared/secrets.yaml`` works from any CWD with our rule."""
    here = Path(__file__).resolve()
    candidates = [
        parent / "shared" / "conformance" / "naftiko-framework-1.0.0-alpha2" / "src" / "main" / "resources"
        for parent in here.parents
    ]
    tutorial = next((c / "tutorial" for c in candidates if (c / "tutorial").is_dir()), None)
    if tutorial is None:
        pytest.skip("shared/conformance is not beside this checkout")
    binds = [
        Bind("registry-env", {"REGISTRY_VERSION": "registry-api-version"}, "file:///./shared/secrets.yaml")
    ]
    assert resolve_binds(binds, base_dir=tutorial)["REGISTRY_VERSION"].reveal() == "1.0.0-alpha2"


# -- BindValues ------------------------------------------------------------------------------------


def test_plain_and_qualified_lookup_and_contains() -> None:
    values = BindValues.from_mapping({"env": {"API_KEY": "k-1"}, "other": {"REGION": "eu"}})
    assert values.get("API_KEY") == Secret("k-1")
    assert values.get("env.API_KEY") == Secret("k-1")
    assert values.get("other.REGION") == Secret("eu")
    assert values.get("env.REGION") is None
    assert values.get("MISSING") is None
    assert values.get("MISSING", "fallback") == "fallback"
    assert "API_KEY" in values and "env.API_KEY" in values
    assert "nope" not in values and "env.nope" not in values and 5 not in values
    with pytest.raises(KeyError):
        values["MISSING"]
    assert len(values) == 2
    assert list(values) == ["env.API_KEY", "other.REGION"]


def test_ambiguous_plain_variable_resolves_to_the_first_bind_and_is_reported() -> None:
    binds = [Bind("notion", {"TOKEN": "N"}), Bind("github", {"TOKEN": "G", "ORG": "O"})]
    values = resolve_binds(binds, None, environ={"N": "notion-token", "G": "github-token", "O": "naftiko"})
    assert values["TOKEN"].reveal() == "notion-token"
    assert values["github.TOKEN"].reveal() == "github-token"
    assert values.ambiguous_variables() == {"TOKEN": ("notion", "github")}
    assert values.namespace_of("TOKEN") == "notion"
    assert values.get("TOKEN").reveal() == "notion-token"  # type: ignore[union-attr]
    assert values.get("github.TOKEN").reveal() == "github-token"  # type: ignore[union-attr]


def test_printing_bind_values_shows_names_only() -> None:
    values = BindValues.from_mapping({"env": {"API_KEY": SECRET}})
    assert repr(values) == "BindValues(env.API_KEY)"
    assert SECRET not in str(values)
    assert values.secrets() == (Secret(SECRET),)


def test_empty_binds() -> None:
    values = resolve_binds([], None)
    assert len(values) == 0 and list(values) == []
    # keys-less binds are a declaration error for validation, not a resolution error
    assert len(resolve_binds([Bind("empty", {})], None)) == 0


# -- declared_variables ----------------------------------------------------------------------------


def test_declared_variables_reads_no_provider(tmp_path: Path) -> None:
    binds = [
        Bind("env", {"API_KEY": "SRC_KEY"}),
        Bind("vault", {"DB_PASSWORD": "db"}, "vault://secrets/app"),  # unsupported, but declared
        Bind("file", {"API_KEY": "k", "REGION": "r"}, "./does-not-exist.json"),
    ]
    declared = declared_variables(binds)
    assert declared.variables == ("API_KEY", "DB_PASSWORD", "REGION")
    assert declared.namespaces == ("env", "vault", "file")
    assert declared.qualified_names == ("env.API_KEY", "vault.DB_PASSWORD", "file.API_KEY", "file.REGION")
    assert "API_KEY" in declared and "file.REGION" in declared and "vault.DB_PASSWORD" in declared
    assert "env.REGION" not in declared and "UNDECLARED" not in declared
    assert declared.source_key("API_KEY") == "SRC_KEY"
    assert declared.source_key("file.API_KEY") == "k"
    assert declared.ambiguous_variables() == {"API_KEY": ("env", "file")}
    assert repr(declared).startswith("DeclaredVariables(env.API_KEY")


def test_test_bind_satisfies_the_protocol() -> None:
    assert isinstance(Bind("env", {"A": "B"}), BindDeclaration)


def test_json_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_bytes(b'\xef\xbb\xbf{"k": "bom"}')
    assert resolve_binds([Bind("f", {"K": "k"}, "./s.json")], tmp_path)["K"].reveal() == "bom"
