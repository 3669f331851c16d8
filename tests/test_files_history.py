"""Run history: where a run came from, appends from several processes, and growth."""

from __future__ import annotations

from pathlib import Path

from codemode_tui.executor.run_result import RunResult
from codemode_tui.snippets import RunHistory


def test_add_run_records_source_and_session(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.jsonl")
    history.add_run("print(1)", RunResult(run_id="r1", stdout="1\n"), source="serve", session="s-42")
    history.add_run("print(2)", RunResult(run_id="r2"), snippet="two")
    newest, oldest = history.list()
    assert (oldest.source, oldest.session) == ("serve", "s-42")
    assert (newest.source, newest.session, newest.snippet) == ("playground", None, "two")
