"""A Jupyter kernel as the sandbox: launched here (``local``, the default) or on a server by URL.

``sandbox="local"`` launches ipykernel directly (:class:`~.local_kernel.KernelProcess`:
a nanny that owns the whole process tree, Unix sockets and the HMAC key in a
private folder, the memory limit set before the kernel starts) and speaks ZMQ
to it (:class:`~.local_kernel.ZmqKernelChannel`).  No Jupyter Server, so no
token on any command line and no websocket message limit.

``sandbox="jupyter"`` uses the server at ``jupyter_url`` as it is (its kernels
get that server's environment).  The sandbox creates a kernel of its own there
(never reusing someone else's), restarts and shuts it down through the
server's REST API, and runs cells over :class:`~.kernel_channel.KernelChannel`,
the websocket transport.  The token travels only in an ``Authorization``
header: code-sandboxes' ``JupyterServerSandbox``, used here before, put it in
request URLs that its HTTP and websocket libraries write to debug logs.

Either way the sandbox recovers on its own: a kernel that died (crash,
``kill -9``, the memory limit), a connection dropped because the kernel sent
an oversized message, or a Jupyter Server that went away fails the run in
progress clearly; the next run (or ``reset()``/``restart()``) starts a fresh
kernel and reports "kernel restarted, state lost".
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

from .config import CodeModeConfig, sandbox_environment
from .errors import KernelChannelError, KernelDied, SandboxStartError
from .kernel_bootstrap import VALUE_MIME, kernel_source, reset_source
from .kernel_channel import KernelChannel
from .kernel_protocol import KernelProtocol
from .local_kernel import KernelProcess, ZmqKernelChannel
from .output import OutputCollector, strip_ansi
from .run_result import RunError
from .sandbox import BindingsPayload, CellOutcome, Sandbox, value_from_json

log = logging.getLogger(__name__)

#: Largest message the host accepts from a local kernel (ZMQ_MAXMSGSIZE): values, errors and display data
#: are capped in the kernel far below this; anything bigger drops the connection and the kernel is replaced.
MIN_MESSAGE_LIMIT = 64 << 20


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


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (a server token) blanked out: error messages end up in logs."""
    return text.replace(secret, "***") if secret else text


class KernelSandbox(Sandbox):
    """A kernel launched here or on a Jupyter Server (see the module docstring)."""

    isolated = True
    keep_spare = True
    """Keep one more local kernel started (same environment and limits, no state) in the background,
    so that replacing the kernel (a timeout, a crash, ``restart()``) is a swap instead of a start."""

    def __init__(self, config: CodeModeConfig, session_dir: Path) -> None:
        self.config = config
        self.kind = config.sandbox
        self.session_dir = session_dir
        self.kernel: KernelProcess | None = None
        self.channel: KernelProtocol | None = None
        self.kernel_info: dict[str, Any] = {}
        self._api: KernelChannel | None = None
        self._kernel_id: str | None = None
        self._url = ""
        self._token: str | None = None
        self._params: dict[str, Any] = {}
        self._needs_bootstrap = False
        self._kernels_started = 0
        self._spare: asyncio.Task[tuple[KernelProcess, ZmqKernelChannel]] | None = None
        self._stopping = False

    @property
    def message_limit(self) -> int:
        """``ZMQ_MAXMSGSIZE`` of a local kernel's connection (see :data:`MIN_MESSAGE_LIMIT`)."""
        # Output, plus a value, display items and an error at their caps, plus room for the envelope.
        caps = 4 * self.config.max_output_bytes + 4 * self.config.max_value_bytes
        return max(MIN_MESSAGE_LIMIT, caps + (16 << 20))

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, bindings: BindingsPayload, bridge: dict[str, Any] | None) -> None:
        self._params = {
            "files": bindings.files,
            "bridge": bridge,
            "max_output": self.config.max_output_bytes,
            "value_limit": self.config.max_value_bytes,
            "memory_limit_mb": self.config.memory_limit_mb,
        }
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        if self.config.sandbox == "local":
            await self._start_local()
        else:
            await self._start_remote()
        await self._bootstrap()
        if self.config.sandbox == "local" and self.keep_spare and self._spare is None and not self._stopping:
            self._spare = asyncio.get_running_loop().create_task(self._launch(warm=True), name="codemode-spare-kernel")

    async def _launch(self, *, warm: bool = False) -> tuple[KernelProcess, ZmqKernelChannel]:
        """A local kernel, started and answering; nothing left behind on failure.

        ``warm``: also run the set-up cell once (most of its cost is a fresh
        kernel's first imports), so that the set-up after a swap is quick.
        """
        timeout = self.config.startup_timeout
        self._kernels_started += 1
        work = self.config.working_dir or self.session_dir / "work"
        kernel = KernelProcess(
            self.session_dir / f"kernel-{self._kernels_started}",
            sandbox_environment(self.config),
            cwd=Path(work),
            memory_limit_mb=self.config.memory_limit_mb,
            orphan_dir=self.session_dir,
        )
        channel: ZmqKernelChannel | None = None
        try:
            await asyncio.to_thread(kernel.start)
            channel = ZmqKernelChannel(kernel, max_message_bytes=self.message_limit)
            await channel.connect(timeout)
            await channel.wait_ready(timeout)
            if warm:
                await asyncio.wait_for(channel.execute(kernel_source(self._params)), timeout)
        except BaseException as exc:
            if channel is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(channel.close(), 0.3)
            await asyncio.shield(asyncio.to_thread(kernel.stop, 0.3))
            if isinstance(exc, KernelChannelError):
                raise SandboxStartError(f"the local kernel did not start: {exc}") from None
            raise
        return kernel, channel

    async def _take_spare(self) -> tuple[KernelProcess, ZmqKernelChannel] | None:
        """The spare kernel, if one is (or is about to be) ready and still alive; the next spare is the caller's."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        try:
            kernel, channel = await spare
        except Exception as exc:
            log.info("the spare kernel did not start (%s); starting one now", exc)
            return None
        if kernel.alive and channel.lost is None:
            return kernel, channel
        await channel.close()
        await asyncio.to_thread(kernel.stop, 0.3)
        return None

    async def _start_local(self) -> None:
        taken = await self._take_spare() or await self._launch()
        self.kernel, channel = taken
        channel.on_kernel_lost = self._on_kernel_lost
        self.channel = channel

    async def _drop_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is None:
            return
        if not spare.done():
            spare.cancel()
        with contextlib.suppress(BaseException):
            kernel, channel = await asyncio.wait_for(spare, 0.8)  # a cancelled launch cleans up after itself
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), 0.2)
            await asyncio.to_thread(kernel.stop, 0.5)

    async def _start_remote(self) -> None:
        timeout = self.config.startup_timeout
        url, token = split_token(self.config.jupyter_url or "", self.config.jupyter_token)
        self._url, self._token = url, token
        if self._api is None:
            self._api = KernelChannel(url, token, "-")  # REST only; the token travels in a header, never a URL
        await self._preflight()
        try:
            created = await self._api.rest("POST", "/api/kernels", body={}, timeout=timeout)
            kernel_id = str(created["id"])
        except (KernelChannelError, KeyError) as exc:
            raise SandboxStartError(
                f"the Jupyter Server at {url} could not start a kernel: {redact(str(exc), token)}"
            ) from None
        self._kernel_id = kernel_id
        channel = KernelChannel(url, token, kernel_id)
        channel.on_kernel_lost = self._on_kernel_lost
        self.channel = channel
        try:
            await channel.connect(timeout)
            await channel.wait_ready(timeout)
        except KernelChannelError as exc:
            raise SandboxStartError(redact(str(exc), token)) from None

    async def _preflight(self) -> None:
        """Fail fast, with the reason, when the server is unreachable or refuses the token."""
        assert self._api is not None
        try:
            await self._api.rest("GET", "/api/status", timeout=min(10.0, self.config.startup_timeout))
        except KernelChannelError as exc:
            hint = " (check the token)" if " 403 " in f" {exc} " or " 401 " in f" {exc} " else ""
            raise SandboxStartError(f"{redact(str(exc), self._token)}{hint}") from None

    async def _shutdown_remote_kernel(self, timeout: float) -> None:
        """Ask the server to shut our kernel down (it may be gone already, with the server)."""
        kernel_id, self._kernel_id = self._kernel_id, None
        if kernel_id is not None and self._api is not None:
            with contextlib.suppress(Exception):
                await self._api.rest("DELETE", f"/api/kernels/{kernel_id}", timeout=timeout)

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

    async def _replace_kernel(self) -> None:
        """A fresh kernel in place of one that is gone (or must go): all state lost, bindings back."""
        await self._discard_kernel()
        try:
            await self._start()
        except BaseException:
            await self._discard_kernel()
            raise

    async def _discard_kernel(self) -> None:
        kernel = await self._stop_kernel(grace=0.5)
        if kernel is not None:
            await asyncio.to_thread(shutil.rmtree, kernel.folder, True)
        await self._shutdown_remote_kernel(1.0)
        self.kernel_info = {}

    async def _ensure_ready(self) -> None:
        channel = self.channel
        if channel is None or channel.lost is not None:
            # Gone for good (a dead local kernel, a dropped connection, a server that went away): start anew.
            await self._replace_kernel()
            self.restarted_unexpectedly = True  # a kernel was running before: its state is gone
        elif self._needs_bootstrap:  # the Jupyter Server restarted the kernel behind the same websocket
            try:
                await channel.wait_ready(self.config.startup_timeout)
                await self._bootstrap()
            except (KernelChannelError, KernelDied):
                await self._replace_kernel()

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

    async def complete(self, code: str, cursor: int) -> tuple[int, list[str]]:
        """Ask the kernel (IPython's completer, as Jupyter does) what fits at ``cursor``."""
        if self.channel is None:
            return cursor, []
        reply = await self.channel.request("complete_request", {"code": code, "cursor_pos": cursor})
        matches = [m for m in reply.get("matches") or [] if isinstance(m, str)]
        start = reply.get("cursor_start")
        return (start if isinstance(start, int) else cursor), matches

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
        record = self._handler(outcome, output)
        started = False

        def handler(message: dict[str, Any]) -> None:
            nonlocal started
            started = True
            record(message)

        try:
            try:
                reply = await self.channel.execute(code, msg_id=run_id, on_message=handler)
            except KernelDied:
                if started:
                    raise
                # The kernel was gone before it began this cell (killed between runs): the code never
                # ran, so run it once on the fresh kernel.  The result still says the state was lost.
                await self._ensure_ready()
                assert self.channel is not None
                reply = await self.channel.execute(code, msg_id=run_id, on_message=handler)
            if reply.get("status") == "aborted":
                # ipykernel can drop a request that arrives right after an interrupted one: send it again.
                reply = await self.channel.execute(code, msg_id=run_id, on_message=handler)
        except KernelChannelError as exc:
            raise KernelDied(str(exc)) from None
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
                log.warning("could not interrupt the kernel: %s", redact(str(exc), self._token))

    async def restart(self) -> None:
        channel = self.channel
        if self.config.sandbox == "local" or channel is None or channel.lost is not None or self._api is None:
            await self._replace_kernel()
            return
        channel.expect_restart = True
        try:
            path = f"/api/kernels/{self._kernel_id}/restart"
            await self._api.rest("POST", path, timeout=self.config.startup_timeout)
            await channel.wait_ready(self.config.startup_timeout)
            accepted = True
        except Exception as exc:
            log.info(
                "the Jupyter Server did not restart the kernel (%s); starting a new one", redact(str(exc), self._token)
            )
            accepted = False
        finally:
            channel.expect_restart = False
        if not accepted or channel.lost is not None:
            await self._replace_kernel()
            return
        channel.forget_kernel_state()
        await self._bootstrap()

    async def reset(self) -> None:
        await self._ensure_ready()
        await self._silent(reset_source())

    async def _stop_kernel(self, grace: float = 1.0) -> KernelProcess | None:
        """Close the channel and stop the local kernel (if any); returns the stopped kernel."""
        channel, self.channel = self.channel, None
        if channel is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), 0.3)
        kernel, self.kernel = self.kernel, None
        if kernel is not None:
            # The nanny kills the kernel's whole tree (detached children included) when its pipe closes.
            await asyncio.to_thread(kernel.stop, grace)
        return kernel

    def kill_now(self) -> None:
        """Kill the kernel and everything it started at once (interpreter exit, no loop to wait on)."""
        if self.kernel is not None:
            self.kernel.stop(wait=0.3)
        spare = self._spare
        if spare is not None and spare.done() and not spare.cancelled() and spare.exception() is None:
            spare.result()[0].stop(wait=0.3)

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(self._stop_kernel(), self._drop_spare(), return_exceptions=True)
        await self._shutdown_remote_kernel(1.0)
        api, self._api = self._api, None
        if api is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(api.close(), 0.2)
