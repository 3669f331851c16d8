"""SVG snapshots of the recorded-run views: a dry run's effect plan and the comparison of two runs.

The effect plan comes from a real dry run against the demo server (eval
sandbox); the run's timing in the output pane behind the dialog is pinned.  The
comparison is of two runs written to the history with fixed ids and times.
Refresh after an intended change with
``pytest tests/tui/test_snapshots_recorded.py --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from codemode_tui.executor import CodeModeConfig
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.effect_plan import EffectPlanScreen
from codemode_tui.tui.screens.run_diff import RunDiffScreen
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, settle, wait_until

DRY_RUN_CODE = """\
from generated.servers.demo import add_note, list_files, write_file

files = await list_files()
await write_file(path="report.txt", content=f"{len(files)} files")
await add_note(title="report", body="written")
print("report written")
"""


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Times shown in local time: pin the zone so the snapshot does not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_effect_plan(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    app.workspace.executor_config = CodeModeConfig(sandbox="eval")

    async def run_before(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, PlaygroundApp)
        await wait_until(pilot, lambda: connected(app), "the demo server")
        app.hub.editor.text = DRY_RUN_CODE
        assert app.hub.output.dry_run(DRY_RUN_CODE)
        await wait_until(
            pilot, lambda: isinstance(app.screen, EffectPlanScreen) and app.screen.ready, "the effect plan"
        )
        # Pin what the run's clock wrote behind the dialog.
        log = app.hub.output.log_widget
        log.reset()
        log.note("▶ dry run: calls that are not read-only are held back")
        log.append("stdout", "report written\n")
        log.note("■ done in 12 ms · 3 tool calls · dry run · 2 held back")
        app.hub.status.elapsed = 0.25
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)


def history_with_two_runs() -> None:
    from codemode_tui.snippets import RunHistory, RunRecord

    def call(tool: str, arguments: dict[str, Any], preview: str, line: int) -> dict[str, Any]:
        return {
            "tool": tool,
            "ok": True,
            "duration": 0.012,
            "arguments": arguments,
            "preview": preview,
            "line": line,
            "answered": "live",
        }

    code = (
        "from generated.servers.demo import list_files, read_file, write_file\n"
        'await write_file(path="a.txt", content="hello")\n'
        'print((await read_file(path="a.txt")).upper())\n'
    )
    history = RunHistory()
    history.add(
        RunRecord(
            code=code,
            status="ok",
            duration=0.31,
            output="HELLO\n",
            trace=[
                call("demo__write_file", {"path": "a.txt", "content": "hello"}, '"wrote 5 bytes"', 2),
                call("demo__read_file", {"path": "a.txt"}, '"hello"', 3),
                call("demo__list_files", {}, '["a.txt"]', 4),
            ],
            started="2025-03-14T09:26:53+00:00",
            id="run-before",
        )
    )
    history.add(
        RunRecord(
            code=code.replace("hello", "bye"),
            status="ok",
            duration=0.29,
            output="BYE\n",
            trace=[
                call("demo__write_file", {"path": "a.txt", "content": "bye"}, '"wrote 3 bytes"', 2),
                call("demo__read_file", {"path": "a.txt"}, '"bye"', 3),
                call("demo__add_note", {"title": "log", "body": "bye"}, '{"id": 1}', 4),
            ],
            started="2025-03-14T09:30:00+00:00",
            id="run-after",
            mode="replay-reads",
            replay_of="run-before",
        )
    )


def test_run_diff(snap_compare: Any, tmp_path: Path, utc: Any) -> None:
    history_with_two_runs()
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False), "the history")
        await pilot.press("c")  # the newest run with the run it replayed
        await wait_until(pilot, lambda: isinstance(app.screen, RunDiffScreen) and app.screen.ready, "the comparison")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(130, 36), run_before=run_before)
