"""ToolRegistry against real MCP servers over real transports, good and bad."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from codemode_tui import MCPServerConfig, ToolError, ToolRegistry, UnknownToolError
from codemode_tui.demo_server import build_server
from tests.conftest import demo_stdio_config, faulty_config, sandbox_processes


async def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def status(registry: ToolRegistry, name: str) -> str:
    return next(info.status for info in registry.list_servers() if info.name == name)


async def test_demo_over_stdio_discovers_and_calls() -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        names = {tool.qualified_name for tool in registry.list_tools()}
        assert {"demo__calculate", "demo__quote_order", "demo__always_fails"} <= names
        tool = registry.get_tool("demo__quote_order")
        assert tool is not None and tool.python_name == "quote_order" and tool.server == "demo"
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations.get("readOnlyHint") is True
        # structuredContent is preferred
        quote = await registry.call_tool(
            "demo__quote_order",
            {"customer": {"name": "Ada", "email": "a@x"}, "items": [{"sku": "T", "quantity": 2, "unit_price": 3.5}]},
        )
        assert quote["total"] == 7.0 and quote["lines"] == 1
        info = registry.list_servers()[0]
        assert (info.status, info.transport, info.tool_count) == ("connected", "stdio", len(names))


async def test_demo_over_streamable_http(demo_http_url: str) -> None:
    async with ToolRegistry([MCPServerConfig(name="web", url=demo_http_url)]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["web"].ok, outcomes["web"].error
        assert registry.server_config("web").transport == "http"
        result = await registry.call_tool("web__calculate", {"a": 6, "b": 7, "op": "multiply"})
        assert result == 42.0


async def test_an_in_process_server_is_served_under_its_saved_configuration() -> None:
    """An MCPServer object in this process, over the SDK's in-memory transport: no command is started."""
    unstartable = MCPServerConfig(name="demo", command="no-such-mcp-server-command")
    async with ToolRegistry([unstartable], in_process={"demo": build_server()}) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        assert registry.server_config("demo").command == "no-such-mcp-server-command"  # shown as saved
        assert await registry.call_tool("demo__calculate", {"a": 6, "b": 7, "op": "multiply"}) == 42.0
        with pytest.raises(ToolError, match="nope"):
            await registry.call_tool("demo__always_fails", {"reason": "nope"})
        # A server added later is served in-process from its next connection on.
        registry.add_server(MCPServerConfig(name="later", command="no-such-mcp-server-command"))
        registry.serve_in_process("later", build_server())
        assert (await registry.discover_all(["later"]))["later"].ok
        await registry.connection("demo").close()
        assert status(registry, "demo") != "connected"
        assert (await registry.reconnect("demo")) and status(registry, "demo") == "connected"


async def test_third_party_server_from_pypi() -> None:
    config = MCPServerConfig(
        name="time", command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "UTC"]
    )
    async with ToolRegistry([config]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["time"].ok, outcomes["time"].error
        assert registry.get_tool("time__get_current_time") is not None
        now = await registry.call_tool("time__get_current_time", {"timezone": "Asia/Tokyo"})
        assert now["timezone"] == "Asia/Tokyo"
        with pytest.raises(ToolError) as err:
            await registry.call_tool("time__get_current_time", {"timezone": "Not/AZone"})
        assert err.value.server == "time" and err.value.tool == "get_current_time"


async def test_tool_error_is_raised_with_server_tool_and_message() -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        with pytest.raises(ToolError) as err:
            await registry.call_tool("demo__always_fails", {"reason": "disk on fire"})
        assert (err.value.server, err.value.tool) == ("demo", "always_fails")
        assert "disk on fire" in str(err.value)
        # the registry keeps serving after a tool error
        assert await registry.call_tool("demo__calculate", {"a": 1, "b": 2}) == 3.0


async def test_unknown_tool_suggests_close_names() -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        with pytest.raises(UnknownToolError) as err:
            await registry.call_tool("demo__calculat", {})
        assert "demo__calculate" in err.value.suggestions
        assert "did you mean" in str(err.value)


async def test_command_not_found_is_explained_and_others_still_served() -> None:
    broken = MCPServerConfig(name="ghost", command="definitely-not-a-real-mcp-server")
    async with ToolRegistry([broken, demo_stdio_config()]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["demo"].ok
        assert not outcomes["ghost"].ok
        assert "not found" in (outcomes["ghost"].error or "")
        assert "command" in (outcomes["ghost"].error or "")
        assert status(registry, "ghost") == "failed"
        assert await registry.call_tool("demo__calculate", {"a": 1, "b": 1}) == 2.0


async def test_server_exiting_at_start_reports_its_stderr() -> None:
    async with ToolRegistry([faulty_config("dies", "--exit-at-start", "3")]) as registry:
        outcomes = await registry.discover_all()
        error = outcomes["dies"].error or ""
        assert "exited" in error
        assert "missing API key FAULTY_KEY" in error  # the server's own words reach the user
        assert any("FAULTY_KEY" in line for line in registry.stderr("dies"))


async def test_hanging_server_times_out() -> None:
    async with ToolRegistry([faulty_config("hangs", "--hang", timeout=1.5)]) as registry:
        outcomes = await registry.discover_all()
        error = outcomes["hangs"].error or ""
        assert "no answer within 1.5 s" in error
        assert status(registry, "hangs") == "failed"


async def test_closing_a_server_still_connecting_ends_it_without_waiting_for_an_answer() -> None:
    async with ToolRegistry([faulty_config("hangs", "--hang", timeout=60)]) as registry:
        discovery = asyncio.create_task(registry.discover_all())
        await wait_for(lambda: bool(registry.stderr("hangs")))  # started, and silent
        # A polite close would wait up to 10 s for a session that is never coming.
        await asyncio.wait_for(registry.connection("hangs").close(), 8)
        assert (await discovery)["hangs"].error == "the connection was closed before it was ready"
        assert status(registry, "hangs") == "disconnected"  # closed, not failed


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the server's process in /proc")
async def test_a_server_that_stops_reading_its_input_cannot_hang_a_call() -> None:
    """A frozen server (SIGSTOP): the pipe to it fills, the SDK's writer blocks, later calls queue behind it.

    The SDK's own request timeout starts only once the request is written, so
    the call queued behind the stuck write would wait forever; the registry's
    limit covers the write.  Each timed-out call also waits up to 5 s for the
    SDK's courtesy cancel to be written, hence the bound below.
    """
    earlier = sandbox_processes("demo-server", parent=os.getpid())  # an earlier server may still be exiting
    async with ToolRegistry([demo_stdio_config()]) as registry:
        assert (await registry.discover_all())["demo"].ok
        (pid,) = sandbox_processes("demo-server", parent=os.getpid()) - earlier
        os.kill(pid, signal.SIGSTOP)
        try:
            big = {"seconds": 0, "message": "x" * 400_000}  # far more than a pipe holds
            filling = asyncio.create_task(registry.call_tool("demo__slow_echo", big, timeout=0.5))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(ToolError, match=r"did not answer within 0\.5 s"):
                await registry.call_tool("demo__calculate", {"a": 1, "b": 1}, timeout=0.5)
            assert time.monotonic() - started < 10
            with pytest.raises(ToolError, match="did not answer within"):
                await filling
        finally:
            os.kill(pid, signal.SIGCONT)
        assert await registry.call_tool("demo__calculate", {"a": 2, "b": 2}) == 4.0  # the session survived
        assert status(registry, "demo") == "connected"


WARMING_PROBE = """
import asyncio, sys, threading
importers = []


class Spy:  # asked first for every module not imported yet: records who imports jsonschema
    def find_spec(self, name, path=None, target=None):
        if name == "jsonschema":
            importers.append(threading.current_thread().name)
        return None


sys.meta_path.insert(0, Spy())
from codemode_tui import MCPServerConfig, ToolRegistry
assert "jsonschema" not in sys.modules, "imported before any server connected"

async def main():
    config = MCPServerConfig(name="demo", command=sys.executable, args=["-m", "codemode_tui", "demo-server"])
    async with ToolRegistry([config]) as registry:
        await registry.discover_server("demo")  # what the playground does, with no Workspace.start
        for _ in range(400):  # connecting started the import on its thread; nothing else has asked for it
            if importers:
                break
            await asyncio.sleep(0.05)
        quote = await registry.call_tool(
            "demo__quote_order",
            {"customer": {"name": "Ada", "email": "a@x"}, "items": [{"sku": "T", "quantity": 1, "unit_price": 2.0}]},
        )
        assert quote["total"] == 2.0
    print(importers)

asyncio.run(main())
"""


async def test_connecting_a_server_imports_the_sdks_lazy_jsonschema_off_the_event_loop(tmp_path: Path) -> None:
    """The SDK imports jsonschema (1.5-2 s) at the first output-schema check; on the loop that freezes a playground."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WARMING_PROBE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "['warm-sdk']"  # imported once, and on the warming thread


async def test_crash_mid_session_is_detected_and_reconnect_recovers() -> None:
    async with ToolRegistry([faulty_config("crashy"), demo_stdio_config()]) as registry:
        await registry.discover_all()
        with pytest.raises(ToolError):
            await registry.call_tool("crashy__crash", {})
        await wait_for(lambda: status(registry, "crashy") == "failed")

        def error() -> str:
            return next(i for i in registry.list_servers() if i.name == "crashy").error or ""

        assert "reconnect" in error()
        await wait_for(lambda: "crashing now" in error())  # the server's last words, once its stderr is drained
        # calls now fail fast with the reason, and the healthy server is unaffected
        with pytest.raises(ToolError, match="not connected"):
            await registry.call_tool("crashy__ok", {})
        assert await registry.call_tool("demo__calculate", {"a": 2, "b": 2}) == 4.0
        await registry.reconnect("crashy")
        assert status(registry, "crashy") == "connected"
        assert await registry.call_tool("crashy__ok", {"text": "back"}) == "back"


async def test_slow_server_does_not_delay_the_others() -> None:
    configs = [faulty_config("slow", "--start-delay", "3"), demo_stdio_config("a"), demo_stdio_config("b")]
    async with ToolRegistry(configs) as registry:
        discovery = asyncio.create_task(registry.discover_all())
        await wait_for(lambda: status(registry, "a") == "connected" and status(registry, "b") == "connected")
        await wait_for(lambda: len(registry.list_tools("a")) > 0 and len(registry.list_tools("b")) > 0)
        assert status(registry, "slow") == "connecting"
        assert not discovery.done()
        assert await registry.call_tool("a__calculate", {"a": 1, "b": 1}) == 2.0
        outcomes = await discovery
        assert all(outcome.ok for outcome in outcomes.values())
        assert status(registry, "slow") == "connected"


async def test_rediscovery_replaces_and_list_changed_refreshes() -> None:
    async with ToolRegistry([faulty_config("grows")]) as registry:
        await registry.discover_all()
        before = {tool.name for tool in registry.list_tools("grows")}
        await registry.discover_server("grows")
        assert [tool.name for tool in registry.list_tools("grows")].count("ok") == 1
        assert await registry.call_tool("grows__grow", {"name": "fresh-tool"}) == "added fresh-tool"
        await wait_for(lambda: registry.get_tool("grows__fresh-tool") is not None)
        after = {tool.name for tool in registry.list_tools("grows")}
        assert after == before | {"fresh-tool"}
        assert registry.get_tool("grows__fresh-tool").python_name == "fresh_tool"


async def test_remove_server_drops_its_tools_and_close_is_clean() -> None:
    registry = ToolRegistry([demo_stdio_config("one"), demo_stdio_config("two")])
    await registry.discover_all()
    registry.remove_server("one")
    assert {tool.server for tool in registry.list_tools()} == {"two"}
    assert [info.name for info in registry.list_servers()] == ["two"]
    await registry.close()
    await registry.close()  # twice is fine
    assert all(info.status == "disconnected" for info in registry.list_servers())


async def test_disabled_server_is_not_connected() -> None:
    async with ToolRegistry([demo_stdio_config(enabled=False)]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes == {}
        assert status(registry, "demo") == "disabled"


async def test_name_collisions_get_distinct_stable_names() -> None:
    from codemode_tui.registry import ToolDefinition

    registry = ToolRegistry([demo_stdio_config("fs")])
    tools = [ToolDefinition(name=n, server="fs") for n in ("get_file", "get-file", "getFile")]
    registry.load_tools("fs", tools)
    names = {tool.name: tool.python_name for tool in registry.list_tools("fs")}
    assert names["get_file"] == "get_file"
    assert len(set(names.values())) == 3
    assert registry.conflicts["fs"] and "get_file" in registry.conflicts["fs"][0].describe()
    registry.load_tools("fs", [ToolDefinition(name=n, server="fs") for n in ("getFile", "get-file", "get_file")])
    assert {tool.name: tool.python_name for tool in registry.list_tools("fs")} == names


async def test_stdio_servers_share_the_home_folder(isolated_home) -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        await registry.call_tool("demo__add_note", {"title": "kept in the test home"})
    notes = isolated_home / "data" / "demo" / "notes.json"
    assert "kept in the test home" in notes.read_text()
