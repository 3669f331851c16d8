"""A skill saved from a recorded run ships with its fixture: ``skills export`` writes ``tests/`` with the
recording (secrets redacted) and a pytest test that replays the script offline, with no server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

API_KEY = "sk-live-9f8e7d6c5b4a39281716"

NOTES = f"""\
from generated.servers.demo import add_note, search_notes
note = await add_note(title="groceries", body="milk and tea", tags=["home", {API_KEY!r}])
found = await search_notes(query="tea")
print("found:", [n["title"] for n in found])
"""


@pytest.fixture
def cli(isolated_home: Path, tmp_path: Path):
    config = tmp_path / "mcp.json"
    demo = {"demo": {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]}}
    config.write_text(json.dumps({"mcpServers": demo}))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli([*args, "--config", str(config)])  # in this process: tests/cli_runner.py

    return run


def pytest_in(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Plain ``pytest`` in an exported skill folder, as its user would run it (an empty home: no servers)."""
    env = {**os.environ, "CODEMODE_TUI_HOME": str(home)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300, env=env)


def test_an_exported_skill_replays_its_recorded_run_offline(cli, tmp_path: Path) -> None:
    code = tmp_path / "notes.py"
    code.write_text(NOTES)
    ran = cli("run", str(code), "--sandbox", "eval")
    assert ran.returncode == 0 and "found: ['groceries']" in ran.stdout, ran.stderr
    run_id = json.loads(cli("runs", "list", "--json").stdout)[0]["id"]

    saved = cli("skills", "save", "tea-notes", "--from-run", run_id, "--description", "Add a note and find it")
    assert saved.returncode == 0, saved.stderr
    assert f"kept the recording of run {run_id} (2 calls)" in saved.stderr
    out = tmp_path / "exported"
    exported = cli("skills", "export", "tea-notes", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    skill = out / "tea-notes"
    assert (skill / "tests" / "test_tea_notes.py").is_file()
    shipped = (skill / "tests" / "recording.json").read_text()
    assert API_KEY not in shipped and "[redacted]" in shipped  # the secret argument is not shipped
    assert [c["tool"] for c in json.loads(shipped)["calls"]] == ["demo__add_note", "demo__search_notes"]
    assert "## Tests" in (skill / "SKILL.md").read_text()

    # No server configured and none started: the replay answers every call from the recording.
    offline = tmp_path / "offline-home"
    passed = pytest_in(skill, offline)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout
    assert not (offline / "data" / "demo").exists()  # the demo server never ran there

    # An edit of the script that calls a tool with other arguments fails the test, naming the call.
    script = skill / "scripts" / "tea_notes.py"
    script.write_text(
        script.read_text().replace("query='tea'", "query='coffee'").replace('query="tea"', 'query="coffee"')
    )
    failed = pytest_in(skill, offline)
    assert failed.returncode == 1, failed.stdout
    assert "not recorded" in failed.stdout and "demo__search_notes" in failed.stdout


def test_skills_save_from_run_errors_are_one_line(cli, tmp_path: Path) -> None:
    unknown = cli("skills", "save", "x-skill", "--from-run", "no-such-run")
    assert unknown.returncode == 2 and unknown.stderr.strip().startswith("error: no run 'no-such-run'")
    neither = cli("skills", "save", "x-skill")
    assert neither.returncode == 2 and "--from-run" in neither.stderr


def test_renaming_or_deleting_a_snippet_takes_its_recording_along(tmp_path: Path) -> None:
    from codemode_tui.executor.recording import Recording
    from codemode_tui.snippets import Snippet, SnippetStore
    from codemode_tui.snippets.skills import fixture_path, save_fixture

    store = SnippetStore(tmp_path / "snippets")
    store.save(Snippet(name="fetch-notes", code="print(1)", description="Print one."))
    recording = Recording()
    recording.add("demo__list_notes", {}, text="[]", size=2)
    save_fixture(store.folder, "fetch-notes", recording)
    assert fixture_path(store.folder, "fetch-notes").exists()
    store.rename("fetch-notes", "list-notes")
    assert not fixture_path(store.folder, "fetch-notes").exists()
    assert fixture_path(store.folder, "list-notes").exists()
    store.delete("list-notes")
    assert not fixture_path(store.folder, "list-notes").exists()
    assert [p.name for p in store.folder.iterdir() if not p.name.startswith(".")] == []
