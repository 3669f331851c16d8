"""A Jupyter kernel as the sandbox: local (the default) or on a server by URL.

The kernel's lifecycle on the server goes through code-sandboxes'
``JupyterServerSandbox`` (attached to the server by URL): it checks the server,
creates the kernel (never reusing someone else's), restarts it through the
server and shuts it down.  Runs do not use its ``run_code``; they go through
:class:`~.kernel_channel.KernelChannel`, which streams output, survives
interrupts and notices a dead kernel (see that module for why).

``sandbox="local"`` first starts a private :class:`~.local_server.LocalJupyterServer`
with the sandbox's minimal environment; ``sandbox="jupyter"`` uses the server
at ``jupyter_url`` as it is (its kernels get that server's environment).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

from .config import CodeModeConfig, sandbox_environment
from .errors import KernelChannelError, KernelDied, SandboxStartError
from .kernel_bootstrap import VALUE_MIME, kernel_source, reset_source
from .kernel_channel import KernelChannel
from .local_server import LocalJupyterServer
from .output import OutputCollector, strip_ansi
from .run_result import RunError
from .sandbox import BindingsPayload, CellOutcome, Sandbox, value_from_json

log = logging.getLogger(__name__)

VALUE_LIMIT = 1_000_000


def _import_code_sandboxes() -> tuple[Any, Any]:
    from code_sandboxes import SandboxConfig
    from code_sandboxes.sandboxes.jupyter_server import JupyterServerSandbox

    return JupyterServerSandbox, SandboxConfig


def _quietly(function: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(Exception):
        function(*args, **kwargs)


def split_token(url: str, token: str | None) -> tuple[str, str | None]:
    """``(base URL, token)`` with a ``?token=`` moved out of the URL."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    if token is None and query.get("token"):
        token = query["token"][0]
    base = urlunparse(parsed._replace(query="", fragment="")).rstrip("/")
    return base, token


def clean_traceback(text: str) -> str:
    """IPython's traceback without ANSI colours and without the bootstrap's interrupt handler frame."""
    text = strip_ansi(text)
    if "codemode-kernel-bootstrap" not in text:
        return text
    blocks = text.split("\n\n")
    return "\n\n".join(block for block in blocks if not block.lstrip().startswith("File codemode-kernel-bootstrap"))


class KernelSandbox(Sandbox):
    """A kernel behind a Jupyter Server (see the module docstring)."""

    isolated = True

    def __init__(self, config: CodeModeConfig, session_dir: Path) -> None:
        self.config = config
        self.kind = config.sandbox
        self.session_dir = session_dir
        self.server: LocalJupyterServer | None = None
        self.channel: KernelChannel | None = None
        self.kernel_info: dict[str, Any] = {}
        self._cs: Any = None  # code_sandboxes.JupyterServerSandbox
        self._params: dict[str, Any] = {}
        self._needs_bootstrap = False

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, bindings: BindingsPayload, bridge: dict[str, Any] | None) -> None:
        self._params = {
            "files": bindings.files,
            "bridge": bridge,
            "max_output": self.config.max_output_bytes,
            "value_limit": VALUE_LIMIT,
            "memory_limit_mb": self.config.memory_limit_mb,
        }
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        timeout = self.config.startup_timeout
        # code-sandboxes takes half a second to import: do it while the server boots.
        importing = asyncio.ensure_future(asyncio.to_thread(_import_code_sandboxes))
        token: str | None
        try:
            if self.config.sandbox == "local":
                self.server = LocalJupyterServer(
                    self.session_dir / "server", sandbox_environment(self.config), orphan_dir=self.session_dir
                )
                await self.server.start(timeout)
                url, token = self.server.url, self.server.token
            else:
                url, token = split_token(self.config.jupyter_url or "", self.config.jupyter_token)
                await self._preflight(url, token)
        finally:
            sandbox_class, sandbox_config = await importing
        self._cs = sandbox_class(
            config=sandbox_config(timeout=timeout, name="codemode"), server_url=url, token=token, reuse_kernel=False
        )
        try:
            await asyncio.to_thread(self._cs.start)
        except Exception as exc:
            said = f"\n{self.server.said()}" if self.server is not None and self.server.said() else ""
            raise SandboxStartError(f"the Jupyter Server at {url} could not start a kernel: {exc}{said}") from None
        kernel_client = self._cs.kernel_client
        kernel_id = kernel_client.id
        # Its own websocket would queue every message of the session unread: ours streams them.  Closing it
        # can wait ~10 s for the websocket library's close handshake, so it closes in the background.
        threading.Thread(
            target=_quietly, args=(kernel_client.stop,), kwargs={"shutdown_kernel": False}, daemon=True
        ).start()
        self.channel = KernelChannel(url, token, kernel_id)
        self.channel.on_kernel_lost = self._on_kernel_lost
        try:
            await self.channel.connect(timeout)
            await self.channel.wait_ready(timeout)
        except KernelChannelError as exc:
            raise SandboxStartError(str(exc)) from None
        await self._bootstrap()
        if self.config.sandbox == "local" and self.config.working_dir is not None:
            await self._silent(f"import os as __cm_os; __cm_os.chdir({str(self.config.working_dir)!r}); del __cm_os")

    async def _preflight(self, url: str, token: str | None) -> None:
        """Fail fast, with the reason, when the server is unreachable or refuses the token."""
        probe = KernelChannel(url, token, "-")
        try:
            await probe.rest("GET", "/api/status", timeout=min(10.0, self.config.startup_timeout))
        except KernelChannelError as exc:
            hint = " (check the token)" if " 403 " in f" {exc} " or " 401 " in f" {exc} " else ""
            raise SandboxStartError(f"{exc}{hint}") from None
        finally:
            await probe.close()

    def _on_kernel_lost(self, state: str) -> None:
        self._needs_bootstrap = True
        self.restarted_unexpectedly = True

    async def _bootstrap(self) -> None:
        assert self.channel is not None
        outcome = CellOutcome()
        collector = OutputCollector(1_000_000)
        try:
            reply = await asyncio.wait_for(
                self.channel.execute(kernel_source(self._params), on_message=self._handler(outcome, collector)),
                self.config.startup_timeout,
            )
        except TimeoutError:
            raise SandboxStartError(
                f"the kernel did not finish its set-up within {self.config.startup_timeout:g} s"
            ) from None
        if reply.get("status") != "ok" or outcome.error is not None or outcome.value_repr is None:
            detail = outcome.error.traceback if outcome.error else collector.stderr
            raise SandboxStartError(f"preparing the kernel failed: {outcome.error or reply}\n{detail}".strip())
        import json

        self.kernel_info = json.loads(ast.literal_eval(outcome.value_repr))
        self._needs_bootstrap = False

    async def _ensure_ready(self) -> None:
        if self.channel is None:
            raise KernelDied("the sandbox is not running")
        if self._needs_bootstrap:
            await self.channel.wait_ready(self.config.startup_timeout)
            await self._bootstrap()

    async def update_bindings(self, bindings: BindingsPayload) -> None:
        self._params["files"] = bindings.files
        await self._ensure_ready()
        await self._bootstrap()

    async def _silent(self, code: str) -> None:
        assert self.channel is not None
        outcome = CellOutcome()
        try:
            await asyncio.wait_for(
                self.channel.execute(code, on_message=self._handler(outcome, OutputCollector(10_000))),
                self.config.startup_timeout,
            )
        except TimeoutError:
            raise KernelDied(f"the kernel did not answer within {self.config.startup_timeout:g} s") from None
        if outcome.error is not None:
            raise SandboxStartError(f"preparing the kernel failed: {outcome.error}")

    # -- runs ----------------------------------------------------------------------

    @staticmethod
    def _handler(outcome: CellOutcome, output: OutputCollector) -> Any:
        def on_message(message: dict[str, Any]) -> None:
            msg_type = (message.get("header") or {}).get("msg_type")
            content = message.get("content") or {}
            if msg_type == "stream":
                output.write(content.get("name", "stdout"), content.get("text", ""))
            elif msg_type == "execute_result":
                data = content.get("data") or {}
                outcome.value_repr = data.get("text/plain")
                outcome.value, outcome.has_value = value_from_json(data.get(VALUE_MIME), outcome.value_repr)
            elif msg_type == "display_data":
                text = (content.get("data") or {}).get("text/plain")
                if text:
                    output.write("stdout", text + "\n")
            elif msg_type == "error":
                outcome.error = RunError(
                    type=str(content.get("ename") or "Error"),
                    message=strip_ansi(str(content.get("evalue") or "")),
                    traceback=clean_traceback("\n".join(content.get("traceback") or [])),
                )

        return on_message

    async def run(self, code: str, run_id: str, output: OutputCollector) -> CellOutcome:
        await self._ensure_ready()
        assert self.channel is not None
        outcome = CellOutcome()
        handler = self._handler(outcome, output)
        reply = await self.channel.execute(code, msg_id=run_id, on_message=handler)
        if reply.get("status") == "aborted":
            # ipykernel can drop a request that arrives right after an interrupted one: send it again.
            reply = await self.channel.execute(code, msg_id=run_id, on_message=handler)
        if reply.get("status") == "error" and outcome.error is None:
            outcome.error = RunError(
                type=str(reply.get("ename") or "Error"),
                message=strip_ansi(str(reply.get("evalue") or "")),
                traceback=clean_traceback("\n".join(reply.get("traceback") or [])),
            )
        elif reply.get("status") == "aborted":
            outcome.error = RunError("Aborted", "the kernel refused to run the code twice in a row; run it again")
        return outcome

    async def interrupt(self) -> None:
        if self.channel is not None:
            try:
                await self.channel.interrupt()
            except KernelChannelError as exc:
                log.warning("could not interrupt the kernel: %s", exc)

    async def restart(self) -> None:
        if self._cs is None or self.channel is None:
            raise KernelDied("the sandbox is not running")
        self.channel.expect_restart = True
        try:
            accepted = await asyncio.to_thread(self._cs.restart_kernel)
            if not accepted:
                raise KernelDied("the Jupyter Server refused to restart the kernel")
            await self.channel.wait_ready(self.config.startup_timeout)
        finally:
            self.channel.expect_restart = False
        await self._bootstrap()
        if self.config.sandbox == "local" and self.config.working_dir is not None:
            await self._silent(f"import os as __cm_os; __cm_os.chdir({str(self.config.working_dir)!r}); del __cm_os")

    async def reset(self) -> None:
        await self._ensure_ready()
        await self._silent(reset_source())

    def kill_now(self) -> None:
        """Kill the kernel's process group and the server at once (interpreter exit, no loop to wait on)."""
        pgid = self.kernel_info.get("pgid")
        if isinstance(pgid, int) and pgid > 1 and hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        if self.server is not None:
            self.server.stop()

    async def stop(self) -> None:
        channel, self.channel = self.channel, None
        if channel is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), 0.3)
        cs, self._cs = self._cs, None
        if cs is not None:
            # The server shuts the kernel down and reaps it; give it a moment, never more.
            done = threading.Event()

            def shutdown() -> None:
                with contextlib.suppress(Exception):
                    cs.stop()
                done.set()

            threading.Thread(target=shutdown, name="codemode-kernel-shutdown", daemon=True).start()
            await asyncio.to_thread(done.wait, 1.0 if self.server is not None else 1.2)
        if self.server is not None:
            # The kernel's process group also holds what the code started (a subprocess, a pool):
            # a graceful kernel shutdown leaves those running, so the whole group goes.
            pgid = self.kernel_info.get("pgid")
            if isinstance(pgid, int) and pgid > 1 and hasattr(os, "killpg"):
                with contextlib.suppress(OSError):
                    os.killpg(pgid, signal.SIGKILL)
            self.server.stop()
            self.server = None
