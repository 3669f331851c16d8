"""Export a snippet as an Agent Skill folder, and import one back.

``export_skill`` writes ``<out>/<name>/``::

    SKILL.md                   frontmatter (name, description, allowed-tools, ...) and instructions
    scripts/<name_>.py         runs on its own: parameters as flags, servers from servers.json
    scripts/servers.json       the servers it needs, in mcpServers shape, secrets replaced by ${VAR}
    references/tools.md        the signatures of the tools it calls

Frontmatter values are plain one-line scalars without ``: `` so that both the
strict YAML loaders and the simple line-splitting ones agree on them.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import MCPServerConfig, dump_servers, parse_servers
from .model import Snippet, SnippetError, SnippetParam, check_description, check_name

if TYPE_CHECKING:
    from ..tool_types import ToolDefinition

SCRIPT_MARKER = "# codemode-tui skill script"
_PYTHON_COMMANDS = {"python", "python3"}


def script_name(name: str) -> str:
    """``summarize-notes`` -> ``summarize_notes`` (the script's file stem)."""
    return name.replace("-", "_")


def env_var_name(*parts: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")


def redact_server(config: MCPServerConfig) -> tuple[MCPServerConfig, list[str]]:
    """A copy of ``config`` with every env and header value replaced by ``${VAR}``.

    Returns the copy and the variable names a user must set to run it.  The
    interpreter that runs codemode-tui itself is written as ``python`` so the
    file works on another machine.
    """
    needed: list[str] = []
    env = {}
    for key in config.env:
        env[key] = f"${{{key}}}"
        needed.append(key)
    headers = {}
    for key in config.headers:
        var = env_var_name(config.name, key)
        headers[key] = f"${{{var}}}"
        needed.append(var)
    command = config.command
    if command == sys.executable:
        command = "python"
    return config.model_copy(update={"env": env, "headers": headers, "command": command}), needed


def expand_server(config: MCPServerConfig, environ: Mapping[str, str]) -> MCPServerConfig:
    """Fill ``${VAR}`` placeholders from ``environ``; a missing variable is a clear error."""

    def fill(value: str) -> str:
        def sub(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in environ:
                raise SnippetError(f"server {config.name!r} needs the environment variable {var}; set it and retry")
            return environ[var]

        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, value)

    command = config.command
    if command in _PYTHON_COMMANDS:
        command = sys.executable
    return config.model_copy(
        update={
            "env": {k: fill(v) for k, v in config.env.items()},
            "headers": {k: fill(v) for k, v in config.headers.items()},
            "command": command,
        }
    )


def _frontmatter(snippet: Snippet, allowed: list[str], license: str | None) -> str:
    lines = ["---", f"name: {snippet.name}", f"description: {snippet.description}"]
    if license:
        lines.append(f"license: {license}")
    lines.append("compatibility: Requires Python 3.11+ with codemode-tui installed and the MCP servers in servers.json")
    if allowed:
        lines.append(f"allowed-tools: {' '.join(allowed)}")
    lines += ["metadata:", "  generator: codemode-tui", "---", ""]
    return "\n".join(lines)


def _param_flag(param: SnippetParam) -> str:
    return "--" + param.name.replace("_", "-")


def _body(snippet: Snippet, needed_env: list[str], servers: list[str]) -> str:
    stem = script_name(snippet.name)
    out = [f"# {snippet.name}", "", snippet.description, ""]
    out += ["## Parameters", ""]
    if snippet.parameters:
        for p in snippet.parameters:
            default = f", default {json.dumps(p.default)}" if p.has_default else ", required"
            desc = f" - {p.description}" if p.description else ""
            out.append(f"- `{_param_flag(p)}` ({p.type}{default}){desc}")
    else:
        out.append("None.")
    out += ["", "## How to run", "", "```bash", f"python scripts/{stem}.py"]
    out[-1] += "".join(f" {_param_flag(p)} VALUE" for p in snippet.parameters if p.required)
    out += ["```", ""]
    out.append(
        "The script connects to the MCP servers it needs (listed in `scripts/servers.json`) through the "
        "codemode-tui engine, runs the code in a sandbox and prints its output. "
        "`--json` prints the output, the result and the tool-call trace as JSON."
    )
    out += ["", "## Servers", ""]
    out += [f"- {name}" for name in servers] or ["None."]
    if needed_env:
        out += ["", "## Required Environment Variables", ""]
        out += [f"- `{var}`" for var in needed_env]
    out += ["", "## Tools", "", "The signatures of the tools it calls are in `references/tools.md`.", ""]
    return "\n".join(out)


def _script(snippet: Snippet) -> str:
    params = [p.to_dict() for p in snippet.parameters]
    return (
        "#!/usr/bin/env python3\n"
        f"{SCRIPT_MARKER}\n"
        f'"""{snippet.name}: run with --help for its parameters.\n\n'
        "Needs codemode-tui (pip install codemode-tui) and the servers in servers.json beside this file.\n"
        '"""\n\n'
        "import sys\nfrom pathlib import Path\n\n"
        f"NAME = {snippet.name!r}\n"
        f"DESCRIPTION = {snippet.description!r}\n"
        f"PARAMETERS = {params!r}\n"
        f"CODE = {snippet.code!r}\n\n"
        'if __name__ == "__main__":\n'
        "    from codemode_tui.snippets.skill_runtime import run_script\n\n"
        '    sys.exit(run_script(NAME, DESCRIPTION, PARAMETERS, CODE, Path(__file__).with_name("servers.json")))\n'
    )


def _references(tools: list[ToolDefinition], signature: Callable[[ToolDefinition], str] | None) -> str:
    out = ["# Tools", "", "The MCP tools this skill calls, as typed Python bindings.", ""]
    for tool in tools:
        out += [f"## {tool.qualified_name}", ""]
        out += [f"`from generated.servers.{tool.server_module} import {tool.python_name}`", ""]
        if signature is not None:
            out += ["```python", signature(tool), "```", ""]
        if tool.description:
            out += [tool.description.strip(), ""]
    return "\n".join(out)


def export_skill(
    snippet: Snippet,
    out_dir: Path,
    *,
    servers: Mapping[str, MCPServerConfig],
    tools: Iterable[ToolDefinition] = (),
    license: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the skill folder ``out_dir/<name>/`` and return its path.

    The folder is built beside its destination and moved into place at the
    end, so a failure never leaves half a skill (or touches an existing one).
    """
    check_name(snippet.name)
    check_description(snippet.description)
    target = Path(out_dir) / snippet.name
    if target.exists() and not overwrite:
        raise SnippetError(f"{target} already exists; remove it or export with overwrite")
    known = {t.qualified_name: t for t in tools}
    called = [known[q] for q in snippet.tools if q in known]
    missing = [s for s in snippet.servers if s not in servers]
    if missing:
        raise SnippetError(f"the snippet needs server(s) {', '.join(missing)}, which are not configured")
    redacted: list[MCPServerConfig] = []
    needed_env: list[str] = []
    for name in snippet.servers:
        config, env = redact_server(servers[name])
        redacted.append(config)
        needed_env += env
    signature: Callable[[ToolDefinition], str] | None
    try:
        from ..codegen import signature as signature
    except ImportError:  # bindings not available: references list names and descriptions
        signature = None

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{snippet.name}.", dir=out_dir))
    try:
        (staging / "scripts").mkdir()
        (staging / "references").mkdir()
        allowed = list(snippet.tools)
        (staging / "SKILL.md").write_text(
            _frontmatter(snippet, allowed, license) + _body(snippet, needed_env, snippet.servers), encoding="utf-8"
        )
        (staging / "scripts" / f"{script_name(snippet.name)}.py").write_text(_script(snippet), encoding="utf-8")
        (staging / "scripts" / "servers.json").write_text(dump_servers(redacted), encoding="utf-8")
        (staging / "references" / "tools.md").write_text(_references(called, signature), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_frontmatter(text: str) -> dict[str, str]:
    """The ``key: value`` lines of a SKILL.md frontmatter (top-level scalars only)."""
    if not text.startswith("---"):
        raise SnippetError("SKILL.md has no frontmatter (it must start with '---')")
    end = text.find("\n---", 3)
    if end < 0:
        raise SnippetError("SKILL.md frontmatter is not closed with '---'")
    meta: dict[str, str] = {}
    for line in text[3:end].splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip("'\"")
    return meta


def import_skill(folder: Path) -> Snippet:
    """Read a skill folder back as a snippet (not saved: the caller decides)."""
    folder = Path(folder)
    skill_md = folder / "SKILL.md"
    if not skill_md.is_file():
        raise SnippetError(f"{folder} is not a skill folder: it has no SKILL.md")
    meta = read_frontmatter(skill_md.read_text(encoding="utf-8"))
    name = meta.get("name") or folder.name
    scripts = sorted((folder / "scripts").glob("*.py")) if (folder / "scripts").is_dir() else []
    preferred = folder / "scripts" / f"{script_name(name)}.py"
    script = preferred if preferred.exists() else (scripts[0] if scripts else None)
    if script is None:
        raise SnippetError(f"{folder} has no Python script under scripts/ to open")
    text = script.read_text(encoding="utf-8")
    code, params = text, []
    if SCRIPT_MARKER in text:
        values = _literals(text)
        code = str(values.get("CODE", text))
        params = [SnippetParam.from_dict(p) for p in values.get("PARAMETERS", [])]
    servers: list[str] = []
    servers_file = script.with_name("servers.json")
    if servers_file.exists():
        servers = list(parse_servers(servers_file.read_text(encoding="utf-8"), file=servers_file))
    return Snippet(
        name=check_name(name),
        description=meta.get("description", ""),
        code=code,
        parameters=params,
        tools=meta.get("allowed-tools", "").split(),
        servers=servers,
    )


def _literals(source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values
