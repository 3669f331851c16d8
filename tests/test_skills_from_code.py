"""Code composes skills: ``from generated.skills import list_skills, load_skill, run_skill`` in the sandbox.

Real demo server; the skill's code comes from the workspace's saved skills over the bridge and runs
in the sandbox (local kernel and eval).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codemode_tui import workspace as workspace_module
from codemode_tui.executor import CodeModeConfig
from codemode_tui.snippets import Snippet, SnippetParam
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry

SKILL = """\
from generated.servers.demo import calculate
product = await calculate(a=base, b=factor, op="multiply")
{"label": label, "product": product}
"""


@pytest.mark.parametrize("sandbox", ["local", "eval"])
async def test_code_lists_loads_and_runs_saved_skills(tmp_path: Path, sandbox: str) -> None:
    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    async with in_memory_registry(demo) as registry:
        await registry.discover_all()
        async with Workspace(registry=registry) as workspace:
            workspace.executor_config = CodeModeConfig(sandbox=sandbox, timeout=60)  # type: ignore[arg-type]
            params = [SnippetParam("base", "float", 6.0), SnippetParam("factor", "int", 7), SnippetParam("label")]
            workspace.snippets.save(
                Snippet(name="multiply", code=SKILL, description="Multiply", parameters=params),
                tools=registry.list_tools(),
            )
            code = (
                "from generated.skills import list_skills, load_skill, run_skill\n"
                "names = [s['name'] for s in await list_skills()]\n"
                "loaded = await load_skill('multiply', {'label': 'x'})\n"
                "product = 'untouched'\n"
                "out = await run_skill('multiply', {'label': 'area'}, factor=2)\n"
                "(names, loaded['values'], out, product)\n"
            )
            result = await workspace.run(code, source="cli")
            assert result.success, (result.error, result.error and result.error.traceback)
            names, values, out, product = result.value
            assert names == ["multiply"]
            assert values == {"base": 6.0, "factor": 7, "label": "x"}
            assert out == {"label": "area", "product": 12.0}
            assert product == "untouched"  # the skill ran in its own namespace
            assert [c.name for c in result.trace] == [
                "codemode.skills.list",
                "codemode.skills.load",
                "codemode.skills.load",
                "demo__calculate",
            ]

            wrong = await workspace.run("from generated.skills import run_skill\nawait run_skill('multiply')\n")
            assert wrong.error is not None and wrong.error.type == "ToolError"
            assert "label" in wrong.error.message  # the missing parameter is named
            missing = await workspace.run("from generated.skills import run_skill\nawait run_skill('multiplyy')\n")
            assert missing.error is not None and "did you mean multiply" in missing.error.message


def test_the_sandbox_side_names_the_host_functions_the_workspace_serves() -> None:
    """Read, not imported: the file only imports inside a generated package."""
    source = Path(workspace_module.__file__).parent / "codegen" / "skills_runtime.py"
    names = {
        node.targets[0].id: node.value.value
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    assert names["LIST"] == workspace_module.SKILLS_LIST and names["LOAD"] == workspace_module.SKILLS_LOAD
