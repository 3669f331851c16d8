"""The tool-call bridge: the one door from sandboxed code to MCP servers.

The host owns one endpoint: a Unix socket in the executor's private folder
for a kernel on this machine (no port another local user could even reach,
and a quarter faster than loopback TCP), loopback TCP otherwise (or another
address, for a kernel on another machine).  The sandbox side
(``generated/client.py``, see :mod:`.client_runtime` for the wire format)
connects once, proves it knows this executor's random token, and then sends
calls tagged with ids, many at a time; each is served by its own task, so
``asyncio.gather`` over ten tool calls really runs ten calls at once.

Because every call passes here, this is the single place for the limits and
the record: the per-run call cap, the per-call timeout, the trace (streamed
through ``on_tool_call``) and the optional audit log.  The eval sandbox calls
:meth:`ToolBridge.call` in-process and gets exactly the same treatment.

Speed matters (a script may make hundreds of calls), so the host side is an
``asyncio.Protocol`` that parses frames straight from ``data_received``
without a reader task, sends each answer with a single write, and encodes a
result exactly once: that encoding is both the answer and the trace's size
and preview.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hmac
import json
import logging
import os
import secrets
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..registry import ToolRegistry
from ..results import AudioResult, ImageResult, ResourceResult, ToolError, UnknownToolError, unwrap_result
from .call_gate import CallGate, GateCall
from .client_runtime import PROTOCOL_VERSION, TYPE_KEY
from .recording import DEFAULT_RECORDING_BYTES, Recording
from .run_result import ToolCallRecord

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
PREVIEW_CHARS = 200
#: Largest frame a peer may send before it has proven the token: the hello is ~100 bytes.
PREAUTH_FRAME = 4096
#: Seconds a peer has, from connecting, to prove the token; then it is dropped.
HANDSHAKE_TIMEOUT = 2.0
#: Largest frame (a call with its arguments) an authenticated sandbox may send.
MAX_CALL_FRAME = 64 * 1024 * 1024
#: Connections (authenticated or not) the bridge keeps open at once; more are dropped on arrival.
MAX_CONNECTIONS = 64
#: Finished runs the bridge remembers, to tell a late call "your run has finished".
REMEMBERED_RUNS = 256

ToolCallCallback = Callable[[ToolCallRecord], Any]
#: A call the host answers itself: arguments in, a JSON-ready value out (``ToolError`` for a bad call).
HostFunction = Callable[[dict[str, Any]], Awaitable[Any]]
#: The ``server`` of host-function calls in the trace.
HOST_SERVER = "codemode"


class CallRejected(ToolError):
    """The bridge refused a call (cap reached, no run in progress, unknown tool)."""

    def __init__(self, message: str, *, kind: str, tool: str | None = None, server: str | None = None) -> None:
        self.kind = kind
        super().__init__(message, server=server, tool=tool)


_SPECIAL = (("image", ImageResult), ("audio", AudioResult), ("resource", ResourceResult))


def _tag(value: Any) -> Any:
    """``value`` with result objects tagged and server dicts that use :data:`TYPE_KEY` escaped.

    Only a tagged answer is decoded in the sandbox, so only a tagged answer
    needs the escape: a server's ``{"__codemode_type__": "image", ...}`` must
    come out as that dict, never as a (fake) ``ImageResult``.
    """
    if isinstance(value, dict):
        items = {key: _tag(item) for key, item in value.items()}
        return {TYPE_KEY: "dict", "v": items} if TYPE_KEY in value else items
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    for kind, cls in _SPECIAL:
        if isinstance(value, cls):
            return {TYPE_KEY: kind, **dataclasses.asdict(value)}
    return value


def encode_value(value: Any) -> tuple[str, bool]:
    """``(json, tagged)``: a result as JSON text; ``tagged`` when it holds result objects."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False), False
    except TypeError:
        return json.dumps(_tag(value), separators=(",", ":"), ensure_ascii=False), True


class RunScope:
    """The bridge's view of one run: its calls, its cap, its trace, its gates and its recording."""

    def __init__(
        self,
        run_id: str,
        *,
        max_calls: int,
        on_tool_call: ToolCallCallback | None,
        gates: tuple[CallGate, ...] = (),
        max_recording_bytes: int = DEFAULT_RECORDING_BYTES,
    ) -> None:
        self.run_id = run_id
        self.max_calls = max_calls
        self.on_tool_call = on_tool_call
        self.gates = gates
        self.recording = Recording(max_bytes=max_recording_bytes)
        self.calls = 0
        self.cap_reached = False
        self.closed = False
        self.trace: list[ToolCallRecord] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self._paused = 0  # calls waiting for a person right now
        self._paused_since = 0.0
        self._paused_total = 0.0

    @contextlib.contextmanager
    def pause(self) -> Any:
        """Stop the run's clock while a call waits for a person (nested and concurrent waits count once)."""
        if self._paused == 0:
            self._paused_since = time.monotonic()
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            if self._paused == 0:
                self._paused_total += time.monotonic() - self._paused_since

    @property
    def waiting_for_person(self) -> bool:
        return self._paused > 0

    def paused_seconds(self) -> float:
        """Seconds the run has spent waiting for a person so far."""
        current = time.monotonic() - self._paused_since if self._paused else 0.0
        return self._paused_total + current

    def notify(self, record: ToolCallRecord) -> None:
        if self.on_tool_call is None:
            return
        try:
            outcome = self.on_tool_call(record)
            if isinstance(outcome, Awaitable):
                task = asyncio.ensure_future(outcome)
                task.add_done_callback(_log_callback_failure)
        except Exception:
            log.exception("on_tool_call callback failed")


def _log_callback_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("on_tool_call callback failed", exc_info=task.exception())


class ToolBridge:
    """Host side of tool calls from sandboxed code (see the module docstring)."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        tool_timeout: float = 60.0,
        host: str = "127.0.0.1",
        port: int = 0,
        advertise_host: str | None = None,
        audit_path: Path | None = None,
        unix_path: Path | None = None,
        max_connections: int = MAX_CONNECTIONS,
        max_frame: int = MAX_CALL_FRAME,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        self.registry = registry
        self.max_connections = max_connections
        self.max_frame = max_frame
        self.handshake_timeout = handshake_timeout
        self.tool_timeout = tool_timeout
        self.host = host
        self.port = port
        self.advertise_host = advertise_host
        self.audit_path = audit_path
        self.unix_path = unix_path
        self.token = secrets.token_urlsafe(32)
        self._server: asyncio.AbstractServer | None = None
        self._protocols: set[_BridgeServerProtocol] = set()
        self._scope: RunScope | None = None
        self._finished: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._next_call = 0
        self._audit_file: Any = None
        self.host_functions: dict[str, HostFunction] = {}
        """Calls answered by the host itself, not an MCP server (e.g. ``codemode.skills.load``
        for ``generated.skills``); same cap, trace and audit as tool calls."""

    # -- endpoint ----------------------------------------------------------------

    async def start(self) -> None:
        """Listen for sandbox connections (idempotent)."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        if self.unix_path is not None:
            self.unix_path.unlink(missing_ok=True)
            self._server = await loop.create_unix_server(lambda: _BridgeServerProtocol(self), str(self.unix_path))
            os.chmod(self.unix_path, 0o600)
            return
        self._server = await loop.create_server(lambda: _BridgeServerProtocol(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def listening(self) -> bool:
        return self._server is not None

    def client_settings(self) -> dict[str, Any]:
        """What the sandbox needs to connect: address (or socket path) and token."""
        if self.unix_path is not None:
            return {"path": str(self.unix_path), "token": self.token}
        host = self.advertise_host or self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        return {"host": host, "port": self.port, "token": self.token}

    async def close(self) -> None:
        """Stop listening, drop every connection and cancel calls in flight."""
        if self._scope is not None:
            self.end_run(self._scope)
        for protocol in list(self._protocols):
            protocol.abort()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None
            if self.unix_path is not None:
                with contextlib.suppress(OSError):
                    self.unix_path.unlink(missing_ok=True)
        if self._audit_file is not None:
            self._audit_file.close()
            self._audit_file = None

    # -- runs --------------------------------------------------------------------

    def begin_run(
        self,
        run_id: str,
        *,
        max_calls: int = 1000,
        on_tool_call: ToolCallCallback | None = None,
        gates: tuple[CallGate, ...] = (),
        max_recording_bytes: int = DEFAULT_RECORDING_BYTES,
    ) -> RunScope:
        """Accept calls for ``run_id`` until :meth:`end_run`; each passes ``gates`` first."""
        if self._scope is not None:
            self.end_run(self._scope)
        scope = RunScope(
            run_id,
            max_calls=max_calls,
            on_tool_call=on_tool_call,
            gates=gates,
            max_recording_bytes=max_recording_bytes,
        )
        self._scope = scope
        return scope

    def end_run(self, scope: RunScope) -> None:
        """Refuse further calls of the run and cancel those still in flight."""
        scope.closed = True
        if self._scope is scope:
            self._scope = None
        self._finished[scope.run_id] = None
        while len(self._finished) > REMEMBERED_RUNS:
            self._finished.popitem(last=False)
        for task in list(scope.tasks):
            task.cancel()

    def _resolve(self, run_id: Any, name: str) -> RunScope:
        """The scope of the run in progress, when the call belongs to it; else a clear refusal.

        A call must name its run: code a run left behind (a thread, a task, a
        callback) keeps naming that run, so it cannot act inside a later one.
        """
        scope = self._scope
        live = scope is not None and not scope.closed
        if run_id is not None and (not live or run_id != scope.run_id):  # type: ignore[union-attr]
            if isinstance(run_id, str) and run_id in self._finished:
                message = (
                    f"this call belongs to run {run_id} which has finished; a thread, task or "
                    "callback it left running cannot call tools"
                )
            else:
                message = f"this call belongs to run {run_id}, which is not the run in progress"
            raise CallRejected(message, kind="stale_run", tool=name)
        if not live:
            raise CallRejected(
                "no run is in progress: tools can only be called while execute() runs "
                "(a task left running by an earlier run cannot call tools)",
                kind="no_run",
                tool=name,
            )
        if run_id is None:
            raise CallRejected(
                "this call does not say which run it belongs to (code started outside a run, "
                "or a thread the sandbox could not tag), so it was refused",
                kind="no_run_id",
                tool=name,
            )
        assert scope is not None
        return scope

    # -- calls -------------------------------------------------------------------

    async def call(
        self, name: str, arguments: dict[str, Any], run_id: str | None = None, line: int | None = None
    ) -> Any:
        """Make a call for in-process code (eval): same cap, timeout, gates, trace and audit."""
        scope = self._resolve(run_id, name)
        task = asyncio.current_task()
        if task is not None:
            scope.tasks.add(task)
        try:
            value, _, _ = await self._invoke(scope, name, arguments, line)
        finally:
            if task is not None:
                scope.tasks.discard(task)
        return value

    async def _invoke(self, scope: RunScope, name: str, arguments: Any, line: Any = None) -> tuple[Any, str, bool]:
        """Run one call: ``(value, json of the value, tagged)``; raises ``ToolError``."""
        if scope.calls >= scope.max_calls:
            scope.cap_reached = True
            raise CallRejected(
                f"this run reached its cap of {scope.max_calls} tool calls; make fewer calls "
                "(batch the work) or raise max_tool_calls",
                kind="cap",
                tool=name,
            )
        scope.calls += 1
        self._next_call += 1
        host_function = self.host_functions.get(name) if isinstance(name, str) else None
        tool = self.registry.get_tool(name) if isinstance(name, str) and host_function is None else None
        record = ToolCallRecord(
            call_id=self._next_call,
            run_id=scope.run_id,
            name=tool.qualified_name if tool else str(name),
            server=tool.server if tool else (HOST_SERVER if host_function else None),
            tool=tool.name if tool else (str(name) if host_function else None),
            arguments=arguments if isinstance(arguments, dict) else {},
            started=time.time(),
            order=scope.calls,
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        )
        started = time.perf_counter()
        scope.trace.append(record)
        try:
            if host_function is not None:
                if not isinstance(arguments, dict):
                    raise ToolError("arguments must be a JSON object", server=HOST_SERVER, tool=str(name))
                value = await host_function(arguments)
                text, tagged = encode_value(value)
                self._finish(scope, record, started, text=text)
                return value, text, tagged
            if not isinstance(arguments, dict):
                raise ToolError("arguments must be a JSON object", server=record.server, tool=record.tool or str(name))
            for gate in scope.gates:
                answer = await gate(GateCall(record, tool, scope.pause))
                if answer is not None:
                    self._finish(scope, record, started, text=answer.text, tagged=answer.tagged)
                    return (answer.value() if answer.tagged else json.loads(answer.text)), answer.text, answer.tagged
            if tool is None:
                raise UnknownToolError(str(name), self.registry.suggest(str(name)))
            raw = await self.registry.call_tool_raw(tool, arguments, timeout=self.tool_timeout)
            value = unwrap_result(raw, server=tool.server, tool=tool.name, output_schema=tool.output_schema)
            text, tagged = encode_value(value)
        except asyncio.CancelledError:
            self._finish(scope, record, started, error="cancelled: the run ended before the call finished")
            raise
        except ToolError as exc:
            self._finish(scope, record, started, error=exc.message)
            raise
        except Exception as exc:  # a transport or encoding failure: still the caller's data
            self._finish(scope, record, started, error=f"{type(exc).__name__}: {exc}")
            raise ToolError(str(exc) or type(exc).__name__, server=record.server, tool=record.tool) from exc
        self._finish(scope, record, started, text=text, tagged=tagged)
        return value, text, tagged

    def _finish(
        self,
        scope: RunScope,
        record: ToolCallRecord,
        started: float,
        *,
        text: str = "",
        error: str | None = None,
        tagged: bool = False,
    ) -> None:
        record.duration = time.perf_counter() - started
        record.ok = error is None
        record.error = error
        record.result_size = size = len(text) if text.isascii() else len(text.encode("utf-8"))
        record.preview = (error if error is not None else text)[:PREVIEW_CHARS]
        if record.server != HOST_SERVER:
            scope.recording.add(
                record.name,
                record.arguments,
                text=text if error is None else None,
                size=size,
                tagged=tagged,
                error=error,
                duration=record.duration,
            )
        scope.notify(record)
        if self.audit_path is not None:
            self._audit(record)

    def _audit(self, record: ToolCallRecord) -> None:
        try:
            if self._audit_file is None:
                self.audit_path.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
                self._audit_file = open(self.audit_path, "a", encoding="utf-8")  # type: ignore[arg-type]
            entry = record.to_dict()
            entry.pop("preview", None)
            self._audit_file.write(json.dumps(entry, default=repr, ensure_ascii=False) + "\n")
            self._audit_file.flush()
        except OSError:
            log.exception("cannot write the tool-call audit log %s", self.audit_path)

    # -- wire --------------------------------------------------------------------

    async def _serve(self, protocol: _BridgeServerProtocol, call_id: Any, message: dict[str, Any]) -> None:
        name = message.get("t")
        try:
            scope = self._resolve(message.get("r"), str(name))
        except CallRejected as exc:
            protocol.send_error(call_id, exc, exc.kind)
            return
        task = asyncio.current_task()
        assert task is not None
        scope.tasks.add(task)
        try:
            _, text, tagged = await self._invoke(scope, name, message.get("a"), message.get("l"))  # type: ignore[arg-type]
        except CallRejected as exc:
            protocol.send_error(call_id, exc, exc.kind)
        except UnknownToolError as exc:
            protocol.send_error(call_id, exc, "unknown")
        except ToolError as exc:
            protocol.send_error(call_id, exc, "tool")
        except asyncio.CancelledError:
            protocol.send_error(
                call_id, ToolError("cancelled: the run ended before the call finished", tool=str(name)), "cancelled"
            )
        else:
            protocol.send_value(call_id, text, tagged)
        finally:
            scope.tasks.discard(task)
            protocol.tasks.pop(call_id, None)


class _BridgeServerProtocol(asyncio.Protocol):
    """One sandbox connection: authenticate, then serve framed calls concurrently.

    Until the peer proves the token it gets almost nothing: one frame of at
    most :data:`PREAUTH_FRAME` bytes, :data:`HANDSHAKE_TIMEOUT` seconds, and a
    slot only while fewer than ``max_connections`` are open.  So a flood of
    idle connections costs the host a bounded number of descriptors for a
    bounded time, and a peer announcing a 250 MB frame is dropped after
    4 KiB instead of being buffered.
    """

    def __init__(self, bridge: ToolBridge) -> None:
        self.bridge = bridge
        self.transport: asyncio.Transport | None = None
        self.authenticated = False
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self._buffer = bytearray()
        self._limit = PREAUTH_FRAME
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        protocols = self.bridge._protocols
        if len(protocols) >= self.bridge.max_connections:
            log.warning(
                "tool-call bridge dropped a connection: %d are open already (the limit)", self.bridge.max_connections
            )
            transport.abort()
            return
        protocols.add(self)
        self._deadline = asyncio.get_running_loop().call_later(self.bridge.handshake_timeout, self._handshake_expired)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handshake_expired(self) -> None:
        self._deadline = None
        if not self.authenticated:
            log.warning(
                "tool-call bridge dropped a peer that did not prove the token within %gs", self.bridge.handshake_timeout
            )
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.bridge._protocols.discard(self)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._buffer = bytearray()
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            (size,) = _HEADER.unpack_from(buffer)
            if size > self._limit:
                what = "before the token handshake" if not self.authenticated else "in one call"
                self._refuse(f"frame of {size} bytes exceeds the limit of {self._limit} {what}")
                return
            end = 4 + size
            if len(buffer) < end:
                return
            try:
                message = json.loads(buffer[4:end])
            except ValueError:
                self._refuse("a frame is not valid JSON")
                return
            del buffer[:end]
            if not isinstance(message, dict):
                self._refuse("a frame is not a JSON object")
                return
            self._handle(message)
            if self.transport is None or self.transport.is_closing():
                return

    def _handle(self, message: dict[str, Any]) -> None:
        if not self.authenticated:
            token = message.get("hello")
            if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.bridge.token.encode()):
                self._refuse("wrong or missing token")
                return
            if message.get("v") != PROTOCOL_VERSION:
                self._refuse(f"protocol version {message.get('v')!r} is not {PROTOCOL_VERSION}")
                return
            self.authenticated = True
            self._limit = self.bridge.max_frame
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._write({"ok": True})
            return
        if "c" in message:
            task = self.tasks.get(message["c"])
            if task is not None:
                task.cancel()
            return
        call_id = message.get("i")
        if call_id is None or "t" not in message:
            self._refuse("a call needs an id ('i') and a tool name ('t')")
            return
        self.tasks[call_id] = asyncio.get_running_loop().create_task(self.bridge._serve(self, call_id, message))

    def _refuse(self, reason: str) -> None:
        log.warning("tool-call bridge refused a connection: %s", reason)
        self._write({"error": f"refused: {reason}"})
        self._buffer = bytearray()
        if self.transport is not None:
            self.transport.close()

    def _write(self, message: dict[str, Any]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.transport.write(_HEADER.pack(len(body)) + body)

    def send_value(self, call_id: Any, text: str, tagged: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = json.dumps(call_id)
        body = (f'{{"i":{head},"x":1,"v":' if tagged else f'{{"i":{head},"v":').encode() + text.encode("utf-8") + b"}"
        self.transport.write(_HEADER.pack(len(body)) + body)

    def send_error(self, call_id: Any, error: ToolError, kind: str) -> None:
        self._write({"i": call_id, "e": {"m": error.message, "s": error.server, "n": error.tool, "k": kind}})
