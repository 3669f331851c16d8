"""CodemodeToolset inside a real Pydantic AI agent, driven by FunctionModel (no real model needed)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from codemode_tui.executor import CodeModeConfig
from codemode_tui.pydantic_ai_toolset import CodemodeToolset
from tests.conftest import demo_stdio_config, in_memory_registry

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
    async with in_memory_registry(demo_stdio_config()) as registry:
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


def last_return(messages: list[ModelMessage]) -> object:
    for message in reversed(messages):
        for part in getattr(message, "parts", []):
            if isinstance(part, ToolReturnPart):
                return part.content
    return None


def code_then_answer(code: str):
    """A model that runs ``code`` once, then answers with the run's JSON."""

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # Only this turn's messages count: a turn ends with the text answer.
        turn_started = max(
            (i for i, m in enumerate(messages) if any(isinstance(p, TextPart) for p in getattr(m, "parts", []))),
            default=-1,
        )
        if not any(
            isinstance(part, ToolReturnPart) for message in messages[turn_started + 1 :] for part in message.parts
        ):
            return ModelResponse(parts=[ToolCallPart("execute_code", {"code": code})])
        return ModelResponse(parts=[TextPart(json.dumps(last_return(messages)))])

    return model


async def test_sandbox_outlives_agent_runs_and_keeps_turn_one_variables() -> None:
    async with in_memory_registry(demo_stdio_config()) as registry:
        await registry.discover_all()
        toolset = CodemodeToolset(registry)  # the default, isolated kernel sandbox
        async with toolset:
            first = await Agent(
                FunctionModel(code_then_answer("import os\nx = 41\nos.getpid()")), toolsets=[toolset]
            ).run("turn 1")
            executor = toolset.workspace.executor
            agent = Agent(FunctionModel(code_then_answer("x + 1, os.getpid()")), toolsets=[toolset])
            second = await agent.run("turn 2", message_history=first.all_messages())
            assert toolset.workspace.executor is executor  # no second sandbox
            pid = json.loads(first.output)["value"]
            again = json.loads(second.output)
            assert again["success"], again
            assert again["value"] == [42, pid]  # turn 1's variable, same kernel process
        # Leaving the toolset's own block stops its sandbox.
        assert not toolset.workspace.sessions and toolset.workspace._executor is None


async def test_instructions_name_only_the_tools_it_has() -> None:
    import re

    async with in_memory_registry(demo_stdio_config()) as registry:
        await registry.discover_all()
        for direct in (False, True):
            toolset = CodemodeToolset(registry, config=CodeModeConfig(sandbox="eval"), allow_direct_tool_calls=direct)
            seen: dict[str, object] = {}

            def model(messages: list[ModelMessage], info: AgentInfo, seen: dict[str, object] = seen) -> ModelResponse:
                seen["tools"] = {tool.name for tool in info.function_tools}
                seen["instructions"] = info.instructions
                return ModelResponse(parts=[TextPart("ok")])

            async with toolset:
                await Agent(FunctionModel(model), toolsets=[toolset]).run("hi")
            tools = seen["tools"]
            assert ("call_tool" in tools) is direct  # type: ignore[operator]
            assert {"save_skill", "list_skills", "run_skill", "execute_code", "search_tools"} <= tools  # type: ignore[operator]
            named = set(re.findall(r"\b([a-z]+(?:_[a-z]+)+)\b", str(seen["instructions"])))
            meta_like = {
                name
                for name in named
                if name.split("_")[0] in ("list", "search", "get", "execute", "run", "save", "call")
            }
            assert meta_like and meta_like <= tools, meta_like - tools  # type: ignore[operator]


async def test_wrong_tool_names_get_suggestions_without_ending_the_run() -> None:
    guesses = ["demo__calculat", "calculater", "demo__add_nots"]

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        answers = [
            part.content
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart)
        ]
        if len(answers) < len(guesses):
            return ModelResponse(parts=[ToolCallPart("get_tool_details", {"tool_name": guesses[len(answers)]})])
        if len(answers) == len(guesses):
            return ModelResponse(
                parts=[ToolCallPart("search_tools", {"query": "add numbers", "limit": 2, "include_schemas": True})]
            )
        return ModelResponse(parts=[TextPart(json.dumps(answers))])

    async with in_memory_registry(demo_stdio_config()) as registry:
        await registry.discover_all()
        toolset = CodemodeToolset(
            registry, config=CodeModeConfig(sandbox="eval"), tool_reranker=lambda query, hits: list(reversed(hits))
        )
        async with toolset:
            result = await Agent(FunctionModel(model), toolsets=[toolset]).run("find the calculator")
        answers = json.loads(result.output)
        for answer in answers[:3]:
            assert "error" in answer and answer["suggestions"], answer
        assert "demo__calculate" in answers[0]["suggestions"]
        assert "demo__add_note" in answers[2]["suggestions"]
        search = answers[3]
        assert search["returned"] == 2 and "inputSchema" in search["tools"][0]
        assert search["tools"][-1]["name"] == "demo__calculate"  # the reranker reversed the ranking


async def test_direct_tool_calls_are_opt_in_and_answer_wrong_names_with_suggestions() -> None:
    calls = [
        ("call_tool", {"tool_name": "demo__calculate", "arguments": {"a": 2, "b": 5, "op": "multiply"}}),
        ("call_tool", {"tool_name": "demo__calculat", "arguments": {}}),
    ]

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        answers = [
            part.content
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart)
        ]
        if len(answers) < len(calls):
            name, args = calls[len(answers)]
            return ModelResponse(parts=[ToolCallPart(name, args)])
        return ModelResponse(parts=[TextPart(json.dumps(answers))])

    async with in_memory_registry(demo_stdio_config()) as registry:
        await registry.discover_all()
        toolset = CodemodeToolset(registry, config=CodeModeConfig(sandbox="eval"), allow_direct_tool_calls=True)
        async with toolset:
            result = await Agent(FunctionModel(model), toolsets=[toolset]).run("multiply 2 by 5")
        product, wrong = json.loads(result.output)
        assert product == 10.0
        assert "demo__calculate" in wrong["suggestions"] and "error" in wrong
