"""The third sandbox: a kernel on an existing Jupyter Server, reached by URL.

The "existing" server is a real Jupyter Server in its own process (started
here as it would be on another machine); the kernel calls tools back through
the bridge over TCP.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry
from codemode_tui.executor import RunResult
from codemode_tui.executor.config import sandbox_environment
from tests.conftest import demo_stdio_config, free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")


class JupyterServer:
    """A real Jupyter Server in its own process group, as one would run on another machine.

    The token goes through the environment (``JUPYTER_TOKEN``), not the command line.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60) -> None:
        dirs = {
            name: self.root / name.lower()
            for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "TMPDIR")
        }
        for folder in [*dirs.values(), self.root / "work"]:
            folder.mkdir(parents=True, exist_ok=True)
        # This interpreter's kernel, whatever PATH says (the spec a typical install has, minus the debugger).
        spec = dirs["JUPYTER_DATA_DIR"] / "kernels" / "python3"
        spec.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        kernel = {"argv": argv, "display_name": "Python 3", "language": "python", "metadata": {"debugger": False}}
        (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
        env = {**sandbox_environment(CodeModeConfig()), **{k: str(v) for k, v in dirs.items()}}
        env.update({"JUPYTER_TOKEN": self.token, "JUPYTER_PLATFORM_DIRS": "1"})
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root / 'work'}",
            "--ServerApp.allow_root=True",
            "--ZMQChannelsWebsocketConnection.limit_rate=False",
            "--KernelManager.shutdown_wait_time=0.5",
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = AsyncHTTPClient(force_instance=True)
        deadline = time.monotonic() + timeout
        try:
            while True:
                assert self.process.poll() is None, "the Jupyter Server exited during its start"
                try:
                    await client.fetch(f"{self.url}/api/status", headers=self.headers, request_timeout=2)
                    return
                except (OSError, HTTPClientError):
                    assert time.monotonic() < deadline, "the Jupyter Server did not start"
                    await asyncio.sleep(0.1)
        finally:
            client.close()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def kill(self) -> None:
        """``kill -9`` the server and its kernels."""
        process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[JupyterServer]:
    server = JupyterServer(tmp_path_factory.mktemp("existing-jupyter"))
    await server.start()
    yield server
    server.kill()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    home = tmp_path_factory.mktemp("jupyter-demo-home")
    async with ToolRegistry([demo_stdio_config(env={"CODEMODE_TUI_HOME": str(home)})]) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        yield reg


async def kernels(server: JupyterServer) -> list[str]:
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(f"{server.url}/api/kernels", headers=server.headers)
    finally:
        client.close()
    return [kernel["id"] for kernel in json.loads(response.body)]


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}"
    return result


async def test_a_kernel_on_a_server_by_url_runs_code_and_calls_tools(
    server: JupyterServer, registry: ToolRegistry
) -> None:
    before = await kernels(server)
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=f"{server.url}/?token={server.token}", timeout=30)
    executor = CodeModeExecutor(registry, config)
    await executor.setup()
    try:
        ours = [kernel for kernel in await kernels(server) if kernel not in before]
        assert len(ours) == 1, "a new kernel, never someone else's"
        code = (
            "import asyncio\nfrom generated.servers.demo import calculate\n"
            "total = sum(await asyncio.gather(*(calculate(a=n, b=1) for n in range(5))))\ntotal"
        )
        result = ok(await executor.execute(code))
        assert result.value == 15.0 and len(result.trace) == 5 and result.sandbox == "jupyter"
        slow = await executor.execute("while True:\n    pass", timeout=1)
        assert slow.timed_out and not slow.kernel_restarted
        assert ok(await executor.execute("total")).value == 15.0
    finally:
        await executor.cleanup()
    assert await kernels(server) == before, "cleanup shut our kernel down on the server"


async def test_a_wrong_token_is_reported_clearly(server: JupyterServer, registry: ToolRegistry) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=server.url, jupyter_token="not-the-token")
    executor = CodeModeExecutor(registry, config)
    result = await executor.execute("1")
    await executor.cleanup()
    assert result.error is not None and result.error.type == "SandboxError"
    assert "403" in result.error.message and "check the token" in result.error.message


async def test_cells_over_the_websocket_limit_are_sent_in_pieces(server: JupyterServer, registry: ToolRegistry) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=server.url, jupyter_token=server.token, timeout=60)
    executor = CodeModeExecutor(registry, config)
    try:
        payload = "x" * (11 << 20)  # Jupyter Server closes the websocket on a message over 10 MiB
        code = f"import asyncio\nawait asyncio.sleep(0)\nbig = {payload!r}\nlen(big)"
        assert ok(await executor.execute(code)).value == 11 << 20
        for n in range(3):
            assert ok(await executor.execute(f"len(big) + {n}")).value == (11 << 20) + n
        accents = "é" * 3_500_000  # 7 MB of UTF-8, 21 MB as JSON escapes it
        assert ok(await executor.execute(f"len({accents!r})")).value == 3_500_000
        failing = await executor.execute(f"pad = {payload!r}\nraise ValueError('late')")
        assert failing.error is not None and failing.error.type == "ValueError"
        assert "late" in failing.error.message
    finally:
        await executor.cleanup()


async def test_a_killed_kernel_on_the_server_is_replaced(server: JupyterServer, registry: ToolRegistry) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=server.url, jupyter_token=server.token, timeout=30)
    executor = CodeModeExecutor(registry, config)
    try:
        pid = ok(await executor.execute("import os\nkept = 1\nos.getpid()")).value
        os.kill(pid, signal.SIGKILL)  # between runs
        await asyncio.sleep(0.5)
        after = ok(await executor.execute("import os\n(os.getpid(), 'kept' in dir())"))
        assert after.value[0] != pid and after.value[1] is False
        assert after.kernel_restarted and "kernel restarted, state lost" in after.notes
        running = asyncio.ensure_future(executor.execute("import time\ntime.sleep(30)"))
        await asyncio.sleep(1.0)
        os.kill(after.value[0], signal.SIGKILL)  # mid-run
        died = await asyncio.wait_for(running, 15)
        assert died.error is not None and died.error.type == "KernelDied" and died.kernel_restarted
        for n in range(3):
            assert ok(await executor.execute(f"{n} + 1")).value == n + 1
    finally:
        await executor.cleanup()


async def test_a_killed_server_fails_the_run_clearly_and_a_server_back_is_used_again(
    tmp_path: Path, registry: ToolRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    own = JupyterServer(tmp_path / "server")
    await own.start()
    config = CodeModeConfig(
        sandbox="jupyter", jupyter_url=own.url, jupyter_token=own.token, timeout=30, startup_timeout=10
    )
    executor = CodeModeExecutor(registry, config)
    try:
        ok(await executor.execute("state = 1"))
        running = asyncio.ensure_future(executor.execute("import time\ntime.sleep(30)"))
        await asyncio.sleep(1.0)
        own.kill()  # mid-run
        died = await asyncio.wait_for(running, 15)
        assert died.error is not None and died.error.type == "KernelDied"
        assert "Jupyter Server" in died.error.message
        gone = await asyncio.wait_for(executor.execute("1"), 20)  # nobody there: said, not hung
        assert gone.error is not None and "cannot reach the Jupyter Server" in gone.error.message
        with pytest.raises(Exception, match="cannot reach the Jupyter Server"):
            await executor.restart()  # a failed restart
        await own.start()  # the server is back (same address and token)
        back = ok(await executor.execute("'state' in dir()"))
        assert back.value is False and back.kernel_restarted
        for n in range(3):
            assert ok(await executor.execute(f"{n} * 2")).value == n * 2
        own.kill()  # between runs; then reset() and restart() recover once it is back
        await own.start()
        await executor.reset()
        ok(await executor.execute("again = 1"))
        own.kill()
        await own.start()
        await executor.restart()
        assert ok(await executor.execute("'again' in dir()")).value is False
    finally:
        await executor.cleanup()
        own.kill()
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert own.token not in logged, "the server's token never reaches a log line"
