"""Debugging agent code through ``serve``: the headless policy, approvals by elicitation, dry runs,
the client sessions seen, and ``serve_http`` embedded in another program's event loop.

Driven by the MCP SDK's own client over streamable HTTP, against the demo server over stdio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import demo_stdio_config, free_port
from tests.test_server_mode import wait_for_http

TOKEN = "debugging-token"

GUARDED_WRITE = """\
from generated.servers.demo import write_file
try:
    print(await write_file(path="agent.txt", content="from the agent"))
except Exception as exc:
    print("caught:", exc)
"""


@pytest.fixture
def scratch(isolated_home: Path) -> Path:
    return isolated_home / "data" / "demo" / "scratch"


@pytest.fixture
def serve_url(tmp_path: Path, isolated_home: Path) -> Any:
    """Start ``codemode-tui serve --transport http`` (eval sandboxes, for speed) with extra options."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> str:
        config = tmp_path / "mcp.json"
        config.write_text(
            json.dumps(
                {"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]}}}
            )
        )
        port = free_port()
        env = {**os.environ, "CODEMODE_TUI_HOME": str(isolated_home), "CODEMODE_TUI_SERVE_TOKEN": TOKEN}
        command = [sys.executable, "-m", "codemode_tui", "serve", "--config", str(config), "--sandbox", "eval"]
        command += ["--transport", "http", "--port", str(port), *extra]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}/mcp"
        wait_for_http(proc, url)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.asynccontextmanager
async def client(url: str, **options: Any) -> AsyncIterator[ClientSession]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=90)
    async with http, streamable_http_client(url, http_client=http) as (read, write, *_):
        async with ClientSession(read, write, **options) as session:
            await session.initialize()
            yield session


async def execute(session: ClientSession, code: str, **arguments: Any) -> dict[str, Any]:
    answer = await session.call_tool("execute_code", {"code": code, **arguments})
    assert not answer.is_error, answer.content
    return json.loads(answer.content[0].text)


async def test_headless_serve_denies_a_destructive_call_to_a_client_that_cannot_be_asked(
    serve_url: Any, scratch: Path
) -> None:
    url = serve_url("--allow-direct-calls")
    async with client(url) as session:  # no elicitation callback: the capability is not declared
        run = await execute(session, GUARDED_WRITE)
        direct = await session.call_tool(
            "call_tool", {"tool_name": "demo__write_file", "arguments": {"path": "agent.txt", "content": "x"}}
        )
        assert direct.is_error and "denied by policy" in direct.content[0].text  # no way around the policy
        read = await session.call_tool("call_tool", {"tool_name": "demo__calculate", "arguments": {"a": 1, "b": 2}})
        assert not read.is_error
    assert run["success"], run
    assert "caught:" in run["stdout"] and "denied by policy" in run["stdout"]
    assert run["trace"][0]["decision"].startswith("denied") and run["trace"][0]["line"] == 3
    assert not (scratch / "agent.txt").exists()


async def test_an_elicitation_capable_client_approves_and_the_write_happens(serve_url: Any, scratch: Path) -> None:
    url = serve_url()
    asked: list[str] = []

    async def approve(context: Any, params: mcp_types.ElicitRequestParams) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"answer": "once"})

    async with client(url, elicitation_callback=approve) as session:
        run = await execute(session, GUARDED_WRITE)
    assert run["success"] and "caught" not in run["stdout"], run
    assert (scratch / "agent.txt").read_text() == "from the agent"
    assert len(asked) == 1 and "demo__write_file" in asked[0] and '"path": "agent.txt"' in asked[0]
    assert 'await write_file(path="agent.txt"' in asked[0]  # the code line that made the call
    assert "approved once" in run["trace"][0]["decision"] and "elicitation" in run["trace"][0]["decision"]


async def test_a_declined_elicitation_is_a_denial_the_code_catches(serve_url: Any, scratch: Path) -> None:
    url = serve_url()

    async def decline(context: Any, params: mcp_types.ElicitRequestParams) -> mcp_types.ElicitResult:
        return mcp_types.ElicitResult(action="decline")

    async with client(url, elicitation_callback=decline) as session:
        run = await execute(session, GUARDED_WRITE)
    assert "caught:" in run["stdout"] and "denied" in run["stdout"], run
    assert not (scratch / "agent.txt").exists()


async def test_a_policy_file_allows_and_dry_run_lists_the_effects_without_writing(
    serve_url: Any, scratch: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"tools": {"demo__write_file": "allow"}}))
    url = serve_url("--policy", str(policy))
    code = GUARDED_WRITE.replace("agent.txt", "planned.txt") + "from generated.servers.demo import list_files\n"
    code += "await list_files()\n"
    async with client(url) as session:
        dry = await execute(session, code, dry_run=True)
        assert dry["success"], dry
        assert dry["effects"] == [
            {
                "order": 1,
                "tool": "demo__write_file",
                "arguments": {"path": "planned.txt", "content": "from the agent"},
                "line": 3,
                "answered": "placeholder",
            }
        ]
        assert [call.get("answered", "live") for call in dry["trace"]] == ["placeholder", "live"]
        assert not (scratch / "planned.txt").exists()
        real = await execute(session, code)  # the policy allows it: no one is asked
        assert real["success"] and "caught" not in real["stdout"], real
        assert "effects" not in real
    assert (scratch / "planned.txt").read_text() == "from the agent"


# -- serve_http inside the test's own event loop (as the playground runs it) ------------------------


async def test_serve_http_runs_embedded_notes_each_client_and_stops_when_cancelled(tmp_path: Path) -> None:
    from codemode_tui import ToolRegistry
    from codemode_tui.executor import CodeModeConfig
    from codemode_tui.server_mode import serve_http
    from codemode_tui.workspace import Workspace

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    workspace = Workspace(registry=ToolRegistry([demo_stdio_config()]))
    workspace.executor_config = CodeModeConfig(sandbox="eval")
    async with workspace:
        await workspace.start()
        port = free_port()
        ready = asyncio.Event()
        task = asyncio.ensure_future(serve_http(workspace, port=port, token=TOKEN, ready=ready))
        await asyncio.wait_for(ready.wait(), 60)
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        url = f"http://127.0.0.1:{port}/mcp"
        info = mcp_types.Implementation(name="test-agent", version="1.2.3")
        async with client(url, client_info=info) as session:
            run = await execute(session, "from generated.servers.demo import calculate\nawait calculate(a=2, b=3)")
            assert run["value"] == 5.0, run
            seen = workspace.agent_sessions
            assert [(s.client, s.runs) for s in seen] == [("test-agent 1.2.3", 1)]
            assert workspace.history.list()[0].source == "serve"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        with pytest.raises(httpx2.HTTPError):
            httpx2.get(url, timeout=2)  # no longer listening
        assert workspace.sessions == []  # the agents' sandboxes closed with the server
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


async def test_the_pydantic_ai_toolset_dry_run_lists_the_effects_and_writes_nothing(isolated_home: Path) -> None:
    from codemode_tui import CodemodeToolset, ToolRegistry
    from codemode_tui.executor import CodeModeConfig

    registry = ToolRegistry([demo_stdio_config()])
    async with registry:
        await registry.discover_all()
        toolset = CodemodeToolset(registry, config=CodeModeConfig(sandbox="eval"))
        async with toolset:
            answer = await toolset.execute_code(GUARDED_WRITE, dry_run=True)
    assert answer["success"] and "caught" not in answer["stdout"], answer
    assert [(e["tool"], e["arguments"]["path"], e["line"]) for e in answer["effects"]] == [
        ("demo__write_file", "agent.txt", 3)
    ]
    assert not (isolated_home / "data" / "demo" / "scratch" / "agent.txt").exists()
