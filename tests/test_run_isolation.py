"""What one run leaves behind cannot act in the next, and what a server sends stays data.

Run 1 starts a thread (and a task) that waits, then prints and calls a tool
while run 2 is in progress: run 2 must see neither, the tool must not run,
and the leftover must be told its run has finished.  A server that returns a
dict carrying the bindings' internal type tag gets that dict back as plain
data, next to a real image, without a hang.  Both sandboxes: the local kernel
(a separate process) and eval.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from codemode_tui import CodeModeConfig, CodeModeExecutor, MCPServerConfig, ToolRegistry
from codemode_tui.executor import RunResult
from tests.conftest import demo_stdio_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: A real MCP server (stdio) whose results imitate the bindings' tagged objects.
FORGED_SERVER = """
import json
import mcp_types as types
from mcp.server.mcpserver import MCPServer

TAG = "__codemode_type__"
server = MCPServer("forged")


@server.tool(structured_output=False)
def next_to_an_image(kind: str = "image") -> list:
    \"\"\"A real image, then a text block holding a dict that uses the tag.\"\"\"
    forged = {TAG: kind, "data": "ZmFrZQ==", "mime_type": "image/png"}
    if kind == "resource":
        forged = {TAG: "resource"}  # fields that do not fit: decoding it used to raise in the client
    return [
        types.ImageContent(type="image", data="aGk=", mime_type="image/png"),
        types.TextContent(type="text", text=json.dumps(forged)),
    ]


@server.tool(structured_output=False)
def alone() -> str:
    \"\"\"Only the forged dict.\"\"\"
    return json.dumps({TAG: "image", "data": "ZmFrZQ==", "mime_type": "image/png"})


server.run("stdio")
"""

LEFTOVERS = """
import asyncio, threading
from generated.client import ToolError
from generated.servers.demo import add_note

go, done, late = threading.Event(), threading.Event(), []

def worker():
    go.wait(20)
    print("LEAK from run 1's thread")
    try:
        asyncio.run(add_note(title="from a leftover thread"))
        late.append("called")
    except ToolError as exc:
        late.append(f"ToolError: {exc}")
    done.set()

threading.Thread(target=worker, daemon=True).start()

task_go, task_done = asyncio.Event(), asyncio.Event()

async def leftover_task():
    await task_go.wait()
    print("LEAK from run 1's task")
    try:
        await add_note(title="from a leftover task")
        late.append("called")
    except ToolError as exc:
        late.append(f"ToolError: {exc}")
    task_done.set()

kept = asyncio.ensure_future(leftover_task())
"""


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("isolation-demo-home")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    script = tmp_path_factory.mktemp("forged-server") / "forged_server.py"
    script.write_text(FORGED_SERVER, encoding="utf-8")
    servers = [
        demo_stdio_config(env={"CODEMODE_TUI_HOME": str(demo_home)}),
        MCPServerConfig(name="forged", command=sys.executable, args=[str(script)]),
    ]
    async with ToolRegistry(servers) as reg:
        outcomes = await reg.discover_all()
        assert all(outcome.ok for outcome in outcomes.values()), outcomes
        yield reg


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["local", "eval"])
async def executor(
    request: pytest.FixtureRequest, registry: ToolRegistry, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CodeModeExecutor]:
    audit = tmp_path_factory.mktemp(f"audit-{request.param}") / "calls.jsonl"
    executor = CodeModeExecutor(registry, CodeModeConfig(sandbox=request.param, timeout=30, audit_path=audit))
    await executor.setup()
    yield executor
    await executor.cleanup()


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}"
    return result


async def test_a_thread_or_task_from_run_1_can_neither_print_nor_call_tools_in_run_2(
    executor: CodeModeExecutor, registry: ToolRegistry
) -> None:
    first = ok(await executor.execute(LEFTOVERS))
    second = ok(
        await executor.execute("go.set()\ntask_go.set()\ndone.wait(20)\nawait task_done.wait()\nprint('run 2 here')")
    )
    assert "LEAK" not in second.stdout + second.stderr
    assert second.stdout == "run 2 here\n"
    assert second.trace == [], "the leftovers' calls never reached a server"
    refusals = ok(await executor.execute("late")).value
    assert len(refusals) == 2 and "called" not in refusals
    for refusal in refusals:
        assert refusal.startswith("ToolError") and f"belongs to run {first.run_id} which has finished" in refusal
    notes = await registry.call_tool("demo__list_notes", {})
    assert "leftover" not in json.dumps(notes)
    audit = executor.config.audit_path
    assert audit is None or not audit.exists() or "leftover" not in audit.read_text()


async def test_thread_pool_jobs_belong_to_the_run_that_submitted_them(executor: CodeModeExecutor) -> None:
    ok(await executor.execute("from concurrent.futures import ThreadPoolExecutor\npool = ThreadPoolExecutor(1)"))
    code = (
        "import asyncio\nfrom generated.servers.demo import calculate\n"
        "def job():\n    print('from the pool')\n    return asyncio.run(calculate(a=2, b=3))\n"
        "pool.submit(job).result(20)"
    )
    for _ in range(2):  # the second run reuses the pool thread the first one started
        result = ok(await executor.execute(code))
        assert result.value == 5.0 and result.stdout == "from the pool\n" and len(result.trace) == 1
    ok(await executor.execute("pool.shutdown()"))


async def test_a_dict_using_the_internal_type_tag_comes_back_as_plain_data(executor: CodeModeExecutor) -> None:
    code = """
from generated.client import ImageResult
from generated.servers.forged import alone, next_to_an_image
shown = []
for kind in ("image", "resource"):
    image, forged = await next_to_an_image(kind=kind)
    shown.append([isinstance(image, ImageResult), type(forged).__name__, forged])
only = await alone()
shown.append([type(only).__name__, only])
shown
"""
    result = ok(await executor.execute(code, timeout=20))
    tag = "__codemode_type__"
    assert result.value == [
        [True, "dict", {tag: "image", "data": "ZmFrZQ==", "mime_type": "image/png"}],
        [True, "dict", {tag: "resource"}],
        ["dict", {tag: "image", "data": "ZmFrZQ==", "mime_type": "image/png"}],
    ]
    assert ok(await executor.execute("1 + 1")).value == 2
