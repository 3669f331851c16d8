"""Dry runs: every call that is not read-only is held back and listed in an effect plan.

Against real servers: the demo server (its files are on disk, so "nothing was
written" is checked on the disk) and ``mcp-server-git`` from PyPI on a
temporary repository (``git_status`` runs live, ``git_add``/``git_commit`` are
held back; then the run for real, then its replay with the server stopped).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from codemode_tui import MCPServerConfig
from codemode_tui.demo_server import scratch_dir
from codemode_tui.executor import CodeModeConfig
from codemode_tui.executor.call_gate import placeholder_for
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry

WRITES = """from generated.servers.demo import write_file, read_file, list_files, add_note
before = await list_files()
await write_file(path="plan/a.txt", content="first")
note = await add_note(title="planned", body="not saved", tags=["x"])
await write_file(path="plan/b.txt", content="second")
print(sorted(note), note["tags"], before == await list_files())
note
"""


def workspace(*configs: MCPServerConfig, sandbox: str = "eval") -> Workspace:
    ws = Workspace(registry=in_memory_registry(*(list(configs) or [demo_stdio_config()])))
    ws.executor_config = CodeModeConfig(sandbox=sandbox, check="off")  # type: ignore[arg-type]
    return ws


async def test_a_dry_run_writes_nothing_and_plans_each_write_with_arguments_and_line() -> None:
    async with workspace() as ws:
        await ws.start()
        result = await ws.run(WRITES, dry_run=True)
        assert result.success, result.error
        assert not (scratch_dir() / "plan").exists()
        assert (scratch_dir().parent / "notes.json").exists() is False
        assert [(e.order, e.tool, e.arguments, e.line, e.answered, e.kind) for e in result.effects] == [
            (2, "demo__write_file", {"path": "plan/a.txt", "content": "first"}, 3, "placeholder", "destructive"),
            (3, "demo__add_note", {"title": "planned", "body": "not saved", "tags": ["x"]}, 4, "placeholder", "other"),
            (4, "demo__write_file", {"path": "plan/b.txt", "content": "second"}, 5, "placeholder", "destructive"),
        ]
        # Read-only calls ran live; the held-back ones are marked in the trace.
        assert [(c.name, c.answered) for c in result.trace] == [
            ("demo__list_files", "live"),
            ("demo__write_file", "placeholder"),
            ("demo__add_note", "placeholder"),
            ("demo__write_file", "placeholder"),
            ("demo__list_files", "live"),
        ]
        assert result.trace[1].decision == "dry run: not called, answered from the placeholder"
        # The placeholder has the shape of add_note's output schema, so the code after it kept going.
        assert result.stdout == "['body', 'created', 'id', 'tags', 'title'] [] True\n"
        assert set(result.value) == {"id", "title", "body", "tags", "created"}
        record = ws.history.list()[0]
        assert [e["tool"] for e in record.effects] == ["demo__write_file", "demo__add_note", "demo__write_file"]

        # Then for real: the same code writes, and nothing is planned.
        real = await ws.run(WRITES)
        assert real.success and real.effects == []
        assert (scratch_dir() / "plan" / "b.txt").read_text() == "second"


async def test_a_placeholder_for_a_wrapped_plain_result_has_the_live_shape() -> None:
    code = "from generated.servers.demo import write_file\nawait write_file(path='w.txt', content='c')"
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(code)
        planned = await ws.run(code.replace("w.txt", "v.txt"), dry_run=True)
        assert isinstance(live.value, str)
        assert isinstance(planned.value, str), planned.value


def test_placeholders_follow_output_schemas() -> None:
    assert "was not called" in placeholder_for(None, "fs__write")
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "count": {"type": "integer"},
            "ok": {"type": "boolean"},
            "state": {"enum": ["queued", "done"]},
            "items": {"type": "array", "items": {"type": "string"}},
            "owner": {"$ref": "#/$defs/Owner"},
        },
        "required": ["id", "count", "ok", "state", "items", "owner"],
        "$defs": {"Owner": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
    }
    value = placeholder_for(schema, "tickets__create")
    assert set(value) == {"id", "count", "ok", "state", "items", "owner"}
    assert isinstance(value["id"], str) and isinstance(value["count"], int) and isinstance(value["ok"], bool)
    assert value["state"] == "queued" and isinstance(value["items"], list) and set(value["owner"]) == {"name"}
    wrapped = {
        "type": "object",
        "title": "writeOutput",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert isinstance(placeholder_for(wrapped, "write"), int)  # unwrapped, as a live result is


async def test_a_dry_run_with_a_recording_answers_from_it() -> None:
    code = "from generated.servers.demo import add_note\nnote = await add_note(title='kept', body='b')\nnote['id']"
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(code)
        assert live.success, live.error
        recording = ws.recording_of(ws.history.list()[0].id)
        planned = await ws.run(code, dry_run=True, replay=recording)
        assert planned.success and planned.value == live.value  # the recorded id, not a placeholder
        assert [(e.tool, e.answered) for e in planned.effects] == [("demo__add_note", "recording")]
        other = await ws.run(code.replace("'kept'", "'new'"), dry_run=True, replay=recording)
        assert [(e.tool, e.answered) for e in other.effects] == [("demo__add_note", "placeholder")]
        assert other.value != live.value


async def test_local_kernel_dry_run_plans_with_lines() -> None:
    async with workspace(sandbox="local") as ws:
        await ws.start()
        result = await ws.run(WRITES, dry_run=True)
        assert result.success, result.error
        assert [(e.tool, e.line) for e in result.effects] == [
            ("demo__write_file", 3),
            ("demo__add_note", 4),
            ("demo__write_file", 5),
        ]
        assert not (scratch_dir() / "plan").exists()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


GIT_RUN = """from generated.servers.git import git_status, git_add, git_commit, git_log
repo = {repo!r}
before = await git_status(repo_path=repo)
await git_add(repo_path=repo, files=["new.txt"])
done = await git_commit(repo_path=repo, message="add new.txt")
log = await git_log(repo_path=repo)
print("untracked" if "new.txt" in before else "clean")
print(done.split()[0], log.count("add new.txt"))
log.count("Author")
"""


async def test_git_server_dry_run_holds_back_add_and_commit_then_runs_and_replays_offline(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    (repo / "README").write_text("hello\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "new.txt").write_text("new\n")
    server = MCPServerConfig(
        name="git", command=sys.executable, args=["-m", "mcp_server_git", "--repository", str(repo)]
    )
    code = GIT_RUN.format(repo=str(repo))
    async with workspace(server) as ws:
        await ws.start()
        kinds = {t.name: t.annotations.get("readOnlyHint") for t in ws.registry.list_tools("git")}
        assert kinds["git_status"] is True and kinds["git_add"] is False and kinds["git_commit"] is False

        planned = await ws.run(code, dry_run=True)
        assert planned.success, planned.error
        assert [(e.tool, e.arguments, e.line) for e in planned.effects] == [
            ("git__git_add", {"repo_path": str(repo), "files": ["new.txt"]}, 4),
            ("git__git_commit", {"repo_path": str(repo), "message": "add new.txt"}, 5),
        ]
        assert [c.answered for c in planned.trace] == ["live", "placeholder", "placeholder", "live"]
        assert git(repo, "status", "--porcelain") == "?? new.txt\n"  # nothing staged, nothing committed
        assert git(repo, "rev-list", "--count", "HEAD") == "1\n"
        assert planned.value == 1

        real = await ws.run(code)
        assert real.success and real.effects == [], real.error
        assert git(repo, "status", "--porcelain") == "" and git(repo, "rev-list", "--count", "HEAD") == "2\n"
        assert real.value == 2 and real.stdout.startswith("untracked\n")

        for name in ws.registry.server_names:
            await ws.registry.connection(name).close()
        replayed = await ws.replay(ws.history.list()[0].id)
        assert replayed.success, replayed.error
        assert (replayed.stdout, replayed.value, replayed.divergences) == (real.stdout, real.value, [])
        assert git(repo, "rev-list", "--count", "HEAD") == "2\n"  # the replay committed nothing


async def test_a_dry_run_can_take_its_reads_from_a_recording() -> None:
    code = WRITES.replace("plan/", "rec/")
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(code)
        assert live.success, live.error
        recording = ws.recording_of(ws.history.list()[0].id)
        for name in ws.registry.server_names:
            await ws.registry.connection(name).close()
        planned = await ws.run(code, dry_run=True, replay=recording, replay_reads=True)
        assert planned.success, planned.error
        assert {c.answered for c in planned.trace} == {"recording"}
