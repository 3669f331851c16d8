"""The sandbox side of a tool call: copied verbatim as ``generated/client.py``.

This file must stay self-contained (standard library only, no codemode_tui
import required) because it runs wherever the sandbox runs.  Generated
bindings call :func:`call_tool`; it forwards the call to the host:

* in-process, through a caller registered with :func:`set_caller` (or, per
  context, :func:`set_context_caller`, which the eval sandbox uses);
* otherwise through the host's tool-call bridge, once the executor has called
  :func:`configure_bridge` in the sandbox.

The bridge protocol (one persistent connection per event loop, many calls in
flight on it):

* every frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON;
* the client's first frame is ``{"hello": token, "v": 1}``; the host answers
  ``{"ok": true}`` or ``{"error": ...}`` and closes the connection;
* a call is ``{"i": id, "t": "server__tool", "a": {arguments}, "r": run id}``;
  its answer is ``{"i": id, "v": value}`` (with ``"x": 1`` when the value holds
  images, audio or resources) or ``{"i": id, "e": {"m": message, "s": server,
  "n": tool, "k": kind}}``;
* ``{"c": id}`` asks the host to cancel a call whose caller gave up.

Every call names the run it belongs to (``"r"``), and the host refuses a call
whose run is not the one in progress.  For that to mean anything, code left
behind by a run must keep that run's id: tasks and callbacks do (they copy
the context they were created in), and :func:`inherit_context_in_threads`
makes threads and thread-pool jobs do the same (a plain thread would start
with an empty context, and ipykernel then hands it the *latest* request).

Results holding images, audio or resources travel with those objects tagged
by :data:`TYPE_KEY`; a plain dict from a server that happens to use that key
is escaped by the host (``{TYPE_KEY: "dict", "v": {...}}``), and
:func:`decode_value` never raises: what it does not recognise stays plain data.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import json
import socket
import struct
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

try:  # the same classes as the host's when codemode_tui is importable
    from codemode_tui.results import AudioResult, ImageResult, ResourceResult, ToolError
except ImportError:  # pragma: no cover - a kernel without codemode_tui

    class ToolError(Exception):  # type: ignore[no-redef]
        """A tool reported an error (``isError``), or could not be called."""

        def __init__(self, message: str, *, server: str | None = None, tool: str | None = None) -> None:
            self.server = server
            self.tool = tool
            self.message = message
            where = f"{server}.{tool}" if server and tool else (tool or server or "tool")
            super().__init__(f"{where}: {message}")

    @dataclass(frozen=True)
    class ImageResult:  # type: ignore[no-redef]
        """An image returned by a tool: base64 ``data`` and its MIME type."""

        data: str
        mime_type: str

    @dataclass(frozen=True)
    class AudioResult:  # type: ignore[no-redef]
        """Audio returned by a tool: base64 ``data`` and its MIME type."""

        data: str
        mime_type: str

    @dataclass(frozen=True)
    class ResourceResult:  # type: ignore[no-redef]
        """An embedded resource or resource link returned by a tool."""

        uri: str
        mime_type: str | None = None
        text: str | None = None
        blob: str | None = None
        name: str | None = None


PROTOCOL_VERSION = 1
MAX_FRAME = 256 * 1024 * 1024
TYPE_KEY = "__codemode_type__"
_HEADER = struct.Struct("!I")
_TAGGED = {"image": ImageResult, "audio": AudioResult, "resource": ResourceResult}

Caller = Callable[[str, dict[str, Any]], Awaitable[Any]]
_caller: Caller | None = None
_context_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("codemode_caller", default=None)
#: The run a call belongs to, when the host set it for this context (eval).
run_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("codemode_run_id", default=None)
_run_id_provider: Callable[[], str | None] | None = None
_bridge: _Bridge | None = None


def set_caller(caller: Caller | None) -> None:
    """Route calls to ``caller(qualified_name, arguments)`` in this process."""
    global _caller
    _caller = caller


#: agent-codemode's name for :func:`set_caller`, so code written for it runs unchanged.
set_tool_caller = set_caller


def set_context_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    """Route calls made from the current context (and tasks it starts) to ``caller``."""
    return _context_caller.set(caller)


def set_run_id_provider(provider: Callable[[], str | None] | None) -> None:
    """Tell the bridge client how to find the run a call belongs to (the kernel's request id)."""
    global _run_id_provider
    _run_id_provider = provider


def configure_bridge(host: str | None, port: int | None, token: str, *, path: str | None = None) -> None:
    """Send calls to the host's bridge at ``host:port`` (or the Unix socket ``path``), proving ``token``."""
    global _bridge
    if _bridge is not None:
        _bridge.close()
    _bridge = _Bridge(host, port, token, path=path)


def _current_run() -> str | None:
    run = run_id_var.get()
    if run is None and _run_id_provider is not None:
        try:
            run = _run_id_provider()
        except Exception:
            run = None
    return run


def caller_line() -> int | None:
    """The line of the run's own code (``__main__``) that is making the call, when it is on the stack.

    A call awaited directly (``await read_file(...)``) has the code's frame
    below it; one started as a task (``asyncio.gather``) has not, and gets
    ``None``.  It tells a person approving a call, or reading an effect plan,
    which line made it.
    """
    frame = sys._getframe(1)
    for _ in range(48):
        if frame is None:
            return None
        module = frame.f_globals.get("__name__", "")
        if module == "__main__":
            return frame.f_lineno
        if module == "asyncio" or module.startswith("asyncio."):
            # Into the event loop without meeting the run's code: a task.  Going on would reach the
            # kernel's own start-up script, also ``__main__``, and report its line.
            return None
        frame = frame.f_back  # type: ignore[assignment]
    return None


async def call_tool(qualified_name: str, arguments: dict[str, Any]) -> Any:
    """Call ``server__tool`` with ``arguments`` and return its unwrapped result."""
    __tracebackhide__ = True  # IPython: show the user's line, not this plumbing
    caller = _context_caller.get() or _caller
    if caller is not None:
        return await caller(qualified_name, arguments)
    if _bridge is not None:
        return await _bridge.call(qualified_name, arguments, _current_run(), caller_line())
    raise ToolError(
        "no tool-call bridge is configured in this process; run the code through "
        "CodeModeExecutor, or call generated.client.set_caller() first",
        tool=qualified_name,
    )


def inherit_context_in_threads(when: Callable[[], bool] | None = None) -> None:
    """Run threads, and thread-pool jobs, in a copy of the context that started them (idempotent).

    A thread (or a pool job) started by a run then carries that run's id, so
    when it outlives the run its tool calls are refused and its output is not
    taken for a later run's.  ``when``: copy only while it returns true (the
    eval sandbox, sharing the host process, leaves the host's own threads as
    they are); ``None`` copies always (a kernel process).  The patch is global
    to the process, so it is kept on ``threading.Thread.start`` itself: copies
    of this module (each ``generated.client``) share one.
    """
    patched = threading.Thread.start
    if getattr(patched, "_codemode_context", False):
        if when is None:
            patched._codemode_when = None  # type: ignore[attr-defined]
        return
    bootstrap_inner = getattr(threading.Thread, "_bootstrap_inner", None)
    if bootstrap_inner is None:  # pragma: no cover - an interpreter without it: leave threads alone
        return
    import concurrent.futures.thread as pool_module

    thread_start = threading.Thread.start
    pool_submit = pool_module.ThreadPoolExecutor.submit

    def wanted() -> bool:
        condition = start._codemode_when  # type: ignore[attr-defined]
        return condition is None or bool(condition())

    def start(self: threading.Thread) -> None:
        if wanted():
            if "_context" in self.__dict__:  # Python 3.14+: the thread runs in self._context
                if self._context is None:  # type: ignore[attr-defined]
                    self._context = contextvars.copy_context()  # type: ignore[attr-defined]
            else:
                self._codemode_context = contextvars.copy_context()  # type: ignore[attr-defined]
        thread_start(self)

    def run_inside(self: threading.Thread) -> None:
        context = self.__dict__.pop("_codemode_context", None)
        if context is None:
            bootstrap_inner(self)
        else:
            context.run(bootstrap_inner, self)

    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if wanted():
            fn = functools.partial(contextvars.copy_context().run, fn)
        return pool_submit(self, fn, *args, **kwargs)

    start._codemode_context = True  # type: ignore[attr-defined]
    start._codemode_when = when  # type: ignore[attr-defined]
    threading.Thread._bootstrap_inner = run_inside  # type: ignore[attr-defined]
    threading.Thread.start = start  # type: ignore[method-assign]
    pool_module.ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def decode_value(value: Any) -> Any:
    """Turn the host's tagged objects (images, audio, resources) back into result objects.

    Never raises: an escaped dict (``{TYPE_KEY: "dict", "v": ...}``) becomes the
    dict it stood for, and a tag that does not fit its object stays plain data.
    """
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        kind = value.get(TYPE_KEY)
        if kind == "dict" and len(value) == 2 and isinstance(value.get("v"), dict):
            return {key: decode_value(item) for key, item in value["v"].items()}
        if isinstance(kind, str) and kind in _TAGGED:
            fields = {key: item for key, item in value.items() if key != TYPE_KEY}
            try:
                return _TAGGED[kind](**fields)
            except TypeError:
                pass
        return {key: decode_value(item) for key, item in value.items()}
    return value


def _error_from(message: dict[str, Any], qualified_name: str) -> ToolError:
    error = message.get("e") or {}
    return ToolError(
        str(error.get("m") or "the tool call failed"),
        server=error.get("s"),
        tool=error.get("n") or qualified_name,
    )


class _Connection(asyncio.Protocol):
    """One authenticated connection to the bridge: calls are matched to answers by id."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, tuple[asyncio.Future[Any], str]] = {}
        self.hello: asyncio.Future[None] = loop.create_future()
        self.closed_reason: str | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            (size,) = _HEADER.unpack_from(buffer)
            if size > MAX_FRAME:
                self._fail(f"the host sent a frame of {size} bytes, more than the limit")
                return
            end = 4 + size
            if len(buffer) < end:
                return
            try:
                message = json.loads(buffer[4:end])
            except ValueError:
                self._fail("the host sent a frame that is not JSON")
                return
            del buffer[:end]
            if isinstance(message, dict):
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        call_id = message.get("i")
        if call_id is None:
            if not self.hello.done():
                if message.get("ok"):
                    self.hello.set_result(None)
                else:
                    self.hello.set_exception(ToolError(f"the bridge refused this sandbox: {message.get('error')}"))
            return
        entry = self.pending.pop(call_id, None)
        if entry is None or entry[0].done():
            return
        future, name = entry
        if "e" in message:
            future.set_exception(_error_from(message, name))
            return
        value = message.get("v")
        try:
            future.set_result(decode_value(value) if message.get("x") else value)
        except Exception as exc:  # never leave the caller waiting for an answer that came
            future.set_exception(ToolError(f"the result could not be decoded: {exc}", tool=name))

    def _fail(self, reason: str) -> None:
        self.closed_reason = reason
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        reason = self.closed_reason or (f"the bridge connection was lost: {exc}" if exc else "the bridge closed")
        self.closed_reason = reason
        if not self.hello.done():
            self.hello.set_exception(ToolError(reason))
        pending, self.pending = self.pending, {}
        for future, name in pending.values():
            if not future.done():
                future.set_exception(ToolError(reason, tool=name))

    @property
    def usable(self) -> bool:
        return self.closed_reason is None and self.transport is not None and not self.transport.is_closing()


class _Bridge:
    """Calls to the host bridge, over one persistent connection per event loop."""

    def __init__(self, host: str | None, port: int | None, token: str, *, path: str | None = None) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.token = token
        self._ids = itertools.count(1)
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection] = (
            weakref.WeakKeyDictionary()
        )
        self._connecting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[_Connection]] = (
            weakref.WeakKeyDictionary()
        )

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = self._connections.get(loop)
        if conn is not None and conn.usable:
            return conn
        waiting = self._connecting.get(loop)
        if waiting is not None:
            return await asyncio.shield(waiting)
        attempt: asyncio.Future[_Connection] = loop.create_future()
        self._connecting[loop] = attempt
        try:
            conn = await self._connect(loop)
        except BaseException as exc:
            attempt.set_exception(exc if isinstance(exc, ToolError) else ToolError(f"cannot reach the bridge: {exc}"))
            attempt.exception()  # mark retrieved: the waiters (if any) re-raise it
            raise
        else:
            attempt.set_result(conn)
            self._connections[loop] = conn
            return conn
        finally:
            self._connecting.pop(loop, None)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        where = self.path or f"{self.host}:{self.port}"
        try:
            if self.path:
                opening = loop.create_unix_connection(lambda: _Connection(loop), self.path)
            else:
                host, port = self.host or "127.0.0.1", int(self.port or 0)
                opening = loop.create_connection(lambda: _Connection(loop), host, port)
            _, conn = await asyncio.wait_for(opening, timeout=10)
        except (OSError, asyncio.TimeoutError) as exc:  # noqa: UP041 - distinct classes before Python 3.11
            raise ToolError(f"cannot reach the tool-call bridge at {where}: {exc}") from None
        assert conn.transport is not None
        conn.transport.write(encode_frame({"hello": self.token, "v": PROTOCOL_VERSION}))
        await asyncio.wait_for(asyncio.shield(conn.hello), timeout=10)
        return conn

    async def call(
        self, qualified_name: str, arguments: dict[str, Any], run_id: str | None, line: int | None = None
    ) -> Any:
        __tracebackhide__ = True
        if not isinstance(qualified_name, str):
            raise TypeError("the tool name must be a string like 'server__tool'")
        call_id = next(self._ids)
        try:
            message = {"i": call_id, "t": qualified_name, "a": arguments, "r": run_id}
            if line is not None:
                message["l"] = line
            frame = encode_frame(message)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"the arguments of {qualified_name} must be JSON data (dict, list, str, number): {exc}"
            ) from None
        conn = await self._connection()
        future: asyncio.Future[Any] = conn.loop.create_future()
        conn.pending[call_id] = (future, qualified_name)
        assert conn.transport is not None
        conn.transport.write(frame)
        try:
            return await future
        except asyncio.CancelledError:
            if conn.pending.pop(call_id, None) is not None and conn.usable:
                conn.transport.write(encode_frame({"c": call_id}))
            raise

    def close(self) -> None:
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        self._connections.clear()


__all__ = [
    "AudioResult",
    "ImageResult",
    "ResourceResult",
    "ToolError",
    "call_tool",
    "configure_bridge",
    "inherit_context_in_threads",
    "set_caller",
    "set_context_caller",
    "set_run_id_provider",
    "set_tool_caller",
]
