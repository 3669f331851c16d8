"""An asyncio client for one kernel behind a Jupyter Server (websocket + REST).

code-sandboxes starts and stops the kernel (see :mod:`.kernel_sandbox`), but
its ``run_code`` is not what a run needs: it blocks a thread per run, returns
on timeout while the kernel keeps running, sends every request with
``stop_on_error`` (after an interrupt ipykernel then silently drops the next
queued request), and its websocket client queues every iopub message of the
session without bound.  This client instead:

* reads the kernel websocket in one task and routes each message to the run
  that caused it (by parent message id), so output streams live to the
  caller's callback;
* sends every request with ``stop_on_error=False``;
* reports a kernel that dies or restarts under a run as :class:`KernelDied`
  instead of waiting forever for a reply;
* acknowledges every frame at once (``TCP_QUICKACK`` where the OS has it):
  Jupyter Server's websocket leaves Nagle's algorithm on, and with delayed
  ACKs each run waited about 40 ms for nothing (measured: 44 ms -> 6 ms for
  ``1 + 1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from .errors import KernelChannelError, KernelDied

MessageHandler = Callable[[dict[str, Any]], None]
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def ws_url(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :]
    return base_url


class KernelChannel:
    """Messages to and from one kernel of a Jupyter Server."""

    def __init__(
        self, base_url: str, token: str | None, kernel_id: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.kernel_id = kernel_id
        self.headers = dict(headers or {})
        if token:
            self.headers.setdefault("Authorization", f"token {token}")
        self.session = uuid.uuid4().hex
        self._ws: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._handlers: dict[str, MessageHandler] = {}
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._idle: dict[str, asyncio.Event] = {}
        self._http = AsyncHTTPClient(force_instance=True)
        self.expect_restart = False
        self.on_kernel_lost: Callable[[str], None] | None = None
        self.closed = False

    # -- connection ----------------------------------------------------------

    async def connect(self, timeout: float = 30.0) -> None:
        query = urlencode({"session_id": self.session})
        url = f"{ws_url(self.base_url)}/api/kernels/{self.kernel_id}/channels?{query}"
        request = HTTPRequest(url, headers=self.headers, connect_timeout=timeout, request_timeout=timeout)
        try:
            self._ws = await websocket_connect(request, max_message_size=256 * 1024 * 1024)
        except (OSError, HTTPClientError) as exc:
            raise KernelChannelError(f"cannot open the kernel's websocket at {self.base_url}: {exc}") from None
        self._quickack()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    def _quickack(self) -> None:
        if _QUICKACK is None or self._ws is None:
            return
        stream = getattr(getattr(self._ws, "protocol", None), "stream", None)
        sock = getattr(stream, "socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    async def _read(self) -> None:
        reason = "the connection to the Jupyter Server closed"
        try:
            while self._ws is not None:
                raw = await self._ws.read_message()
                if raw is None:
                    break
                self._quickack()
                if isinstance(raw, bytes):
                    continue  # binary frames carry buffers (widgets); nothing a run reports
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                self._route(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"the kernel websocket failed: {exc}"
        self._fail_all(reason)

    def _route(self, message: dict[str, Any]) -> None:
        parent = (message.get("parent_header") or {}).get("msg_id")
        msg_type = (message.get("header") or {}).get("msg_type")
        channel = message.get("channel")
        if msg_type == "status" and not parent:
            state = (message.get("content") or {}).get("execution_state")
            if state in ("restarting", "dead") and not self.expect_restart:
                self._fail_all(
                    "the kernel process died (it exited, crashed or ran out of memory) and was restarted"
                    if state == "restarting"
                    else "the kernel process died and could not be restarted"
                )
                if self.on_kernel_lost is not None:
                    self.on_kernel_lost(state)
            return
        if not parent:
            return
        if channel == "shell" or channel == "control":
            waiter = self._waiters.get(parent)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
            return
        if channel == "iopub":
            handler = self._handlers.get(parent)
            if handler is not None:
                handler(message)
            if msg_type == "status" and (message.get("content") or {}).get("execution_state") == "idle":
                idle = self._idle.get(parent)
                if idle is not None:
                    idle.set()

    def _fail_all(self, reason: str) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(KernelDied(reason))
        for idle in self._idle.values():
            idle.set()

    def _message(self, msg_type: str, content: dict[str, Any], msg_id: str, channel: str = "shell") -> str:
        return json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": msg_type,
                    "session": self.session,
                    "username": "codemode",
                    "date": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": content,
                "channel": channel,
                "buffers": [],
            }
        )

    async def _send(self, text: str) -> None:
        if self._ws is None or self.closed:
            raise KernelDied("the kernel connection is closed")
        try:
            await self._ws.write_message(text)
        except Exception as exc:
            raise KernelDied(f"cannot send to the kernel: {exc}") from None
        self._quickack()

    # -- requests ------------------------------------------------------------

    async def request(
        self,
        msg_type: str,
        content: dict[str, Any],
        *,
        msg_id: str | None = None,
        on_message: MessageHandler | None = None,
        wait_idle: bool = True,
    ) -> dict[str, Any]:
        """Send a shell request; stream its iopub messages to ``on_message``; return the reply content.

        Returns once the reply and the kernel's ``idle`` for this request both
        arrived, so no output of the request is lost.  Cancel the awaiting
        task to give up on it (the kernel is not told: interrupt it for that).
        """
        msg_id = msg_id or uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[dict[str, Any]] = loop.create_future()
        idle = asyncio.Event()
        self._waiters[msg_id] = waiter
        self._idle[msg_id] = idle
        if on_message is not None:
            self._handlers[msg_id] = on_message
        try:
            await self._send(self._message(msg_type, content, msg_id))
            reply = await waiter
            if wait_idle:
                await idle.wait()
            return reply.get("content") or {}
        finally:
            self._waiters.pop(msg_id, None)
            self._idle.pop(msg_id, None)
            self._handlers.pop(msg_id, None)

    async def execute(
        self, code: str, *, msg_id: str | None = None, on_message: MessageHandler | None = None
    ) -> dict[str, Any]:
        """Run ``code``; see :meth:`request`."""
        content = {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        return await self.request("execute_request", content, msg_id=msg_id, on_message=on_message)

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the kernel answers ``kernel_info`` (after a start or a restart)."""
        deadline = time.monotonic() + timeout
        attempt = 0.25
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelChannelError(f"the kernel did not answer within {timeout:g} s")
            try:
                info = self.request("kernel_info_request", {}, wait_idle=False)
                await asyncio.wait_for(info, min(attempt, remaining))
                return
            except TimeoutError:
                attempt = min(attempt * 2, 2.0)
            except KernelDied:
                await asyncio.sleep(0.1)

    # -- REST ------------------------------------------------------------------

    async def rest(self, method: str, path: str, *, timeout: float = 10.0, body: Any = None) -> dict[str, Any]:
        request = HTTPRequest(
            f"{self.base_url}{path}",
            method=method,
            headers={**self.headers, "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else ("" if method in ("POST", "PUT", "PATCH") else None),
            connect_timeout=timeout,
            request_timeout=timeout,
        )
        try:
            response = await self._http.fetch(request)
        except HTTPClientError as exc:
            raise KernelChannelError(f"the Jupyter Server answered {exc.code} to {method} {path}") from None
        except OSError as exc:
            raise KernelChannelError(f"cannot reach the Jupyter Server at {self.base_url}: {exc}") from None
        return json.loads(response.body) if response.body else {}

    async def interrupt(self) -> None:
        """Ask the server to interrupt the kernel (SIGINT for a local ipykernel)."""
        await self.rest("POST", f"/api/kernels/{self.kernel_id}/interrupt", timeout=5.0)

    async def close(self) -> None:
        self.closed = True
        self._fail_all("the kernel connection was closed")
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        self._http.close()
