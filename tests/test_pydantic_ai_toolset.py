"""CodemodeToolset inside a real Pydantic AI agent, driven by FunctionModel (no real model needed)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from codemode_tui import ToolRegistry
from codemode_tui.executor import CodeModeConfig
from codemode_tui.pydantic_ai_toolset import CodemodeToolset
from tests.conftest import demo_stdio_config

CODE = """\
from generated.servers.demo import calculate
a = await calculate(a=20, b=1, op="add")
await calculate(a=a, b=2, op="multiply")
"""


def returns(messages: list[ModelMessage]) -> dict[str, object]:
    found: dict[str, object] = {}
    for message in messages:
        for part in getattr(message, "parts", []):
            if isinstance(part, ToolReturnPart):
                found[part.tool_name] = part.content
    return found


def scripted_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Plays an agent: search, read the details of the best hit, run code, answer."""
    assert {tool.name for tool in info.function_tools} >= {"search_tools", "get_tool_details", "execute_code"}
    seen = returns(messages)
    if "search_tools" not in seen:
        return ModelResponse(parts=[ToolCallPart("search_tools", {"query": "multiply numbers"})])
    if "get_tool_details" not in seen:
        best = seen["search_tools"]["tools"][0]["name"]  # type: ignore[index]
        return ModelResponse(parts=[ToolCallPart("get_tool_details", {"tool_name": best})])
    if "execute_code" not in seen:
        return ModelResponse(parts=[ToolCallPart("execute_code", {"code": CODE})])
    return ModelResponse(parts=[TextPart(json.dumps(seen["execute_code"]))])


async def test_agent_discovers_and_runs_code() -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        toolset = CodemodeToolset(registry, config=CodeModeConfig(sandbox="eval"))
        agent = Agent(FunctionModel(scripted_model), toolsets=[toolset])
        async with toolset:
            result = await agent.run("Compute (20 + 1) * 2 with the tools")
        seen = returns(result.all_messages())
        assert seen["search_tools"]["tools"][0]["name"] == "demo__calculate"  # type: ignore[index]
        assert seen["get_tool_details"]["importLine"] == "from generated.servers.demo import calculate"  # type: ignore[index]
        run = json.loads(result.output)
        assert run["success"] and run["value"] == 42.0
        assert [call["tool"] for call in run["trace"]] == ["demo__calculate", "demo__calculate"]
        # The toolset runs through the one run path: the run is in the history, marked as the toolset's.
        assert [(r.source, r.status) for r in toolset.workspace.history.list()] == [("toolset", "ok")]
