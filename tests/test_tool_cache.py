"""The tool cache: a front end lists every server's tools at once, from the last discovery."""

from __future__ import annotations

import json

from codemode_tui.tool_cache import ToolCache
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry


async def test_discovered_tools_are_listed_by_the_next_workspace_without_connecting() -> None:
    async with Workspace(registry=in_memory_registry(demo_stdio_config())) as first:
        assert first.load_cached_tools() == {}  # nothing discovered yet
        outcomes = await first.start()
        discovered = sorted(tool.qualified_name for tool in outcomes["demo"].tools)
    later = Workspace(registry=in_memory_registry(demo_stdio_config()))
    loaded = later.load_cached_tools()
    assert sorted(tool.qualified_name for tool in loaded["demo"].tools) == discovered
    assert sorted(t.qualified_name for t in later.registry.list_tools("demo")) == discovered
    # Listed, not connected: the server has not been started.
    assert later.registry.list_servers()[0].status == "disconnected"
    # Annotations and schemas survive the cache (the policy and the bindings need them).
    write = later.registry.get_tool("demo__write_file")
    assert write is not None and write.annotations.get("destructiveHint") is True
    assert write.input_schema["required"] == ["path", "content"]


async def test_a_changed_configuration_or_a_damaged_file_is_a_miss(tmp_path) -> None:
    cache = ToolCache(tmp_path / "tools")
    async with Workspace(registry=in_memory_registry(demo_stdio_config())) as workspace:
        workspace.tool_cache = cache
        await workspace.start()
    config = demo_stdio_config()
    cached = cache.load(config)
    assert cached is not None and len(cached.tools) >= 5
    # Another command line (or environment, URL, headers) is another server: never its tools.
    assert cache.load(demo_stdio_config(env={"DEMO": "1"})) is None
    assert cache.load(config.model_copy(update={"args": [*config.args, "--other"]})) is None
    # A damaged file is a miss, not an error, and the next discovery rewrites it.
    for path in (tmp_path / "tools").iterdir():
        path.write_text("{not json")
    assert cache.load(config) is None
    for path in (tmp_path / "tools").iterdir():
        path.write_text(json.dumps({"format": 1, "server": "demo", "fingerprint": "x", "tools": []}))
    assert cache.load(config) is None
