"""The Jupyter messaging core both kernel channels share: routing, requests, readiness, big cells.

A kernel is reached over one of two transports: ZMQ sockets to a kernel the
executor launched itself (:class:`~.local_kernel.ZmqKernelChannel`) or a Jupyter
Server's websocket (:class:`~.kernel_channel.KernelChannel`).  Everything that
is about the protocol rather than the wire lives here, once:

* every message is routed to the request that caused it, by parent message
  id, so output streams live to the caller's callback;
* a request is finished only when **both** its reply (shell/control) and its
  iopub ``status: idle`` have arrived.  The two travel on different sockets and
  either can come first: returning at the reply would lose an
  ``execute_result`` still in flight on iopub;
* every execute request is sent with ``stop_on_error=False`` (after an
  interrupt, ipykernel would otherwise silently drop the next queued request);
* a lost kernel or connection fails every pending request with
  :class:`~.errors.KernelDied` at once, instead of leaving it waiting (also a
  request whose reply was in: what was lost may be its output or value);
* a cell larger than the transport can carry (:attr:`KernelProtocol.max_cell_bytes`;
  Jupyter Server's websocket refuses messages over 10 MiB) is uploaded in
  pieces to a kernel-side buffer and then run as one ordinary cell: an IPython
  input transformer swaps a one-line marker cell for the buffered source, so
  top-level ``await``, the last expression's value and tracebacks behave as if
  the cell had been sent whole.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from .errors import KernelChannelError, KernelDied

MessageHandler = Callable[[dict[str, Any]], None]

#: Installs the kernel side of chunked cells once per kernel (idempotent, leaves no user name).
CHUNKS_SETUP = r"""
(lambda sys, types: None if "_codemode_chunks" in sys.modules else (lambda m: (
    sys.modules.__setitem__("_codemode_chunks", m),
    setattr(m, "parts", {}),
    setattr(m, "begin", lambda key: (m.parts.clear(), m.parts.__setitem__(key, []))),
    setattr(m, "add", lambda key, text: m.parts[key].append(__import__("base64").b64decode(text))),
    setattr(m, "transform", lambda lines: (
        b"".join(m.parts[lines[0][len("#codemode-chunked "):].strip()])
        .decode("utf-8", "surrogatepass").splitlines(keepends=True)
        if len(lines) == 1 and lines[0].startswith("#codemode-chunked ")
        and lines[0][len("#codemode-chunked "):].strip() in m.parts else lines)),
    get_ipython().input_transformers_cleanup.insert(0, m.transform),
))(types.ModuleType("_codemode_chunks")))(__import__("sys"), __import__("types"))
""".strip()


def execute_content(code: str, *, silent: bool = False) -> dict[str, Any]:
    """An ``execute_request``'s content as every run sends it."""
    return {
        "code": code,
        "silent": silent,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": False,
    }


def message_header(msg_type: str, msg_id: str, session: str) -> dict[str, Any]:
    return {
        "msg_id": msg_id,
        "msg_type": msg_type,
        "session": session,
        "username": "codemode",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
        "version": "5.3",
    }


class KernelProtocol(ABC):
    """Requests to one kernel and the routing of what it sends back (see the module docstring).

    A transport subclass implements :meth:`connect`, :meth:`_send`,
    :meth:`interrupt` and :meth:`close`, and feeds every message it reads to
    :meth:`_route`.
    """

    #: Longest cell sent as one message; ``None``: no limit.  Larger cells go in pieces.
    max_cell_bytes: int | None = None
    #: Size of each piece of a chunked cell (before base64).
    chunk_bytes: int = 4 << 20

    def __init__(self) -> None:
        self.session = uuid.uuid4().hex
        self._handlers: dict[str, MessageHandler] = {}
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._idle: dict[str, asyncio.Event] = {}
        self._failed: dict[str, str] = {}
        self._settling: asyncio.Event | None = None
        """Set by a transport while it finds out why its connection dropped (see :meth:`request`)."""
        self.expect_restart = False
        """Set while the kernel is restarted on purpose: its restart is not a loss."""
        self.on_kernel_lost: Callable[[str], None] | None = None
        """Called (on the loop) when the kernel or the connection to it is lost."""
        self.closed = False
        self.lost: str | None = None
        """Why the connection can no longer be used (``None`` while it can)."""
        self._chunks_ready = False

    # -- transport ------------------------------------------------------------------

    @abstractmethod
    async def connect(self, timeout: float = 30.0) -> None:
        """Open the connection to the kernel."""

    @abstractmethod
    async def _send(self, channel: str, msg_type: str, content: dict[str, Any], msg_id: str) -> None:
        """Send one message; raise :class:`KernelDied` when it cannot be sent."""

    @abstractmethod
    async def interrupt(self) -> None:
        """Interrupt the running cell."""

    async def close(self) -> None:
        self.closed = True
        self._fail_all("the kernel connection was closed")

    # -- routing --------------------------------------------------------------------

    def _route(self, channel: str, message: dict[str, Any]) -> None:
        """Hand one message from the kernel to the request it answers."""
        parent = (message.get("parent_header") or {}).get("msg_id")
        if not parent:
            return
        if channel in ("shell", "control"):
            waiter = self._waiters.get(parent)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
            return
        if channel != "iopub":
            return
        handler = self._handlers.get(parent)
        if handler is not None:
            handler(message)
        header = message.get("header") or {}
        if header.get("msg_type") == "status" and (message.get("content") or {}).get("execution_state") == "idle":
            idle = self._idle.get(parent)
            if idle is not None:
                idle.set()

    def _fail_all(self, reason: str) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(KernelDied(reason))
        for msg_id, idle in self._idle.items():
            # Even a request whose reply is in: its output may be what was lost.
            self._failed.setdefault(msg_id, reason)
            idle.set()

    def _lose(self, reason: str, state: str = "dead") -> None:
        """The connection cannot be used any more: fail what waits and tell the owner once."""
        if self.closed or self.lost is not None:
            return
        self.lost = reason
        self._fail_all(reason)
        if self.on_kernel_lost is not None:
            self.on_kernel_lost(state)

    # -- requests -------------------------------------------------------------------

    async def request(
        self,
        msg_type: str,
        content: dict[str, Any],
        *,
        msg_id: str | None = None,
        on_message: MessageHandler | None = None,
        wait_idle: bool = True,
        channel: str = "shell",
    ) -> dict[str, Any]:
        """Send a request; stream its iopub messages to ``on_message``; return the reply content.

        Returns once the reply and (with ``wait_idle``) the kernel's ``idle`` for
        this request have both arrived, in whichever order.  Cancel the awaiting
        task to give up on it (the kernel is not told: interrupt it for that).
        """
        if self.closed:
            raise KernelDied("the kernel connection is closed")
        if self.lost is not None:
            raise KernelDied(self.lost)
        msg_id = msg_id or uuid.uuid4().hex
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        idle = asyncio.Event()
        self._waiters[msg_id] = waiter
        self._idle[msg_id] = idle
        if on_message is not None:
            self._handlers[msg_id] = on_message
        try:
            await self._send(channel, msg_type, content, msg_id)
            if wait_idle:
                await idle.wait()
            reply = await waiter
            while self._settling is not None:  # the connection dropped: wait for the verdict on what was lost
                await self._settling.wait()
            failed = self._failed.get(msg_id)
            if failed is not None:
                raise KernelDied(failed)
            return reply.get("content") or {}
        finally:
            self._waiters.pop(msg_id, None)
            self._idle.pop(msg_id, None)
            self._handlers.pop(msg_id, None)
            self._failed.pop(msg_id, None)

    async def execute(
        self, code: str, *, msg_id: str | None = None, on_message: MessageHandler | None = None
    ) -> dict[str, Any]:
        """Run ``code`` as one cell (in pieces when it is too big for the transport); see :meth:`request`."""
        # A character can take up to 12 bytes on the wire (JSON escapes a surrogate pair as two \uXXXX).
        if self.max_cell_bytes is not None and len(code) * 12 + 2048 > self.max_cell_bytes:
            if len(json.dumps(code)) + 2048 > self.max_cell_bytes:
                code = await self._upload(code.encode("utf-8", "surrogatepass"))
        return await self.request("execute_request", execute_content(code), msg_id=msg_id, on_message=on_message)

    async def _upload(self, data: bytes) -> str:
        """Send ``data`` in pieces to the kernel's buffer; return the marker cell that runs it."""
        errors: list[str] = []

        def on_message(message: dict[str, Any]) -> None:
            if (message.get("header") or {}).get("msg_type") == "error":
                content = message.get("content") or {}
                errors.append(f"{content.get('ename')}: {content.get('evalue')}")

        async def silent(code: str) -> None:
            reply = await self.request("execute_request", execute_content(code, silent=True), on_message=on_message)
            if reply.get("status") != "ok" or errors:
                detail = errors[0] if errors else f"{reply.get('ename')}: {reply.get('evalue')}"
                raise KernelChannelError(f"the kernel refused a piece of a large cell ({detail})")

        if not self._chunks_ready:
            await silent(CHUNKS_SETUP)
            self._chunks_ready = True
        key = uuid.uuid4().hex
        await silent(f'__import__("sys").modules["_codemode_chunks"].begin("{key}")')
        step = max(1024, min(self.chunk_bytes, ((self.max_cell_bytes or self.chunk_bytes) - 1024) * 3 // 4))
        for start in range(0, len(data), step):
            piece = base64.b64encode(data[start : start + step]).decode("ascii")
            await silent(f'__import__("sys").modules["_codemode_chunks"].add("{key}", "{piece}")')
        return f"#codemode-chunked {key}\n"

    def forget_kernel_state(self) -> None:
        """The kernel restarted (or was replaced): what was installed in it is gone."""
        self._chunks_ready = False

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the kernel answers ``kernel_info`` on shell *and* its iopub reaches us.

        A subscriber's iopub connection can lag its shell connection (ZMQ's
        slow joiner): only once a request's ``idle`` arrives are later requests
        sure to get all their output.
        """
        deadline = time.monotonic() + timeout
        attempt = 0.25
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelChannelError(f"the kernel did not answer within {timeout:g} s")
            self._check_alive()
            try:
                await asyncio.wait_for(self.request("kernel_info_request", {}), min(attempt, remaining))
                return
            except TimeoutError:
                attempt = min(attempt * 2, 2.0)
            except KernelDied:
                if self.lost is not None:
                    raise KernelChannelError(self.lost) from None
                await asyncio.sleep(0.05)

    def _check_alive(self) -> None:
        """Raise :class:`KernelChannelError` when the kernel is known to be gone (transports add checks)."""
        if self.lost is not None:
            raise KernelChannelError(self.lost)
