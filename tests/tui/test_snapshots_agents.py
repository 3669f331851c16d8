"""SVG snapshots of the Agents view and the approval dialog (pytest-textual-snapshot).

The Agents view is filled by a real agent: the SDK's client over HTTP with
the token, running code through ``execute_code`` against the real demo
server.  What varies from run to run is pinned before the snapshot: the
port, the durations and the history id.  Refresh after an intended change with
``pytest tests/tui/test_snapshots_agents.py --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.approval import ApprovalScreen
from codemode_tui.tui.screens.serve_info import ServeInfo
from codemode_tui.tui.widgets.agents_pane import AgentsPane

from .helpers import connected, wait_until
from .test_agents import COMPOSE, agent, answer, ready, serve_token, serving_app

__all__ = ["serve_token"]  # the autouse fixture: every app here serves with the same token

PINNED_PORT = 8765


def pin_serving(app: PlaygroundApp) -> None:
    """The port is a free one each time: show a fixed one."""
    info = app.serve_info
    assert info is not None
    app.serve_info = ServeInfo(f"http://127.0.0.1:{PINNED_PORT}/mcp", info.token, PINNED_PORT)
    app.hub._show_serving()


def pin_runs(pane: AgentsPane) -> None:
    """Durations and history ids differ each time: fixed ones."""
    for number, run in enumerate(pane.runs.values(), 1):
        for record in run.calls.values():
            record.duration = 0.012
        if run.result is not None:
            run.result.duration = 0.25
        run.history_id = f"{number:08d}"
    pane._show_sessions()
    pane._show_run()


def test_agents_view(snap_compare: Any, tmp_path: Path) -> None:
    app = serving_app(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot, app)
        async with agent(app, "snap-agent") as session:
            answer(await session.call_tool("execute_code", {"code": COMPOSE, "check": "off"}))
            answer(await session.call_tool("execute_code", {"code": "total * 2", "check": "off"}))
        pane = app.hub.agents
        view = next(iter(pane.views.values()))
        await wait_until(pilot, lambda: view.closed and len(view.runs) == 2, "both runs and the session's end")
        await pilot.press("ctrl+t")
        pane.run_list.focus()
        await pilot.press("down")  # the first run, with its calls
        await pilot.pause(0.2)
        pin_runs(pane)
        pin_serving(app)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(130, 36), run_before=run_before)


GUARDED = """\
from generated.servers.demo import write_file

report = "total: 42"
try:
    await write_file(path="report.txt", content=report)
except Exception as exc:
    print("not written:", exc)
"""


def test_approval_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = serving_app(tmp_path, serve=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        hub = app.hub
        hub.open_in_editor(GUARDED)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), "the approval dialog")
        if hub._elapsed_timer is not None:  # the run's clock keeps going while it waits: pin it
            hub._elapsed_timer.stop()
        hub.status.elapsed = 1.5
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
