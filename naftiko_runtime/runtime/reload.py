"""Live reload: read the served files again and swap what is served, without dropping a request.

``naftiko serve --watch`` (on file changes), ``SIGHUP`` and the control adapter's
``POST /config/reload`` all run :meth:`LiveServer.reload`, one at a time:

1. **Validate everything first.** The paths given are discovered again (non-capability YAML is
   skipped with a note), every file is checked together (ports across files included), binds are
   resolved, every unit compiled and every adapter's app built. Any problem refuses the reload as
   a whole, reported with its place (a log line; 422 on the endpoint): what runs keeps running.
2. **Bind first.** A new adapter, or one whose address or port changed, gets its listening socket
   before anything is swapped; a port that cannot be bound refuses the reload with the reason.
3. **Swap atomically.** In one step without an ``await``, every running adapter whose place did not
   change gets its new app (:class:`~..observability.AccessLog` reads ``app`` once per request, so a
   request in flight finishes on the configuration it started with, every later one, kept-alive
   connections included, sees the new one); new adapters start; removed and moved ones stop
   accepting and finish what they were answering (uvicorn's graceful shutdown).
4. **Keep what did not change.** The upstream connection pool of a consumed namespace whose
   declaration is the same is handed to the new runtime; the pools nobody uses any more close after
   the shutdown timeout, when the requests that may still use them are done. Binds are resolved
   again, so a rotated secret is picked up.

The diff (``changes.diff``) names every capability, adapter and unit added, removed or changed and
flags the changes that break clients. With ``--workers`` above 1 every worker would have to reload
on its own and agree on new ports, so reload is refused there (409).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..binds import BindValues, Secret, resolve_binds
from ..consumes.transport import ClientPool, HttpClient
from ..errors import NaftikoError
from ..exposes.control.plane import ReloadOutcome
from ..observability import Metrics
from ..spec import Document, check_files
from ..spec.discover import discover
from . import server as serving
from .changes import AdapterView, Loaded, Snapshot, configuration, diff, file_hash
from .core import Runtime, RuntimeOptions
from .drain import Drain

log = logging.getLogger("naftiko.reload")
STARTUP_WAIT_S = 10.0  # a new adapter must accept requests this soon after a reload swapped it in


class Refused(NaftikoError):
    """A reload that would serve something broken: nothing was changed."""

    def __init__(self, problems: Sequence[dict[str, Any]], lines: Sequence[str]) -> None:
        self.problems = list(problems)
        self.lines = list(lines)
        super().__init__("; ".join(self.lines))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _loaded_as_named(runtimes: Sequence[Runtime], paths: Sequence[str], loaded_at: str) -> dict[str, Loaded]:
    """Runtimes by the path they were found under (``shop.yaml``, not the ConfigMap's
    ``..2026_12_05…/shop.yaml`` their document resolved to): a reload finds them by it again."""
    names = {str(file.resolve()): str(file) for file in discover(paths).files}
    out = {}
    for runtime in runtimes:
        source = runtime.document.source_file or "<document>"
        name = names.get(source, source)
        out[name] = Loaded(runtime, file_hash(name), loaded_at)
    return out


def _secrets(runtimes: Iterable[Runtime]) -> list[Secret]:
    return [secret for runtime in runtimes for secret in runtime.secrets]


class FixedPlane:
    """The control plane of a set of runtimes that cannot be reloaded (an embedded adapter)."""

    def __init__(self, runtimes: Sequence[Runtime]) -> None:
        self.loaded = {
            r.document.source_file or "<document>": Loaded(r, file_hash(r.document.source_file or ""), _now())
            for r in runtimes
        }

    def configuration(self) -> dict[str, Any]:
        return {"capabilities": configuration(self.loaded, {}), "reloadable": False}

    async def reload(self, *, reason: str, scripting: Mapping[str, Any] | None = None) -> ReloadOutcome:
        return _not_reloadable("this adapter is not served by `naftiko serve`: nothing can be reloaded")

    def secrets(self) -> list[Secret]:
        return _secrets(item.runtime for item in self.loaded.values())


def _not_reloadable(detail: str) -> ReloadOutcome:
    return ReloadOutcome(
        False,
        {"type": "about:blank", "title": "Conflict", "status": 409, "detail": detail, "reloaded": False},
        409,
    )


def _key(listener: serving.Listener, snapshot: Snapshot) -> tuple[str, str, str]:
    return (snapshot.name_of(listener.source), listener.kind, listener.namespace)


class LiveServer:
    """What ``naftiko serve`` serves, reloadable; the control adapters' :class:`ControlPlane`."""

    def __init__(
        self,
        paths: Sequence[str],
        options: RuntimeOptions,
        runtimes: Sequence[Runtime],
        *,
        metrics: Metrics,
        host: str | None = None,
        any_port: bool = False,
        shutdown_timeout: float = 10.0,
        reloadable: bool = True,
        ready_file: Path | None = None,
    ) -> None:
        self.paths = list(paths)
        self.options = options
        self.metrics = metrics
        self.host = host
        self.any_port = any_port
        self.shutdown_timeout = shutdown_timeout
        self.reloadable = reloadable
        self.ready_file = ready_file  # written again after a reload: new adapters, new ports
        self.drain = Drain()
        self.snapshot = Snapshot(_loaded_as_named(runtimes, self.paths, _now()))
        self.snapshot.skipped = [
            {"file": item.file, "reason": item.reason} for item in discover(self.paths).skipped
        ]
        self.generation = 1
        self.reloaded_at: str | None = None
        self.running: serving.Running | None = None
        self._lock = asyncio.Lock()
        self._scripting: dict[str, Any] = dict(options.scripting_overrides)
        self._background: set[asyncio.Task[Any]] = set()
        self._watching: asyncio.Event | None = None
        self.last_reload: dict[str, Any] | None = None  # shown in /config: the latest attempt

    # -- the control plane ---------------------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        views: dict[tuple[str, str, str], AdapterView] = {}
        for listener in self.running.listeners if self.running else ():
            views[_key(listener, self.snapshot)] = AdapterView(
                listener.host, listener.port, str(listener.state.get("state", "stopped"))
            )
        return {
            "generation": self.generation,
            "reloadedAt": self.reloaded_at,
            "reloadable": self.reloadable,
            "capabilities": configuration(self.snapshot.loaded, views),
            "skipped": self.snapshot.skipped,
            "lastReload": self.last_reload,
            **({"scriptingOverrides": self._scripting} if self._scripting else {}),
        }

    def secrets(self) -> list[Secret]:
        return _secrets(self.snapshot.runtimes)

    async def reload(self, *, reason: str, scripting: Mapping[str, Any] | None = None) -> ReloadOutcome:
        if not self.reloadable:
            return _not_reloadable(
                "reload needs a single serving process: this one runs with --workers above 1"
            )
        if self.running is None:
            return _not_reloadable("the servers are still starting; try again in a moment")
        async with self._lock:
            overrides = {**self._scripting, **(scripting or {})}
            try:
                changes = await self._reload(overrides)
            except Refused as exc:
                log.error(
                    "reload (%s) refused, still serving generation %d: %d problem(s)",
                    reason,
                    self.generation,
                    len(exc.lines),
                )
                for line in exc.lines:
                    log.error("reload refused: %s", line)
                self.last_reload = {"at": _now(), "trigger": reason, "ok": False, "problems": exc.problems}
                return ReloadOutcome(
                    False,
                    {
                        "type": "urn:naftiko:problem:reload-refused",
                        "title": "Unprocessable Content",
                        "status": 422,
                        "detail": "the new configuration has problems; the running one is unchanged",
                        "reloaded": False,
                        "trigger": reason,
                        "generation": self.generation,
                        "problems": exc.problems,
                    },
                    422,
                )
            self._scripting = overrides
            self.generation += 1
            self.reloaded_at = _now()
            _log_diff(reason, self.generation, changes)
            self.last_reload = {
                "at": self.reloaded_at,
                "trigger": reason,
                "ok": True,
                "generation": self.generation,
                "diff": changes,
            }
            return ReloadOutcome(
                True,
                {
                    "reloaded": True,
                    "trigger": reason,
                    "generation": self.generation,
                    "diff": changes,
                    "skipped": self.snapshot.skipped,
                },
            )

    # -- the reload itself -----------------------------------------------------------------------

    def _load(self, overrides: Mapping[str, Any]) -> Snapshot:
        """Every served file read, checked and built, or :class:`Refused` with every problem."""
        found = discover(self.paths)
        problems: list[dict[str, Any]] = []
        lines: list[str] = []
        if not found.files:
            raise Refused(
                [{"message": "no capability file left to serve"}], ["no capability file left to serve"]
            )
        reports = check_files(found.files, ports=not self.any_port)
        options = self.options
        if overrides:
            from dataclasses import replace

            options = replace(options, scripting_overrides=dict(overrides))
        loaded: dict[str, Loaded] = {}
        at = _now()
        for report in reports:
            if report.document is None:
                problems += [problem.as_dict() for problem in report.errors]
                lines += [problem.format() for problem in report.errors]
                continue
            source = report.file  # as found: a ConfigMap's link, not what it points to today
            document = report.document
            try:
                base_dir = Path(document.source_file).parent if document.source_file else None
                binds = resolve_binds(document.all_binds, base_dir, options.environ)  # read again
                pool = ClientPool(options.transport)
                for namespace, client in self._kept_clients(source, document, binds).items():
                    pool.adopt(namespace, client)
                runtime = Runtime(document, binds, options, pool)
            except NaftikoError as exc:  # a missing bind, a script language this machine lacks, ...
                problems.append({"file": report.file, "severity": "error", "message": str(exc)})
                lines.append(f"{report.file}: error: {exc}")
                continue
            loaded[source] = Loaded(runtime, file_hash(source), at)
        if problems:
            self._close_unused(loaded.values(), keep=self._all_clients(self.snapshot.loaded.values()))
            raise Refused(problems, lines)
        snapshot = Snapshot(loaded, [{"file": s.file, "reason": s.reason} for s in found.skipped])
        return snapshot

    def _kept_clients(self, source: str, document: Document, binds: BindValues) -> dict[str, HttpClient]:
        """The running clients of ``source``'s consumed namespaces declared exactly as before, with
        the same bind values (a client keeps its namespace's authenticator: a rotated secret needs
        a new one)."""
        running = self.snapshot.loaded.get(source)
        if running is None or running.runtime.binds.secrets() != binds.secrets():
            return {}
        before = {c.namespace: c for c in running.runtime.document.all_consumes}
        clients = running.runtime.pool.clients()
        return {
            consumes.namespace: clients[consumes.namespace]
            for consumes in document.all_consumes
            if before.get(consumes.namespace) == consumes and consumes.namespace in clients
        }

    async def _reload(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        running = self.running
        assert running is not None
        new = self._load(overrides)
        old_clients = self._all_clients(self.snapshot.loaded.values())
        try:
            plan = serving.plan(
                new.runtimes,
                host=self.host,
                metrics=self.metrics,
                any_port=self.any_port,
                plane=self,
                drain=self.drain,
            )
        except serving.ServeError as exc:
            self._close_unused(new.loaded.values(), keep=old_clients)
            raise Refused([{"severity": "error", "message": str(exc)}], [str(exc)]) from None
        if not plan.listeners:
            self._close_unused(new.loaded.values(), keep=old_clients)
            message = "the new configuration has no adapter to serve over HTTP"
            raise Refused([{"severity": "error", "message": message}], [message])
        try:
            return await self._swap(new, plan, old_clients)
        except Refused:
            for listener in plan.listeners:  # the new plan's readiness records, never swapped in
                self._forget_state(listener.state)
            raise

    def _forget_state(self, state: dict[str, Any]) -> None:
        with contextlib.suppress(ValueError):
            self.metrics.adapters.remove(state)

    async def _swap(self, new: Snapshot, plan: serving.ServePlan, old_clients: set[int]) -> dict[str, Any]:
        running = self.running
        assert running is not None
        current = {_key(listener, self.snapshot): listener for listener in running.listeners}
        swaps: list[tuple[serving.Listener, serving.Listener]] = []
        starts: list[serving.Listener] = []
        stops: list[serving.Listener] = []
        for listener in plan.listeners:
            old = current.pop(_key(listener, new), None)
            if old is not None and (self.any_port or (old.host, old.port) == (listener.host, listener.port)):
                swaps.append((old, listener))
                continue
            starts.append(listener)
            if old is not None:
                stops.append(old)
        stops += current.values()
        sockets: list[socket.socket] = []
        try:
            for listener in starts:
                sockets.append(serving.bind(listener))
        except serving.ServeError as exc:
            for sock in sockets:
                sock.close()
            self._close_unused(new.loaded.values(), keep=old_clients)
            raise Refused([{"severity": "error", "message": str(exc)}], [str(exc)]) from None
        changes = diff(self.snapshot.loaded, new.loaded)
        old_snapshot = self.snapshot
        # The swap: no await from here to the end of the loop, so no request sees half of it.
        for old, listener in swaps:
            old.app.app = listener.app.app  # AccessLog → the new DrainGate → the new adapter app
            old.summary, old.path = listener.summary, listener.path
            self._forget_state(listener.state)  # the running adapter keeps its readiness record
        for listener, sock in zip(starts, sockets, strict=True):
            running.start(listener, sock)
        stopping = []
        for listener in stops:
            stopping.append(running.forget(listener))
            listener.state["state"] = "stopped"
            self._forget_state(listener.state)
        self.snapshot = new
        # After the swap: stop what left, retire unused pools, wait until new adapters accept.
        for server, task in stopping:
            server.should_exit = True
            self._spawn(_finish(task))
        self._spawn(self._retire(old_snapshot, keep=self._all_clients(new.loaded.values())))
        await _started([running.servers[running.listeners.index(listener)] for listener in starts])
        for listener in starts:
            listener.state["state"] = "started"
        if self.ready_file is not None:
            try:
                serving.write_ready_file(self.ready_file, running.listeners, plan.skipped)
            except OSError as exc:
                log.error("cannot write the ready file %s: %s", self.ready_file, exc.strerror or exc)
        return changes

    @staticmethod
    def _all_clients(loaded: Iterable[Loaded]) -> set[int]:
        return {id(client) for item in loaded for client in item.runtime.pool.clients().values()}

    def _close_unused(self, loaded: Iterable[Loaded], *, keep: set[int]) -> None:
        """Close the clients of runtimes that will never serve, except the running ones they share."""
        for item in loaded:
            for client in item.runtime.pool.clients().values():
                if id(client) not in keep:
                    self._spawn(client.aclose())

    async def _retire(self, old: Snapshot, *, keep: set[int]) -> None:
        """Close the old runtimes' clients nobody kept, once requests that may use them are done."""
        await asyncio.sleep(self.shutdown_timeout)
        for item in old.loaded.values():
            for client in item.runtime.pool.clients().values():
                if id(client) not in keep:
                    await client.aclose()

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- triggers: SIGHUP and the file watcher --------------------------------------------------

    def attach(self, running: serving.Running, *, watch: bool = False) -> None:
        """Called once every adapter accepts requests: reload on SIGHUP (and on file changes)."""
        self.running = running
        self.triggers(self.reload, watch=watch)

    def triggers(self, reload: Callable[..., Awaitable[Any]], *, watch: bool) -> None:
        """Run ``reload(reason=...)`` on SIGHUP and, with ``watch``, on changes of the served files."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(reload(reason="SIGHUP")))
        if watch:
            from .watch import watch_files

            async def changed(paths: Sequence[str]) -> None:
                shown = ", ".join(sorted(paths)[:5]) + (", …" if len(paths) > 5 else "")
                await reload(reason=f"files changed: {shown}")

            self._watching = asyncio.Event()
            self._spawn(watch_files(self.paths, self._watching, changed))

    async def close(self) -> None:
        """Stop watching and finish background work (the process is shutting down)."""
        if self._watching is not None:
            self._watching.set()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for runtime in self.snapshot.runtimes:  # the ones a reload brought in (run() closes its own)
            await runtime.aclose()


async def _finish(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await task


async def _started(servers: Sequence[Any]) -> None:
    deadline = time.monotonic() + STARTUP_WAIT_S
    while not all(server.started for server in servers) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def _log_diff(reason: str, generation: int, changes: Mapping[str, Any]) -> None:
    parts = []
    for section in ("capabilities", "adapters", "units"):
        for what in ("added", "removed", "changed"):
            items = changes[section][what]
            if items:
                parts.append(f"{section} {what}: {', '.join(items)}")
    log.info(
        "reloaded (%s), now generation %d: %s%s",
        reason,
        generation,
        "; ".join(parts) or "nothing changed",
        ("; BREAKING: " + "; ".join(changes["breaking"])) if changes["breaking"] else "",
    )


class StdioReload:
    """``naftiko serve --stdio FILE``: SIGHUP (and ``--watch``) rebuild the file's MCP adapter; the
    client is sent ``notifications/{tools,resources,prompts}/list_changed`` for what changed. A
    broken version is logged (stderr) and never served."""

    def __init__(self, live: LiveServer, namespace: str, session: Any, *, watch: bool) -> None:
        self.live = live
        self.namespace = namespace
        self.session = session
        live.triggers(self.reload, watch=watch)

    async def reload(self, *, reason: str) -> list[str]:
        from .mcp import catalog

        live = self.live
        async with live._lock:
            try:
                new = live._load(live._scripting)
                runtime = new.runtimes[0]
                plan = next((p for p in runtime.mcp if p.expose.namespace == self.namespace), None)
                if plan is None:
                    message = f"no MCP adapter {self.namespace!r} left in the file"
                    raise Refused([{"message": message}], [message])
                try:
                    replacement = catalog(plan, runtime.context)
                except NaftikoError as exc:
                    raise Refused([{"message": str(exc)}], [str(exc)]) from None
            except Refused as exc:
                log.error("reload (%s) refused, still serving the previous version", reason)
                for line in exc.lines:
                    log.error("reload refused: %s", line)
                return []
            changed: list[str] = self.session.replace(replacement)
            old, live.snapshot = live.snapshot, new
            live._spawn(live._retire(old, keep=live._all_clients(new.loaded.values())))
            live.generation += 1
            log.info(
                "reloaded (%s): %s",
                reason,
                ", ".join(f"{kind} list changed" for kind in changed) or "no list changed",
            )
            return changed

    async def close(self) -> None:
        await self.live.close()
