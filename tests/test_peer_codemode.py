"""Toolset and skill behaviour, ported from agent-codemode 1.1.1's ``tests/test_codemode.py``.

Adapted to our names: their ``CodemodeToolset`` over a fake registry becomes
ours over a real ``ToolRegistry`` of two demo servers (``a``, and ``b`` with
``defer_loading``), driven by a Pydantic AI agent where the test is about
what the model sees; their ``SkillDirectory`` becomes ``Workspace.snippets``
(``SnippetStore``) and a skill runs through ``Workspace.run_skill``.  Our
answers use our keys: ``list_tool_names`` answers ``names`` (theirs:
``tools``), a deferred hit carries ``deferred`` (theirs: ``defer_loading``),
schemas and examples are ``outputSchema`` / ``inputExamples`` and come with
``include_schemas=True`` on ``search_tools``.

Not ported:
- TestWaitFor, TestRetry, TestRunWithTimeout, TestParallel, TestRateLimiter: agent-skills' helper
  library (``agent_skills.helpers``), not the codemode engine; we ship no such helpers.
- TestMcpCodemodeSkillFile.test_from_file: agent-skills' parser of skill files into functions;
  our skills are code bodies, not function modules (their format is covered by test_snippets.py).
- test_call_tool_hidden_when_disabled's direct ``toolset.call_tool(..., ctx=MagicMock())`` raising
  ``ValueError``: Pydantic AI's internal dispatch; ported below as what an agent sees instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from codemode_tui import CodeModeConfig, CodemodeToolset, ToolRegistry, Workspace
from codemode_tui.snippets import Snippet
from tests.conftest import demo_stdio_config, in_memory_registry

EXAMPLE = {"a": 6, "b": 7, "op": "multiply"}


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[ToolRegistry]:
    """Two demo servers, the second deferred (their fake registry's ``a`` and deferred ``b``)."""
    home = {"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")}
    servers = [demo_stdio_config("a", env=home), demo_stdio_config("b", env=home, defer_loading=True)]
    async with in_memory_registry(*servers) as found:
        await found.discover_all()
        tool = found.get_tool("a__calculate")
        assert tool is not None
        tool.input_examples = [EXAMPLE]  # settable, as a server's ``_meta`` would give them
        yield found


def toolset_for(registry: ToolRegistry, **options: Any) -> CodemodeToolset:
    return CodemodeToolset(registry, config=CodeModeConfig(sandbox="eval"), **options)


def try_call_tool(seen: dict[str, Any]):
    """A model that notes the tools it is offered, calls ``call_tool`` once, then answers."""

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen["offered"] = sorted(tool.name for tool in info.function_tools)
        answers = [
            part for message in messages for part in message.parts if isinstance(part, RetryPromptPart | ToolReturnPart)
        ]
        if not answers:
            args = {"tool_name": "a__calculate", "arguments": EXAMPLE}
            return ModelResponse(parts=[ToolCallPart("call_tool", args)])
        seen["answer"] = answers[-1]
        return ModelResponse(parts=[TextPart("done")])

    return model


async def test_call_tool_hidden_when_disabled(registry: ToolRegistry) -> None:
    seen: dict[str, Any] = {}
    toolset = toolset_for(registry)  # allow_direct_tool_calls defaults to False
    async with toolset:
        await Agent(FunctionModel(try_call_tool(seen)), toolsets=[toolset]).run("call it directly")
    assert "call_tool" not in seen["offered"] and "execute_code" in seen["offered"]
    # The model's call is refused with Pydantic AI's unknown-tool answer; nothing was called.
    assert "Unknown tool name: 'call_tool'" in str(seen["answer"].content)


async def test_call_tool_offered_and_routed_when_enabled(registry: ToolRegistry) -> None:
    seen: dict[str, Any] = {}
    toolset = toolset_for(registry, allow_direct_tool_calls=True)
    async with toolset:
        await Agent(FunctionModel(try_call_tool(seen)), toolsets=[toolset]).run("call it directly")
    assert "call_tool" in seen["offered"]
    assert isinstance(seen["answer"], ToolReturnPart) and seen["answer"].content == 42


async def test_list_tool_names_keywords_and_limit(registry: ToolRegistry) -> None:
    toolset = toolset_for(registry)

    result = toolset.list_tool_names(keywords=["arithmetic"], limit=1)

    assert result["names"] == ["a__calculate"]
    assert result["total"] == 1
    assert result["returned"] == 1
    assert result["truncated"] is False

    several = toolset.list_tool_names(keywords=["notes"], limit=1)
    assert several["returned"] == 1 and several["total"] == 3 and several["truncated"] is True


async def test_list_tool_names_excludes_deferred_by_default(registry: ToolRegistry) -> None:
    toolset = toolset_for(registry)

    result = toolset.list_tool_names()

    assert result["names"] and all(name.startswith("a__") for name in result["names"])
    assert result["returned"] == len(registry.list_tools("a"))
    everything = toolset.list_tool_names(include_deferred=True)
    assert "b__calculate" in everything["names"]


async def test_search_tools_includes_deferred_by_default(registry: ToolRegistry) -> None:
    toolset = toolset_for(registry)

    result = toolset.search_tools(query="arithmetic on two numbers", limit=2)

    names = [t["name"] for t in result["tools"]]
    assert sorted(names) == ["a__calculate", "b__calculate"]
    deferred = {t["name"]: t.get("deferred", False) for t in result["tools"]}
    assert deferred == {"a__calculate": False, "b__calculate": True}


def reversing(query: str, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(reversed(tools))


async def test_search_tools_reranker_applied(registry: ToolRegistry) -> None:
    toolset = toolset_for(registry, tool_reranker=reversing)
    plain = toolset_for(registry)

    ranked = plain.search_tools(query="arithmetic on two numbers", limit=2, include_schemas=True)
    result = toolset.search_tools(query="arithmetic on two numbers", server=None, limit=2, include_schemas=True)

    names = [t["name"] for t in result["tools"]]
    assert names == [t["name"] for t in reversed(ranked["tools"])]
    calculate = next(t for t in result["tools"] if t["name"] == "a__calculate")
    assert calculate["outputSchema"] == registry.get_tool("a__calculate").output_schema  # type: ignore[union-attr]
    assert calculate["inputExamples"] == [EXAMPLE]


@pytest.mark.xfail(
    strict=True,
    reason="tool_reranker is called as reranker(query, hits) and synchronously; agent-codemode's "
    "hook is `async def reranker(tools, query, server)` and is awaited",
)
async def test_search_tools_reranker_with_agent_codemodes_signature(registry: ToolRegistry) -> None:
    async def reranker(tools: list[Any], query: str, server: str | None) -> list[Any]:
        return list(reversed(tools))

    toolset = toolset_for(registry, tool_reranker=reranker)  # type: ignore[arg-type]
    plain = toolset_for(registry)

    ranked = plain.search_tools(query="arithmetic on two numbers", limit=2)
    result = toolset.search_tools(query="arithmetic on two numbers", server=None, limit=2)

    assert [t["name"] for t in result["tools"]] == [t["name"] for t in reversed(ranked["tools"])]


async def test_get_tool_details_includes_examples(registry: ToolRegistry) -> None:
    toolset = toolset_for(registry)

    result = toolset.get_tool_details("a__calculate")

    assert result["outputSchema"] == {
        "type": "object",
        "properties": {"result": {"title": "Result", "type": "number"}},
        "required": ["result"],
        "title": "calculateOutput",
    }
    assert result["inputExamples"] == [EXAMPLE]


# -- skills (their SkillDirectory: our Workspace.snippets) ----------------------------------


def test_create_and_list(isolated_home: Path) -> None:
    skills = Workspace(registry=ToolRegistry([])).snippets

    skills.save(Snippet(name="test-skill", code='"test"', description="A test"))

    listed = skills.list()
    assert len(listed) == 1
    assert listed[0].name == "test-skill" and listed[0].description == "A test"


def test_search(isolated_home: Path) -> None:
    skills = Workspace(registry=ToolRegistry([])).snippets

    skills.save(Snippet(name="csv-reader", code="rows = []\nrows"))
    skills.save(Snippet(name="json-writer", code="import json\njson.dumps({})"))

    results = skills.search("csv")
    assert [s.name for s in results] == ["csv-reader"]


POLLING = """\
import asyncio
counter = [0]

def check():
    counter[0] += 1
    return counter[0] >= 3

while not check():
    await asyncio.sleep(0.01)

{"checks": counter[0]}
"""

RETRYING = """\
import asyncio
attempts = 0

async def flaky_operation():
    global attempts
    attempts += 1
    if attempts < 3:
        raise ValueError("Temporary failure")
    return "success"

outcome = None
for i in range(5):
    try:
        outcome = {"result": await flaky_operation(), "attempts": attempts}
        break
    except ValueError:
        await asyncio.sleep(0.01)
if outcome is None:
    raise RuntimeError("All retries failed")
outcome
"""


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("polling-skill", POLLING, {"checks": 3}),
        ("retry-skill", RETRYING, {"result": "success", "attempts": 3}),
    ],
)
async def test_skills_with_polling_and_retry_run(isolated_home: Path, name: str, code: str, expected: object) -> None:
    """Their ``test_skill_with_helpers`` and ``test_retry_in_skill``: a skill awaits in loops and retries."""
    async with Workspace(registry=ToolRegistry([])) as workspace:
        workspace.executor_config = CodeModeConfig(sandbox="eval")
        workspace.snippets.save(Snippet(name=name, code=code))

        result = await workspace.run_skill(name)

        assert result.success, result.error
        assert result.value == expected
