"""The third sandbox: a kernel on an existing Jupyter Server, reached by URL.

The "existing" server is a real Jupyter Server in its own process (started
here as it would be on another machine); the kernel calls tools back through
the bridge over TCP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from tornado.httpclient import AsyncHTTPClient

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry
from codemode_tui.executor import RunResult
from codemode_tui.executor.config import sandbox_environment
from codemode_tui.executor.local_server import LocalJupyterServer
from tests.conftest import demo_stdio_config

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalJupyterServer]:
    server = LocalJupyterServer(tmp_path_factory.mktemp("existing-jupyter"), sandbox_environment(CodeModeConfig()))
    await server.start(60)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    home = tmp_path_factory.mktemp("jupyter-demo-home")
    async with ToolRegistry([demo_stdio_config(env={"CODEMODE_TUI_HOME": str(home)})]) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        yield reg


async def kernels(server: LocalJupyterServer) -> list[str]:
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(f"{server.url}/api/kernels", headers={"Authorization": f"token {server.token}"})
    finally:
        client.close()
    return [kernel["id"] for kernel in json.loads(response.body)]


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}"
    return result


async def test_a_kernel_on_a_server_by_url_runs_code_and_calls_tools(
    server: LocalJupyterServer, registry: ToolRegistry
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


async def test_a_wrong_token_is_reported_clearly(server: LocalJupyterServer, registry: ToolRegistry) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=server.url, jupyter_token="not-the-token")
    executor = CodeModeExecutor(registry, config)
    result = await executor.execute("1")
    await executor.cleanup()
    assert result.error is not None and result.error.type == "SandboxError"
    assert "403" in result.error.message and "check the token" in result.error.message
