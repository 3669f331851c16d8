"""The direct ZMQ kernel (no Jupyter Server): private files, a limit the code cannot lift, a working round trip.

Not yet wired into ``sandbox="local"``; these tests hold the launcher and channel to their promises.
"""

from __future__ import annotations

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
