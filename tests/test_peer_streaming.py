"""Streaming runs, ported from agent-codemode 1.1.1's ``tests/test_executor_streaming.py``.

Adapted to our names: their executor streams a Jupyter client's output into
``result.logs``; ours hands every chunk of stdout and stderr to
``execute(code, on_output=...)`` as it is written, and keeps it in
``RunResult.stdout`` / ``.logs``, the last value in ``.value`` / ``.text``.
Their tests replace the sandbox client with a fake; these run the real
eval sandbox and the real local kernel against the demo server, so the
streamed output crosses the same pipes it does in use.

Not ported: the retry of a failed streaming call on the non-streaming path
(``run_code_calls >= 2``) is their client plumbing; the behaviour it guards,
a sandbox failure reported as ``execution_ok is False`` with an
``execution_error``, is tested below with a kernel that really dies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry
from codemode_tui.executor.run_result import ToolCallRecord
from tests.conftest import demo_stdio_config, in_memory_registry

#: Prints, then waits until the host has seen the print (the host's callback leaves a flag file):
#: the run can only finish if its output reached ``on_output`` while it was still running.
STREAMING = """\
import asyncio, os, sys
from generated.servers.demo import calculate
print("status: RUNNING")
print("hello", flush=True)
for _ in range(600):
    if os.path.exists({flag!r}):
        break
    await asyncio.sleep(0.05)
else:
    raise RuntimeError("the host never saw the output while the run was going")
answer = await calculate(a=6, b=7, op="multiply")
print("warned", file=sys.stderr)
int(answer)
"""


@pytest.mark.parametrize("sandbox", ["eval", "local"])
async def test_execute_streams_output_as_it_is_written(tmp_path: Path, sandbox: str) -> None:
    """Peer: ``test_execute_uses_streaming_when_supported``."""
    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    async with in_memory_registry(demo) as registry:
        await registry.discover_all()
        executor = CodeModeExecutor(registry, CodeModeConfig(sandbox=sandbox, timeout=60))  # type: ignore[arg-type]
        events: list[tuple[str, Any]] = []

        flag = tmp_path / "seen-hello"

        def on_output(stream: str, text: str) -> None:
            events.append((stream, text))
            if "hello" in "".join(t for kind, t in events if kind == "stdout"):
                flag.touch()

        def on_tool_call(record: ToolCallRecord) -> None:
            events.append(("tool", record.name))

        try:
            result = await executor.execute(
                STREAMING.format(flag=str(flag)), on_output=on_output, on_tool_call=on_tool_call
            )
        finally:
            await executor.cleanup()
        assert result.success, result.error
        # Output reached the callback while the run was still going: before the tool call.
        streamed = [text for kind, text in events if kind == "stdout"]
        assert "".join(streamed) == "status: RUNNING\nhello\n"
        tool_at = events.index(("tool", "demo__calculate"))
        assert "hello" in "".join(text for kind, text in events[:tool_at] if kind == "stdout")
        assert "".join(text for kind, text in events[tool_at:] if kind == "stderr") == "warned\n"
        # The same output is kept on the result, in both our and their shapes.
        assert "status: RUNNING" in result.stdout and "hello" in result.stdout
        assert "".join(result.logs.stdout) == result.stdout and result.logs.stderr == ["warned\n"]
        assert result.value == 42 and result.text == "42"
        assert result.execution_ok and result.execution_error is None and result.code_error is None


async def test_execute_reports_a_sandbox_failure_as_execution_error(tmp_path: Path) -> None:
    """Peer: ``test_execute_reports_streaming_infrastructure_failure``; here the kernel process really dies.

    A failure of the sandbox (not of the code) is ``execution_ok is False`` with
    an ``execution_error``, and no ``code_error``; output streamed before it is
    kept; the next run gets a fresh kernel.
    """
    async with ToolRegistry([]) as registry:
        executor = CodeModeExecutor(registry, CodeModeConfig(sandbox="local", timeout=60))
        streamed: list[str] = []
        try:
            died = await executor.execute(
                "import os, sys\nprint('before', flush=True)\nsys.stdout.flush()\nos._exit(3)\n",
                on_output=lambda stream, text: streamed.append(text),
            )
            again = await executor.execute("print('hi')\n21 * 2")
        finally:
            await executor.cleanup()
        assert died.execution_ok is False
        assert died.execution_error is not None and died.execution_error.startswith("KernelDied")
        assert died.code_error is None and died.kernel_restarted
        assert "before" in "".join(streamed)
        assert again.success and again.stdout == "hi\n" and again.value == 42


async def _run_in_eval(code: str) -> Any:
    async with ToolRegistry([]) as registry:
        executor = CodeModeExecutor(registry, CodeModeConfig(sandbox="eval"))
        try:
            return await executor.execute(code)
        finally:
            await executor.cleanup()


async def test_logs_text_as_agent_codemode_reads_it() -> None:
    """The peer's own assertions on ``result.logs``: ``"hello" in result.logs.stdout_text``."""
    result = await _run_in_eval("print('status: RUNNING')\nprint('hello')\n42")
    assert "status: RUNNING" in result.logs.stdout_text
    assert "hello" in result.logs.stdout_text


async def test_results_as_agent_codemode_reads_them() -> None:
    """The peer's own assertion on the value: ``result.results[0].data["text/plain"] == "42"``."""
    result = await _run_in_eval("print('hello')\n42")
    assert result.results and result.results[0].data["text/plain"] == "42"
