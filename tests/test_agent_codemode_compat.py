"""Code written for agent-codemode runs: its import path, its caller name, its result fields.

Real demo server, eval sandbox (these tests are about names, not isolation).
"""

from __future__ import annotations

from pathlib import Path

from codemode_tui.executor import CodeModeConfig, CodeModeExecutor
from codemode_tui.executor.run_result import RunError, RunResult
from tests.conftest import demo_stdio_config, in_memory_registry


async def test_generated_mcp_path_and_set_tool_caller_work_like_ours(tmp_path: Path) -> None:
    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    async with in_memory_registry(demo) as registry:
        await registry.discover_all()
        executor = CodeModeExecutor(registry, CodeModeConfig(sandbox="eval", timeout=30))
        try:
            code = (
                "from generated.mcp.demo import calculate\n"
                "from generated.servers.demo import calculate as ours\n"
                "from generated.client import set_tool_caller, set_caller\n"
                "assert calculate is ours and set_tool_caller is set_caller\n"
                "await calculate(a=6, b=7, op='multiply')\n"
            )
            result = await executor.execute(code)
            assert result.success, result.error
            assert result.value == 42 and result.text == "42.0" and result.diagnostics == []
            assert [call.tool for call in result.trace] == ["calculate"]
            wrong = await executor.execute("from generated.mcp.demo import calculate\nawait calculate(a=1)\n")
            assert [d.code for d in wrong.diagnostics] == ["missing-argument"]  # the check knows the alias too
        finally:
            await executor.cleanup()


def test_run_result_reads_as_an_agent_codemode_result() -> None:
    ran = RunResult(run_id="r", stdout="a\nb\n", stderr="w\n", value=3, value_repr="3")
    assert (ran.text, ran.execution_ok, ran.execution_error, ran.code_error) == ("3", True, None, None)
    assert ran.logs.stdout == ["a\n", "b\n"] and ran.logs.stderr == ["w\n"]

    failed = RunResult(run_id="r", error=RunError("ValueError", "bad", "Traceback ..."))
    assert failed.execution_ok and failed.code_error is not None
    assert (failed.code_error.name, failed.code_error.value, failed.code_error.traceback) == (
        "ValueError",
        "bad",
        "Traceback ...",
    )

    broken = RunResult(run_id="r", error=RunError("KernelDied", "the kernel died"))
    assert not broken.execution_ok and broken.code_error is None
    assert broken.execution_error == "KernelDied: the kernel died"
