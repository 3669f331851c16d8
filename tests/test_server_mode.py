"""``codemode-tui serve`` driven by the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import free_port

COMPOSE = """\
import asyncio
from generated.servers.demo import add_note, calculate, search_notes
note = await add_note(title="groceries", body="milk and tea", tags=["home"])
found, total = await asyncio.gather(search_notes(query="tea"), calculate(a=19, b=23))
{"id": note["id"], "found": [n["title"] for n in found], "total": total}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    servers = {
        "demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]},
        "broken": {"command": "no-such-mcp-server-binary"},
    }
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def structured(result) -> dict:
    """A tool answer as data: the structured content, or the one JSON text block of a run's answer."""
    assert not result.is_error, result.content
    data = result.structured_content
    if data is None:
        assert len(result.content) == 1
        return json.loads(result.content[0].text)
    return data["result"] if list(data) == ["result"] else data


async def exercise(session: ClientSession, *, direct_calls: bool) -> None:
    init_tools = {tool.name for tool in (await session.list_tools()).tools}
    assert {"list_servers", "search_tools", "get_tool_details", "execute_code", "run_skill"} <= init_tools
    assert ("call_tool" in init_tools) is direct_calls

    servers = structured(await session.call_tool("list_servers", {}))
    by_name = {s["name"]: s for s in servers["servers"]}
    assert by_name["demo"]["status"] == "connected" and by_name["demo"]["tool_count"] == 10
    assert by_name["broken"]["status"] == "failed" and "not found" in by_name["broken"]["error"]

    hits = structured(await session.call_tool("search_tools", {"query": "multiply two numbers"}))
    assert hits["tools"][0]["name"] == "demo__calculate" and hits["tools"][0]["description"]
    details = structured(await session.call_tool("get_tool_details", {"tool_name": "demo__calculate"}))
    assert details["importLine"] == "from generated.servers.demo import calculate"
    unknown = await session.call_tool("get_tool_details", {"tool_name": "demo__calculat"})
    assert unknown.is_error and "did you mean" in unknown.content[0].text

    run = structured(await session.call_tool("execute_code", {"code": COMPOSE}))
    assert run["success"], run
    assert run["value"]["found"] == ["groceries"] and run["value"]["total"] == 42.0
    assert sorted(call["tool"] for call in run["trace"]) == ["demo__add_note", "demo__calculate", "demo__search_notes"]
    assert len(run["trace"]) == 3

    failing = structured(await session.call_tool("execute_code", {"code": "1 / 0"}))
    assert not failing["success"] and failing["error"]["type"] == "ZeroDivisionError"

    if direct_calls:
        direct = await session.call_tool("call_tool", {"tool_name": "demo__calculate", "arguments": {"a": 2, "b": 5}})
        assert not direct.is_error
    else:
        refused = await session.call_tool("call_tool", {"tool_name": "demo__calculate", "arguments": {}})
        assert refused.is_error


async def test_serve_over_stdio(config_file: Path, isolated_home: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codemode_tui", "serve", "--config", str(config_file)],
        env={"CODEMODE_TUI_HOME": str(isolated_home)},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        assert "generated.servers" in (init.instructions or "")
        await exercise(session, direct_calls=False)


def wait_for_http(proc: subprocess.Popen[bytes], url: str, timeout: float = 60) -> None:
    """Until ``serve --transport http`` answers at ``url`` (its stderr if it exits first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx2.get(url, timeout=1)
            return
        except httpx2.HTTPError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "serve exited") from None
            assert time.monotonic() < deadline, "serve --transport http did not come up"
            time.sleep(0.2)


async def test_serve_over_http_with_direct_calls(config_file: Path, isolated_home: Path) -> None:
    port = free_port()
    env = {**os.environ, "CODEMODE_TUI_HOME": str(isolated_home), "CODEMODE_TUI_SERVE_TOKEN": "test-token-1"}
    command = [sys.executable, "-m", "codemode_tui", "serve", "--config", str(config_file)]
    command += ["--transport", "http", "--port", str(port), "--allow-direct-calls"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for_http(proc, url)
        refused = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=5)
        assert refused.status_code == 401 and "Bearer" in refused.text  # no token, no entry
        wrong = httpx2.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        client = httpx2.AsyncClient(headers={"Authorization": "Bearer test-token-1"}, timeout=60)
        async with (
            client,
            streamable_http_client(url, http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.server_info.version and init.server_info.version != "0.0.0"
            await exercise(session, direct_calls=True)
        assert "test-token-1" not in (proc.stderr.read1().decode() if proc.stderr else "")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- the server built from a registry, driven by the SDK's in-process Client ------------------------

BIG_RUN = """\
import sys
print("start of output")
print("x" * 300_000)
print("end of output")
sys.stderr.write("e" * 50_000)
list(range(60_000))
"""


async def test_build_server_from_a_registry_lists_self_explaining_meta_tools() -> None:
    from mcp.client import Client

    from codemode_tui import ToolRegistry
    from codemode_tui.meta_tools import META_TOOL_DEFINITIONS, MetaTools
    from codemode_tui.server_mode import build_server
    from tests.conftest import demo_stdio_config

    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        server = build_server(registry=registry)
        async with Client(server) as client:
            listed = (await client.list_tools()).tools
            by_name = {tool.name: tool for tool in listed}
            cost = MetaTools(registry).context_cost()
            assert sorted(cost["meta_tools"]["names"]) == sorted(by_name)  # every listed meta-tool is counted
            for definition in META_TOOL_DEFINITIONS:
                assert by_name[definition["name"]].description == definition["description"]
            listed_chars = sum(
                len(json.dumps(tool.model_dump(by_alias=True, exclude_none=True), separators=(",", ":")))
                for tool in listed
            )
            assert 0.5 * listed_chars <= cost["meta_tools"]["characters"] <= 1.2 * listed_chars
            execute = by_name["execute_code"].description
            for rule in ("from generated.servers.<server> import <tool>", "structured", "dict", "output schema"):
                assert rule in execute
            for rule in ("Top-level await", "asyncio.gather", "ToolError"):
                assert rule in execute

            details = structured(await client.call_tool("get_tool_details", {"tool_name": "demo__add_note"}))
            assert details["signature"].startswith("async def add_note(*, title: str, body: str = ''")
            assert "= ..." not in details["signature"].split("body")[0]
            params = {p["name"]: p for p in details["parameters"]}
            assert params["title"]["required"] is True and "default" not in params["title"]
            assert params["body"] == {
                "name": "body",
                "type": "str",
                "required": False,
                "default": "",
                "description": "Text of the note",
            }
            found = structured(await client.call_tool("search_tools", {"query": "file operations", "limit": 3}))
            assert {"name", "description", "server", "score"} <= set(found["tools"][0])
            assert "hits" not in found


async def test_execute_code_answer_is_model_sized_compact_and_says_what_was_cut() -> None:
    from mcp.client import Client

    from codemode_tui import ToolRegistry
    from codemode_tui.server_mode import build_server
    from tests.conftest import demo_stdio_config

    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        async with Client(build_server(registry=registry)) as client:
            answer = await client.call_tool("execute_code", {"code": BIG_RUN, "timeout": 60})
            assert not answer.is_error
            assert answer.structured_content is None and len(answer.content) == 1  # no second copy
            text = answer.content[0].text
            assert len(text) <= 20_000
            run = json.loads(text)
            assert text == json.dumps(run, ensure_ascii=False, separators=(",", ":"))  # compact
            assert run["success"] is True
            assert run["stdout"].startswith("start of output") and run["stdout"].rstrip().endswith("end of output")
            assert "characters of stdout cut to fit the answer" in run["stdout"] and "print less" in run["stdout"]
            assert "characters of stderr cut" in run["stderr"]
            assert run["value_truncated"] is True and "return a smaller value" in run["value"]
            assert run["value"].startswith("[0,1,2,3")
            assert set(run["cut"]) == {"stdout", "stderr", "value"}
            assert run["cut"]["stdout"] > 280_000

            failing = await client.call_tool("execute_code", {"code": "raise ValueError('boom ' * 20_000)"})
            failed = json.loads(failing.content[0].text)
            assert len(failing.content[0].text) <= 20_000
            assert failed["success"] is False and failed["error"]["type"] == "ValueError"
            assert failed["error"]["message"].startswith("boom boom") and "cut to fit" in failed["error"]["message"]

            small = json.loads((await client.call_tool("execute_code", {"code": "print('hi'); 6 * 7"})).content[0].text)
            assert small["stdout"] == "hi\n" and small["value"] == 42 and "cut" not in small

        async with Client(build_server(registry=registry, max_answer_chars=5_000)) as client:
            text = (await client.call_tool("execute_code", {"code": BIG_RUN})).content[0].text
            assert len(text) <= 5_000 and "cut to fit" in text


async def test_queued_execute_code_waits_without_spending_its_timeout() -> None:
    import asyncio

    from mcp.client import Client

    from codemode_tui import ToolRegistry
    from codemode_tui.server_mode import build_server
    from tests.conftest import demo_stdio_config

    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        async with Client(build_server(registry=registry)) as client:
            await client.call_tool("execute_code", {"code": "1"})  # the sandbox is up
            first = client.call_tool("execute_code", {"code": "import time\ntime.sleep(2.5)\n'first'"})
            task = asyncio.ensure_future(first)
            await asyncio.sleep(0.5)  # the first run holds the sandbox
            second = await client.call_tool("execute_code", {"code": "'second'", "timeout": 1.5})
            done = await task
            run = json.loads(second.content[0].text)
            assert run["success"] is True and run["value"] == "second", run  # its 1.5 s started after the wait
            assert any(note.startswith("waited") and "for another run" in note for note in run["notes"]), run
            assert json.loads(done.content[0].text)["value"] == "first"


async def test_serve_over_http_gives_each_session_its_own_sandbox_up_to_the_cap(
    config_file: Path, isolated_home: Path
) -> None:
    """Two MCP clients at once: state kept within a session, never seen by the other; a third is refused
    until idle sessions are closed."""
    port = free_port()
    env = {**os.environ, "CODEMODE_TUI_HOME": str(isolated_home), "CODEMODE_TUI_SERVE_TOKEN": "test-token-2"}
    command = [sys.executable, "-m", "codemode_tui", "serve", "--config", str(config_file)]
    command += ["--transport", "http", "--port", str(port), "--max-sessions", "2", "--session-idle-timeout", "6"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"

    async def run(session: ClientSession, code: str) -> dict[str, Any]:
        answer = await session.call_tool("execute_code", {"code": code})
        return json.loads(answer.content[0].text)

    try:
        wait_for_http(proc, url)
        async with contextlib.AsyncExitStack() as stack:
            sessions = []
            for _ in range(3):
                client = await stack.enter_async_context(
                    httpx2.AsyncClient(headers={"Authorization": "Bearer test-token-2"}, timeout=90)
                )
                read, write, *_ = await stack.enter_async_context(streamable_http_client(url, http_client=client))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                sessions.append(session)
            first, second, third = sessions
            assert (await run(first, "secret = 'first'; import os; os.getpid()"))["success"]
            assert (await run(second, "secret = 'second'; import os; os.getpid()"))["success"]
            assert (await run(first, "secret"))["value"] == "first"  # kept within the session
            assert (await run(second, "secret"))["value"] == "second"  # never the other's
            pids = {(await run(s, "os.getpid()"))["value"] for s in (first, second)}
            assert len(pids) == 2  # two kernels, not one shared
            refused = await session_error(third, "1 + 1")
            assert "session" in refused.lower() and "2" in refused

            # Idle sessions give their sandbox back: the third client gets one, the first starts afresh.
            await asyncio.sleep(9)
            assert (await run(third, "1 + 1"))["value"] == 2
            fresh = await run(first, "secret")
            assert fresh["success"] is False and fresh["error"]["type"] == "NameError"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def session_error(session: ClientSession, code: str) -> str:
    answer = await session.call_tool("execute_code", {"code": code})
    assert answer.is_error, answer.content
    return answer.content[0].text


def test_the_playground_keeps_its_serving_token_private_and_stable(tmp_path: Path) -> None:
    import stat

    from codemode_tui.server_mode import TOKEN_ENV, remembered_token

    path = tmp_path / "config" / "serve-token"
    first = remembered_token(path, environ={})
    assert len(first) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert remembered_token(path, environ={}) == first  # the pasted client config keeps working
    assert remembered_token(path, environ={TOKEN_ENV: "chosen"}) == "chosen"
    path.chmod(0o644)  # readable by others: no longer a secret, so it is replaced
    again = remembered_token(path, environ={})
    assert again != first and stat.S_IMODE(path.stat().st_mode) == 0o600
