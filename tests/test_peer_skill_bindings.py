"""Skills callable from code, ported from agent-codemode 1.1.1's ``tests/test_skill_bindings.py``.

Adapted to our names: their ``PythonCodeGenerator.generate_skill_bindings``
writes ``generated/skills/`` from a metadata list; our
``PythonCodeGenerator.generate_from_tools`` writes ``generated/skills.py``
whose ``list_skills``, ``load_skill`` and ``run_skill`` ask the host (the
workspace's saved skills, ``Workspace.snippets``) through
``generated.client.call_tool`` under the names ``codemode.skills.list`` /
``codemode.skills.load`` (theirs: ``skills__list_skills``,
``skills__load_skill``, ``skills__run_skill_script``).  ``run_skill`` takes
the skill's parameters as a dict (theirs: a script name and a list of
command-line arguments) and runs the skill's code where it is called.
The skills here are real saved snippets and the tools a real demo server.

Not ported:
- TestExecutorSkillRouting.test_skills_metadata_stored: their executor's private ``_skills_metadata``;
  our skills are read from the store at call time (nothing to store).
- TestCodemodeToolsetPostInit (3 tests): their toolset's ``add_post_init_callback`` / ``start()`` lazy
  initialisation; ours has no such phase (discovery is the registry's, the sandbox starts on the
  first ``execute_code``), so there is nothing to hook.
- TestGenerateSkillsInSandbox (2 tests): how their executor writes bindings into a remote sandbox
  (a fake sandbox's captured code); our one ``skills.py`` is the same in every sandbox, and the
  local kernel and eval are run by test_skills_from_code.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from codemode_tui import CodeModeConfig, PythonCodeGenerator, Workspace
from codemode_tui.snippets import Snippet, SnippetParam
from tests.conftest import demo_stdio_config, in_memory_registry

SKILLS = [
    Snippet(
        name="pdf-extractor",
        description="Extract content from PDF documents",
        code=(
            "from generated.servers.demo import calculate\n"
            "pages = await calculate(a=len(path), b=2, op='multiply')\n"
            "{'path': path, 'pages': pages}\n"
        ),
        parameters=[SnippetParam("path", "str", "report.pdf")],
    ),
    Snippet(name="csv-analyzer", description="Analyze CSV files", code="rows = 3\nrows\n"),
]


@pytest.fixture
async def workspace(tmp_path: Path, isolated_home: Path) -> AsyncIterator[Workspace]:
    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    async with Workspace(registry=in_memory_registry(demo)) as found:
        found.executor_config = CodeModeConfig(sandbox="eval")
        await found.start()
        for skill in SKILLS:
            found.snippets.save(skill, tools=found.registry.list_tools())
        yield found


@pytest.fixture
def generated_dir(tmp_path: Path) -> Path:
    """The folder that will hold the ``generated`` package."""
    folder = tmp_path / "bindings"
    folder.mkdir()
    return folder


@contextmanager
def importable(folder: Path) -> Iterator[None]:
    """Import ``generated`` from ``folder`` in this process, and put back what was there before."""
    saved = {
        name: module for name, module in sys.modules.items() if name == "generated" or name.startswith("generated.")
    }
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
            del sys.modules[name]
        sys.modules.update(saved)


# -- 1. codegen: the generated package has the skills module -----------------------------------


def test_creates_skill_module(generated_dir: Path) -> None:
    PythonCodeGenerator(generated_dir).generate_from_tools([])

    skills = generated_dir / "generated" / "skills.py"
    assert skills.is_file()
    source = skills.read_text()
    assert "from generated.client import call_tool" in source  # their test_bindings_import_call_tool
    with importable(generated_dir):
        import generated.skills as module

        assert {"list_skills", "load_skill", "run_skill"} <= set(module.__all__)


@pytest.mark.xfail(
    strict=True,
    reason="generated.skills has no read_skill_resource: saved skills are single code files "
    "with no resource files to read",
)
def test_skill_module_exports_read_skill_resource(generated_dir: Path) -> None:
    PythonCodeGenerator(generated_dir).generate_from_tools([])
    with importable(generated_dir):
        import generated.skills as module

        assert "read_skill_resource" in module.__all__


# -- 2. routing: skill calls go to the skills, tool calls to the servers ------------------------


async def test_skill_calls_route_to_the_skills_and_tool_calls_to_the_server(workspace: Workspace) -> None:
    """Their ``test_skills_prefix_routes_to_caller`` and ``test_non_skills_prefix_goes_to_registry``, in one run."""
    code = (
        "from generated.skills import list_skills\n"
        "from generated.servers.demo import calculate\n"
        "names = [s['name'] for s in await list_skills()]\n"
        "(names, await calculate(a=2, b=3, op='add'))\n"
    )
    result = await workspace.run(code)
    assert result.success, result.error
    assert result.value == [["csv-analyzer", "pdf-extractor"], 5.0]
    assert [(call.name, call.server) for call in result.trace] == [
        ("codemode.skills.list", "codemode"),  # answered by the host, no MCP server
        ("demo__calculate", "demo"),
    ]


# -- 3. round trip: import the generated bindings here, route them with set_tool_caller ---------


@contextmanager
def routed(workspace: Workspace, generated_dir: Path, calls: list[tuple[str, dict[str, Any]]]) -> Iterator[None]:
    """The bindings imported in this process, their calls recorded and answered by ``workspace``."""
    PythonCodeGenerator(generated_dir).generate_from_tools(workspace.registry.list_tools())
    host = workspace.executor.bridge.host_functions

    async def caller(name: str, arguments: dict[str, Any]) -> Any:
        calls.append((name, arguments))
        if name in host:
            return await host[name](arguments)
        return await workspace.registry.call_tool(name, arguments)

    with importable(generated_dir):
        from generated.client import set_tool_caller

        set_tool_caller(caller)
        try:
            yield
        finally:
            set_tool_caller(None)


async def test_import_and_call_list_skills(workspace: Workspace, generated_dir: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    with routed(workspace, generated_dir, calls):
        from generated.skills import list_skills

        result = await list_skills()
    assert isinstance(result, list)
    assert len(result) == 2
    assert {s["name"]: s["description"] for s in result} == {
        "pdf-extractor": "Extract content from PDF documents",
        "csv-analyzer": "Analyze CSV files",
    }
    assert calls == [("codemode.skills.list", {})]


async def test_load_skill_calls_call_tool(workspace: Workspace, generated_dir: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    with routed(workspace, generated_dir, calls):
        from generated.skills import load_skill

        result = await load_skill("pdf-extractor")
    assert calls == [("codemode.skills.load", {"name": "pdf-extractor", "arguments": {}})]
    assert result["name"] == "pdf-extractor" and result["description"] == "Extract content from PDF documents"
    assert result["code"] == SKILLS[0].code and result["values"] == {"path": "report.pdf"}


async def test_run_skill_calls_call_tool(workspace: Workspace, generated_dir: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    with routed(workspace, generated_dir, calls):
        from generated.skills import run_skill

        result = await run_skill("pdf-extractor", {"path": "a.pdf"})
    assert calls[0] == ("codemode.skills.load", {"name": "pdf-extractor", "arguments": {"path": "a.pdf"}})
    # The skill ran here and its tool call went through the same caller, to the real server.
    assert calls[1:] == [("demo__calculate", {"a": 5, "b": 2, "op": "multiply"})]
    assert result == {"path": "a.pdf", "pages": 10.0}
