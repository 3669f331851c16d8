"""The ``eval`` sandbox: code runs inside the host process.  Fast, and NOT isolated.

Use it for trusted code when start-up time or per-run latency matters more
than protection: the code can read the host's memory, environment and files,
and a crash (or ``os._exit``) takes the host down with it.

code-sandboxes has an ``eval`` variant, but it cannot serve here: it ignores
timeouts, redirects ``sys.stdout`` for the whole process while code runs, and
chooses between its sync and async paths by searching the code for the text
``"await "`` (so ``x = "await "`` breaks and ``await(...)`` is missed).  This
module instead:

* compiles with ``PyCF_ALLOW_TOP_LEVEL_AWAIT`` (the compiler decides what is
  async) and turns a trailing expression into the run's value;
* runs the code on a dedicated thread with its own event loop, so a busy loop
  in user code never blocks the host's loop and a timeout can return;
* routes ``print`` per run through a context variable instead of swapping
  ``sys.stdout`` for everyone: other threads' output is left alone;
* sends tool calls through the same bridge object as kernels (cap, timeout,
  trace, audit), hopping to the host's loop where the MCP sessions live;
* keeps what a run leaves behind out of later runs: threads and pool jobs
  started by a run inherit its context (its output sink, its run id), a run's
  sink is closed when the run ends (later writes are dropped), and the bridge
  refuses calls tagged with a finished run;
* stops a timed-out run by cancelling its task, then by raising
  ``CancelledError`` in its thread; code stuck in C (``time.sleep(600)``)
  cannot be stopped in-process: its thread is abandoned and a fresh one
  (with fresh state) takes over.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import builtins
import contextlib
import contextvars
import ctypes
import hashlib
import importlib
import inspect
import io
import itertools
import json
import linecache
import os
import shutil
import sys
import tempfile
import threading
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import client_runtime
from .bridge import ToolBridge
from .config import CodeModeConfig
from .kernel_bootstrap import cap_text
from .output import OutputCollector, byte_length, truncation_marker
from .run_result import RunError
from .sandbox import BindingsPayload, CellOutcome, Sandbox

VALUE_NAME = "__codemode_value__"
_cells = itertools.count(1)

# Eval sandboxes share the interpreter, so only one ``generated`` package can be importable at a
# time.  Sandboxes whose bindings are the same (one workspace's sessions) share one copy of them,
# kept by content in a private folder of this process, so none of them ever swaps the package
# under another's running import; only sandboxes with different tools take turns.
_shared_lock = threading.Lock()
_shared_root: Path | None = None
_live_sandboxes: weakref.WeakSet[EvalSandbox] = weakref.WeakSet()


def _shared_bindings(bindings: BindingsPayload) -> Path:
    """A folder holding exactly ``bindings``' package, shared by every eval sandbox with the same files."""
    global _shared_root
    digest = hashlib.sha256(json.dumps(sorted(bindings.files.items())).encode("utf-8")).hexdigest()[:24]
    with _shared_lock:
        if _shared_root is None:
            _shared_root = Path(tempfile.mkdtemp(prefix="codemode-eval-bindings-"))  # 0700, this process's
            atexit.register(shutil.rmtree, _shared_root, True)
        folder = _shared_root / digest
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(dir=_shared_root))
            for relative, text in bindings.files.items():
                target = staging / "generated" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            os.replace(staging, folder)
        return folder


# -- output routing ----------------------------------------------------------------


class _RunSink:
    """One run's output: capped in the writing thread, delivered on the host's loop."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop, collector: OutputCollector) -> None:
        self.limit = limit
        self.loop = loop
        self.collector = collector
        self.used = 0
        self.dropped = False
        self.finished = False
        self.lock = threading.Lock()

    def finish(self) -> None:
        """The run is over: what its leftovers (threads, tasks) write from now on is dropped."""
        with self.lock:
            self.finished = True

    def write(self, stream: str, text: str) -> None:
        with self.lock:
            if self.dropped or self.finished or not text:
                return
            size = byte_length(text)
            if self.used + size > self.limit:
                room = self.limit - self.used
                text = text[:room]
                if byte_length(text) > room:
                    text = text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore")
                text += truncation_marker(self.limit)
                self.dropped = True
            else:
                self.used += size
        try:
            self.loop.call_soon_threadsafe(self.collector.write, stream, text)
        except RuntimeError:  # the host loop is gone: nobody is listening
            pass


_sink: contextvars.ContextVar[_RunSink | None] = contextvars.ContextVar("codemode_eval_sink", default=None)


def _in_a_run() -> bool:
    """Whether the current context is an eval run's (its threads then inherit it)."""
    return _sink.get() is not None


class _StreamRouter(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: eval runs' writes go to their run, others pass through."""

    def __init__(self, original: Any, name: str) -> None:
        self._original = original
        self._name = name

    def write(self, text: str) -> int:
        sink = _sink.get()
        if sink is None:
            return self._original.write(text)
        sink.write(self._name, str(text))
        return len(text)

    def flush(self) -> None:
        if _sink.get() is None:
            self._original.flush()

    def isatty(self) -> bool:
        return False if _sink.get() is not None else bool(self._original.isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


_routers_lock = threading.Lock()
_router_users = 0


def _install_routers(*, user: bool = True) -> None:
    """Route ``sys.stdout``/``sys.stderr``; again before each run, in case someone swapped them since."""
    global _router_users
    with _routers_lock:
        if user:
            _router_users += 1
        if not isinstance(sys.stdout, _StreamRouter):
            sys.stdout = _StreamRouter(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _StreamRouter):
            sys.stderr = _StreamRouter(sys.stderr, "stderr")


def _remove_routers() -> None:
    global _router_users
    with _routers_lock:
        _router_users = max(0, _router_users - 1)
        if _router_users:
            return
        if isinstance(sys.stdout, _StreamRouter):
            sys.stdout = sys.stdout._original
        if isinstance(sys.stderr, _StreamRouter):
            sys.stderr = sys.stderr._original


# -- the thread code runs on ---------------------------------------------------------


class _LoopThread:
    """A daemon thread running its own event loop, serving runs until stopped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._stopping = False
        self.thread = threading.Thread(target=self._main, name="codemode-eval", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        while not self._stopping:
            try:
                self.loop.run_forever()
            except BaseException:  # an interrupt landed in the loop itself: keep serving
                continue
        with contextlib.suppress(Exception):
            self.loop.close()

    def raise_in_thread(self, exc_type: type[BaseException]) -> None:
        ident = self.thread.ident
        if ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc_type))

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(Exception):
            self.loop.call_soon_threadsafe(self.loop.stop)


# -- compiling a cell ------------------------------------------------------------------


def compile_cell(code: str, filename: str) -> tuple[Any, bool]:
    """Code object for ``code`` (top-level ``await`` allowed); a trailing expression is kept as the value."""
    tree = ast.parse(code, filename, "exec")
    has_value = False
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        assign = ast.Assign(targets=[ast.Name(id=VALUE_NAME, ctx=ast.Store())], value=last.value)
        tree.body[-1] = ast.copy_location(assign, last)
        ast.fix_missing_locations(tree)
        has_value = True
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    return compile(tree, filename, "exec", flags=flags, dont_inherit=True), has_value


def _user_traceback(exc: BaseException, filename: str, limit: int) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return cap_text("".join(traceback.format_exception(type(exc), exc, tb)), limit, "traceback")


def _run_error(exc: BaseException, filename: str, limit: int) -> RunError:
    """The error of a run, its message and traceback capped like a kernel's."""
    try:
        message = str(exc)
    except Exception as failed:
        message = f"<str() of the exception failed: {failed}>"
    return RunError(
        type(exc).__name__, cap_text(message, limit, "error message"), _user_traceback(exc, filename, limit)
    )


def _as_value(value: Any, limit: int) -> tuple[Any, str]:
    try:
        shown = repr(value)
    except Exception as exc:
        shown = f"<repr failed: {exc}>"
    shown = cap_text(shown, limit, "value")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return shown, shown
    return (json.loads(text) if len(text) <= limit else shown), shown


def _on_loop(loop: asyncio.AbstractEventLoop, coroutine: Any) -> asyncio.Future[Any]:
    """Run ``coroutine`` as a task of ``loop`` (another thread's) and await its outcome here.

    The same contract as ``wrap_future(run_coroutine_threadsafe(...))``, cancelling
    either side cancels the other, with one wake-up each way and no
    ``concurrent.futures`` future in between: a tool call pays this hop twice,
    and the standard pair costs about twice as much (``bench_executor``).
    """
    here = asyncio.get_running_loop()
    waiter = here.create_future()
    task: asyncio.Task[Any] | None = None

    def settle(done: asyncio.Task[Any]) -> None:  # on ``here``, after the task finished
        if waiter.done():
            return
        if done.cancelled():
            waiter.cancel()
        elif (error := done.exception()) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    def start() -> None:  # on ``loop``
        nonlocal task
        if waiter.cancelled():  # given up before it started
            coroutine.close()
            return
        task = loop.create_task(coroutine)
        task.add_done_callback(wake)

    def wake(done: asyncio.Task[Any]) -> None:  # on ``loop``
        with contextlib.suppress(RuntimeError):  # a thread abandoned after a stuck run closed ``here``
            here.call_soon_threadsafe(settle, done)

    def forward_cancel(future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            with contextlib.suppress(RuntimeError):  # the host's loop has closed
                loop.call_soon_threadsafe(lambda: task is not None and task.cancel())

    waiter.add_done_callback(forward_cancel)
    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:
        coroutine.close()
        raise
    return waiter


class EvalSandbox(Sandbox):
    """In-process runs (see the module docstring)."""

    kind = "eval"
    isolated = False

    def __init__(self, config: CodeModeConfig, bridge: ToolBridge) -> None:
        self.config = config
        self.bridge = bridge
        self.namespace: dict[str, Any] = {}
        self._runner: _LoopThread | None = None
        self._host_loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._bindings: BindingsPayload | None = None
        self._folder: str | None = None  # where the bindings are imported from (see _shared_bindings)
        self._client: Any = None
        self._routed = False

    async def complete(self, code: str, cursor: int) -> tuple[int, list[str]]:
        """Attributes and names of the namespace that fit the dotted name before ``cursor``."""
        import re
        import rlcompleter

        match = re.search(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\.?[A-Za-z0-9_]*$", code[:cursor])
        if match is None:
            return cursor, []
        text = match.group(0)
        completer = rlcompleter.Completer(self.namespace)
        found: list[str] = []
        for state in range(500):
            try:
                option = completer.complete(text, state)
            except Exception:
                break
            if option is None:
                break
            found.append(option)
        start = match.start() + (text.rfind(".") + 1 if "." in text else 0)
        head = text[: text.rfind(".") + 1] if "." in text else ""
        names = [option.removeprefix(head) for option in found]
        return start, [name[:-2] if name.endswith("()") else name.rstrip("(") for name in names]

    def _fresh_namespace(self) -> None:
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}

    async def start(self, bindings: BindingsPayload, bridge: dict[str, Any] | None) -> None:
        _live_sandboxes.add(self)
        self._host_loop = asyncio.get_running_loop()
        self._fresh_namespace()
        self._bindings = bindings
        self._activate_bindings(force=True)
        self._runner = _LoopThread()
        _install_routers()
        self._routed = True
        client_runtime.inherit_context_in_threads(when=_in_a_run)

    async def update_bindings(self, bindings: BindingsPayload) -> None:
        self._bindings = bindings
        self._folder = None
        self._activate_bindings(force=True)

    def _activate_bindings(self, *, force: bool = False) -> None:
        """Make our ``generated`` package the importable one (another eval executor may have swapped it)."""
        assert self._bindings is not None
        if self._folder is None:
            self._folder = str(_shared_bindings(self._bindings) if self._bindings.files else self._bindings.path)
        folder = self._folder
        current = sys.modules.get("generated")
        ours = current is not None and any(str(entry).startswith(folder) for entry in getattr(current, "__path__", []))
        shared = self._bindings.files and ours  # the same files by content: never re-imported under a live run
        if (force and not shared) or not ours:
            for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
                del sys.modules[name]
            if folder in sys.path:
                sys.path.remove(folder)
            sys.path.insert(0, folder)
            importlib.invalidate_caches()
        self._client = importlib.import_module("generated.client")

    def _caller(self, run_id: str) -> Callable[[str, dict[str, Any]], Any]:
        host_loop = self._host_loop
        bridge = self.bridge
        assert host_loop is not None

        async def call(name: str, arguments: dict[str, Any]) -> Any:
            line = client_runtime.caller_line()
            return await _on_loop(host_loop, bridge.call(name, arguments, run_id, line))

        return call

    async def run(self, code: str, run_id: str, output: OutputCollector) -> CellOutcome:
        if self._runner is None or self._host_loop is None:
            raise RuntimeError("the eval sandbox is not running")
        self._activate_bindings()
        _install_routers(user=False)
        filename = f"<cell-{next(_cells)}>"
        outcome = CellOutcome()
        try:
            code_object, has_value = compile_cell(code, filename)
        except SyntaxError as exc:
            outcome.error = RunError(
                "SyntaxError", str(exc.msg), "".join(traceback.format_exception_only(type(exc), exc))
            )
            return outcome
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        sink = _RunSink(self.config.max_output_bytes, self._host_loop, output)
        namespace = self.namespace
        client = self._client
        caller = self._caller(run_id)
        limit = self.config.max_value_bytes

        async def execute() -> CellOutcome:
            self._task = asyncio.current_task()
            _sink.set(sink)
            client.set_context_caller(caller)
            client.run_id_var.set(run_id)
            result = CellOutcome()
            try:
                running = eval(code_object, namespace)
                if inspect.iscoroutine(running):
                    await running
                if has_value:
                    value = namespace.pop(VALUE_NAME, None)
                    result.value, result.value_repr = _as_value(value, limit)
                    result.has_value = value is not None
                    if value is None:
                        result.value_repr = None
            except (Exception, asyncio.CancelledError, KeyboardInterrupt, SystemExit) as exc:
                result.error = _run_error(exc, filename, limit)
            finally:
                if self._task is asyncio.current_task():
                    self._task = None
                namespace.pop(VALUE_NAME, None)
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream.flush()
                sink.finish()
            return result

        future = asyncio.run_coroutine_threadsafe(execute(), self._runner.loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            if asyncio.current_task() is not None and asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise  # our caller gave up on the run
            outcome.error = RunError("CancelledError", "the run was cancelled before it started")
            return outcome

    async def interrupt(self) -> None:
        task, runner = self._task, self._runner
        if task is None or runner is None or task.done():
            return
        runner.loop.call_soon_threadsafe(task.cancel)
        await asyncio.sleep(0.1)
        if not task.done():  # busy computing: raise in its thread
            runner.raise_in_thread(asyncio.CancelledError)

    async def restart(self) -> None:
        task, runner = self._task, self._runner
        if runner is not None and task is not None and not task.done():
            runner.stop()  # cannot be stopped: abandon the thread (it is a daemon) and start afresh
            self._runner = _LoopThread()
        self._task = None
        self._fresh_namespace()

    async def reset(self) -> None:
        self._fresh_namespace()

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        if self._routed:
            _remove_routers()
            self._routed = False
        if self._bindings is not None and self._folder is not None:
            folder = self._folder
            if self._bindings.files and any(
                other is not self and other._folder == folder for other in list(_live_sandboxes)
            ):
                folder = ""  # another sandbox still imports this shared copy: leave it importable
            current = sys.modules.get("generated") if folder else None
            if current is not None and any(str(p).startswith(folder) for p in getattr(current, "__path__", [])):
                for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
                    del sys.modules[name]
            if folder and folder in sys.path:
                sys.path.remove(folder)
        _live_sandboxes.discard(self)
        self.namespace = {}
