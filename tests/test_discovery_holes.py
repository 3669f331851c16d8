"""Discovery holds up: a server with an invalid ``tools/list`` fails alone, and change floods are coalesced."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from codemode_tui.config import MCPServerConfig
from codemode_tui.registry import ToolRegistry
from tests.conftest import TESTS, demo_stdio_config, in_memory_registry

BAD_LIST_SERVER = TESTS / "servers" / "bad_list_server.py"
FLOOD_SERVER = TESTS / "servers" / "flood_server.py"


def bad_list_config(name: str = "badlist") -> MCPServerConfig:
    return MCPServerConfig(name=name, command=sys.executable, args=[str(BAD_LIST_SERVER)], timeout=10)


async def test_invalid_tools_list_fails_that_server_only() -> None:
    async with in_memory_registry(demo_stdio_config(), bad_list_config()) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["demo"].ok and len(outcomes["demo"].tools) == 10
        bad = outcomes["badlist"]
        assert not bad.ok
        assert "tools/list" in bad.error and "not valid MCP" in bad.error and "tools.0.name" in bad.error
        by_name = {info.name: info for info in registry.list_servers()}
        assert by_name["badlist"].status == "failed" and "not valid MCP" in (by_name["badlist"].error or "")
        assert by_name["demo"].status == "connected"
        assert await registry.call_tool("demo__calculate", {"a": 2, "b": 3}) == 5.0


async def test_serve_starts_and_reports_a_server_with_an_invalid_tools_list(tmp_path: Path, isolated_home) -> None:
    config = tmp_path / "mcp.json"
    servers = {
        "demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]},
        "badlist": {"command": sys.executable, "args": [str(BAD_LIST_SERVER)]},
    }
    config.write_text(json.dumps({"mcpServers": servers}))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codemode_tui", "serve", "--config", str(config)],
        env={"CODEMODE_TUI_HOME": str(isolated_home)},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        answer = await session.call_tool("list_servers", {})
        assert not answer.is_error, answer.content
        by_name = {s["name"]: s for s in answer.structured_content["servers"]}
        assert by_name["demo"]["status"] == "connected" and by_name["demo"]["tool_count"] == 10
        assert by_name["badlist"]["status"] == "failed" and "not valid MCP" in by_name["badlist"]["error"]


async def test_a_burst_of_list_changed_costs_a_handful_of_rediscoveries() -> None:
    config = MCPServerConfig(name="flood", command=sys.executable, args=[str(FLOOD_SERVER)], timeout=30)
    async with ToolRegistry([config]) as registry:
        await registry.discover_all()
        assert await registry.call_tool("flood__list_requests") == 1
        assert await registry.call_tool("flood__flood", {"count": 2000}, timeout=60) == "sent 2000"
        # The flood is over once a request sent after it is answered; then let any rediscovery finish.
        for _ in range(200):
            await asyncio.sleep(0.05)
            if not registry._refreshing:
                break
        await asyncio.sleep(0.2)
        assert not registry._refreshing
        rediscoveries = await registry.call_tool("flood__list_requests") - 1
        assert 1 <= rediscoveries <= 5, rediscoveries
        assert {tool.name for tool in registry.list_tools("flood")} == {"flood", "list_requests"}
