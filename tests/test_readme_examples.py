"""The README's "Coming from MCP Codemode or agent-codemode" section holds.

Its python blocks are MCP Codemode's own examples; they are run here as a
reader would paste them into ``python -m asyncio`` (top-level ``await``, one
namespace, in order), in a subprocess against the bundled demo server over
stdio, and each must print the ``text`` block that follows it.  Its migration
table must name every public name of agent-codemode 1.1.1 and mcp-codemode
0.0.4, and what it says of our names must be true.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import codemode_tui
from codemode_tui import CodeModeConfig

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: ``__all__`` of agent-codemode 1.1.1's ``agent_codemode/__init__.py``
#: (from ``pip download --no-deps agent-codemode==1.1.1``).
AGENT_CODEMODE_ALL = (
    "PYDANTIC_AI_AVAILABLE",
    "CodeModeConfig",
    "CodeModeExecutor",
    "CodemodeToolset",
    "MCPClient",
    "MCPServerConfig",
    "MetaToolProvider",
    "PythonCodeGenerator",
    "RateLimiter",
    "SearchResult",
    "ServerInfo",
    "Skill",
    "SkillDirectory",
    "SkillFile",
    "SkillsManager",
    "ToolCallResult",
    "ToolDefinition",
    "ToolParameter",
    "ToolRegistry",
    "codemode_server",
    "configure_server",
    "parallel",
    "retry",
    "run_server",
    "run_with_timeout",
    "setup_skills_directory",
    "wait_for",
)

#: ``mcp_codemode/__init__.py`` ``__all__`` of mcp-codemode 0.0.4, the latest on PyPI, beyond agent-codemode's.
MCP_CODEMODE_EXTRA = ("SimpleSkill", "SimpleSkillsManager", "SimpleSkillManager", "SkillManager")

#: The fields of agent-codemode 1.1.1's ``CodeModeConfig`` (``agent_codemode/types.py``).
AGENT_CODEMODE_CONFIG_FIELDS = (
    "workspace_path",
    "skills_path",
    "generated_path",
    "sandbox_variant",
    "sandbox_image",
    "sandbox_gpu",
    "allow_direct_tool_calls",
    "max_tool_calls",
    "skills_directories",
    "mcp_proxy_url",
    "setup_generated_modules",
)

# Runs the blocks as `python -m asyncio` would: each compiled with top-level await
# allowed, in one namespace, on one event loop; prints what each block printed.
RUNNER = """
import ast, asyncio, contextlib, io, json, sys

async def main(blocks):
    namespace = {"__name__": "__main__"}
    printed = []
    for number, code in enumerate(blocks, 1):
        compiled = compile(code, f"<README block {number}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            coroutine = eval(compiled, namespace)
            if coroutine is not None:
                await coroutine
        printed.append(out.getvalue())
    return printed

blocks = json.loads(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps(asyncio.run(main(blocks))))
"""


def section() -> str:
    """The README text from "## Coming from" up to the next second-level heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Coming from") + 1
    end = text.find("\n## ", start + 3)
    return text[start : end if end != -1 else len(text)]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block as ``(language, body)``, in order."""
    return [(lang, body) for lang, body in re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.M | re.S)]


def examples() -> list[tuple[str, str]]:
    """Each python block with the ``text`` block that shows what it prints."""
    blocks = fenced_blocks(section())
    pairs = []
    for index, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
        assert following[0] == "text", f"python block {body[:60]!r} has no text block showing what it prints"
        pairs.append((body, following[1]))
    return pairs


def tables(text: str) -> list[list[tuple[str, str]]]:
    """The section's tables as rows of (left cell, right cell), header and rule left out."""
    found: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if current is None:
            current = []
            found.append(current)
            continue  # the header
        if set("".join(cells)) <= set("-: "):
            continue
        assert len(cells) == 2, line
        current.append((cells[0], cells[1]))
    return found


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def identifiers(cell: str) -> set[str]:
    return {word for span in code_spans(cell) for word in re.findall(r"[A-Za-z_]\w*", span)}


def test_section_has_the_seed_examples_with_their_output() -> None:
    pairs = examples()
    assert len(pairs) >= 3
    code = "\n".join(body for body, _ in pairs)
    for seed_line in (
        "registry = ToolRegistry()",
        "registry.add_server(MCPServerConfig(",
        "await registry.discover_all()",
        "executor = CodeModeExecutor(registry)",
        "await executor.setup()",
        "from generated.servers.demo import read_file",
        'content = await read_file({"path": "input.txt"})',
        "content.upper()",
        'result = await registry.search_tools("file operations", limit=10)',
        'for tool in result["tools"]:',
        'print(tool["name"], tool["description"])',
    ):
        assert seed_line in code, seed_line


def test_readme_examples_run_as_written_and_print_what_it_shows(tmp_path: Path) -> None:
    pairs = examples()
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps([body for body, _ in pairs]), encoding="utf-8")
    runner = tmp_path / "run_blocks.py"
    runner.write_text(RUNNER, encoding="utf-8")
    env = {**os.environ, "CODEMODE_TUI_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, str(runner), str(blocks_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    for (body, shown), out in zip(pairs, printed, strict=True):
        got = [line.rstrip() for line in out.strip().splitlines()]
        want = [line.rstrip() for line in shown.strip().splitlines()]
        assert got == want, f"block\n{body}\nprinted\n{out}"
    # The example really went through the demo server's scratch folder.
    scratch = tmp_path / "home" / "data" / "demo" / "scratch"
    assert (scratch / "output.txt").read_text(encoding="utf-8") == "HELLO FROM CODE MODE"


def test_migration_table_names_every_public_name_of_theirs() -> None:
    names_table = tables(section())[0]
    theirs = set().union(*(identifiers(left) for left, _ in names_table))
    missing = [name for name in (*AGENT_CODEMODE_ALL, *MCP_CODEMODE_EXTRA) if name not in theirs]
    assert not missing, f"not in the README's migration table: {missing}"


def test_what_the_table_says_of_our_names_is_true() -> None:
    rows = [row for table in tables(section()) for row in table]
    same = [left for left, right in rows if right.startswith("the same names, `from codemode_tui import")]
    assert same, "the row of names we share is gone"
    for name in identifiers(same[0]):
        assert name in codemode_tui.__all__ and getattr(codemode_tui, name) is not None, name
    dotted = {match for _, right in rows for match in re.findall(r"codemode_tui(?:\.\w+)+", right)}
    assert dotted
    for path in sorted(dotted):
        module, _, attribute = path.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), path


def test_config_field_map_covers_their_fields_and_names_ours() -> None:
    field_map = tables(section())[1]
    ours = {field.name for field in dataclasses.fields(CodeModeConfig)}
    listed = set().union(*(identifiers(left) for left, _ in field_map))
    assert listed == set(AGENT_CODEMODE_CONFIG_FIELDS)
    for field in AGENT_CODEMODE_CONFIG_FIELDS:
        if field in ours:
            continue
        with pytest.raises(TypeError):  # why the map is needed: their field names do not pass here
            CodeModeConfig(**{field: None})  # type: ignore[arg-type]
    for _, right in field_map:
        for span in code_spans(right):
            if re.fullmatch(r"[a-z_][a-z0-9_]*", span):
                assert span in ours, f"{span!r} is not a CodeModeConfig field"
