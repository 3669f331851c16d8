"""The API users of MCP Codemode / agent-codemode already know, against real servers (the demo in memory)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import pytest

from codemode_tui import ToolDefinition, ToolRegistry
from codemode_tui.config import MCPServerConfig
from codemode_tui.meta_tools import MetaTools
from tests.conftest import TESTS, demo_stdio_config, in_memory_registry

EXAMPLES_SERVER = TESTS / "servers" / "examples_server.py"


def examples_config(name: str = "examples", **extra: object) -> MCPServerConfig:
    return MCPServerConfig(name=name, command=sys.executable, args=[str(EXAMPLES_SERVER)], **extra)


@pytest.fixture
async def registry() -> AsyncIterator[ToolRegistry]:
    async with in_memory_registry(demo_stdio_config(), examples_config("lazy", defer_loading=True)) as registry:
        outcomes = await registry.discover_all()
        assert all(outcome.ok for outcome in outcomes.values()), outcomes
        yield registry


async def test_search_tools_reads_like_the_seed_and_like_objects(registry: ToolRegistry) -> None:
    result = await registry.search_tools("file operations", limit=10)
    printed = [f"{tool['name']} {tool['description']}" for tool in result["tools"]]
    assert any(line.startswith("demo__read_file Read a text file") for line in printed), printed
    assert set(result["tools"][0]) >= {"name", "server", "tool", "description", "score"}
    assert result["total"] == result.total and result["returned"] == len(result["tools"]) <= 10
    # Attribute access keeps working: tool definitions and scored hits.
    assert isinstance(result.tools[0], ToolDefinition) and result.tools[0].qualified_name == result["tools"][0]["name"]
    assert result.hits[0].score > 0 and result[0] is result.hits[0]
    assert result.tools[0].server_name == result.tools[0].server == "demo"
    json.dumps(result.to_dict())  # the dict form is plain JSON
    with pytest.raises(KeyError, match="tools"):
        result["hitz"]


async def test_meta_tools_search_has_the_same_shape(registry: ToolRegistry) -> None:
    answer = MetaTools(registry).search_tools("file operations", limit=5)
    objects = (await registry.search_tools("file operations", limit=5))["tools"]
    assert [tool["name"] for tool in answer["tools"]] == [tool["name"] for tool in objects]
    assert set(answer["tools"][0]) == set(objects[0])
    assert "hits" not in json.loads(json.dumps(answer))  # no second copy of the list goes over the wire


async def test_input_examples_come_from_meta_and_can_be_set(registry: ToolRegistry) -> None:
    translate = registry.require_tool("lazy__translate")
    assert translate.input_examples == [{"text": "hello", "target": "fr"}, {"text": "thanks", "target": "de"}]
    assert registry.require_tool("lazy__vendor_lookup").input_examples == [{"sku": "A-100"}]
    plain = registry.require_tool("lazy__plain")
    assert plain.input_examples == []
    plain.input_examples = [{"value": 3}]
    details = MetaTools(registry).get_tool_details("lazy__plain")
    assert details["inputExamples"] == [{"value": 3}]
    again = ToolDefinition.from_dict("lazy", {**translate.to_dict(), "name": "translate"})
    assert again.input_examples == translate.input_examples
    from_annotations = ToolDefinition.from_dict(
        "x", {"name": "t", "inputSchema": {"type": "object"}, "annotations": {"inputExamples": [{"a": 1}]}}
    )
    assert from_annotations.input_examples == [{"a": 1}]


async def test_deferred_server_is_searchable_but_not_listed_or_counted(registry: ToolRegistry) -> None:
    assert registry.is_deferred("lazy") and not registry.is_deferred("demo")
    names = registry.list_tool_names()
    assert names and all(name.startswith("demo__") for name in names)
    every = registry.list_tool_names(include_deferred=True)
    assert {"lazy__translate", "lazy__plain"} <= set(every)
    assert [tool.qualified_name for tool in registry.list_tools(include_deferred=False)] == names
    assert len(registry.list_tools()) == len(every)  # bindings and calls still see every tool
    assert len(registry.list_tools("demo", limit=3)) == 3
    found = await registry.search_tools("translate a text into another language", limit=3)
    assert found["tools"][0]["name"] == "lazy__translate" and found["tools"][0]["deferred"] is True
    # mcp-codemode's README passes include_deferred: True is the default, False leaves them out.
    same = await registry.search_tools("translate a text into another language", limit=3, include_deferred=True)
    assert same.names == found.names
    listed = await registry.search_tools("translate a text into another language", limit=3, include_deferred=False)
    assert listed.names and not any(name.startswith("lazy__") for name in listed.names)
    assert listed.total < found.total  # the deferred matches are not counted either
    meta = MetaTools(registry)
    assert all(name.startswith("demo__") for name in meta.list_tool_names()["names"])
    assert "lazy__translate" in meta.list_tool_names(include_deferred=True)["names"]
    cost = meta.context_cost()
    lazy = next(entry for entry in cost["per_server"] if entry["server"] == "lazy")
    assert lazy == {"server": "lazy", "tools": 0, "estimated_tokens": 0, "deferred": True}
    assert cost["tools"] == len(names)
    assert meta.context_cost(include_deferred=True)["tools"] == len(every)
    assert await registry.call_tool("lazy__translate", {"text": "hi", "target": "fr"}) == "[fr] hi"


async def test_list_tool_names_with_keywords_all_or_any(registry: ToolRegistry) -> None:
    both = registry.list_tool_names(keywords=["read", "file"])
    assert both[0] == "demo__read_file"
    assert "demo__calculate" not in both
    either = registry.list_tool_names(keywords=["note", "calculate"], match="any")
    assert {"demo__add_note", "demo__calculate"} <= set(either)
    assert registry.list_tool_names(keywords=["note", "calculate"], match="all") == []
    assert registry.list_tool_names(keywords="translate") == []  # deferred
    assert registry.list_tool_names(keywords="translate", include_deferred=True) == ["lazy__translate"]
    assert len(registry.list_tool_names("demo", limit=2)) == 2
    with pytest.raises(ValueError, match="match"):
        registry.list_tool_names(keywords="x", match="some")  # type: ignore[arg-type]
    answer = MetaTools(registry).list_tool_names(keywords=["note", "calculate"], match="any")
    assert answer["names"] == either[:100]
