"""``CodeModeExecutor``: run Python that composes MCP tools, in a sandbox, under limits that hold.

One executor owns one sandbox (a kernel process by default), one tool-call
bridge and one folder of generated bindings.  ``execute()`` never raises for
anything the code does: errors, timeouts, a dead kernel and refused calls are
all reported in the :class:`~.run_result.RunResult`.

How a timeout is enforced: at the deadline the sandbox is interrupted (SIGINT
for a kernel; for an awaiting cell, its task is cancelled).  If the code has
not stopped after ``interrupt_grace`` seconds, the kernel is restarted in the
background and the result says "kernel restarted, state lost"; the caller has
control back within the timeout plus two seconds, and the next run waits for
the fresh kernel.

Front ends follow the executor's state (:data:`~.config.SandboxState`) by
registering a listener with :meth:`CodeModeExecutor.add_state_listener`: every
change is pushed as it happens, so nobody polls ``ready``/``running``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import logging
import os
import shutil
import socket
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..registry import ToolRegistry
from .bindings import Bindings
from .bridge import ToolBridge, ToolCallCallback
from .call_gate import CallGate, divergences_of, effects_of
from .config import CHECK_MODES, CheckMode, CodeModeConfig, SandboxState
from .errors import ExecutorClosed, KernelChannelError, KernelDied, SandboxStartError
from .kernel_bootstrap import VALUE_TRUNCATION_TAG
from .output import MARKER_ALLOWANCE, OutputCallback, OutputCollector
from .run_check import RunChecker, blocking_summary, has_errors
from .run_result import (
    NOTE_BLOCKED,
    NOTE_CALL_CAP,
    NOTE_INTERRUPTED,
    NOTE_NOT_ISOLATED,
    NOTE_RESTARTED,
    NOTE_TIMED_OUT,
    NOTE_TRUNCATED,
    NOTE_VALUE_TRUNCATED,
    RunError,
    RunResult,
)
from .sandbox import CellOutcome, Sandbox

log = logging.getLogger(__name__)

StateListener = Callable[[SandboxState], Any]
"""``listener(state)``, called on the executor's loop each time its state changes."""

#: Longest wait for a restart before handing control back to the caller.
RESTART_WAIT = 0.7
#: Longest wait for the interrupt request itself.
INTERRUPT_WAIT = 0.3


#: Folders (and their sandboxes) of executors not cleaned up yet, removed when the interpreter exits:
#: a front end that closes its loop without awaiting cleanup() leaves nothing behind either.
_UNCLEANED: dict[Path, Callable[[], None]] = {}


@atexit.register
def _cleanup_at_exit() -> None:
    for session, stop in list(_UNCLEANED.items()):
        with contextlib.suppress(Exception):
            stop()
        shutil.rmtree(session, ignore_errors=True)
    _UNCLEANED.clear()


def _cancelling() -> bool:
    """Whether the current task itself is being cancelled (as opposed to a task it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _socket_path(session: Path) -> Path | None:
    """A Unix socket for a kernel on this machine, when the OS has them and the path fits (~100 bytes)."""
    path = session / "bridge.sock"
    if not hasattr(socket, "AF_UNIX") or len(os.fsencode(path)) > 100:
        return None
    return path


class CodeModeExecutor:
    """Runs code in a sandbox with typed tool bindings (see the module docstring).

    ::

        async with CodeModeExecutor(registry) as executor:
            result = await executor.execute("from generated.servers.demo import calculate\\n"
                                            "await calculate(a=2, b=3)")
            print(result.value)   # 5.0
    """

    def __init__(self, registry: ToolRegistry, config: CodeModeConfig | None = None) -> None:
        self.registry = registry
        self.config = config or CodeModeConfig()
        self.bridge = ToolBridge(
            registry,
            tool_timeout=self.config.tool_timeout,
            host=self.config.bridge_host,
            port=self.config.bridge_port,
            advertise_host=self.config.bridge_advertise_host,
            audit_path=self.config.audit_path,
        )
        self._sandbox: Sandbox | None = None
        self._bindings: Bindings | None = None
        self._session_dir: Path | None = None
        self._setup_task: asyncio.Task[None] | None = None
        self._restart_task: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._bindings_dirty = True
        self._checker = RunChecker()
        self._active: tuple[asyncio.Task[CellOutcome], asyncio.Event] | None = None
        self._closed = False
        self._state: SandboxState = "not started"
        self._state_listeners: list[StateListener] = []
        self.startup_seconds: float | None = None
        registry.add_listener(self._on_registry_change)

    # -- state ---------------------------------------------------------------------

    @property
    def state(self) -> SandboxState:
        """Where the sandbox is now (see :data:`~.config.SandboxState`)."""
        return self._state

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener(state)`` on every state change; returns the function that removes it.

        The listener is not called with the current state: read :attr:`state` for that.
        An exception in a listener is logged and does not disturb the executor.
        """
        self._state_listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._state_listeners.remove(listener)

        return remove

    def _set_state(self, state: SandboxState) -> None:
        if self._state == state or (self._closed and state != "closed"):
            return
        self._state = state
        for listener in list(self._state_listeners):
            try:
                listener(state)
            except Exception:
                log.exception("executor state listener failed")

    def _settled_state(self) -> SandboxState:
        """The state between runs: ready, or restarting while a restart is under way."""
        if self._closed:
            return "closed"
        if self._restart_task is not None and not self._restart_task.done():
            return "restarting"
        return "ready" if self._sandbox is not None else "not started"

    def _watch_restart(self, task: asyncio.Task[None]) -> None:
        def done(finished: asyncio.Task[None]) -> None:
            if self._restart_task is not finished and self._restart_task is not None:
                return
            if finished.cancelled() or finished.exception() is not None:
                self._set_state("failed")
            elif self._active is None:
                self._set_state("ready")

        task.add_done_callback(done)

    @property
    def sandbox_kind(self) -> str:
        """``local``, ``jupyter`` or ``eval``."""
        return self.config.sandbox

    @property
    def isolated(self) -> bool:
        """Whether user code runs in a separate process."""
        return self.config.isolated

    @property
    def ready(self) -> bool:
        """Whether the sandbox is started (a run will not wait for it)."""
        return self._sandbox is not None and self._restart_task is None

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self._active is not None

    @property
    def session_dir(self) -> Path | None:
        """The private folder of this executor's sandbox (bindings, server files); removed by cleanup."""
        return self._session_dir

    @property
    def defined_names(self) -> frozenset[str]:
        """Names earlier runs bound at the top level of this sandbox (for a type check of the next code)."""
        return frozenset(self._checker.defined)

    @property
    def bindings_path(self) -> Path | None:
        """The folder holding the ``generated`` package (after setup)."""
        return self._bindings.output_path if self._bindings else None

    def _on_registry_change(self, server: str) -> None:
        self._bindings_dirty = True

    # -- lifecycle -------------------------------------------------------------------

    def warm(self) -> asyncio.Task[None]:
        """Start the sandbox in the background (e.g. while the playground opens).

        A failure is not raised here; the next :meth:`setup` or ``execute()``
        reports it (and tries again).
        """
        if self._closed:
            raise ExecutorClosed("this executor was cleaned up; create a new one")
        if self._setup_task is None or (self._setup_task.done() and self._failed(self._setup_task)):
            self._setup_task = asyncio.get_running_loop().create_task(self._setup(), name="codemode-executor-setup")
        return self._setup_task

    @staticmethod
    def _failed(task: asyncio.Task[Any]) -> bool:
        return task.cancelled() or task.exception() is not None

    async def setup(self) -> None:
        """Start the bridge, generate the bindings and start the sandbox (idempotent)."""
        task = self.warm()
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() and not _cancelling():  # cleanup() stopped the start, not our caller
                raise ExecutorClosed("this executor was cleaned up while its sandbox was starting") from None
            raise

    async def _setup(self) -> None:
        self._set_state("starting")
        started = time.perf_counter()
        session = Path(tempfile.mkdtemp(prefix="codemode-session-"))
        self._session_dir = session
        _UNCLEANED[session] = self._kill_now
        sandbox: Sandbox | None = None
        try:
            bindings = Bindings(session / "bindings")
            tools = self.registry.list_tools()
            self._bindings_dirty = False
            await asyncio.to_thread(bindings.refresh, tools)
            payload = await asyncio.to_thread(bindings.payload)
            bridge_settings: dict[str, Any] | None = None
            if self.config.sandbox == "eval":
                from .eval_sandbox import EvalSandbox

                sandbox = EvalSandbox(self.config, self.bridge)
            else:
                from .kernel_sandbox import KernelSandbox

                if self.config.sandbox == "local":
                    self.bridge.unix_path = _socket_path(session)
                await self.bridge.start()
                bridge_settings = self.bridge.client_settings()
                sandbox = KernelSandbox(self.config, session)
            await sandbox.start(payload, bridge_settings)
        except BaseException:
            if sandbox is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sandbox.stop(), 1.5)
            await self.bridge.close()
            shutil.rmtree(session, ignore_errors=True)
            _UNCLEANED.pop(session, None)
            if self._session_dir == session:
                self._session_dir = None
            self._set_state("failed")
            raise
        self._bindings, self._sandbox = bindings, sandbox
        self.startup_seconds = time.perf_counter() - started
        self._set_state("ready")

    async def _prepare(self) -> Sandbox:
        if self._closed:
            raise ExecutorClosed("this executor was cleaned up; create a new one")
        await self.setup()
        if self._restart_task is not None:
            restart, self._restart_task = self._restart_task, None
            try:
                await restart
            except asyncio.CancelledError:
                if not restart.cancelled() or _cancelling():
                    raise
                raise ExecutorClosed("this executor was cleaned up while its sandbox restarted") from None
            except Exception as exc:
                log.warning("restarting the sandbox failed (%s); starting a new one", exc)
                await self._rebuild()
            self._set_state("ready")
        sandbox = self._sandbox
        assert sandbox is not None and self._bindings is not None
        if self._bindings_dirty:
            self._bindings_dirty = False
            tools = self.registry.list_tools()
            if await asyncio.to_thread(self._bindings.refresh, tools):
                self._checker.bindings_changed()
                await sandbox.update_bindings(await asyncio.to_thread(self._bindings.payload))
        return sandbox

    async def _rebuild(self) -> None:
        """Replace a sandbox that could not be restarted with a new one."""
        sandbox, self._sandbox = self._sandbox, None
        session, self._session_dir = self._session_dir, None
        if sandbox is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sandbox.stop(), 1.5)
        if session is not None:
            shutil.rmtree(session, ignore_errors=True)
            _UNCLEANED.pop(session, None)
        await self.bridge.close()  # it listens in the old folder; the new sandbox gets a new socket
        self._setup_task = None
        await self.setup()

    async def cleanup(self) -> None:
        """Stop the sandbox and the bridge, remove every temporary file; returns within 2 s.

        Safe to call twice.  No process the executor started is left running.
        """
        self._closed = True
        self._set_state("closed")
        self.registry.remove_listener(self._on_registry_change)
        setup, self._setup_task = self._setup_task, None
        if setup is not None and not setup.done():
            setup.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(setup, 1.5)
        restart, self._restart_task = self._restart_task, None
        if restart is not None and not restart.done():
            restart.cancel()
        if self._active is not None:
            self._active[0].cancel()
        await self.bridge.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._checker.close(), 1)
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sandbox.stop(), 1.5)
        session, self._session_dir = self._session_dir, None
        if session is not None:
            shutil.rmtree(session, ignore_errors=True)
            _UNCLEANED.pop(session, None)

    def _kill_now(self) -> None:
        """At interpreter exit, without a loop: kill what the sandbox started (its folder goes next)."""
        sandbox = self._sandbox
        kill = getattr(sandbox, "kill_now", None)
        if kill is not None:
            kill()

    async def __aenter__(self) -> CodeModeExecutor:
        await self.setup()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.cleanup()

    # -- runs ------------------------------------------------------------------------

    def _run_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def execute(
        self,
        code: str,
        timeout: float | None = None,
        on_output: OutputCallback | None = None,
        on_tool_call: ToolCallCallback | None = None,
        *,
        check: CheckMode | None = None,
        gates: Sequence[CallGate] = (),
        mode: str = "live",
    ) -> RunResult:
        """Run ``code`` and report what happened; never raises for what the code does.

        ``timeout`` (seconds) overrides the config's run timeout.  ``on_output(stream,
        text)`` receives stdout/stderr as it is written; ``on_tool_call(record)``
        receives each finished tool call.  ``check`` overrides the config's type
        check (``warn``/``block``/``off``).  ``gates`` stand before every tool call
        (a policy, a replay, a dry run: see :mod:`.call_gate`); their effect plan
        and divergences land on the result, and ``mode`` names the kind of run.
        Runs of one executor take turns.
        """
        check_mode = self.config.check if check is None else check
        if check_mode not in CHECK_MODES:
            raise ValueError(f"unknown check {check_mode!r}; choose 'warn', 'block' or 'off'")
        run_id = uuid.uuid4().hex
        result = RunResult(run_id=run_id, sandbox=self.config.sandbox, mode=mode)
        started = time.perf_counter()
        try:
            async with self._run_lock():
                try:
                    sandbox = await self._prepare()
                except (SandboxStartError, KernelDied, KernelChannelError, ExecutorClosed, OSError) as exc:
                    result.error = RunError("SandboxError", str(exc))
                    return result
                started = time.perf_counter()
                if check_mode != "off":
                    found = await self._checker.diagnose(code, self.bindings_path)
                    if found is not None:
                        result.checked, result.diagnostics = True, found
                    if check_mode == "block" and found and has_errors(found):
                        result.error = RunError("CheckError", blocking_summary(found))
                        result.notes.append(NOTE_BLOCKED)
                        return result
                await self._run(sandbox, code, run_id, result, timeout, on_output, on_tool_call, tuple(gates))
                if result.kernel_restarted:
                    self._checker.forget()
                else:
                    self._checker.remember(code)
        finally:
            result.duration = time.perf_counter() - started
            if not self.config.isolated:
                result.notes.append(NOTE_NOT_ISOLATED)
        return result

    async def _run(
        self,
        sandbox: Sandbox,
        code: str,
        run_id: str,
        result: RunResult,
        timeout: float | None,
        on_output: OutputCallback | None,
        on_tool_call: ToolCallCallback | None,
        gates: tuple[CallGate, ...] = (),
    ) -> None:
        limit = timeout if timeout is not None else self.config.timeout
        output = OutputCollector(self.config.max_output_bytes, on_output, allowance=MARKER_ALLOWANCE)
        scope = self.bridge.begin_run(
            run_id,
            max_calls=self.config.max_tool_calls,
            on_tool_call=on_tool_call,
            gates=gates,
            max_recording_bytes=self.config.max_recording_bytes,
        )
        stop_requested = asyncio.Event()
        task = asyncio.get_running_loop().create_task(sandbox.run(code, run_id, output))
        self._active = (task, stop_requested)
        self._set_state("running")
        outcome: CellOutcome | None = None
        try:
            stopper = asyncio.ensure_future(stop_requested.wait())
            began = time.monotonic()
            try:
                while True:  # the clock stops while a call waits for a person (an approval)
                    left = began + limit + scope.paused_seconds() - time.monotonic()
                    if scope.waiting_for_person:
                        left = max(left, 0.25)
                    if left <= 0:
                        break
                    await asyncio.wait({task, stopper}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                    if task.done() or stopper.done():
                        break
            finally:
                stopper.cancel()
            if task.done():
                outcome = self._outcome(task, result)
            else:
                outcome = await self._stop_run(sandbox, task, result, limit, user=stop_requested.is_set())
        finally:
            self._active = None
            self.bridge.end_run(scope)
            self._set_state(self._settled_state())
        if sandbox.restarted_unexpectedly:
            sandbox.restarted_unexpectedly = False
            result.kernel_restarted = True
            if NOTE_RESTARTED not in result.notes:
                result.notes.append(NOTE_RESTARTED)
        if outcome is not None:
            result.value, result.value_repr = outcome.value, outcome.value_repr
            if result.error is None:
                result.error = outcome.error
        result.stdout, result.stderr = output.stdout, output.stderr
        result.trace = list(scope.trace)
        result.recording = scope.recording
        if scope.recording.dropped:
            result.notes.append(
                f"recording: {scope.recording.dropped} result(s) over the {scope.recording.max_bytes:,}-byte "
                "budget (max_recording_bytes) were not kept; a replay that needs them reports a divergence"
            )
        result.effects = effects_of(gates)
        result.divergences = divergences_of(gates)
        if output.truncated:
            result.truncated = True
            result.notes.append(NOTE_TRUNCATED)
        cut = [result.value_repr or ""]
        if result.error is not None:
            cut += [result.error.message, result.error.traceback]
        if any(VALUE_TRUNCATION_TAG in text for text in cut):
            result.notes.append(NOTE_VALUE_TRUNCATED)
        if scope.cap_reached:
            result.notes.append(NOTE_CALL_CAP)

    @staticmethod
    def _outcome(task: asyncio.Task[CellOutcome], result: RunResult) -> CellOutcome | None:
        try:
            return task.result()
        except KernelDied as exc:
            result.error = RunError("KernelDied", f"{exc}; the kernel's state was lost")
        except asyncio.CancelledError:
            result.error = RunError("CancelledError", "the run was cancelled")
        except Exception as exc:
            result.error = RunError("SandboxError", f"{type(exc).__name__}: {exc}")
        return None

    async def _stop_run(
        self, sandbox: Sandbox, task: asyncio.Task[CellOutcome], result: RunResult, limit: float, *, user: bool
    ) -> CellOutcome | None:
        """Interrupt a run that is over time (or that the user stopped); restart if it will not stop."""
        if user:
            result.cancelled = True
            result.notes.append(NOTE_INTERRUPTED)
            what = RunError("KeyboardInterrupt", "the run was interrupted")
        else:
            result.timed_out = True
            result.notes.append(NOTE_TIMED_OUT)
            what = RunError("TimeoutError", f"the run did not finish within {limit:g} s and was interrupted")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sandbox.interrupt(), INTERRUPT_WAIT)
        done, _ = await asyncio.wait({task}, timeout=self.config.interrupt_grace)
        if done:
            outcome = self._outcome(task, result)
            traceback = outcome.error.traceback if outcome is not None and outcome.error is not None else ""
            result.error = RunError(what.type, what.message, traceback)
            return outcome
        task.cancel()
        result.kernel_restarted = True
        result.notes.append(NOTE_RESTARTED)
        result.error = RunError(
            what.type,
            f"{what.message}; it did not stop, so the sandbox was restarted and its state lost",
        )
        self._restart_task = asyncio.get_running_loop().create_task(sandbox.restart(), name="codemode-restart")
        self._watch_restart(self._restart_task)
        with contextlib.suppress(BaseException):
            await asyncio.wait({self._restart_task}, timeout=RESTART_WAIT)
        with contextlib.suppress(BaseException):
            await asyncio.wait({task}, timeout=0.05)
        return None

    async def execute_skill(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        store: Any = None,
        on_output: OutputCallback | None = None,
        on_tool_call: ToolCallCallback | None = None,
    ) -> RunResult:
        """Deprecated: use ``Workspace.run_skill`` (records history) or ``snippets.runner.run_snippet``.

        Kept so older callers keep working.  The executor knows nothing of
        snippets: the runner is looked up when this is called, so the executor
        layer never imports the snippets layer.
        """
        warnings.warn(
            "CodeModeExecutor.execute_skill is deprecated; use Workspace.run_skill "
            "or codemode_tui.snippets.runner.run_snippet",
            DeprecationWarning,
            stacklevel=2,
        )
        runner = importlib.import_module("codemode_tui.snippets.runner")
        if store is None:
            store = importlib.import_module("codemode_tui.snippets.store").SnippetStore()
        result: RunResult = await runner.run_snippet(
            self, store, name, arguments, timeout=timeout, on_output=on_output, on_tool_call=on_tool_call
        )
        return result

    async def complete(self, code: str, cursor: int, *, timeout: float = 3.0) -> tuple[int, list[str]]:
        """``(start, matches)`` from the values the sandbox holds (no matches while a run is going).

        The editor's completion of ``result.`` after a run: asked of the kernel
        (IPython's completer), or of the eval namespace.  Never starts a sandbox.
        """
        sandbox = self._sandbox
        if sandbox is None or self.running or self.state != "ready":
            return cursor, []
        try:
            return await asyncio.wait_for(sandbox.complete(code, cursor), timeout)
        except Exception:
            return cursor, []

    def interrupt(self) -> bool:
        """Stop the run in progress (it reports ``KeyboardInterrupt``); ``False`` when none runs."""
        if self._active is None:
            return False
        self._active[1].set()
        return True

    cancel = interrupt

    async def reset(self) -> None:
        """Clear the variables runs left behind (the sandbox keeps running)."""
        async with self._run_lock():
            sandbox = await self._prepare()
            await sandbox.reset()
            self._checker.forget()

    async def restart(self) -> None:
        """Restart the sandbox: a fresh process (for kernels), all state lost."""
        async with self._run_lock():
            sandbox = await self._prepare()
            self._set_state("restarting")
            self._checker.forget()
            try:
                await sandbox.restart()
            except BaseException:
                self._set_state("failed")
                raise
            self._set_state("ready")
