"""Script steps: a capability's own code run between upstream calls, in a separate process.

Every run starts a fresh interpreter (``sys.executable -I -S``) with a small bootstrap and nothing
else: no site-packages, no environment, ``/`` as its directory, its own process group. The parent
reads the script files (so the child needs no file access at all), sends them with the step's
variables as JSON on stdin, and reads one JSON document back from the child's original stdout;
whatever the script prints goes to stderr, which is kept (truncated) for the error message.

Limits, all applied by the bootstrap before any script code runs:

* wall time: ``management.scripting.timeout`` and never more than what the unit has left; on expiry
  the whole process group is killed (``SIGKILL``), so a script that forks cannot outlive its step;
* memory: ``RLIMIT_AS`` (Python: a ``MemoryError`` is reported as such; anything the interpreter
  cannot survive ends the process), plus a resident-size watchdog in the parent for engines that
  cannot run under ``RLIMIT_AS`` (V8 reserves a large virtual cage);
* CPU time (``RLIMIT_CPU``), no core dumps (``RLIMIT_CORE`` 0), no file writes (``RLIMIT_FSIZE`` 0).

Nothing is reused between runs: isolation first, start-up cost (~20 ms) second. The isolation is
a process boundary with resource limits, not a jail: a script still runs as the server's user.

Variables the script sees as module globals: the unit's arguments, every earlier step's result
under its name and under its camelCased name (``get-ship`` → ``getShip``, as the spec says), the
step's ``with`` values, and all of them together as ``context`` (the reference engine's name). The
script must assign ``result``; ``dependencies`` run first in the same namespace.

Languages: ``python`` always; ``javascript`` when the ``mini-racer`` package (an embedded V8, no
I/O of its own) is installed, in the same kind of child process, under V8's heap limit, the same
wall/CPU limits and the resident-size watchdog. Anything else is refused when the unit is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import re
import signal
import sys
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import ScriptError
from ..locations import LocationError, resolve_location
from ..spec.models import StepScript

_SEGMENT = re.compile(r"[a-zA-Z0-9._-]+")
_STDERR_KEEP = 2000
_RESULT_MAX = 32 << 20  # bytes of JSON a script may hand back
_WATCH_INTERVAL = 0.05


def javascript_available() -> bool:
    """Whether the embedded V8 (the ``mini-racer`` package) is installed."""
    return importlib.util.find_spec("py_mini_racer") is not None


def supported_languages() -> frozenset[str]:
    return frozenset({"python", "javascript"} if javascript_available() else {"python"})


def camel_case(name: str) -> str:
    """``get-ship`` → ``getShip``; ``list_crew`` → ``listCrew``; ``getShip`` unchanged."""
    parts = [p for p in re.split(r"[-_\s]+", name) if p]
    if not parts:
        return name
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


class ScriptStepRunner:
    """One script step, checked when the unit is built and run in a fresh process per call."""

    def __init__(self, step: StepScript, settings: Any, unit: str) -> None:
        self.step = step.name
        self.unit = unit
        self.settings = settings
        language = (step.language or settings.default_language or "python").strip().lower()
        supported = supported_languages()
        if language not in supported:
            hint = " (install the mini-racer package to run javascript)" if language == "javascript" else ""
            raise ScriptError(
                step.name,
                f"language {language!r} is not supported by this runtime "
                f"(supported: {', '.join(sorted(supported))}){hint}",
            )
        allowed = settings.allowed_languages
        if allowed is not None and language not in allowed:
            raise ScriptError(
                step.name,
                f"language {language!r} is not in management.scripting.allowedLanguages "
                f"({', '.join(allowed) or 'none'})",
            )
        self.language = language
        location = step.location or settings.default_location
        if not location:
            raise ScriptError(
                step.name,
                f"no `location` and no management.scripting.defaultLocation: nowhere to find {step.file!r}",
            )
        self.directory = script_directory(location, settings.base_dir, step.name)
        self.files = tuple(
            script_path(self.directory, name, step.name) for name in (*step.dependencies, step.file)
        )

    @property
    def timeout_s(self) -> float:
        return max(int(self.settings.timeout_ms), 1) / 1000.0

    async def run(self, variables: Mapping[str, Any], time_left: float) -> Any:
        """Run the script with ``variables`` bound; its ``result``, or :class:`ScriptError`."""
        if not self.settings.enabled:
            raise ScriptError(
                self.step,
                "scripting is disabled (management.scripting.enabled is false or NAFTIKO_SCRIPTING=false)",
            )
        limit = min(self.timeout_s, time_left)
        if limit <= 0:
            raise ScriptError(self.step, "the unit's deadline passed before the script could start")
        by_deadline = time_left < self.timeout_s
        sources = [(self._relative(path), self._read(path)) for path in self.files]
        memory = max(int(self.settings.memory_mb), 16) << 20
        request = {
            "language": self.language,
            "sources": sources,
            "variables": bind_variables(variables),
            "memory": memory,
            "cpu": max(1, math.ceil(limit)) + 1,
            "timeout": limit,
            "site": _engine_site() if self.language == "javascript" else None,
        }
        try:
            payload = json.dumps(request, default=_json_default, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise ScriptError(self.step, f"the step's variables are not JSON: {exc}") from None
        return await self._spawn(payload, limit, memory, by_deadline)

    # -- internals ---------------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.directory).as_posix()

    def _read(self, path: Path) -> str:
        # Resolve again at run time: a symlink swapped in after load must not lead outside.
        real = path.resolve()
        if not real.is_relative_to(self.directory.resolve()):
            raise ScriptError(self.step, f"{self._relative(path)!r} resolves outside the script directory")
        try:
            return real.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScriptError(
                self.step, f"script file {self._relative(path)!r} not found in {self.directory}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptError(self.step, f"cannot read {self._relative(path)!r}: {exc}") from None

    async def _spawn(self, payload: bytes, limit: float, memory: int, by_deadline: bool) -> Any:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            "-c",
            _BOOTSTRAP,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        watchdog = asyncio.ensure_future(_watch_memory(process.pid, memory))
        talk = asyncio.ensure_future(process.communicate(payload))
        try:
            done, _ = await asyncio.wait({talk, watchdog}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            if talk not in done:
                _kill_group(process.pid)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(talk, 2.0)
                if watchdog in done and watchdog.result():
                    raise ScriptError(
                        self.step, f"exceeded its memory limit of {memory >> 20} MB and was stopped"
                    )
                elapsed = (time.monotonic() - started) * 1000
                what = "the unit's deadline" if by_deadline else "its time limit"
                raise ScriptError(
                    self.step,
                    f"exceeded {what} of {limit * 1000:.0f} ms and was stopped (ran {elapsed:.0f} ms)",
                )
            stdout, stderr = talk.result()
        except asyncio.CancelledError:
            _kill_group(process.pid)
            raise
        finally:
            watchdog.cancel()
            _kill_group(process.pid)  # stragglers a script may have forked
            if process.returncode is None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), 2.0)
        return self._answer(process.returncode, stdout, stderr, memory)

    def _answer(self, code: int | None, stdout: bytes, stderr: bytes, memory: int) -> Any:
        log = _tail(stderr)
        answer: Any = None
        if stdout and len(stdout) <= _RESULT_MAX:
            with contextlib.suppress(ValueError):
                answer = json.loads(stdout)
        if isinstance(answer, dict) and answer.get("ok") is True:
            return answer.get("result")
        if isinstance(answer, dict) and answer.get("ok") is False:
            kind = answer.get("kind")
            if kind == "memory":
                raise ScriptError(self.step, f"exceeded its memory limit of {memory >> 20} MB")
            if kind == "timeout":
                raise ScriptError(self.step, "exceeded its time limit and was stopped")
            message = str(answer.get("error") or "failed")
            raise ScriptError(self.step, _with_log(message, log))
        if stdout and len(stdout) > _RESULT_MAX:
            raise ScriptError(self.step, f"its result is larger than {_RESULT_MAX >> 20} MB")
        if code is not None and code < 0:
            number = -code
            if number == signal.SIGXCPU:
                reason = "exceeded its CPU time limit and was stopped"
            elif number == signal.SIGXFSZ:
                reason = "tried to write a file (scripts may not write files) and was stopped"
            elif number == signal.SIGKILL:
                reason = "was killed (SIGKILL), most likely for exceeding its memory limit"
            else:
                reason = f"was killed by signal {signal.Signals(number).name}"
            raise ScriptError(self.step, _with_log(reason, log))
        if "MemoryError" in log:
            raise ScriptError(self.step, f"exceeded its memory limit of {memory >> 20} MB")
        raise ScriptError(self.step, _with_log(f"the script process ended with status {code}", log))


def script_directory(location: str, base_dir: Path | None, step: str) -> Path:
    """A step's ``location`` (``file:///abs``, ``file:///./rel``, ``./rel``) as a directory path."""
    try:
        path = resolve_location(location, base_dir or Path.cwd())
    except LocationError as exc:
        raise ScriptError(step, f"location {exc.reason}") from None
    return Path(os.path.normpath(path))


def script_path(directory: Path, name: str, step: str) -> Path:
    """``file`` / ``dependencies`` entry inside ``directory``: safe segments, no way out."""
    parts = name.split("/")
    for part in parts:
        if not _SEGMENT.fullmatch(part) or part in (".", ".."):
            raise ScriptError(
                step,
                f"script path {name!r}: each segment must match [a-zA-Z0-9._-]+ and not be '.' or '..'",
            )
    path = directory.joinpath(*parts)
    if not Path(os.path.normpath(path)).is_relative_to(directory):
        raise ScriptError(step, f"script path {name!r} leaves the script directory")
    return path


def bind_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Every name as given plus its camelCased spelling (which never overrides a given name)."""
    bound = dict(variables)
    for name, value in variables.items():
        alias = camel_case(name)
        if alias != name and alias not in variables:
            bound[alias] = value
    return bound


def _json_default(value: Any) -> Any:
    reveal = getattr(value, "reveal", None)
    if callable(reveal):
        return reveal()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _engine_site() -> str | None:
    spec = importlib.util.find_spec("py_mini_racer")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _watch_memory(pid: int, limit: int) -> bool:
    """True (and the group killed) once the child's resident size passes ``limit``; runs until
    cancelled otherwise."""
    status = Path(f"/proc/{pid}/status")
    while True:
        await asyncio.sleep(_WATCH_INTERVAL)
        try:
            text = status.read_text()
        except OSError:
            continue  # gone (or going): the process's own end is reported by its pipes
        found = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M)
        if found and int(found.group(1)) * 1024 > limit:
            _kill_group(pid)
            return True


def _tail(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    if len(text) > _STDERR_KEEP:
        text = "…" + text[-_STDERR_KEEP:]
    return text


def _with_log(message: str, log: str) -> str:
    return f"{message}\n--- stderr ---\n{log}" if log else message


# The child. Kept small and dependency-free: it sets its limits first, then reads the request,
# runs the script and writes one JSON document to the stdout it was started with (the script's
# own prints go to stderr).
_BOOTSTRAP = r"""
import json, os, resource, sys, traceback
req = json.loads(sys.stdin.buffer.read())
def limit(kind, value):
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        pass
limit(resource.RLIMIT_CORE, 0)
limit(resource.RLIMIT_FSIZE, 0)
limit(resource.RLIMIT_CPU, int(req["cpu"]))
out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
def answer(doc):
    try:
        text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "error": "result is not JSON-serializable: %s" % exc})
    out.write(text)
    out.flush()
def finish(doc):
    answer(doc)
    out.close()
    os._exit(0)  # skip an engine's teardown: the answer is out
names = [name for name, _ in req["sources"]]
def failure(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in names]
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if frames:
        text += " (at %s)" % " <- ".join("%s:%s" % (f.filename, f.lineno) for f in reversed(frames))
    return text
variables = req["variables"]
if req["language"] == "python":
    limit(resource.RLIMIT_AS, int(req["memory"]))
    namespace = {"__name__": "__naftiko_script__", "__builtins__": __builtins__}
    namespace.update(variables)
    namespace["context"] = dict(variables)
    sources = req["sources"]
    del req, variables
    try:
        for name, source in sources:
            exec(compile(source, name, "exec"), namespace)
    except MemoryError:
        namespace.clear()
        answer({"ok": False, "kind": "memory"})
        raise SystemExit(0)
    except BaseException as exc:
        message = failure(exc)
        namespace.clear()
        answer({"ok": False, "error": message})
        raise SystemExit(0)
    if "result" not in namespace:
        answer({"ok": False, "error": "the script did not assign `result`"})
    else:
        answer({"ok": True, "result": namespace["result"]})
else:
    if req.get("site"):
        sys.path.insert(0, req["site"])
    from py_mini_racer import MiniRacer, JSOOMException, JSTimeoutException
    ctx = MiniRacer()
    ctx.set_hard_memory_limit(int(req["memory"]))
    prelude = (
        "(function (v) { for (var k in v) { globalThis[k] = v[k]; } globalThis.context = v; })(%s);"
        % json.dumps(variables)
    )
    try:
        ctx.eval(prelude)
        for name, source in req["sources"]:
            ctx.eval(source, timeout_sec=float(req["timeout"]))
        text = ctx.eval("typeof result === 'undefined' ? '\u0000' : JSON.stringify(result)")
    except JSOOMException:
        finish({"ok": False, "kind": "memory"})
    except JSTimeoutException:
        finish({"ok": False, "kind": "timeout"})
    except Exception as exc:
        finish({"ok": False, "error": str(exc).strip() or type(exc).__name__})
    if text == "\u0000":
        finish({"ok": False, "error": "the script did not assign `result`"})
    finish({"ok": True, "result": None if text is None else json.loads(text)})
"""
