"""One live MCP session per server, over stdio, streamable HTTP or SSE, or in memory.

Each connection runs in its own task that enters the SDK's context managers,
waits until asked to stop, then leaves them in the same task (anyio requires
it).  A stdio server's stderr is read on a thread into a ring of the last 200
lines; the end of that pipe is how we learn, at once, that the process died.

A connection given an ``MCPServer`` object talks to it in this process over
the SDK's in-memory transport (what ``mcp.Client(server)`` uses): the same
session, messages and errors, without a process to start.  The saved
configuration still names and describes the server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import logging
import math
import os
import shutil
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import mcp_types as types
import pydantic
from mcp import ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from . import paths
from .config import ConfigError, MCPServerConfig
from .tool_types import Status

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger(__name__)

STDERR_LINES = 200
CLOSED_BEFORE_READY = "the connection was closed before it was ready"


#: What the SDK imports on the event loop at the first call of a tool with an output schema.
SDK_LAZY_IMPORTS = ("jsonschema", "jsonschema.validators", "jsonschema.exceptions")
_warming: concurrent.futures.Future[None] | None = None
_warming_lock = threading.Lock()


def warm_sdk_imports() -> concurrent.futures.Future[None]:
    """Import :data:`SDK_LAZY_IMPORTS` on a thread, once per process; done when they are imported.

    ``jsonschema`` takes 1.5-2 s to import (its format checkers compile a
    grammar), and the SDK imports it lazily, on the event loop, when the first
    tool with an output schema answers: the first call of a session would
    take seconds and freeze whatever else the loop runs (a playground, other
    calls).  Every connection starts this when it connects, so any front end
    (playground, CLI, ``serve``) gets it without asking.
    """
    global _warming
    with _warming_lock:
        if _warming is None:
            _warming = concurrent.futures.Future()
            threading.Thread(target=_import_lazy_modules, args=(_warming,), name="warm-sdk", daemon=True).start()
        return _warming


def _import_lazy_modules(done: concurrent.futures.Future[None]) -> None:
    try:
        for module in SDK_LAZY_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    except Exception:  # a broken install: the SDK will say so at the call; a waiting serve must not hang
        log.exception("importing the SDK's lazy modules failed")
    finally:
        done.set_result(None)


class ConnectionFailed(Exception):
    """A server could not be reached or stopped answering; the message says why."""


def _flatten(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class ServerConnection:
    """A session with one MCP server and what we know of its health."""

    def __init__(
        self,
        config: MCPServerConfig,
        *,
        on_status: Callable[[ServerConnection], None] | None = None,
        on_tools_changed: Callable[[ServerConnection], Awaitable[None]] | None = None,
        server: MCPServer | None = None,
    ) -> None:
        self.config = config
        self.in_process = server
        self.status: Status = "disconnected" if config.enabled else "disabled"
        self.error: str | None = None
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self.server_info: types.Implementation | None = None
        self.instructions: str | None = None
        self._on_status = on_status
        self._on_tools_changed = on_tools_changed
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._fail_reason: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_open(self) -> bool:
        """True while a session task exists (connecting, connected or failing)."""
        return self._task is not None

    @property
    def connected(self) -> bool:
        return self.status == "connected" and self._session is not None

    def _set(self, status: Status, error: str | None = None) -> None:
        self.status = status
        self.error = error
        if self._on_status is not None:
            self._on_status(self)

    def stderr_tail(self, lines: int = 5) -> str:
        tail = [line for line in list(self.stderr)[-lines:] if line.strip()]
        return "\n".join(tail)

    def _with_stderr(self, message: str) -> str:
        tail = self.stderr_tail()
        return f"{message}\nLast lines of the server's stderr:\n{tail}" if tail else message

    # -- lifecycle ------------------------------------------------------------

    async def connect(self) -> None:
        """Start the session; raises :class:`ConnectionFailed` with a reason."""
        if self.connected:
            return
        warm_sdk_imports()
        await self.close()
        self._stopping = False
        self._set("connecting")
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready, self._stop), name=f"mcp:{self.name}")
        try:
            await ready
        except ConnectionFailed as exc:
            if not self._stopping:  # closed while connecting: close() says what the status is
                self._set("failed", str(exc))
            raise
        except asyncio.CancelledError:
            await self.close()
            raise
        self._set("connected")

    async def _run(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        # The deadline scope sits outside the exit stack so that anyio's scopes
        # nest properly; it is lifted once the session is initialised.
        try:
            with anyio.CancelScope() as deadline:
                deadline.deadline = anyio.current_time() + self.config.timeout
                async with AsyncExitStack() as stack:
                    session = await self._open(stack)
                    init = await session.initialize()
                    deadline.deadline = math.inf
                    self.server_info = init.server_info
                    self.instructions = init.instructions
                    self._session = session
                    ready.set_result(None)
                    await stop.wait()
            if deadline.cancelled_caught and not ready.done():
                ready.set_exception(ConnectionFailed(self._explain_start_failure(TimeoutError())))
        except BaseException as exc:
            if not ready.done():
                closed = self._stopping and isinstance(exc, asyncio.CancelledError)
                reason = CLOSED_BEFORE_READY if closed else self._explain_start_failure(exc)
                ready.set_exception(ConnectionFailed(reason))
            elif not self._stopping and not isinstance(exc, asyncio.CancelledError):
                self._mark_failed(f"the connection ended: {_describe(_flatten(exc))}")
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._session = None
            if not ready.done():
                ready.set_exception(ConnectionFailed(CLOSED_BEFORE_READY))

    async def _open(self, stack: AsyncExitStack) -> ClientSession:
        # Placeholders (${VAR}, an envFile, VS Code inputs given for this session) are filled
        # here and only here: the saved config and every message keep the placeholders.
        cfg = self.config.resolved()
        if self.in_process is not None:
            # What mcp.Client(server) connects through; a private module of the SDK, so imported
            # here: were it to move, only in-process servers would notice.
            from mcp.client._memory import InMemoryTransport

            read, write = await stack.enter_async_context(InMemoryTransport(self.in_process))
        elif cfg.transport == "stdio":
            command = cfg.command or ""
            if os.sep not in command and shutil.which(command) is None:
                raise FileNotFoundError(command)
            # The SDK passes a stdio server only a few safe variables; the home override goes too,
            # so servers that keep data (the bundled demo) stay inside a portable or test home.
            env = dict(cfg.env)
            if paths.HOME_ENV in os.environ and paths.HOME_ENV not in env:
                env[paths.HOME_ENV] = os.environ[paths.HOME_ENV]
            params = StdioServerParameters(command=command, args=list(cfg.args), env=env or None, cwd=cfg.cwd)
            errlog = self._stderr_pipe()
            try:
                read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
            finally:
                errlog.close()  # the child holds its own copy; EOF on our side means it exited
        elif cfg.transport == "http":
            client = httpx2.AsyncClient(headers=dict(cfg.headers), timeout=httpx2.Timeout(cfg.timeout, read=300.0))
            await stack.enter_async_context(client)
            read, write = await stack.enter_async_context(streamable_http_client(cfg.url or "", http_client=client))
        else:
            read, write = await stack.enter_async_context(
                sse_client(cfg.url or "", headers=dict(cfg.headers), timeout=cfg.timeout)
            )
        session = ClientSession(read, write, message_handler=self._on_message)
        return await stack.enter_async_context(session)

    def _stderr_pipe(self) -> Any:
        read_fd, write_fd = os.pipe()
        reader = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
        loop = asyncio.get_running_loop()

        def pump() -> None:
            with reader:
                for line in reader:
                    self.stderr.append(line.rstrip("\n"))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_process_exit)

        threading.Thread(target=pump, name=f"stderr:{self.name}", daemon=True).start()
        return os.fdopen(write_fd, "w")

    def _on_process_exit(self) -> None:
        if self._stopping:
            return
        if self.status == "connected":
            self._mark_failed("the server process exited")
        elif self.status == "failed" and self._fail_reason:
            # The request failed before the last stderr lines were read: now they all are.
            self._mark_failed(self._fail_reason)

    def _mark_failed(self, reason: str) -> None:
        if self._stopping:
            return
        self._fail_reason = reason
        self._set("failed", self._with_stderr(f"{reason}; use reconnect to start it again"))
        if self._stop is not None:
            self._stop.set()

    def _explain_start_failure(self, exc: BaseException) -> str:
        exc = _flatten(exc)
        if isinstance(exc, ConfigError):
            return str(exc)
        cfg = self.config
        if isinstance(exc, TimeoutError):
            return self._with_stderr(
                f"no answer within {cfg.timeout:g} s while connecting; check that the server starts "
                "and speaks MCP, or raise the server's timeout"
            )
        if isinstance(exc, FileNotFoundError) and cfg.transport == "stdio":
            return (
                f"command {cfg.command!r} not found; install it or give its full path in the server's 'command' field"
            )
        if isinstance(exc, PermissionError) and cfg.transport == "stdio":
            return f"command {cfg.command!r} cannot be run (permission denied)"
        if isinstance(exc, httpx2.ConnectError | ConnectionError | OSError) and cfg.transport != "stdio":
            return f"cannot connect to {cfg.url}: {exc or type(exc).__name__}; is the server running?"
        if isinstance(exc, httpx2.HTTPStatusError):
            return f"{cfg.url} answered HTTP {exc.response.status_code}; check the URL and headers"
        if cfg.transport == "stdio":
            return self._with_stderr(f"the server exited or failed during start-up ({_describe(exc)})")
        return f"could not start a session with {cfg.url} ({_describe(exc)})"

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification) and self._on_tools_changed is not None:
            await self._on_tools_changed(self)

    async def close(self) -> None:
        """End the session and the server process; quiet if already closed."""
        task, stop = self._task, self._stop
        self._task = None
        if task is None:
            return
        self._stopping = True
        if self._session is None:
            # Still connecting (a server that never answers ``initialize``): there is no session
            # to end politely, and waiting for one would hold whoever closes for seconds.
            task.cancel()
        elif stop is not None:
            stop.set()
        try:
            with anyio.move_on_after(10):
                await asyncio.shield(task)
        except (asyncio.CancelledError, Exception):
            pass
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._session = None
        if self.status in ("connected", "connecting"):
            self._set("disconnected" if self.config.enabled else "disabled")

    # -- requests -------------------------------------------------------------

    def _require_session(self) -> ClientSession:
        if self._session is None or self.status != "connected":
            reason = f": {self.error}" if self.error else ""
            raise ConnectionFailed(f"server {self.name!r} is not connected ({self.status}){reason}")
        return self._session

    async def list_tools(self) -> list[types.Tool]:
        """All tools of the server, following pagination."""
        session = self._require_session()
        tools: list[types.Tool] = []
        cursor: str | None = None
        try:
            with anyio.fail_after(self.config.timeout):
                while True:
                    page = await session.list_tools(cursor=cursor) if cursor else await session.list_tools()
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
        except TimeoutError:
            raise ConnectionFailed(
                f"server {self.name!r} did not list its tools within {self.config.timeout:g} s"
            ) from None
        except pydantic.ValidationError as exc:
            raise ConnectionFailed(
                f"server {self.name!r} sent a tools/list answer that is not valid MCP ({_validation_summary(exc)}); "
                "the server needs fixing or updating"
            ) from None
        except Exception as exc:
            raise self._request_failure(exc, "listing tools") from None
        return tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None, *, timeout: float | None = None
    ) -> types.CallToolResult:
        """Call one tool; transport failures become :class:`ConnectionFailed`.

        The limit covers the whole call, the write included (a server that
        stops reading its input cannot hang it).  It is asyncio's own timeout,
        not an anyio cancel scope: the SDK's awaits take a native cancellation
        alike, and on the per-call path anyio's scope cost about ten times as
        much (``bench_executor``).
        """
        session = self._require_session()
        limit = timeout if timeout is not None else self.config.timeout
        try:
            async with asyncio.timeout(limit):
                return await session.call_tool(name, arguments or {})
        except TimeoutError:
            raise TimeoutError(f"{self.name}.{name} did not answer within {limit:g} s") from None
        except Exception as exc:
            raise self._request_failure(exc, f"calling {name}") from None

    def _request_failure(self, exc: BaseException, doing: str) -> Exception:
        exc = _flatten(exc)
        if isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream) or (
            getattr(getattr(exc, "error", None), "code", None) == types.CONNECTION_CLOSED
        ):
            self._mark_failed(f"the connection closed while {doing}")
            return ConnectionFailed(self.error or f"server {self.name!r} closed the connection")
        if isinstance(exc, Exception):
            return exc
        return ConnectionFailed(_describe(exc))


def _validation_summary(exc: pydantic.ValidationError, limit: int = 3) -> str:
    """The first few problems of a validation error, one phrase each (``tools.0.name: Input should be ...``)."""
    errors = exc.errors()
    parts = [f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}" for error in errors[:limit]]
    more = f"; and {len(errors) - limit} more" if len(errors) > limit else ""
    return "; ".join(parts) + more


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
