"""``Workspace``: the one façade between front ends and the engine.

The playground, the command line and the MCP server mode all drive the engine
through a workspace, so none of them re-implements the wiring: it loads the
saved servers (creating a first configuration with the demo server), owns the
``ToolRegistry``, and saves every change atomically.

It is also the one run path: :meth:`Workspace.run` and :meth:`Workspace.run_skill`
are how every front end (playground, CLI, ``serve``, the Pydantic AI toolset)
runs code, so parameters are bound, runs of one sandbox take turns and history
is recorded (with the run's source) in one place.  ``serve`` over HTTP gives each
MCP session its own sandbox through :meth:`Workspace.executor_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import paths
from .check.checker import CodeChecker
from .check.diagnostic import Diagnostic
from .codegen.completion import MAX_ITEMS, Completion, Completions, SignatureHelp, signature_help
from .codegen.completion import complete as complete_code
from .config import (
    ConfigError,
    ImportReport,
    InputSpec,
    MCPServerConfig,
    ServersChange,
    check_module_names,
    load_servers,
    merge_servers,
    read_client_config,
    save_servers,
    update_servers,
)
from .connection import warm_sdk_imports
from .executor import CodeModeConfig, CodeModeExecutor, RunError, RunResult
from .executor.bindings import Bindings
from .executor.bridge import ToolCallCallback
from .executor.call_gate import CallGate, DryRunGate, GateCall, PolicyGate, ReplayGate
from .executor.config import CheckMode
from .executor.output import OutputCallback
from .executor.policy import ApprovalRequest, Approver, ToolPolicy
from .executor.recording import Recording, RecordingError
from .executor.run_result import NOTE_INTERRUPTED, ToolCallRecord
from .meta_tools import MetaTools
from .names import sanitize_identifier
from .registry import ToolRegistry
from .run_events import (
    RunApproval,
    RunEvent,
    RunFinished,
    RunListener,
    RunOutput,
    RunStarted,
    RunToolCall,
    SessionChanged,
)
from .search import SearchIndex
from .snippets import RunHistory, SnippetError, SnippetStore
from .snippets.history import RunRecord, record_from_run
from .snippets.recordings import RecordingStore
from .snippets.runner import run_with_values
from .tool_cache import CachedTools, ToolCache
from .tool_types import DiscoveryOutcome, ToolDefinition

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

DEMO_SERVER_NAME = "demo"

#: The host functions behind ``generated.skills`` (see codegen/skills_runtime.py).
SKILLS_LIST = "codemode.skills.list"
SKILLS_LOAD = "codemode.skills.load"

#: Which front end ran a run, as the history records it.
RunSource = Literal["playground", "cli", "serve", "toolset"]
#: Tool definitions a recording keeps per server it called (a larger catalog keeps only the tools called).
RECORDED_CATALOG_TOOLS = 500

#: A run that waited at least this long for another run of its sandbox says so in its notes.
QUEUE_NOTE_AFTER = 0.1
#: Sandboxes of client sessions alive at once (each local kernel is a process of ~100 MB).
DEFAULT_MAX_SESSIONS = 8
#: Seconds a session's sandbox may sit unused before it is closed.
DEFAULT_SESSION_IDLE_TIMEOUT = 600.0


class SessionLimitError(RuntimeError):
    """A new session would exceed the cap on live sandboxes; the message says what to do."""


@dataclass
class SessionSandbox:
    """One client session's sandbox: its executor and when it was last used."""

    session: str
    executor: CodeModeExecutor
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    runs: int = 0


@dataclass
class AgentSession:
    """A client session as a person watching agents sees it (``serve`` over HTTP)."""

    session: str
    client: str = ""
    """The client's name and version from its ``initialize`` (``clientInfo``), when it gave one."""
    first_seen: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.time)
    runs: int = 0
    closed: bool = False


def demo_server_config() -> MCPServerConfig:
    """The bundled demo server, started with the interpreter running us."""
    return MCPServerConfig(name=DEMO_SERVER_NAME, command=sys.executable, args=["-m", "codemode_tui", "demo-server"])


def _first_start(current: dict[str, MCPServerConfig]) -> None:
    """The first configuration: the demo server, unless another process wrote one meanwhile."""
    if not current:
        current[DEMO_SERVER_NAME] = demo_server_config()


class Workspace:
    """A session's settings, servers and engine parts.

    ``config_path`` given: that ``mcpServers`` file is used as is and never
    rewritten unless ``persist`` is true.  Otherwise the saved configuration
    in the config folder is used, created with the demo server on first start.
    ``registry`` given: that registry's servers, and nothing is saved.
    """

    def __init__(
        self,
        config_path: Path | None = None,
        *,
        persist: bool | None = None,
        registry: ToolRegistry | None = None,
        in_process: Mapping[str, MCPServer] | None = None,
    ) -> None:
        self.config_path = Path(config_path) if config_path else paths.servers_file()
        self.persist = persist if persist is not None else config_path is None
        self.servers: dict[str, MCPServerConfig] = {}
        self.load_error: ConfigError | None = None
        # ``registry`` given (a library caller's own ToolRegistry): its servers are used, no file is read.
        # ``in_process``: servers by name that run in this process (see ``ToolRegistry``); the
        # saved configuration of that name still describes them.
        self.registry = registry if registry is not None else ToolRegistry(in_process=in_process)
        # Ranked search over the registry's tools (kept current by a registry listener) and the
        # discovery meta-tools every front end answers with.
        self.index: SearchIndex = self.registry.search_index
        self.meta = MetaTools(self.registry, index=self.index)
        # Where saves of the servers file run.  ``None`` saves at once on the calling
        # thread; a front end that must never block (the playground) sets a function
        # that calls its argument on a worker thread, and ``on_save_error`` to hear
        # about a change the file refused.
        self.run_save: Callable[[Callable[[], None]], object] | None = None
        self.on_save_error: Callable[[Exception], None] | None = None
        self._pending: list[ServersChange] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        # How code runs (sandbox, limits); read when the executor is first created.
        self.executor_config = CodeModeConfig()
        self._executor: CodeModeExecutor | None = None
        # Per-session sandboxes (``serve`` over HTTP): created on a session's first run,
        # closed when it ends or sits idle; and each sandbox's turn lock (runs take turns).
        self.max_sessions = DEFAULT_MAX_SESSIONS
        self.session_idle_timeout = DEFAULT_SESSION_IDLE_TIMEOUT
        self._sessions: dict[str, SessionSandbox] = {}
        self._turns: dict[int, asyncio.Lock] = {}
        self._closing = False
        self._checker: CodeChecker | None = None
        self._check_bindings: Bindings | None = None
        self._check_bindings_dirty = True
        # Saved snippets (skills) and the run history, in the data folder.
        self.snippets = SnippetStore()
        self.history = RunHistory()
        # Each run's tool traffic (for replay), next to its history entry.
        self.recordings = RecordingStore()
        # The tool policy (allow / ask / deny) every run's calls pass, and who answers
        # "ask".  ``None``: no policy, every call runs (a library caller's own code, the
        # CLI).  ``serve`` and the playground set one; ``policy_path`` is where an
        # "always allow" answer is saved.
        self.policy: ToolPolicy | None = None
        self.policy_path: Path | None = None
        self.approver: Approver | None = None
        self._run_listeners: list[RunListener] = []
        self._agents: dict[str, AgentSession] = {}
        # Each server's last discovered tools, so a front end starts with a full list.
        self.tool_cache = ToolCache()
        self._cached_keys: dict[str, tuple[int, int]] = {}
        self._cache_saves: set[asyncio.Future[None]] = set()  # close() waits for them: a cache is never half-new
        self.registry.add_listener(self._cache_tools)
        self._run_keys = 0
        if registry is None:
            self._load()
        else:
            self.persist = False
            self.servers = {name: registry.server_config(name) for name in registry.server_names}

    # -- configuration ----------------------------------------------------------
    #
    # Another process (a CLI next to the playground, a second CLI) may change the
    # servers file at any time, so a change is never saved by writing this
    # workspace's copy back: each one is a function applied, under a file lock, to
    # the file as it is at that moment (``update_servers``).  ``self.servers`` is
    # this session's view: what it loaded plus its own changes.

    def _load(self) -> None:
        try:
            if not self.config_path.exists() and self.persist:
                self.servers = update_servers(self.config_path, _first_start)
            else:
                self.servers = load_servers(self.config_path)
        except ConfigError as exc:
            # Kept, never overwritten: saving is refused until the file is fixed.
            self.load_error = exc
            self.servers = {}
        except OSError as exc:
            self.load_error = ConfigError(f"cannot write the file ({exc.strerror or exc})", file=self.config_path)
            self.servers = {}
        for config in self.servers.values():
            self.registry.add_server(config)

    def _check_writable(self) -> None:
        if self.load_error is not None:
            raise ConfigError(
                "the servers file has an error and is not overwritten; fix it first",
                file=self.load_error.file,
            )

    def _persist(self, change: ServersChange) -> None:
        """Apply ``change`` to the saved file: now, or queued on the front end's worker."""
        self._check_writable()
        if not self.persist:
            return
        if self.run_save is None:
            update_servers(self.config_path, change)
            return
        with self._pending_lock:
            self._pending.append(change)
        self.run_save(self.flush_saves)

    def flush_saves(self) -> None:
        """Apply queued changes to the file, oldest first (runs on a worker thread).

        Each queued change is applied exactly once and in order, whichever worker
        gets here first; a change the file refuses (a name another process took
        meanwhile) is reported through ``on_save_error`` and the others still apply.
        """
        with self._flush_lock:
            with self._pending_lock:
                changes, self._pending = self._pending, []
            if not changes:
                return
            refused: list[Exception] = []

            def apply_all(current: dict[str, MCPServerConfig]) -> None:
                for change in changes:
                    try:
                        change(current)
                    except ConfigError as exc:
                        refused.append(exc)

            try:
                update_servers(self.config_path, apply_all)
            except (ConfigError, OSError) as exc:
                refused.append(exc)
            for exc in refused:
                if self.on_save_error is None:
                    raise exc
                self.on_save_error(exc)

    def _taken_elsewhere(self, config: MCPServerConfig) -> ConfigError:
        return ConfigError(
            f"another program saved a server named {config.name!r} meanwhile; pick another name",
            file=self.config_path,
            server=config.name,
        )

    def add_server(self, config: MCPServerConfig, *, replace: bool = False) -> None:
        """Add (or with ``replace``, update) a server and save the configuration."""
        if config.name in self.servers and not replace:
            raise ConfigError(f"a server named {config.name!r} already exists; pick another name", server=config.name)
        self._check_writable()  # do not diverge from a file we cannot write
        check_module_names([*(n for n in self.servers if n != config.name), config.name])

        def change(current: dict[str, MCPServerConfig]) -> None:
            if not replace and config.name in current and current[config.name] != config:
                raise self._taken_elsewhere(config)
            current[config.name] = config

        self._persist(change)
        self.registry.add_server(config, replace=replace)
        self.servers[config.name] = config

    def remove_server(self, name: str) -> None:
        """Remove a server and save the configuration."""
        if name not in self.servers:
            raise ConfigError(f"no server named {name!r}", server=name)

        def change(current: dict[str, MCPServerConfig]) -> None:
            current.pop(name, None)  # already removed elsewhere: nothing to do

        self._persist(change)
        self.registry.remove_server(name)
        del self.servers[name]

    def set_enabled(self, name: str, enabled: bool) -> MCPServerConfig:
        """Enable or disable a server (saved); the caller reconnects or closes it.

        Only the flag changes in the file: edits another program made to the
        server's other settings are kept.
        """
        config = self.servers[name].model_copy(update={"enabled": enabled})

        def change(current: dict[str, MCPServerConfig]) -> None:
            if name in current:  # removed elsewhere meanwhile: stays removed
                current[name] = current[name].model_copy(update={"enabled": enabled})

        self._persist(change)
        self.registry.add_server(config, replace=True)
        self.servers[name] = config
        return config

    def import_servers(
        self,
        source: Path | Mapping[str, MCPServerConfig],
        *,
        replace: bool = False,
        inputs: Mapping[str, str] | None = None,
        save_inputs: bool = False,
    ) -> ImportReport:
        """Merge servers from another client's file; clashes and bad entries are reported, not fatal.

        ``source`` is a file as Claude Desktop, Claude Code, Cursor, VS Code or
        Windsurf write it (see :func:`~codemode_tui.config.parse_client_config`)
        or servers already built.  ``inputs`` gives VS Code ``${input:id}``
        values by id: they stay in memory for this session and the servers file
        keeps a ``${VAR}`` placeholder, unless ``save_inputs`` writes the values
        themselves.  Environment placeholders are filled when a server connects.
        """
        failed: dict[str, str] = {}
        missing: list[InputSpec] = []
        if isinstance(source, (str, Path)):
            client = read_client_config(Path(source), inputs=inputs, save_inputs=save_inputs)
            incoming, failed, missing = client.servers, client.failed, client.missing_inputs
        else:
            incoming = dict(source)
        taken = {sanitize_identifier(name, fallback="server"): name for name in self.servers}
        for name in list(incoming):
            other = taken.get(sanitize_identifier(name, fallback="server"), name)
            if other != name:  # a-b beside our a_b: one module for two servers
                failed[name] = f"becomes the same Python module as the server {other!r} you have; rename one"
                del incoming[name]
        merged, report = merge_servers(self.servers, incoming, replace=replace)
        self._check_writable()
        check_module_names(merged)
        saved: list[ImportReport] = []

        def change(current: dict[str, MCPServerConfig]) -> None:
            updated, on_disk = merge_servers(current, incoming, replace=replace)
            current.update(updated)
            saved.append(on_disk)

        self._persist(change)
        if saved:  # saved at once: the file's own view of what was added and what clashed
            report = saved[0]
        for name in report.added + report.replaced:
            self.registry.add_server(incoming[name], replace=name in self.servers)
            self.servers[name] = incoming[name]
            unset = incoming[name].unresolved()
            if unset:
                report.needs_env[name] = unset
        report.failed, report.missing_inputs = failed, missing
        return report

    def export_servers(self, path: Path) -> None:
        """Write the servers as an ``mcpServers`` file another client can read."""
        save_servers(path, self.servers.values())

    # -- engine -----------------------------------------------------------------

    async def start(self, servers: Iterable[str] | None = None) -> dict[str, DiscoveryOutcome]:
        """Connect to every enabled server (or those of ``servers``) and discover its tools (concurrently)."""
        return await self.registry.discover_all(servers)

    def load_cached_tools(self) -> dict[str, CachedTools]:
        """List each enabled server's cached tools (see :mod:`.tool_cache`) where none are known yet.

        Instant: a front end shows them while :meth:`start` connects, and the
        discovered tools replace them.  Returns what was loaded, per server.
        """
        loaded: dict[str, CachedTools] = {}
        for name in self.registry.server_names:
            config = self.registry.server_config(name)
            if not config.enabled or self.registry.list_tools(name):
                continue
            cached = self.tool_cache.load(config)
            if cached is not None:
                self.registry.load_tools(name, cached.tools)
                loaded[name] = cached
        return loaded

    def _cache_tools(self, server: str) -> None:
        """Registry listener: save a connected server's tools after each discovery."""
        if server not in self.registry.server_names:
            self._cached_keys.pop(server, None)
            return
        connection = self.registry.connection(server)
        tools = self.registry.list_tools(server)
        if not connection.connected or not tools:
            return
        key = (len(tools), id(tools[0]))
        if self._cached_keys.get(server) == key:
            return
        self._cached_keys[server] = key
        config = connection.config

        def save() -> None:
            self.tool_cache.save(config, tools)

        try:
            saving = asyncio.get_running_loop().run_in_executor(None, save)
        except RuntimeError:
            save()
            return
        self._cache_saves.add(saving)
        saving.add_done_callback(self._cache_saves.discard)

    @property
    def executor(self) -> CodeModeExecutor:
        """The sandboxed executor, created on first use (its sandbox starts on first run or warm-up)."""
        if self._executor is None:
            self._executor = self._new_executor()
        return self._executor

    def adopt_executor(self, executor: CodeModeExecutor) -> None:
        """Run on ``executor`` (shared with another front end) instead of creating one."""
        self._serve_skills(executor)
        self._executor = executor

    def _new_executor(self) -> CodeModeExecutor:
        executor = CodeModeExecutor(self.registry, config=self.executor_config)
        self._serve_skills(executor)
        return executor

    def _serve_skills(self, executor: CodeModeExecutor) -> None:
        """Answer ``generated.skills`` calls from this workspace's saved skills (code composes skills)."""

        async def list_skills(arguments: dict[str, Any]) -> list[dict[str, Any]]:
            return [snippet.listing() for snippet in await asyncio.to_thread(self.snippets.list)]

        async def load_skill(arguments: dict[str, Any]) -> dict[str, Any]:
            name = arguments.get("name")
            if not isinstance(name, str):
                raise SnippetError("load_skill needs the skill's name")
            found = await asyncio.to_thread(self.snippets.get, name)
            values = found.bind(arguments.get("arguments") or {})
            return {"name": found.name, "description": found.description, "code": found.code, "values": values}

        executor.bridge.host_functions.update({SKILLS_LIST: list_skills, SKILLS_LOAD: load_skill})

    def warm_sdk(self) -> asyncio.Future[None]:
        """Done once the SDK's lazy imports are (:func:`.connection.warm_sdk_imports`; connecting starts them).

        A server front end awaits it before it takes requests, so a first call
        never imports them on the event loop.
        """
        return asyncio.wrap_future(warm_sdk_imports())

    def warm_executor(self) -> asyncio.Task[None]:
        """Start the sandbox in the background (about 2 s for a local kernel), e.g. while the UI opens."""
        return self.executor.warm()

    async def ensure_executor(self, *, sandbox: str | None = None) -> CodeModeExecutor:
        """The executor with its sandbox started; ``sandbox`` picks the kind before first use."""
        if sandbox is not None and self._executor is None:
            self.executor_config = dataclasses.replace(self.executor_config, sandbox=sandbox)  # type: ignore[arg-type]
        executor = self.executor
        await executor.setup()
        return executor

    # -- sessions: one sandbox per client session ----------------------------------

    def executor_for(self, session: str | None = None) -> CodeModeExecutor:
        """The executor of ``session`` (an MCP session id), created on its first use.

        ``None`` is the workspace's own executor (the playground, the CLI,
        ``serve`` over stdio).  Each named session gets a sandbox of its own, so
        two agents never see each other's variables; at most
        :attr:`max_sessions` live at once, beyond that :class:`SessionLimitError`.
        """
        if session is None:
            return self.executor
        entry = self._sessions.get(session)
        if entry is None:
            if self._closing:
                raise SessionLimitError("the workspace is closing; no new sessions")
            if len(self._sessions) >= self.max_sessions:
                raise SessionLimitError(
                    f"{len(self._sessions)} sessions already have a sandbox (the cap is {self.max_sessions}); "
                    "end another session, wait for an idle one to close, or raise the cap "
                    "(serve --max-sessions)"
                )
            entry = SessionSandbox(session, self._new_executor())
            self._sessions[session] = entry
        entry.last_used = time.monotonic()
        return entry.executor

    def note_session(self, session: str, client: str = "") -> AgentSession:
        """Remember a client session on each of its requests (``serve`` calls it), for the Agents view."""
        entry = self._agents.get(session)
        new = entry is None or entry.closed
        if entry is None:
            entry = self._agents[session] = AgentSession(session, client)
            while len(self._agents) > 200:  # forget the oldest closed ones
                oldest = next((k for k, v in self._agents.items() if v.closed), None)
                if oldest is None:
                    break
                del self._agents[oldest]
        entry.closed = False
        entry.last_seen = time.time()
        if client and client != entry.client:
            entry.client, new = client, True
        if new:
            self._emit(SessionChanged(session))
        return entry

    @property
    def agent_sessions(self) -> list[AgentSession]:
        """Client sessions seen, oldest first (closed ones too, until many more have come)."""
        return list(self._agents.values())

    def session_running(self, session: str) -> bool:
        """Whether a run of ``session`` is in progress or waiting for its turn."""
        entry = self._sessions.get(session)
        return entry is not None and self._busy(entry.executor)

    def interrupt_session(self, session: str | None) -> bool:
        """Stop the run in progress of ``session`` (``None``: the workspace's own); ``False`` when none runs."""
        if session is None:
            return self._executor.interrupt() if self._executor is not None else False
        entry = self._sessions.get(session)
        return entry.executor.interrupt() if entry is not None else False

    @property
    def sessions(self) -> list[SessionSandbox]:
        """The live per-session sandboxes, oldest first (for a front end to show)."""
        return list(self._sessions.values())

    async def close_session(self, session: str) -> bool:
        """Stop ``session``'s sandbox (its client went away); ``False`` if it had none."""
        agent = self._agents.get(session)
        if agent is not None:
            agent.closed = True
            self._emit(SessionChanged(session, closed=True))
        entry = self._sessions.pop(session, None)
        if entry is None:
            return False
        self._turns.pop(id(entry.executor), None)
        await entry.executor.cleanup()
        return True

    async def close_idle_sessions(self, idle: float | None = None) -> list[str]:
        """Stop the sandboxes unused for ``idle`` seconds (default :attr:`session_idle_timeout`).

        A session whose run is in progress or queued is never idle.  Returns
        the sessions closed.
        """
        limit = self.session_idle_timeout if idle is None else idle
        now = time.monotonic()
        stale = [
            entry.session
            for entry in self._sessions.values()
            if now - entry.last_used >= limit and not self._busy(entry.executor)
        ]
        for session in stale:
            await self.close_session(session)
        return stale

    def _busy(self, executor: CodeModeExecutor) -> bool:
        turn = self._turns.get(id(executor))
        return executor.running or (turn is not None and turn.locked())

    def _turn(self, executor: CodeModeExecutor) -> asyncio.Lock:
        """Runs of one sandbox take turns as a whole: parameters and code, never interleaved."""
        lock = self._turns.get(id(executor))
        if lock is None:
            lock = self._turns[id(executor)] = asyncio.Lock()
        return lock

    # -- runs: the one path every front end takes ----------------------------------

    async def run(
        self,
        code: str,
        *,
        values: dict[str, Any] | None = None,
        snippet: str | None = None,
        timeout: float | None = None,
        source: RunSource = "playground",
        session: str | None = None,
        on_output: OutputCallback | None = None,
        on_tool_call: ToolCallCallback | None = None,
        check: CheckMode | None = None,
        replay: Recording | None = None,
        replay_reads: bool = False,
        dry_run: bool = False,
        approver: Approver | None = None,
        replay_of: str | None = None,
    ) -> RunResult:
        """Run ``code`` in the sandbox of ``session`` and record it in the history.

        Every tool call passes the workspace's :attr:`policy` (``ask`` goes to
        ``approver``, else :attr:`approver`).  ``replay``: answer every call from
        that recording and contact no server (``replay_reads``: only the
        read-only calls; the others go to the policy and run live).
        ``dry_run``: hold back every call that is not read-only (answered from
        ``replay`` when it has the call, else a placeholder) and list it in
        ``result.effects``.  The run's own recording is saved with its history
        entry (``RunRecord.recorded``).

        The only way a front end runs code, so every run is recorded the same
        way (with its ``source``: playground, cli, serve, toolset).  ``values``
        are already-checked parameter values (``Snippet.bind``), set in the
        sandbox before ``code`` runs; ``snippet`` names the snippet in the
        history; ``check`` overrides the executor's type check (``warn``,
        ``block``, ``off``).  Never raises for what the code does; a run that waited for
        another run of the same sandbox says so in its notes, and its
        ``timeout`` counts from when it starts, not from when it was queued.
        Raises :class:`SessionLimitError` when ``session`` is new and the cap is
        reached.  A run cancelled while it waits (the caller's task) is recorded
        as cancelled, then the cancellation propagates.
        """
        executor = self.executor_for(session)
        gates, mode = self._gates(code, session, source, replay, replay_reads, dry_run, approver)
        if replay is not None:
            self.load_recorded_tools(replay)
        self._run_keys += 1
        key = f"run-{self._run_keys}"
        self._emit(RunStarted(key, code, source, session, mode, snippet))
        watched_output, watched_call = self._watch(key, on_output, on_tool_call)
        queued = time.perf_counter()
        try:
            async with self._turn(executor):
                waited = time.perf_counter() - queued
                try:
                    result = await run_with_values(
                        executor,
                        code,
                        values or {},
                        timeout=timeout,
                        on_output=watched_output,
                        on_tool_call=watched_call,
                        check=check,
                        gates=gates,
                        mode=mode,
                    )
                except SnippetError as exc:
                    result = RunResult(run_id=uuid.uuid4().hex, sandbox=executor.sandbox_kind)
                    result.error = RunError("SnippetError", str(exc))
                if waited >= QUEUE_NOTE_AFTER:
                    result.notes.append(f"waited {waited:.1f} s for another run")
        except asyncio.CancelledError:
            stopped = RunResult(run_id=uuid.uuid4().hex, sandbox=executor.sandbox_kind, notes=[NOTE_INTERRUPTED])
            stopped.error = RunError("CancelledError", "the run was stopped before it finished")
            stopped.duration = time.perf_counter() - queued
            record = self.history.add_run(code, stopped, snippet=snippet, source=source, session=session)
            self._emit(RunFinished(key, stopped, record))
            raise
        if session is not None and session in self._sessions:
            self._sessions[session].last_used = time.monotonic()
            self._sessions[session].runs += 1
        if session is not None and session in self._agents:
            self._agents[session].runs += 1
        record = record_from_run(code, result, snippet=snippet, source=source, session=session)
        record.replay_of = replay_of
        await asyncio.to_thread(self._save_run, record, code, result)
        self._emit(RunFinished(key, result, record))
        return result

    # -- recordings, replay, dry runs and policy -------------------------------------

    def _gates(
        self,
        code: str,
        session: str | None,
        source: str,
        replay: Recording | None,
        replay_reads: bool,
        dry_run: bool,
        approver: Approver | None,
    ) -> tuple[list[CallGate], str]:
        """The gates of one run, and its mode (see :mod:`.executor.call_gate`)."""
        gates: list[CallGate] = []
        mode = "live"
        if dry_run:
            if replay is not None and replay_reads:  # the reads from the recording too, on request
                gates.append(ReplayGate(replay, reads_only=True))
            gates.append(DryRunGate(replay))
            mode = "dry-run"
        elif replay is not None:
            gates.append(ReplayGate(replay, reads_only=replay_reads))
            mode = "replay-reads" if replay_reads else "replay"
        if self.policy is not None and mode != "replay":
            asker = approver or self.approver
            gates.append(
                PolicyGate(
                    self.policy,
                    self._announce(asker) if asker is not None else None,
                    code=code,
                    session=session,
                    source=source,
                    on_always=self._save_policy,
                )
            )
        return gates, mode

    async def authorize(
        self,
        tool: ToolDefinition,
        arguments: dict[str, Any],
        *,
        approver: Approver | None = None,
        source: RunSource = "serve",
        session: str | None = None,
    ) -> str | None:
        """Pass one call made outside code (``serve``'s ``call_tool``) through the same policy gate as calls
        from code: returns what was decided, raises ``ToolError("denied by policy: ...")`` when refused."""
        record = ToolCallRecord(
            call_id=0,
            run_id="",
            name=tool.qualified_name,
            server=tool.server,
            tool=tool.name,
            arguments=arguments,
            started=time.time(),
        )
        gates, _ = self._gates("", session, source, None, False, False, approver)
        for gate in gates:
            await gate(GateCall(record, tool, contextlib.nullcontext))
        return record.decision

    def _announce(self, approver: Approver) -> Approver:
        """``approver``, with every request also told to the run listeners (the Agents view)."""

        async def ask(request: ApprovalRequest) -> Any:
            self._emit(RunApproval(None, request))
            return await approver(request)

        return ask

    def _save_policy(self, tool: str) -> None:
        if self.policy is not None and self.policy_path is not None:
            try:
                self.policy.save(self.policy_path)
            except OSError:
                pass  # the change holds for this session; the next save tries again

    def _save_run(self, record: RunRecord, code: str, result: RunResult) -> None:
        """Save the run's recording (with the catalogs of the servers it called), then its history line."""
        recording = result.recording
        if recording is not None and recording.calls:
            recording.code = code
            for server in {call.tool.partition("__")[0] for call in recording.calls}:
                if server in self.registry.server_names and server not in recording.tools:
                    tools = self.registry.list_tools(server)
                    if len(tools) > RECORDED_CATALOG_TOOLS:
                        called = {call.tool for call in recording.calls}
                        tools = [tool for tool in tools if tool.qualified_name in called]
                    recording.tools[server] = [tool.to_dict() for tool in tools]
            try:
                self.recordings.save(record.id, recording)
                record.recorded = True
            except (OSError, RecordingError):
                record.recorded = False
        self.history.add_record(record)

    def recording_of(self, record: RunRecord | str) -> Recording:
        """The recording of a past run (an empty one for a run that made no call)."""
        return self._recorded_run(record)[1]

    def _recorded_run(self, record: RunRecord | str) -> tuple[RunRecord, Recording]:
        """A past run (by id or prefix) and its recording: file reads, so callers on a loop use a thread."""
        found = self.history.get(record) if isinstance(record, str) else record
        if found is None:
            raise RecordingError(f"no run {record!r} in the history; `codemode-tui runs list` shows them")
        if not found.recorded:
            if found.trace:
                raise RecordingError(f"run {found.id} made tool calls but has no recording (it was removed)")
            return found, Recording(code=found.code)
        return found, self.recordings.load(found.id)

    def load_recorded_tools(self, recording: Recording) -> None:
        """Make the recorded servers' tools known (for the bindings) where discovery has not.

        A replay contacts no server, so a server that is stopped, failed or gone
        from the configuration gets its tools from the recording.
        """
        for server, tools in recording.tool_definitions().items():
            if server in self.registry.server_names and self.registry.list_tools(server):
                continue
            try:
                if server not in self.registry.server_names:
                    self.registry.add_server(MCPServerConfig(name=server, command="true", enabled=False))
                self.registry.load_tools(server, tools)
            except (ValueError, KeyError):
                continue

    async def replay(
        self,
        record: RunRecord | str,
        *,
        code: str | None = None,
        reads_only: bool = False,
        source: RunSource = "playground",
        session: str | None = None,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        on_tool_call: ToolCallCallback | None = None,
    ) -> RunResult:
        """Run a past run's code (or ``code``, an edit of it) with its calls answered from its recording.

        No server is contacted (``reads_only``: only read-only calls come from
        the recording; the rest go to the policy and run live).  ``result.divergences``
        lists each call not in the recording and each recorded call not made.
        Raises :class:`RecordingError` when the run or its recording is missing.
        """
        found, recording = await asyncio.to_thread(self._recorded_run, record)
        return await self.run(
            found.code if code is None else code,
            timeout=timeout,
            source=source,
            session=session,
            on_output=on_output,
            on_tool_call=on_tool_call,
            check="off",
            replay=recording,
            replay_reads=reads_only,
            replay_of=found.id,
            snippet=found.snippet,
        )

    # -- run listeners -----------------------------------------------------------

    def add_run_listener(self, listener: RunListener) -> Callable[[], None]:
        """Hear about every run as it happens (see :mod:`.run_events`); returns a function that stops it."""
        self._run_listeners.append(listener)

        def remove() -> None:
            if listener in self._run_listeners:
                self._run_listeners.remove(listener)

        return remove

    def _emit(self, event: RunEvent) -> None:
        for listener in list(self._run_listeners):
            try:
                listener(event)
            except Exception:
                logging.getLogger(__name__).exception("a run listener failed")

    def _watch(
        self, key: str, on_output: OutputCallback | None, on_tool_call: ToolCallCallback | None
    ) -> tuple[OutputCallback | None, ToolCallCallback | None]:
        """The run's callbacks, also telling the run listeners (only when there are any)."""
        if not self._run_listeners:
            return on_output, on_tool_call

        def output(stream: str, text: str) -> Any:
            self._emit(RunOutput(key, stream, text))
            return on_output(stream, text) if on_output is not None else None

        def call(record: Any) -> Any:
            self._emit(RunToolCall(key, record))
            return on_tool_call(record) if on_tool_call is not None else None

        return output, call

    async def run_skill(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        source: RunSource = "playground",
        session: str | None = None,
        on_output: OutputCallback | None = None,
        on_tool_call: ToolCallCallback | None = None,
        check: CheckMode | None = None,
        dry_run: bool = False,
        approver: Approver | None = None,
    ) -> RunResult:
        """Run the saved skill ``name`` with ``arguments`` (strings are converted to the parameter types).

        Wrong arguments (missing, mistyped) or an unknown skill raise
        ``SnippetError`` before anything runs, so the caller can say what to
        fix; nothing is recorded then.  Otherwise like :meth:`run`.
        """
        found = self.snippets.get(name)
        values = found.bind(arguments)
        return await self.run(
            found.code,
            values=values,
            snippet=found.name,
            timeout=timeout,
            source=source,
            session=session,
            on_output=on_output,
            on_tool_call=on_tool_call,
            check=check,
            dry_run=dry_run,
            approver=approver,
        )

    async def close_sandboxes(self) -> None:
        """Stop every sandbox (sessions' and the workspace's own); the servers stay connected."""
        self._closing = True
        try:
            for session in list(self._sessions):
                await self.close_session(session)
        finally:
            self._closing = False
        if self._executor is not None:
            executor, self._executor = self._executor, None
            self._turns.pop(id(executor), None)
            await executor.cleanup()

    # -- type check -------------------------------------------------------------------

    async def check(self, code: str, *, defined: Iterable[str] | None = None) -> list[Diagnostic]:
        """Type-check ``code`` against the bindings of the discovered tools, without a sandbox.

        The editor and ``codemode-tui check`` use this; runs check through their
        executor (``check=`` on :meth:`run`).  The bindings are generated into a
        private folder kept in step with the registry, and one checker process
        stays warm until :meth:`close`.  Raises ``CheckerUnavailable`` when ty
        cannot run here.  ``defined``: names that exist before the code runs;
        by default those earlier runs of the workspace's own sandbox bound.
        """
        if defined is None:
            defined = self._executor.defined_names if self._executor is not None else ()
        if self._checker is None:
            folder = Path(tempfile.mkdtemp(prefix="codemode-check-bindings-"))
            self._check_bindings = Bindings(folder)
            self._checker = CodeChecker(folder)
            self.registry.add_listener(self._check_bindings_stale)
        assert self._check_bindings is not None
        # Regenerated only after the registry changed, not on every check (the editor checks per pause).
        if self._check_bindings_dirty:
            self._check_bindings_dirty = False
            if await asyncio.to_thread(self._check_bindings.refresh, self.registry.list_tools()):
                self._checker.bindings_changed()
        return await self._checker.check(code, defined=defined)

    async def complete(self, code: str, line: int, column: int, *, session: str | None = None) -> Completions:
        """What fits at ``line`` (1-based) / ``column`` (0-based): modules, tools, parameters, attributes.

        The bindings' names come from the registry (instant, see
        :mod:`.codegen.completion`); after ``value.`` the sandbox of ``session``
        is asked what the value holds, when it is started and idle.
        """
        found = complete_code(code, line, column, self.registry.list_tools())
        if found.attribute_of is None:
            return found
        executor = self._executor if session is None else self._sessions.get(session, None)
        executor = executor.executor if isinstance(executor, SessionSandbox) else executor
        if executor is None:
            return found
        lines = code.split("\n")
        cursor = sum(len(text) + 1 for text in lines[: line - 1]) + min(column, len(lines[line - 1]))
        start, matches = await executor.complete(code, cursor)
        prefix = code[start:cursor]
        items = [Completion(m, m, "attribute") for m in dict.fromkeys(matches) if m and not m.startswith("_")]
        if prefix.startswith("_"):
            items = [Completion(m, m, "attribute") for m in dict.fromkeys(matches) if m]
        return Completions(prefix, items[:MAX_ITEMS], attribute_of=found.attribute_of)

    def signature_help(self, code: str, line: int, column: int) -> SignatureHelp | None:
        """The tool whose call the cursor is in: its signature and description (see :mod:`.codegen.completion`)."""
        return signature_help(code, line, column, self.registry.list_tools())

    def _check_bindings_stale(self, server: str) -> None:
        self._check_bindings_dirty = True

    async def close(self) -> None:
        """Close every session and engine part; safe to call twice."""
        await self.close_sandboxes()
        checker, self._checker = self._checker, None
        if checker is not None:
            self.registry.remove_listener(self._check_bindings_stale)
            await checker.close()
        bindings, self._check_bindings = self._check_bindings, None
        if bindings is not None:
            shutil.rmtree(bindings.output_path, ignore_errors=True)
        await self.registry.close()
        if self._cache_saves:
            await asyncio.gather(*self._cache_saves, return_exceptions=True)

    async def __aenter__(self) -> Workspace:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
