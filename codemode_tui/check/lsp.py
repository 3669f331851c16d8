"""A minimal asyncio client for a language server over stdio (JSON-RPC with ``Content-Length`` frames).

The checker keeps one server process warm and asks it for diagnostics of an
in-memory document after every edit; that is what makes a re-check take tens
of milliseconds instead of the second a cold command-line check costs.  Only
what the checker needs is here: requests with ids, notifications, answers to
the few requests a server sends its client (configuration, capability
registration, progress), and the ``publishDiagnostics`` notifications for
servers that push rather than answer pull requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0


class LspError(RuntimeError):
    """The language server failed, exited, or answered with an error."""


class LspClient:
    """One language-server process and the JSON-RPC conversation with it."""

    def __init__(
        self,
        command: Sequence[str],
        root: Path,
        *,
        settings: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.root = Path(root)
        self.settings = settings or {}
        self.env = env
        self.capabilities: dict[str, Any] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._stderr: list[str] = []
        self.on_notification: Callable[[str, Any], None] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def stderr_tail(self, lines: int = 20) -> str:
        """The last lines the server wrote to stderr, to explain a failure."""
        return "\n".join(self._stderr[-lines:])

    async def start(self, initialization_options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start the process and run the ``initialize`` handshake; returns the server's capabilities."""
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.root,
                env={**os.environ, **(self.env or {})},
            )
        except OSError as exc:
            raise LspError(f"could not start {self.command[0]!r}: {exc}") from exc
        self._reader_task = asyncio.create_task(self._read_loop())
        self._stderr_task = asyncio.create_task(self._read_stderr())
        uri = self.root.as_uri()
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": self.root.name}],
                "initializationOptions": initialization_options or {},
                "capabilities": {
                    "workspace": {"configuration": True, "workspaceFolders": True},
                    "textDocument": {
                        "publishDiagnostics": {"relatedInformation": False, "versionSupport": True},
                        "diagnostic": {"dynamicRegistration": False},
                        "completion": {"completionItem": {"documentationFormat": ["plaintext"]}},
                    },
                },
            },
        )
        self.capabilities = dict(result.get("capabilities") or {})
        await self.notify("initialized", {})
        return self.capabilities

    async def request(self, method: str, params: Any, *, timeout: float = REQUEST_TIMEOUT) -> Any:
        """Send a request and wait for its answer (``LspError`` on an error answer or a dead server)."""
        if not self.running:
            raise LspError(f"the language server is not running{self._why()}")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise LspError(f"the language server did not answer {method} within {timeout:g} s") from exc
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: Any) -> None:
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def close(self) -> None:
        """Shut the server down politely, then make sure the process is gone."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            self._process = process
            with contextlib.suppress(Exception):
                await self.request("shutdown", None, timeout=2)
                await self.notify("exit", None)
            self._process = None
            try:
                await asyncio.wait_for(process.wait(), 2)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in (self._reader_task, self._stderr_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._fail_pending(LspError("the language server was closed"))

    # -- wire ---------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise LspError("the language server is not running")
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            await process.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise LspError(f"the language server exited{self._why()}") from exc

    async def _read_loop(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        try:
            while True:
                length = 0
                while True:
                    line = await stdout.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii", "replace").partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                message = json.loads(await stdout.readexactly(length))
                await self._dispatch(message)
        except (EOFError, asyncio.IncompleteReadError, ConnectionError):
            self._fail_pending(LspError(f"the language server exited{self._why()}"))

    async def _read_stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        while line := await process.stderr.readline():
            self._stderr.append(line.decode("utf-8", "replace").rstrip())
            del self._stderr[:-200]

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server
            await self._send({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)})
        elif "method" in message:
            if self.on_notification is not None:
                self.on_notification(message["method"], message.get("params"))
        else:
            future = self._pending.get(message.get("id", -1))
            if future is not None and not future.done():
                if "error" in message:
                    error = message["error"] or {}
                    future.set_exception(LspError(f"language server error: {error.get('message', error)}"))
                else:
                    future.set_result(message.get("result"))

    def _answer(self, message: dict[str, Any]) -> Any:
        if message["method"] == "workspace/configuration":
            items = (message.get("params") or {}).get("items") or []
            return [self._section(item.get("section")) for item in items]
        return None  # registerCapability, workDoneProgress/create, ...: acknowledged

    def _section(self, section: str | None) -> Any:
        if not section:
            return self.settings
        value: Any = self.settings
        for part in section.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def _why(self) -> str:
        tail = self.stderr_tail(5)
        return f": {tail}" if tail else ""
