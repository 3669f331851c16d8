"""``codemode-tui runs ...`` and ``run --dry-run`` / ``--policy``, as a CI script uses them: exit codes,
JSON and files. The commands run in the test process (``tests/cli_runner.py``), the demo server in memory;
``tests/test_cli.py`` starts the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

WRITE_READ = """\
from generated.servers.demo import write_file, read_file, list_files
await write_file(path="a.txt", content="hello")
text = await read_file(path="a.txt")
print(text.upper())
len(await list_files())
"""


@pytest.fixture
def cli(isolated_home: Path, tmp_path: Path):
    demo = {"demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]}}
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": demo}))
    empty = tmp_path / "empty.json"  # the demo server removed from the configuration
    empty.write_text(json.dumps({"mcpServers": {}}))
    scratch = isolated_home / "data" / "demo" / "scratch"  # the demo server's files

    def run(*args: str, servers: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli([*args, "--config", str(config if servers else empty)])

    run.scratch = scratch  # type: ignore[attr-defined]
    return run


def write(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(code)
    return str(path)


def last_run(cli) -> dict:
    listed = cli("runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)[0]


def test_a_recorded_run_lists_shows_replays_without_its_server_and_exports(cli, tmp_path: Path) -> None:
    ran = cli("run", write(tmp_path, "code.py", WRITE_READ), "--sandbox", "eval")
    assert ran.returncode == 0, ran.stderr
    run = last_run(cli)
    assert run["source"] == "cli" and run["calls"] == 3 and run["recorded"] is True

    shown = cli("runs", "show", run["id"][:6])  # a unique start of the id is enough
    assert shown.returncode == 0, shown.stderr
    assert 'await write_file(path="a.txt"' in shown.stdout and "HELLO" in shown.stdout
    assert 'demo__write_file({"content": "hello", "path": "a.txt"}) -> ok  [line 2; answered: live]' in shown.stdout
    detail = json.loads(cli("runs", "show", run["id"], "--json").stdout)
    assert [call["line"] for call in detail["trace"]] == [2, 3, 5] and detail["value"] == "1"

    # The demo server is gone from the configuration: the replay contacts nothing and answers the same.
    replayed = cli("runs", "replay", run["id"], "--json", servers=False)
    assert replayed.returncode == 0, replayed.stderr
    answer = json.loads(replayed.stdout)
    assert answer["stdout"] == "HELLO\n" and answer["value"] == 1 and answer["divergences"] == []
    assert {call["answered"] for call in answer["trace"]} == {"recording"}
    assert answer["replay_of"] == run["id"]
    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert listed[0]["replay_of"] == run["id"] and listed[0]["id"] == answer["id"]

    same = cli("runs", "diff", run["id"], answer["id"])
    assert same.returncode == 0 and "identical" in same.stdout.splitlines()[0]

    fixture = tmp_path / "fixture.json"
    exported = cli("runs", "export", run["id"], str(fixture))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(fixture.read_text())
    assert [call["tool"] for call in data["calls"]] == ["demo__write_file", "demo__read_file", "demo__list_files"]
    assert data["code"] == WRITE_READ and "demo" in data["tools"]  # stands on its own as a fixture


def test_a_divergent_edit_exits_1_and_names_the_call(cli, tmp_path: Path) -> None:
    assert cli("run", write(tmp_path, "code.py", WRITE_READ), "--sandbox", "eval").returncode == 0
    run = last_run(cli)
    edit = write(tmp_path, "edit.py", WRITE_READ.replace('"hello"', '"bye"'))
    replayed = cli("runs", "replay", run["id"], "--code", edit, "--sandbox", "eval", servers=False)
    assert replayed.returncode == 1
    assert 'divergence: not recorded: call 1 demo__write_file({"content": "bye", "path": "a.txt"})' in replayed.stderr
    assert (cli.scratch / "a.txt").read_text() == "hello"  # the replay wrote nothing for real

    diff = cli("runs", "diff", run["id"], last_run(cli)["id"], "--json")
    assert diff.returncode == 1
    assert json.loads(diff.stdout)["identical"] is False


def test_replay_with_recorded_reads_runs_the_writes_live_under_the_policy(cli, tmp_path: Path) -> None:
    assert cli("run", write(tmp_path, "code.py", WRITE_READ), "--sandbox", "eval").returncode == 0
    run = last_run(cli)
    edit = write(tmp_path, "edit.py", WRITE_READ.replace('"hello"', '"bye"'))
    denied = cli("runs", "replay", run["id"], "--reads-only", "--code", edit, "--sandbox", "eval")
    assert denied.returncode == 1 and "denied by policy" in denied.stderr  # headless: the write is refused
    assert (cli.scratch / "a.txt").read_text() == "hello"
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"tools": {"demo__write_file": "allow"}}))
    allowed = cli("runs", "replay", run["id"], "--reads-only", "--code", edit, "--policy", str(policy), "--json")
    assert allowed.returncode == 0, allowed.stderr
    answer = json.loads(allowed.stdout)
    assert (cli.scratch / "a.txt").read_text() == "bye"  # the write ran live
    assert answer["stdout"] == "HELLO\n"  # the read was answered from the recording
    assert [c["answered"] for c in answer["trace"]] == ["live", "recording", "recording"]


def test_dry_run_writes_no_file_and_lists_each_write(cli, tmp_path: Path) -> None:
    code = """\
from generated.servers.demo import write_file, list_files
for name in ("one.txt", "two.txt"):
    await write_file(path=name, content=f"text of {name}")
print(await list_files())
"""
    dry = cli("run", write(tmp_path, "dry.py", code), "--dry-run", "--sandbox", "eval")
    assert dry.returncode == 0, dry.stderr
    assert not (cli.scratch / "one.txt").exists() and not (cli.scratch / "two.txt").exists()
    assert "-- effect plan: 2 calls not made:" in dry.stdout
    assert '1. demo__write_file({"content": "text of one.txt", "path": "one.txt"})  [line 3;' in dry.stdout
    assert '2. demo__write_file({"content": "text of two.txt", "path": "two.txt"})  [line 3;' in dry.stdout
    answer = json.loads(cli("run", write(tmp_path, "dry.py", code), "--dry-run", "--json", "--sandbox", "eval").stdout)
    assert [e["arguments"]["path"] for e in answer["effects"]] == ["one.txt", "two.txt"]
    assert [c["answered"] for c in answer["trace"]] == ["placeholder", "placeholder", "live"]  # the read ran live
    assert not (cli.scratch / "one.txt").exists()


def test_run_with_a_policy_denies_headless_and_the_code_catches_it(cli, tmp_path: Path) -> None:
    code = """\
from generated.servers.demo import write_file
try:
    await write_file(path="p.txt", content="x")
except Exception as exc:
    print("caught:", exc)
"""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"defaults": {"destructive": "ask"}}))
    ran = cli("run", write(tmp_path, "p.py", code), "--policy", str(policy), "--sandbox", "eval")
    assert ran.returncode == 0, ran.stderr
    assert "caught:" in ran.stdout and "denied by policy" in ran.stdout
    assert not (cli.scratch / "p.txt").exists()
    policy.write_text(json.dumps({"tools": {"demo__write_file": "allow"}}))
    assert cli("run", write(tmp_path, "p.py", code), "--policy", str(policy), "--sandbox", "eval").returncode == 0
    assert (cli.scratch / "p.txt").read_text() == "x"


def test_errors_are_one_line_and_exit_2(cli, tmp_path: Path, isolated_home: Path) -> None:
    unknown = cli("runs", "show", "no-such-run")
    assert unknown.returncode == 2 and unknown.stderr.strip().splitlines() == [
        "error: no run 'no-such-run' in the history; `codemode-tui runs list` shows them"
    ]
    assert cli("runs", "replay", "no-such-run").returncode == 2

    assert cli("run", write(tmp_path, "code.py", WRITE_READ), "--sandbox", "eval").returncode == 0
    run = last_run(cli)
    recording = next((isolated_home / "data" / "recordings").glob("*.json"))
    recording.write_text("{damaged")
    damaged = cli("runs", "replay", run["id"], servers=False)
    assert damaged.returncode == 2 and len(damaged.stderr.strip().splitlines()) == 1
    assert "cannot read the recording" in damaged.stderr and "Traceback" not in damaged.stderr

    bad = tmp_path / "policy.json"
    bad.write_text('{"tools": {"demo__write_file": "maybe"}}')
    refused = cli("run", write(tmp_path, "code.py", WRITE_READ), "--policy", str(bad))
    assert refused.returncode == 2 and "'maybe' is not a decision" in refused.stderr
    missing = cli("run", write(tmp_path, "code.py", WRITE_READ), "--policy", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "no policy file" in missing.stderr


def test_runs_list_filters_agent_runs_and_the_playground_flags_are_documented(cli) -> None:
    from codemode_tui.snippets import RunHistory
    from codemode_tui.snippets.history import RunRecord

    history = RunHistory()
    for source in ("serve", "cli", "toolset", "playground"):
        history.add(RunRecord(code=f"print({source!r})", status="ok", duration=0.1, source=source))
    agent = json.loads(cli("runs", "list", "--json", "--source", "agent").stdout)
    assert [r["source"] for r in agent] == ["toolset", "serve"]
    assert [r["source"] for r in json.loads(cli("runs", "list", "--json", "--limit", "1").stdout)] == ["playground"]
    help_text = subprocess.run(
        [sys.executable, "-m", "codemode_tui", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "--serve" in help_text and "--port N" in help_text and "--policy FILE" in help_text
    assert "runs" in help_text
