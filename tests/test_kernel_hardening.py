"""The direct ZMQ kernel (no Jupyter Server): private files, a limit the code cannot lift, a working round trip.

``sandbox="local"`` runs on these; the tests hold the launcher and channel to their promises.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from codemode_tui.executor.config import CodeModeConfig, sandbox_environment
from codemode_tui.executor.local_kernel import KernelProcess, ZmqKernelChannel

pytestmark = pytest.mark.asyncio


async def test_a_direct_kernel_is_private_runs_code_and_keeps_its_memory_limit(tmp_path: Path) -> None:
    kernel = KernelProcess(
        tmp_path / "k", sandbox_environment(CodeModeConfig()), cwd=tmp_path / "work", memory_limit_mb=2048
    )
    kernel.start()
    channel = ZmqKernelChannel(kernel, max_message_bytes=16 << 20)
    try:
        await channel.connect()
        await channel.wait_ready(60)
        assert stat.S_IMODE(kernel.connection_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(kernel.folder.stat().st_mode) == 0o700
        assert kernel.connection["transport"] == "ipc"
        cmdline = Path(f"/proc/{kernel.kernel_pid}/cmdline").read_bytes()
        assert kernel.connection["key"].encode() not in cmdline
        values: list[str] = []

        def on_message(message: dict) -> None:
            if message["header"]["msg_type"] == "execute_result":
                values.append(message["content"]["data"]["text/plain"])

        assert (await channel.execute("1 + 1", on_message=on_message))["status"] == "ok" and values == ["2"]
        lift = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))"
        reply = await channel.execute(lift)
        assert reply["status"] == "error" and reply["ename"] == "ValueError"
    finally:
        await channel.close()
        kernel.stop()
    assert not kernel.alive and not kernel.connection_file.exists()


async def test_a_result_that_arrives_after_the_reply_is_not_lost(tmp_path: Path) -> None:
    """The reply (shell) and the result (iopub) travel apart: a run ends only when both have arrived."""
    kernel = KernelProcess(tmp_path / "k", sandbox_environment(CodeModeConfig()), cwd=tmp_path / "work")
    kernel.start()
    channel = ZmqKernelChannel(kernel, max_message_bytes=16 << 20)
    try:
        await channel.connect()
        await channel.wait_ready(60)
        route = channel._route
        loop = asyncio.get_running_loop()

        def late_iopub(name: str, message: dict) -> None:  # iopub is slow today: 2.5 s behind shell
            if name == "iopub":
                loop.call_later(2.5, route, name, message)
            else:
                route(name, message)

        channel._route = late_iopub  # type: ignore[method-assign]
        values: list[str] = []

        def on_message(message: dict) -> None:
            if message["header"]["msg_type"] == "execute_result":
                values.append(message["content"]["data"]["text/plain"])

        assert (await channel.execute("6 * 7", on_message=on_message))["status"] == "ok"
        assert values == ["42"]
    finally:
        await channel.close()
        kernel.stop()
