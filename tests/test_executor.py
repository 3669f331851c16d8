"""Run semantics shared by both sandboxes: the local kernel (a separate process) and eval.

One executor per sandbox for the whole module (a kernel takes seconds to
start); the demo server over stdio answers the tool calls.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolDefinition, ToolRegistry
from codemode_tui.executor import RunResult, ToolCallRecord
from tests.conftest import CATALOGS, demo_stdio_config, faulty_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPORTS = {"a.txt": "alpha report", "b.txt": "beta report", "c.txt": "gamma report"}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("executor-demo-home")
    reports = home / "data" / "demo" / "scratch" / "reports"
    reports.mkdir(parents=True)
    for name, text in REPORTS.items():
        (reports / name).write_text(text, encoding="utf-8")
    return home


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(demo_home: Path) -> AsyncIterator[ToolRegistry]:
    servers = [demo_stdio_config(env={"CODEMODE_TUI_HOME": str(demo_home)}), faulty_config("faulty")]
    async with ToolRegistry(servers) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok and outcomes["faulty"].ok, outcomes
        await reg.call_tool("demo__calculate", {"a": 1, "b": 1})  # the demo's first call is slow: pay it once
        yield reg


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["local", "eval"])
async def executor(request: pytest.FixtureRequest, registry: ToolRegistry) -> AsyncIterator[CodeModeExecutor]:
    executor = CodeModeExecutor(registry, CodeModeConfig(sandbox=request.param, timeout=30))
    await executor.setup()
    yield executor
    await executor.cleanup()


async def run(executor: CodeModeExecutor, code: str, **options: object) -> RunResult:
    result = await executor.execute(code, **options)  # type: ignore[arg-type]
    assert isinstance(result, RunResult)
    return result


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}\n{result.stderr}"
    return result


async def test_the_last_expression_is_the_value_and_state_persists(executor: CodeModeExecutor) -> None:
    ok(await run(executor, "answer = 41\nprint('set')"))
    result = ok(await run(executor, "answer + 1"))
    assert result.value == 42 and result.value_repr == "42"
    assert ok(await run(executor, "{'n': answer, 'items': [1, 'two', None]}")).value == {
        "n": 41,
        "items": [1, "two", None],
    }
    odd = ok(await run(executor, "object()"))
    assert isinstance(odd.value, str) and "object at 0x" in odd.value
    assert ok(await run(executor, "x = 1")).value is None


async def test_the_compiler_decides_what_is_async_not_a_text_search(executor: CodeModeExecutor) -> None:
    # code-sandboxes' eval variant looks for the text "await " to choose its async path.
    assert ok(await run(executor, 'label = "await "\nlabel * 2')).value == "await await "
    code = "import asyncio\nasync def three():\n    return 3\nawait(three())"
    assert ok(await run(executor, code)).value == 3


async def test_reset_clears_variables(executor: CodeModeExecutor) -> None:
    ok(await run(executor, "kept = 'here'"))
    assert ok(await run(executor, "kept")).value == "here"
    await executor.reset()
    result = await run(executor, "kept")
    assert result.error is not None and result.error.type == "NameError"
    ok(await run(executor, "from generated.servers.demo import calculate\nawait calculate(a=1, b=2)"))


async def test_a_composing_script_lists_reads_with_gather_and_writes(
    executor: CodeModeExecutor, demo_home: Path
) -> None:
    code = """
import asyncio
from generated.servers.demo import list_files, read_file, write_file

names = await list_files(path="reports")
texts = await asyncio.gather(*(read_file(path=f"reports/{name}") for name in names))
summary = "\\n".join(f"{name}: {len(text.split())} words" for name, text in zip(names, texts))
await write_file(path="summary-{kind}.txt", content=summary)
print(summary)
len(names)
""".replace("{kind}", executor.sandbox_kind)
    result = ok(await run(executor, code))
    assert result.value == 3
    assert result.stdout.splitlines() == ["a.txt: 2 words", "b.txt: 2 words", "c.txt: 2 words"]
    written = demo_home / "data" / "demo" / "scratch" / f"summary-{executor.sandbox_kind}.txt"
    assert written.read_text(encoding="utf-8").startswith("a.txt: 2 words")
    names = [record.name for record in result.trace]
    assert names[0] == "demo__list_files" and names[-1] == "demo__write_file"
    assert sorted(names[1:4]) == ["demo__read_file"] * 3
    assert all(record.ok for record in result.trace)
    assert {record.arguments["path"] for record in result.trace[1:4]} == {f"reports/{n}" for n in REPORTS}


async def test_gathered_tool_calls_run_at_the_same_time(executor: CodeModeExecutor) -> None:
    code = """
import asyncio
from generated.servers.demo import slow_echo
await asyncio.gather(*(slow_echo(seconds=0.5, message=str(n)) for n in range(10)))
"""
    result = ok(await run(executor, code))
    assert result.value == [str(n) for n in range(10)]
    assert len(result.trace) == 10
    starts = [record.started for record in result.trace]
    ends = [record.started + (record.duration or 0) for record in result.trace]
    assert max(starts) < min(ends), "all ten calls were in flight together"


async def test_output_streams_while_the_code_runs(executor: CodeModeExecutor) -> None:
    seen: list[tuple[str, str, float]] = []
    calls: list[ToolCallRecord] = []
    code = """
import sys
from generated.servers.demo import slow_echo
print("first", flush=True)
await slow_echo(seconds=0.6)
print("to stderr", file=sys.stderr)
"""
    result = ok(
        await run(
            executor,
            code,
            on_output=lambda stream, text: seen.append((stream, text, time.monotonic())),
            on_tool_call=calls.append,
        )
    )
    finished = time.monotonic()
    assert result.stdout == "first\n" and result.stderr == "to stderr\n"
    first = next(item for item in seen if "first" in item[1])
    assert first[0] == "stdout" and finished - first[2] > 0.4, "'first' arrived before the run ended"
    assert "".join(text for stream, text, _ in seen if stream == "stderr") == "to stderr\n"
    assert [record.name for record in calls] == ["demo__slow_echo"] and calls[0].ok


async def test_syntax_errors_are_reported_not_raised(executor: CodeModeExecutor) -> None:
    result = await run(executor, "def broken(:\n    pass")
    assert not result.success and result.error is not None
    assert result.error.type == "SyntaxError"
    assert ok(await run(executor, "2 * 21")).value == 42


async def test_exceptions_are_data_with_a_plain_text_traceback(executor: CodeModeExecutor) -> None:
    result = await run(executor, "print('before')\ndef inner():\n    return 1 / 0\ninner()")
    assert result.error is not None and result.error.type == "ZeroDivisionError"
    assert result.error.message == "division by zero"
    assert "inner" in result.error.traceback and "\x1b[" not in result.error.traceback
    assert result.stdout == "before\n"


async def test_a_tool_error_can_be_caught_where_the_tool_was_awaited(executor: CodeModeExecutor) -> None:
    code = """
from generated.client import ToolError
from generated.servers.demo import always_fails, calculate
try:
    await always_fails(reason="the disk is on fire")
except ToolError as error:
    caught = (error.server, error.tool, error.message)
await calculate(a=2, b=3)
"""
    result = ok(await run(executor, code))
    assert result.value == 5.0
    server, tool, message = ok(await run(executor, "caught")).value
    assert (server, tool) == ("demo", "always_fails") and message.endswith("the disk is on fire")
    assert [(r.name, r.ok) for r in result.trace] == [("demo__always_fails", False), ("demo__calculate", True)]
    uncaught = await run(executor, "from generated.servers.demo import always_fails\nawait always_fails()")
    assert uncaught.error is not None and uncaught.error.type == "ToolError"
    assert "this tool always fails" in uncaught.error.message


async def test_importing_a_tool_that_does_not_exist_fails_clearly(executor: CodeModeExecutor) -> None:
    missing_tool = await run(executor, "from generated.servers.demo import no_such_tool")
    assert missing_tool.error is not None and missing_tool.error.type == "ImportError"
    assert "no_such_tool" in missing_tool.error.message
    missing_server = await run(executor, "from generated.servers.nowhere import anything")
    assert missing_server.error is not None and missing_server.error.type == "ModuleNotFoundError"
    by_name = await run(executor, "from generated.client import call_tool\nawait call_tool('demo__calculat', {})")
    assert by_name.error is not None and "did you mean demo__calculate" in by_name.error.message


async def test_the_tool_call_cap_stops_a_runaway_loop(executor: CodeModeExecutor) -> None:
    executor.config.max_tool_calls = 5
    try:
        code = """
from generated.client import ToolError
from generated.servers.demo import calculate
done = 0
try:
    for _ in range(100):
        await calculate(a=1, b=1)
        done += 1
except ToolError as error:
    message = str(error)
done
"""
        result = ok(await run(executor, code))
    finally:
        executor.config.max_tool_calls = 1000
    assert result.value == 5 and len(result.trace) == 5
    assert "tool-call cap reached" in result.notes
    assert "cap of 5 tool calls" in ok(await run(executor, "message")).value


async def test_output_is_capped_with_a_visible_marker(executor: CodeModeExecutor) -> None:
    streamed: list[str] = []
    code = "for _ in range(300):\n    print('x' * 1_000_000)\n'done'"
    result = ok(await run(executor, code, on_output=lambda stream, text: streamed.append(text)))
    assert result.value == "done" and not result.timed_out
    assert result.truncated and "output truncated" in result.notes
    assert "[codemode: output truncated at 1,000,000 bytes" in result.stdout
    assert 1_000_000 <= len(result.stdout) <= 1_000_000 + 600
    assert sum(map(len, streamed)) == len(result.stdout)
    assert ok(await run(executor, "print('small')")).stdout == "small\n"


async def test_an_infinite_loop_times_out_and_the_next_run_works(executor: CodeModeExecutor) -> None:
    ok(await run(executor, "survivor = 'still here'"))
    started = time.monotonic()
    result = await run(executor, "while True:\n    pass", timeout=2)
    elapsed = time.monotonic() - started
    assert result.timed_out and "timed out" in result.notes
    assert result.error is not None and result.error.type == "TimeoutError"
    assert elapsed < 2 + 2, "control came back within the timeout plus two seconds"
    assert not result.kernel_restarted
    assert ok(await run(executor, "survivor")).value == "still here"


async def test_a_slow_tool_call_times_out_and_is_cancelled(executor: CodeModeExecutor) -> None:
    code = "from generated.servers.demo import slow_echo\nawait slow_echo(seconds=30)"
    result = await run(executor, code, timeout=1)
    assert result.timed_out and not result.kernel_restarted
    assert result.trace[0].ok is False and "cancelled" in (result.trace[0].error or "")
    assert ok(await run(executor, "1 + 1")).value == 2


async def test_interrupt_stops_the_run_in_progress(executor: CodeModeExecutor) -> None:
    assert executor.interrupt() is False
    running = asyncio.ensure_future(run(executor, "import asyncio\nawait asyncio.sleep(30)"))
    while not executor.running:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    assert executor.interrupt() is True
    result = await asyncio.wait_for(running, 5)
    assert result.error is not None and result.error.type == "KeyboardInterrupt"
    assert "interrupted" in result.notes and not result.timed_out
    assert result.cancelled, "a stop on request is flagged, nobody has to read the error text"
    timed_out = await run(executor, "import asyncio\nawait asyncio.sleep(30)", timeout=0.5)
    assert timed_out.timed_out and not timed_out.cancelled


async def test_a_server_that_crashes_mid_run_gives_a_clear_error(
    executor: CodeModeExecutor, registry: ToolRegistry
) -> None:
    if registry.connection("faulty").status != "connected":
        await registry.reconnect("faulty")
    code = """
from generated.client import ToolError
from generated.servers.faulty import crash
try:
    await crash()
except ToolError as error:
    print("caught:", error)
"""
    result = ok(await run(executor, code))
    assert "caught: faulty.crash:" in result.stdout
    assert result.trace[0].ok is False
    after = await run(executor, "from generated.servers.faulty import ok\nawait ok()")
    assert after.error is not None and after.error.type == "ToolError" and "faulty" in after.error.message
    assert ok(await run(executor, "from generated.servers.demo import calculate\nawait calculate(a=1, b=1)")).value == 2


async def test_bindings_follow_the_registry(executor: CodeModeExecutor, registry: ToolRegistry) -> None:
    registry.add_server(demo_stdio_config("catalog"))
    try:
        catalog = json.loads((CATALOGS / "time.json").read_text())
        registry.load_tools("catalog", [ToolDefinition.from_dict("catalog", tool) for tool in catalog["tools"]])
        code = "from generated.servers.catalog import get_current_time\nget_current_time.__name__"
        result = ok(await run(executor, code))
        assert result.value == "get_current_time"
    finally:
        registry.remove_server("catalog")
    gone = await run(executor, "import generated.servers.catalog")
    assert gone.error is not None and gone.error.type == "ModuleNotFoundError"


async def test_runs_take_turns(executor: CodeModeExecutor) -> None:
    first, second = await asyncio.gather(
        run(executor, "import asyncio\nawait asyncio.sleep(0.3)\nturn = 'first'"),
        run(executor, "turn"),
    )
    ok(first)
    assert ok(second).value == "first"


async def test_eval_is_labelled_and_leaves_the_hosts_own_output_alone(
    executor: CodeModeExecutor, capsys: pytest.CaptureFixture[str]
) -> None:
    running = asyncio.ensure_future(run(executor, "import asyncio\nprint('inside')\nawait asyncio.sleep(0.5)"))
    await asyncio.sleep(0.25)
    print("the host's own line")  # printed by the host while the run is going on
    result = ok(await running)
    assert result.stdout == "inside\n"
    assert "the host's own line" in capsys.readouterr().out
    if executor.sandbox_kind == "eval":
        assert not executor.isolated and any("not isolated" in note for note in result.notes)
    else:
        assert executor.isolated and result.notes == []


async def test_state_changes_are_pushed_to_listeners(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry, CodeModeConfig(sandbox="eval", timeout=30))
    seen: list[str] = []
    broken: list[str] = []

    def failing_listener(state: str) -> None:
        broken.append(state)
        raise RuntimeError("a listener that fails does not stop the others")

    assert executor.state == "not started"
    executor.add_state_listener(failing_listener)
    remove = executor.add_state_listener(seen.append)
    await executor.setup()
    assert seen == ["starting", "ready"] and executor.state == "ready"
    running = asyncio.ensure_future(executor.execute("import asyncio\nawait asyncio.sleep(30)"))
    while executor.state != "running":
        await asyncio.sleep(0.01)
    executor.interrupt()
    result = await asyncio.wait_for(running, 5)
    assert result.cancelled and seen[-2:] == ["running", "ready"]
    await executor.restart()
    assert seen[-2:] == ["restarting", "ready"]
    remove()
    count = len(seen)
    await executor.execute("1")
    await executor.cleanup()
    assert executor.state == "closed" and len(seen) == count, "a removed listener hears nothing"
    assert broken[-3:] == ["running", "ready", "closed"]
