"""The discovery meta-tools against real servers: the bundled demo (in memory) and mcp-server-time (stdio)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from codemode_tui import MCPServerConfig, MetaTools, ToolRegistry, UnknownToolError, Workspace
from codemode_tui.meta_tools import AmbiguousToolError, UnknownServerError, one_line
from tests.conftest import demo_stdio_config, faulty_config, in_memory_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")

TIME = MCPServerConfig(name="time", command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "UTC"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry() -> AsyncIterator[ToolRegistry]:
    """Demo and time servers, connected once for the module; plus one server that cannot start."""
    async with in_memory_registry(demo_stdio_config(), TIME, faulty_config("broken", "--exit-at-start", "3")) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        assert outcomes["time"].ok, outcomes["time"].error
        yield reg


@pytest.fixture
def meta(registry: ToolRegistry) -> MetaTools:
    return MetaTools(registry)


def roundtrips_as_json(data: object) -> object:
    return json.loads(json.dumps(data))


async def test_list_servers_reports_status_count_transport_and_error(meta: MetaTools) -> None:
    answer = meta.list_servers()
    assert roundtrips_as_json(answer) == answer
    servers = {server["name"]: server for server in answer["servers"]}
    assert servers["demo"]["status"] == "connected" and servers["demo"]["tool_count"] == 10
    assert servers["demo"]["transport"] == "stdio" and servers["demo"]["error"] is None
    assert servers["time"]["tool_count"] == 2
    assert servers["broken"]["status"] == "failed" and servers["broken"]["error"]
    assert servers["broken"]["tool_count"] == 0
    assert answer["total"] == 3 and answer["tools"] == 12


async def test_list_tool_names_filters_limits_and_says_when_truncated(meta: MetaTools) -> None:
    every = meta.list_tool_names()
    assert every["total"] == 12 and every["returned"] == 12 and not every["truncated"]
    assert "time__convert_time" in every["names"] and "demo__calculate" in every["names"]

    time_only = meta.list_tool_names(server="time")
    assert sorted(time_only["names"]) == ["time__convert_time", "time__get_current_time"]

    limited = meta.list_tool_names(limit=5)
    assert limited["returned"] == 5 and limited["total"] == 12 and limited["truncated"]

    notes = meta.list_tool_names(keywords=["notes"])
    assert set(notes["names"]) >= {"demo__list_notes", "demo__search_notes"}
    assert all(name.startswith("demo__") for name in notes["names"])
    both = meta.list_tool_names(keywords="convert time")
    assert both["names"] == ["time__convert_time"]
    assert meta.list_tool_names(keywords=["zebra"])["total"] == 0


async def test_search_tools_gives_compact_ranked_hits(meta: MetaTools) -> None:
    answer = meta.search_tools("what time is it in Tokyo", limit=3)
    assert roundtrips_as_json(answer) == answer
    names = [hit["name"] for hit in answer["tools"]]
    assert "time__get_current_time" in names[:2]
    first = answer["tools"][0]
    assert set(first) == {"name", "server", "tool", "description", "score"}
    assert first["server"] == "time" and "\n" not in first["description"]
    assert answer["returned"] == len(answer["tools"]) <= 3 and answer["total"] >= answer["returned"]

    with_schemas = meta.search_tools("multiply two numbers", limit=1, include_schemas=True)
    hit = with_schemas["tools"][0]
    assert hit["name"] == "demo__calculate" and hit["inputSchema"]["properties"]["op"]

    assert meta.search_tools("read", server="time")["total"] == 0
    scores = [hit["score"] for hit in meta.search_tools("file", limit=10)["tools"]]
    assert scores == sorted(scores, reverse=True)
    truncated = meta.search_tools("file", limit=1)
    assert truncated["truncated"] and truncated["total"] > 1


async def test_get_tool_details_has_schemas_annotations_signature_and_import(meta: MetaTools) -> None:
    details = meta.get_tool_details("demo__quote_order")
    assert roundtrips_as_json(details) == details
    assert details["qualifiedName"] == "demo__quote_order" and details["server"] == "demo"
    assert details["inputSchema"]["required"] and details["outputSchema"]["type"] == "object"
    assert details["annotations"]["readOnlyHint"] is True
    assert details["importLine"] == "from generated.servers.demo import quote_order"
    assert details["signature"].startswith("async def quote_order(") or "quote_order(" in details["signature"]
    assert "await quote_order(" in details["exampleCall"]

    # the forms a user types all resolve
    assert meta.get_tool_details("time.get_current_time")["name"] == "get_current_time"
    assert meta.get_tool_details("convert_time")["qualifiedName"] == "time__convert_time"


async def test_unknown_tool_lists_close_names(meta: MetaTools) -> None:
    with pytest.raises(UnknownToolError) as err:
        meta.get_tool_details("demo__calculat")
    assert "demo__calculate" in err.value.suggestions
    assert "did you mean" in str(err.value)
    error = MetaTools.error_dict(err.value)
    assert error["error"].startswith("no tool named") and "demo__calculate" in error["suggestions"]

    with pytest.raises(UnknownToolError) as err:
        meta.get_tool_details("current time")
    assert "time__get_current_time" in err.value.suggestions


async def test_unknown_server_lists_close_names(meta: MetaTools) -> None:
    with pytest.raises(UnknownServerError) as err:
        meta.search_tools("read", server="dmeo")
    assert err.value.suggestions[0] == "demo" and "did you mean demo" in str(err.value)
    with pytest.raises(UnknownServerError):
        meta.list_tool_names(server="nope")
    with pytest.raises(ValueError, match="limit"):
        meta.search_tools("read", limit=0)


async def test_context_cost_is_an_estimate_that_favours_the_meta_tools(meta: MetaTools) -> None:
    cost = meta.context_cost()
    assert roundtrips_as_json(cost) == cost
    assert cost["estimate"] is True and "estimate" in cost["note"].lower() and "/ 4" in cost["method"]
    assert cost["tools"] == 12 and cost["servers"] == 3
    listed = sum(len(json.dumps(tool.to_dict())) for tool in meta.registry.list_tools())
    assert 0.5 * listed / 4 < cost["all_tools"]["estimated_tokens"] < 1.5 * listed / 4
    assert cost["meta_tools"]["estimated_tokens"] < cost["all_tools"]["estimated_tokens"]
    assert (
        cost["estimated_tokens_saved"] == cost["all_tools"]["estimated_tokens"] - cost["meta_tools"]["estimated_tokens"]
    )
    per_server = {row["server"]: row for row in cost["per_server"]}
    assert per_server["demo"]["tools"] == 10 and per_server["broken"]["estimated_tokens"] == 0
    bigger = meta.context_cost(extra_meta_tools=[{"name": "execute_code", "description": "Run Python " * 20}])
    assert bigger["meta_tools"]["estimated_tokens"] > cost["meta_tools"]["estimated_tokens"]
    assert "execute_code" in bigger["meta_tools"]["names"]


async def test_meta_tools_follow_the_registry_as_servers_change(registry: ToolRegistry) -> None:
    meta = MetaTools(registry)
    registry.add_server(MCPServerConfig(name="twin", command="unused"))
    try:
        twin = [tool for tool in registry.list_tools("demo") if tool.name == "calculate"]
        registry.load_tools("twin", [type(twin[0])(**{**twin[0].__dict__, "server": "twin", "server_module": ""})])
        assert "twin__calculate" in meta.list_tool_names(keywords=["calculate"])["names"]
        with pytest.raises(AmbiguousToolError) as err:
            meta.get_tool_details("calculate")
        assert set(err.value.suggestions) == {"demo__calculate", "twin__calculate"}
        assert "several servers" in str(err.value)
    finally:
        registry.remove_server("twin")
    assert "twin__calculate" not in meta.list_tool_names()["names"]
    assert meta.get_tool_details("calculate")["qualifiedName"] == "demo__calculate"


async def test_workspace_exposes_index_and_meta() -> None:
    async with Workspace() as workspace:
        assert workspace.meta.index is workspace.index is workspace.registry.search_index
        assert workspace.meta.list_servers()["servers"][0]["name"] == "demo"


async def test_one_line_descriptions() -> None:
    assert one_line("First line.\nSecond line.") == "First line."
    long = one_line("word " * 100)
    assert len(long) <= 160 and long.endswith("…")
    assert one_line("") == ""
