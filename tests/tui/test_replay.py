"""Recorded runs in the playground: replay from the history, divergences, dry runs and the effect plan, compare.

Real demo server (in memory, see helpers.app_with); the in-process eval sandbox, since what matters
here is where each tool call's answer comes from, not the sandbox's isolation.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from codemode_tui.demo_server import scratch_dir
from codemode_tui.executor import CodeModeConfig
from codemode_tui.executor.policy import Approval, ApprovalRequest, ToolPolicy
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.effect_plan import EMPTY_PLAN, EffectPlanScreen
from codemode_tui.tui.screens.history import HistoryScreen
from codemode_tui.tui.screens.run_diff import RunDiffScreen
from codemode_tui.tui.screens.trace_call import TraceCallScreen
from codemode_tui.tui.widgets.code_view import CodeView
from codemode_tui.tui.widgets.history_list import HistoryList, run_mode
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until

WRITE_READ = """\
from generated.servers.demo import write_file, read_file
await write_file(path="replay.txt", content="hello")
text = await read_file(path="replay.txt")
print(text.upper())
"""


def eval_app(tmp_path: Path) -> PlaygroundApp:
    """The eval sandbox, and a policy that lets the demo server's writes run (approvals are not the point)."""
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    app.workspace.executor_config = CodeModeConfig(sandbox="eval")
    app.workspace.policy = ToolPolicy(servers={"demo": "allow"})
    return app


def shown(app: PlaygroundApp, kind: type) -> bool:
    """Whether a screen of ``kind`` is on top and filled in."""
    return isinstance(app.screen, kind) and bool(getattr(app.screen, "ready", False))


async def run_in_editor(pilot: Pilot[object], app: PlaygroundApp, code: str) -> None:
    app.hub.editor.text = code
    await pilot.press("f5")
    await wait_until(pilot, lambda: not app.hub.running and not app.hub.output.busy, "the run")


async def pane_idle(pilot: Pilot[object], app: PlaygroundApp, what: str) -> None:
    await pilot.pause(0.1)
    await wait_until(pilot, lambda: not app.hub.output.busy, what)
    await pilot.pause(0.1)


async def open_history(pilot: Pilot[object], app: PlaygroundApp) -> HistoryScreen:
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded, "the history")
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def stop_demo(app: PlaygroundApp) -> None:
    """Stop the demo server's process: from here on no call can reach it."""
    await app.workspace.registry.connection("demo").close()


async def test_replay_from_history_with_the_server_stopped_then_a_divergent_edit(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await run_in_editor(pilot, app, WRITE_READ)
        assert "HELLO" in app.hub.output.log_widget.plain
        live = app.workspace.history.list()[0]
        assert live.recorded and run_mode(live) == "live"
        (scratch_dir() / "replay.txt").unlink()  # a replay that reached the server would fail to read it
        await stop_demo(app)

        history = await open_history(pilot, app)
        meta = str(history.query_one("#history-meta").render())
        assert "live" in meta and "recorded" in meta
        await pilot.press("r")
        await pane_idle(pilot, app, "the replay")
        log = app.hub.output.log_widget.plain
        assert "HELLO" in log
        assert any("replayed from the recording" in line for line in log)
        assert any("no divergence" in line for line in log)
        trace = app.hub.output.trace
        assert [record.answered for record in trace.records] == ["recording", "recording"]
        assert all((record.decision or "").startswith("replayed from recorded call") for record in trace.records)
        assert [str(trace.get_cell_at((0, 2))), str(trace.get_cell_at((0, 4)))] == ["2", "recording"]
        replay = app.workspace.history.list()[0]
        assert run_mode(replay) == "replay" and replay.replay_of == live.id
        app.hub.output.activate("tab-trace")
        trace.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, TraceCallScreen)
        provenance = str(app.screen.query_one("#call-provenance", Static).render())
        assert "call 1 · line 2 · answered by recording · replayed from recorded call 1" == provenance
        await pilot.press("escape")

        # The replay is in the history with its mode; an edit that writes other content diverges.
        history = await open_history(pilot, app)
        assert "replay" in str(history.query_one(HistoryList).get_option_at_index(0).prompt)
        await pilot.press("escape")
        assert app.hub.output.replay(live.id, code=WRITE_READ.replace('"hello"', '"bye"'))
        await pane_idle(pilot, app, "the divergent replay")
        log = app.hub.output.log_widget.plain
        assert any(line.startswith("⚠ ") and "divergence" in line for line in log)
        assert any("not recorded: call 1 demo__write_file" in line and '"bye"' in line for line in log)
        assert any("not made: call 1 demo__write_file" in line for line in log)
        assert "ToolError" in app.hub.output.query_one("#error", CodeView).text
        diverged = app.workspace.history.list()[0]
        assert diverged.divergences and diverged.divergences[0]["kind"] == "not recorded"


async def test_edit_and_replay_with_recorded_reads_asks_before_the_live_write(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    asked: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval("once", by="test")

    app.workspace.policy = ToolPolicy()  # the default: destructive tools ask
    app.workspace.approver = approve
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await run_in_editor(pilot, app, WRITE_READ)
        await open_history(pilot, app)
        await pilot.press("e")  # reopen the code; the pane keeps the run whose reads answer the edit
        await wait_until(pilot, lambda: not isinstance(app.screen, HistoryScreen), "the history to close")
        assert app.hub.output.replay_base is not None
        assert app.hub.editor.text == WRITE_READ
        edited = app.hub.editor.text.replace('content="hello"', 'content="changed"')
        asked.clear()
        assert app.hub.output.replay_edited(edited)
        await pane_idle(pilot, app, "the replay with recorded reads")
        # The write asked the policy, then ran live (the file changed); the read answered from the recording.
        assert [(request.tool, request.arguments) for request in asked] == [
            ("demo__write_file", {"path": "replay.txt", "content": "changed"})
        ]
        assert (scratch_dir() / "replay.txt").read_text() == "changed"
        assert "HELLO" in app.hub.output.log_widget.plain
        records = app.hub.output.trace.records
        assert [record.answered for record in records] == ["live", "recording"]
        assert records[0].decision == "approved once by test"
        assert any("replayed with recorded reads" in line for line in app.hub.output.log_widget.plain)


async def test_dry_run_shows_the_plan_and_writes_only_for_real(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    code = (
        "from generated.servers.demo import write_file, list_files\n"
        "files = await list_files()\n"
        'await write_file(path="planned.txt", content="written for real")\n'
        'print("after the write")\n'
    )
    target = scratch_dir() / "planned.txt"
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        app.hub.editor.text = code
        assert app.hub.output.dry_run(code)
        await wait_until(pilot, lambda: shown(app, EffectPlanScreen), "the effect plan")
        plan = app.screen
        assert isinstance(plan, EffectPlanScreen)
        assert [(call.tool, call.arguments, call.line, call.answered) for call in plan.effects] == [
            ("demo__write_file", {"path": "planned.txt", "content": "written for real"}, 3, "placeholder")
        ]
        assert '"planned.txt"' in plan.query_one("#plan-arguments", CodeView).text
        assert not target.exists()
        assert "after the write" in app.hub.output.log_widget.plain
        assert [r.answered for r in app.hub.output.trace.records] == ["live", "placeholder"]

        await pilot.press("escape")  # cancel: nothing is written
        await pilot.pause(0.2)
        assert not target.exists() and not app.hub.output.busy

        assert app.hub.output.dry_run(code)
        await wait_until(pilot, lambda: shown(app, EffectPlanScreen), "the effect plan again")
        await pilot.press("r")  # run for real
        await pane_idle(pilot, app, "the live run")
        await wait_until(pilot, target.exists, "the file to be written")
        assert target.read_text() == "written for real"
        assert [r.answered for r in app.hub.output.trace.records] == ["live", "live"]
        modes = [run_mode(record) for record in app.workspace.history.list()[:3]]
        assert modes == ["live", "dry-run", "dry-run"]


async def test_dry_run_answered_from_a_recorded_run(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await run_in_editor(pilot, app, WRITE_READ)
        live = app.workspace.history.list()[0]
        (scratch_dir() / "replay.txt").unlink()
        assert app.hub.output.dry_run(WRITE_READ, recorded=live.id)
        await wait_until(pilot, lambda: shown(app, EffectPlanScreen), "the effect plan")
        plan = app.screen
        assert isinstance(plan, EffectPlanScreen)
        assert [(call.tool, call.answered) for call in plan.effects] == [("demo__write_file", "recording")]
        assert not (scratch_dir() / "replay.txt").exists()
        await pilot.press("escape")


async def test_dry_run_of_read_only_code_has_an_empty_plan(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        assert app.hub.output.dry_run("from generated.servers.demo import list_files\nawait list_files()\n")
        await wait_until(pilot, lambda: shown(app, EffectPlanScreen), "the effect plan")
        assert str(app.screen.query_one("#plan-empty").render()) == EMPTY_PLAN


async def test_compare_two_runs_shows_the_differing_call(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await run_in_editor(pilot, app, WRITE_READ)
        await run_in_editor(pilot, app, WRITE_READ.replace('"hello"', '"other"'))
        history = await open_history(pilot, app)
        # Mark the older run, highlight the newer one, compare.
        await pilot.press("down", "m", "up", "c")
        await wait_until(pilot, lambda: shown(app, RunDiffScreen), "the comparison")
        screen = app.screen
        assert isinstance(screen, RunDiffScreen)
        older, newer = history.query_one(HistoryList).records[1], history.query_one(HistoryList).records[0]
        assert (screen.left.id, screen.right.id) == (older.id, newer.id)
        kinds = [(change.kind, change.tool) for change in screen.diff.calls]
        assert kinds == [("arguments", "demo__write_file"), ("result", "demo__read_file")]
        table = screen.query_one("#diff-calls")
        assert str(table.get_cell_at((0, 0))) == "~"
        assert '"other"' in str(table.get_cell_at((0, 2)))
        detail = screen.query_one("#diff-detail", CodeView).text
        assert '"hello"' in detail and '"other"' in detail
        output = screen.query_one("#diff-output", CodeView).text
        assert "-HELLO" in output and "+OTHER" in output


async def test_a_replay_with_nothing_to_replay_says_why(tmp_path: Path) -> None:
    app = eval_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        # No such run: nothing ran, and the pane says why in the log and the error tab.
        assert app.hub.output.replay("no-such-run")
        await pane_idle(pilot, app, "the refused replay")
        assert any(line.startswith("✖ cannot replay: no run 'no-such-run'") for line in app.hub.output.log_widget.plain)
        assert app.hub.query_one("#output-tabs").active == "tab-error"
        assert app.workspace.history.list() == []  # nothing ran, nothing to keep


async def test_a_sandbox_that_cannot_start_fails_the_run_clearly_and_it_is_kept(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    # Nothing listens at this Jupyter URL. Workspace.run records only runs that reached a sandbox,
    # so the playground keeps this one in the history itself.
    app.workspace.executor_config = CodeModeConfig(
        sandbox="jupyter", jupyter_url="http://127.0.0.1:9", jupyter_token="a-token-nobody-checks", startup_timeout=5
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await run_in_editor(pilot, app, "1 + 1\n")
        error = app.hub.output.query_one("#error", CodeView).text
        assert error.startswith("SandboxError") and "cannot reach the Jupyter Server at http://127.0.0.1:9" in error
        assert app.hub.query_one("#output-tabs").active == "tab-error"
        kept = app.workspace.history.list()[0]
        assert kept.status == "error" and kept.source == "playground" and kept.error == error
