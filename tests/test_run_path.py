"""One run path: every front end runs code through ``Workspace.run`` and lands in the history.

The CLI's runs are checked in ``test_cli.py`` and ``test_skills_end_to_end.py``, the
toolset's in ``test_pydantic_ai_toolset.py``; here: the workspace itself, ``serve`` over
stdio (a real MCP client), runs of one sandbox taking turns, and the layering rule that the
executor knows nothing of snippets.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from codemode_tui.executor import CodeModeConfig
from codemode_tui.snippets import RunHistory
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry

PACKAGE = Path(__file__).parent.parent / "codemode_tui"


def eval_workspace() -> Workspace:
    workspace = Workspace(registry=in_memory_registry(demo_stdio_config()))
    workspace.executor_config = CodeModeConfig(sandbox="eval")
    return workspace


async def test_run_records_source_session_and_snippet() -> None:
    async with eval_workspace() as workspace:
        await workspace.start()
        ok = await workspace.run(
            "from generated.servers.demo import calculate\nawait calculate(a=x, b=2)",
            values={"x": 40},
            snippet="add-two",
            source="cli",
        )
        assert ok.success and ok.value == 42.0
        failed = await workspace.run("1 / 0", source="serve", session="s1")
        assert failed.error is not None and failed.error.type == "ZeroDivisionError"
        records = workspace.history.list()
        assert [(r.source, r.session, r.snippet, r.status) for r in records] == [
            ("serve", "s1", None, "error"),
            ("cli", None, "add-two", "ok"),
        ]
        assert records[1].trace[0]["tool"] == "demo__calculate"


async def test_parameters_and_code_of_a_run_are_never_split_by_another_run() -> None:
    """Two runs with different values on one sandbox: each sees its own value, the second says it waited."""
    async with eval_workspace() as workspace:
        slow = "import asyncio\nawait asyncio.sleep(0.4)\nx"
        first, second = await asyncio.gather(
            workspace.run(slow, values={"x": 1}), workspace.run("x", values={"x": 2}, timeout=5)
        )
        assert (first.value, second.value) == (1, 2)
        assert not any(note.startswith("waited") for note in first.notes)
        assert any(note.startswith("waited") and "for another run" in note for note in second.notes), second.notes


async def test_a_run_cancelled_while_it_waits_is_recorded_as_cancelled() -> None:
    async with eval_workspace() as workspace:
        blocker = asyncio.ensure_future(workspace.run("import asyncio\nawait asyncio.sleep(0.5)"))
        await asyncio.sleep(0.1)
        waiting = asyncio.ensure_future(workspace.run("print('never')", source="playground"))
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await blocker
        statuses = [(r.code, r.status) for r in workspace.history.list()]
        assert ("print('never')", "cancelled") in statuses


async def test_serve_runs_code_and_skills_into_the_history(tmp_path: Path, isolated_home: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"demo": demo_stdio_config().model_dump(include={"command", "args"})}}))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codemode_tui", "serve", "--config", str(config), "--sandbox", "eval"],
        env={"CODEMODE_TUI_HOME": str(isolated_home)},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        saved = await session.call_tool(
            "save_skill",
            {
                "name": "double",
                "code": "n * 2",
                "description": "Double a number",
                "parameters": [{"name": "n", "type": "int"}],
            },
        )
        assert not saved.is_error, saved.content
        ran = await session.call_tool("run_skill", {"name": "double", "arguments": {"n": "21"}})
        assert not ran.is_error and json.loads(ran.content[0].text)["value"] == 42, ran.content
        code = await session.call_tool("execute_code", {"code": "print('hi')"})
        assert not code.is_error
    records = RunHistory(isolated_home / "data" / "history.jsonl").list()
    assert [(r.source, r.snippet, r.status) for r in records] == [("serve", None, "ok"), ("serve", "double", "ok")]


def test_the_executor_does_not_import_snippets() -> None:
    """Layers: the executor runs code; snippets (and the history) sit above it."""
    offenders = []
    for path in (PACKAGE / "executor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and "snippets" in node.module:
                offenders.append(f"{path.name}: from {'.' * node.level}{node.module}")
            elif isinstance(node, ast.Import) and any("snippets" in alias.name for alias in node.names):
                offenders.append(f"{path.name}: import snippets")
    assert offenders == []


async def test_eval_sessions_starting_together_never_break_each_others_imports() -> None:
    """Two eval sandboxes of one workspace share one copy of the bindings: no swap under a running import."""
    async with eval_workspace() as workspace:
        await workspace.start()
        code = "from generated.servers.demo import calculate\nawait calculate(a={n}, b=1)"
        for round_ in range(3):
            results = await asyncio.gather(
                *(workspace.run(code.format(n=n), source="serve", session=f"s{round_}-{n}") for n in range(3))
            )
            assert [r.error for r in results] == [None, None, None]
            assert [r.value for r in results] == [1.0, 2.0, 3.0]
            for n in range(3):
                await workspace.close_session(f"s{round_}-{n}")
