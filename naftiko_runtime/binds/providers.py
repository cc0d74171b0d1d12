"""Where bind values come from: the process environment, or a file named by ``location``.

A bind's ``location`` picks the provider:

* none (or empty): the process environment; each ``keys`` entry ``VAR: SOURCE`` reads ``SOURCE``.
* ``file:///abs/path``, ``file://localhost/abs/path``, ``file:/abs/path`` and a bare ``/abs/path``:
  an absolute file.
* ``file:///./rel``, ``file:///../rel``, ``file://./rel``, ``file://../rel``, ``./rel``, ``../rel`` and
  any other scheme-less path: a file relative to the **capability file's directory**. The Java
  engine resolves these against the process working directory; that makes a capability mean
  different things depending on where it was started, so we do not copy it.
* anything else (``vault://``, ``k8s://``, ``https://``): not supported by this runtime.

Files are read by extension: ``.json``, ``.yaml``/``.yml``, ``.env`` (also a file named ``.env`` or
``.env.<stage>``). The top level must be a mapping of flat keys. Values are returned as text:
numbers and booleans keep the text they were written with (``5``, ``1.10``, ``true``, ``yes``), so a
version string like ``1.10`` is not turned into ``1.1``; a nested mapping or list becomes compact
JSON (handy for a service-account blob). A key whose value is null (``KEY:`` or ``KEY: null`` in
YAML, ``null`` in JSON, a bare ``KEY`` line in ``.env``) counts as missing.

Nothing here ever puts a value into an error message: parse errors report a line and column, and
the parser's own wording only where it cannot quote the file.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml
from dotenv import dotenv_values

from .. import locations


class ProviderError(Exception):
    """A provider cannot be opened at all; ``reason`` completes "variable X ..." in a BindError."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Provider(Protocol):
    """A source of bind values, opened once per bind."""

    def lookup(self, source_key: str) -> str | None:
        """The value stored under ``source_key``, or None when there is none."""
        ...

    def describe_missing(self, source_key: str) -> str:
        """Why ``source_key`` has no value, phrased to follow "variable X " in a BindError."""
        ...


@dataclass(frozen=True, slots=True)
class EnvironmentProvider:
    """Reads the process environment (or the mapping injected in its place)."""

    environ: Mapping[str, str]

    def lookup(self, source_key: str) -> str | None:
        # An empty variable is still set: it is a value, and the caller's decision.
        return self.environ.get(source_key)

    def describe_missing(self, source_key: str) -> str:
        return f"has no value: environment variable {source_key} is not set"


@dataclass(frozen=True, slots=True)
class FileProvider:
    """The flat key/value mapping read from one file."""

    path: Path
    values: Mapping[str, str | None]

    def lookup(self, source_key: str) -> str | None:
        return self.values.get(source_key)

    def describe_missing(self, source_key: str) -> str:
        if source_key in self.values:
            return f"has no value: key '{source_key}' is empty in {self.path}"
        return f"has no value: key '{source_key}' not found in {self.path}"


# -- locations -------------------------------------------------------------------------------------

SUPPORTED_PROVIDERS = "the environment (no location) and file:// locations"


def resolve_location(location: str, base_dir: Path | None) -> Path:
    """:func:`naftiko_runtime.locations.resolve_location`, failing as a provider that cannot open."""
    try:
        return locations.resolve_location(location, base_dir)
    except locations.LocationError as exc:
        raise ProviderError(exc.reason) from None


def open_provider(location: str | None, base_dir: Path | None, environ: Mapping[str, str]) -> Provider:
    """The provider a bind's ``location`` selects, read and ready for lookups."""
    if location is None or not location.strip():
        return EnvironmentProvider(environ)
    path = resolve_location(location, base_dir)
    return FileProvider(path, read_values_file(path))


# -- files -----------------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    """``json``, ``yaml`` or ``env`` by the file's name; ProviderError for anything else."""
    name = path.name.lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise ProviderError(
        f"cannot be resolved: {path} has an unsupported format "
        f"'{suffix or name}' (expected .json, .yaml, .yml or .env)"
    )


def read_values_file(path: Path) -> dict[str, str | None]:
    """Read a bind file into ``{key: text or None}``; ProviderError names the file, never a value."""
    fmt = file_format(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM from Windows editors
    except FileNotFoundError:
        raise ProviderError(f"has no value: file not found: {path}") from None
    except IsADirectoryError:
        raise ProviderError(f"cannot be resolved: {path} is a directory, not a file") from None
    except PermissionError:
        raise ProviderError(f"cannot be resolved: permission denied reading {path}") from None
    except UnicodeDecodeError:
        raise ProviderError(f"cannot be resolved: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ProviderError(f"cannot be resolved: cannot read {path}: {exc.strerror}") from None

    if fmt == "json":
        data = _parse_json(text, path)
    elif fmt == "yaml":
        data = _parse_yaml(text, path, loader=_TextScalarLoader)
    else:
        # python-dotenv's own parser (quotes, escapes, `export`, comments) rather than a hand-rolled
        # one. Interpolation is off: `${OTHER}` would otherwise read os.environ behind the back of the
        # injected environment, and a file bind should mean exactly what the file says.
        return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))

    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        raise ProviderError(
            f"cannot be resolved: {path} must hold a mapping of keys at the top level, found {found}"
        )
    values = {str(key): _as_text(value) for key, value in data.items()}
    nested = [str(key) for key, value in data.items() if isinstance(value, (dict, list))]
    if nested:
        # Scalars were read as source text; inside a structure numbers must stay numbers, so read
        # the file once more the ordinary way for those keys.
        typed = json.loads(text) if fmt == "json" else _parse_yaml(text, path, loader=yaml.SafeLoader)
        for key, value in typed.items():
            if str(key) in nested:
                values[str(key)] = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return values


def _parse_json(text: str, path: Path) -> Any:
    try:
        # Numbers keep their source text; the other scalars are converted in _as_text.
        return json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        # exc.msg is the decoder's wording ("Expecting value"), never the document's text.
        raise ProviderError(
            f"cannot be resolved: {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


class _TextScalarLoader(yaml.SafeLoader):
    """SafeLoader that keeps ints, floats, booleans and timestamps as the text they were written as.

    Null stays None so an empty key reads as missing. Everything else is SafeLoader's behaviour.
    """


def _as_written(loader: _TextScalarLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_scalar(node)


for _tag in ("bool", "int", "float", "timestamp"):
    _TextScalarLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _as_written)


def _parse_yaml(text: str, path: Path, loader: type[yaml.SafeLoader]) -> Any:
    try:
        return yaml.load(text, Loader=loader)  # always a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        # str(exc) quotes the offending line, which may hold a secret: keep only the position.
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "position unknown"
        problem = f": {exc.problem}" if exc.problem else ""
        raise ProviderError(f"cannot be resolved: {path} is not valid YAML ({where}{problem})") from None
    except yaml.YAMLError:
        raise ProviderError(f"cannot be resolved: {path} is not valid YAML") from None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # JSON true/false (YAML booleans are already text)
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return ""  # replaced by read_values_file with the structure as JSON
    return str(value)


def default_environ() -> Mapping[str, str]:
    """The live process environment (read at resolve time, not import time)."""
    return os.environ
