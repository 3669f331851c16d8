"""A snippet saved with parameters, run with other values, exported as a skill, and run on its own."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemode_tui import ToolRegistry
from codemode_tui.executor import CodeModeConfig, CodeModeExecutor
from codemode_tui.snippets import Snippet, SnippetError, SnippetParam, SnippetStore
from codemode_tui.workspace import Workspace
from tests.cli_runner import run_cli
from tests.conftest import demo_stdio_config

CODE = """\
from generated.servers.demo import calculate, write_file, read_file
product = await calculate(a=base, b=factor, op="multiply")
await write_file(path=f"{label}.txt", content=f"{label} = {product}")
print(await read_file(path=f"{label}.txt"))
product
"""

PARAMS = [
    SnippetParam("base", "float", 6.0, "Left factor"),
    SnippetParam("factor", "int", 7, "Right factor"),
    SnippetParam("label", "str", description="Name of the result file"),
]


@pytest.fixture
def saved(isolated_home: Path) -> Snippet:
    return SnippetStore().save(
        Snippet(
            name="multiply-and-save",
            code=CODE,
            description="Multiply two numbers and save the result",
            parameters=PARAMS,
        ),
        tools=[],
    )


async def test_run_skill_checks_and_binds_arguments(saved: Snippet) -> None:
    async with Workspace(registry=ToolRegistry([demo_stdio_config()])) as workspace:
        workspace.executor_config = CodeModeConfig(sandbox="eval")
        await workspace.start()
        result = await workspace.run_skill("multiply-and-save", {"label": "x", "factor": "3"}, source="cli")
        assert result.success, result.error
        assert result.stdout == "x = 18.0\n" and result.value == 18.0
        with pytest.raises(SnippetError, match="needs a value for parameter 'label'"):
            await workspace.run_skill("multiply-and-save", {})
        with pytest.raises(SnippetError, match="expects int"):
            await workspace.run_skill("multiply-and-save", {"label": "x", "factor": "many"})
        # Only the run that ran is recorded; refused arguments leave no trace.
        assert [(r.snippet, r.source) for r in workspace.history.list()] == [("multiply-and-save", "cli")]


async def test_the_executor_alias_still_runs_a_skill_and_says_it_is_deprecated(saved: Snippet) -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        async with CodeModeExecutor(registry, CodeModeConfig(sandbox="eval")) as executor:
            with pytest.warns(DeprecationWarning, match="Workspace.run_skill"):
                result = await executor.execute_skill("multiply-and-save", {"label": "x", "factor": "3"})
            assert result.value == 18.0


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``codemode-tui *args`` in this process (``tests/cli_runner.py``); the exported script below runs as a
    process of its own."""
    assert os.environ["CODEMODE_TUI_HOME"] == str(home)
    return run_cli(args)


def test_cli_save_run_export_and_the_exported_script(tmp_path: Path, isolated_home: Path) -> None:
    source = tmp_path / "job.py"
    source.write_text(CODE)
    saved = cli(
        isolated_home,
        "skills",
        "save",
        "multiply-and-save",
        "--file",
        str(source),
        "--description",
        "Multiply two numbers and save the result",
        "--param",
        "base:float=6",
        "--param",
        "factor:int=7",
        "--param",
        "label:str",
    )
    assert saved.returncode == 0, saved.stderr
    listed = json.loads(cli(isolated_home, "skills", "list", "--json").stdout)
    assert listed[0]["name"] == "multiply-and-save"
    assert listed[0]["tools"] == ["demo__calculate", "demo__read_file", "demo__write_file"]

    missing = cli(isolated_home, "skills", "run", "multiply-and-save")
    assert missing.returncode == 2 and "needs a value for parameter 'label'" in missing.stderr

    in_app = cli(isolated_home, "skills", "run", "multiply-and-save", "--arg", "label=area", "--arg", "factor=2")
    assert in_app.returncode == 0, in_app.stderr
    assert in_app.stdout == "area = 12.0\n12.0\n"
    history = [json.loads(line) for line in (isolated_home / "data" / "history.jsonl").read_text().splitlines()]
    assert [(run["source"], run["snippet"], run["status"]) for run in history] == [("cli", "multiply-and-save", "ok")]

    exported = cli(isolated_home, "skills", "export", "multiply-and-save", "--out", str(tmp_path / "skills"))
    assert exported.returncode == 0, exported.stderr
    folder = tmp_path / "skills" / "multiply-and-save"
    script = folder / "scripts" / "multiply_and_save.py"
    # The exported script runs on its own, from another folder, with its parameters as flags.
    env = {**os.environ, "CODEMODE_TUI_HOME": str(tmp_path / "elsewhere")}
    standalone = subprocess.run(
        [sys.executable, str(script), "--label", "area", "--factor", "2"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
    )
    assert standalone.returncode == 0, standalone.stderr
    assert standalone.stdout == in_app.stdout
    usage = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert "--label" in usage.stdout and "(required)" in usage.stdout and "Multiply two numbers" in usage.stdout

    imported = cli(isolated_home, "skills", "import", str(folder))
    assert imported.returncode == 2 and "already exists" in imported.stderr
    assert cli(isolated_home, "skills", "delete", "multiply-and-save").returncode == 0
    assert cli(isolated_home, "skills", "import", str(folder)).returncode == 0
    assert json.loads(cli(isolated_home, "skills", "list", "--json").stdout)[0]["name"] == "multiply-and-save"


# -- agent-skills' own runner ------------------------------------------------------------

needs_agent_skills = pytest.mark.skipif(
    importlib.util.find_spec("agent_skills") is None, reason="agent-skills is not installed (pip install agent-skills)"
)


def _export_demo_skill(out: Path) -> Path:
    snippet = Snippet(
        name="multiply-and-save",
        code=CODE,
        description="Multiply two numbers and save the result",
        parameters=PARAMS,
        servers=["demo"],
    )
    from codemode_tui.snippets import export_skill

    return export_skill(snippet, out, servers={"demo": demo_stdio_config()})


@needs_agent_skills
async def test_an_exported_skill_runs_under_agent_skills_runner_with_its_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_skills import AgentSkillsToolset, SandboxExecutor
    from code_sandboxes import CodeSandboxClient

    folder = _export_demo_skill(tmp_path / "skills")
    script = folder / "scripts" / "multiply_and_save.py"
    assert "await " not in script.read_text() and "async " not in script.read_text()
    # The runner execs the script with a bare __file__, relative to wherever the agent runs:
    # a servers.json there must not be taken for the skill's own.
    elsewhere = tmp_path / "agent-cwd"
    elsewhere.mkdir()
    (elsewhere / "servers.json").write_text('{"mcpServers": {"demo": {"command": "false"}}}')
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # the eval sandbox sets the host's sys.argv
    client = CodeSandboxClient.create(variant="eval")
    toolset = AgentSkillsToolset(directories=[tmp_path / "skills"], executor=SandboxExecutor(client))
    listed = await toolset.call_tool("list_skills", {}, None, None)
    assert "multiply-and-save" in str(listed)
    assert "--label" in str(await toolset.call_tool("load_skill", {"skill_name": "multiply-and-save"}, None, None))
    ran = await toolset.call_tool(
        "run_skill_script",
        {
            "skill_name": "multiply-and-save",
            "script_name": "multiply_and_save",
            "kwargs": {"label": "area", "factor": 2},
        },
        None,
        None,
    )
    assert ran["success"], ran
    assert ran["stdout"].splitlines() == ["area = 12.0", "12.0"]
    # The same script through the runner's executor with plain CLI arguments, and a missing parameter.
    executor = SandboxExecutor(client)
    direct = await executor.execute("multiply-and-save", "multiply_and_save", script, ["--label", "vol", "--base", "2"])
    assert direct["success"] and direct["stdout"].splitlines() == ["vol = 14.0", "14.0"], direct
    missing = await executor.execute("multiply-and-save", "multiply_and_save", script, [])
    assert not missing["success"] and missing["exit_code"] == 2
    assert "needs a value for parameter 'label'" in missing["stderr"]


FOREIGN_MAIN = '''\
"""Repeat a text."""
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--text", required=True, help="What to repeat")
parser.add_argument("--times", type=int, default=2, help="How many times")
parser.add_argument("--shout", action="store_true", help="Upper case")
parser.add_argument("--sep", help="Separator (default a space)")
args = parser.parse_args()
word = args.text.upper() if args.shout else args.text
print((args.sep or " ").join([word] * args.times))
'''

FOREIGN_OTHER = """\
import argparse
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("words", help="Words to count")
    print(len(parser.parse_args().words.split()), sys.argv[0])


if __name__ == "__main__":
    main()
"""


async def test_importing_a_skill_folder_keeps_every_script_and_their_argparse_options_are_parameters(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "text-tools"
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: text-tools\ndescription: Small text helpers\n---\n\n# Text tools\n")
    (folder / "scripts" / "text_tools.py").write_text(FOREIGN_MAIN)
    (folder / "scripts" / "count_words.py").write_text(FOREIGN_OTHER)
    imported = cli(isolated_home, "skills", "import", str(folder))
    assert imported.returncode == 0, imported.stderr
    store = SnippetStore()
    assert sorted(s.name for s in store.list()) == ["text-tools", "text-tools-count-words"]
    main = store.get("text-tools")
    assert [(p.name, p.type, p.required) for p in main.parameters] == [
        ("text", "str", True),
        ("times", "int", False),
        ("shout", "bool", False),
        ("sep", "str", False),
    ]
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # the eval sandbox sets the host's sys.argv
    async with Workspace(registry=ToolRegistry([])) as workspace:
        workspace.executor_config = CodeModeConfig(sandbox="eval")
        await workspace.start()
        shout = await workspace.run_skill("text-tools", {"text": "hi", "times": "3", "shout": "true"})
        assert shout.success, shout.error
        assert shout.stdout == "HI HI HI\n"
        plain = await workspace.run_skill("text-tools", {"text": "ho", "sep": "-"})
        assert plain.stdout == "ho-ho\n"
        with pytest.raises(SnippetError, match="needs a value for parameter 'text'"):
            await workspace.run_skill("text-tools", {})
        counted = await workspace.run_skill("text-tools-count-words", {"words": "a b c"})
        assert counted.success, counted.error
        assert counted.stdout == "3 count_words.py\n"


@needs_agent_skills
@pytest.mark.skipif(importlib.util.find_spec("pydantic_ai") is None, reason="pydantic-ai is not installed")
async def test_a_pydantic_ai_agent_runs_an_exported_skill_through_agent_skills_toolset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_skills import AgentSkillsToolset, SandboxExecutor
    from code_sandboxes import CodeSandboxClient
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    _export_demo_skill(tmp_path / "skills")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", list(sys.argv))

    def seen(messages: list[ModelMessage]) -> dict[str, object]:
        return {
            part.tool_name: part.content
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart)
        }

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        """Plays an agent that reads the skill, then runs its script with the parameters it documents."""
        done = seen(messages)
        if "load_skill" not in done:
            return ModelResponse(parts=[ToolCallPart("load_skill", {"skill_name": "multiply-and-save"})])
        if "run_skill_script" not in done:
            assert "`--label`" in str(done["load_skill"])
            arguments = {"label": "area", "factor": 2}
            call = {"skill_name": "multiply-and-save", "script_name": "multiply_and_save", "kwargs": arguments}
            return ModelResponse(parts=[ToolCallPart("run_skill_script", call)])
        return ModelResponse(parts=[TextPart(json.dumps(done["run_skill_script"], default=str))])

    toolset = AgentSkillsToolset(
        directories=[tmp_path / "skills"], executor=SandboxExecutor(CodeSandboxClient.create(variant="eval"))
    )
    result = await Agent(FunctionModel(model), toolsets=[toolset]).run("Multiply 6 by 2 and save it as area")
    ran = json.loads(result.output)
    assert ran["success"] and ran["stdout"].splitlines() == ["area = 12.0", "12.0"], ran
