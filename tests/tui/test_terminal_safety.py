"""What a sandbox, a tool or an agent sends never reaches the terminal as a control sequence.

Textual passes an escape character in widget text straight to the terminal, so
a ``print`` in sandbox code (or a tool result, or an agent's code) could
write the user's clipboard with OSC 52, retitle the window or clear the screen.
Every view that shows outside text strips them (a client name with one is already
refused at ``initialize``); these tests read what the
screen would send, strip by strip, while the views are showing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from codemode_tui.executor import CodeModeConfig
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.trace_call import TraceCallScreen
from codemode_tui.tui.widgets.agents_pane import AgentsPane
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, screen_text, wait_until
from .test_agents import agent, answer, ready, serve_token, serving_app  # noqa: F401 (serve_token: autouse)

CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"  # OSC 52: "evil" into the clipboard
HOSTILE = f"{CLIPBOARD}\x1b]0;owned\x1b\\\x1b[2J\x9b2J"  # and a title change, a clear screen, an 8-bit CSI

CODE = f"""\
from generated.servers.demo import add_note
print("before" + {HOSTILE!r} + "after")
note = await add_note(title="hostile", body="kept" + {HOSTILE!r})
note
"""


def assert_no_controls(app: PlaygroundApp, where: str) -> None:
    text = screen_text(app)
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, f"a control sequence on screen: {where}"


async def show_tab(pilot: Pilot[Any], app: PlaygroundApp, tab: str) -> None:
    app.hub.output.activate(tab)
    await pilot.pause()


async def test_a_runs_output_value_and_trace_show_no_control_sequence(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    app.workspace.executor_config = CodeModeConfig(sandbox="eval")  # the sandbox is not the point here
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        app.hub.editor.text = CODE
        await pilot.press("f5")
        await wait_until(pilot, lambda: not app.hub.running and app.hub.output.trace.records, "the run", 60)
        log = app.hub.output.log_widget
        assert "beforeafter" in log.plain  # the text around the sequences is kept
        await show_tab(pilot, app, "tab-output")
        assert_no_controls(app, "the output log")
        await show_tab(pilot, app, "tab-result")
        assert "kept" in screen_text(app)
        assert_no_controls(app, "the value")
        await show_tab(pilot, app, "tab-trace")
        assert_no_controls(app, "the trace")
        app.hub.output.trace.focus()
        await pilot.press("enter")  # the add_note call: its arguments and result carry the sequences
        await wait_until(pilot, lambda: isinstance(app.screen, TraceCallScreen), "the call's dialog")
        await pilot.pause()
        assert "kept" in screen_text(app)
        assert_no_controls(app, "the call's result")
        await pilot.press("escape")
        await pilot.press("ctrl+r")  # the run history, with this run's code and value
        await pilot.pause(0.3)
        assert_no_controls(app, "the history")


async def test_an_agents_code_and_output_show_no_control_sequence(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+t")
        pane = app.screen.query_one(AgentsPane)
        async with agent(app) as session:
            result = answer(await session.call_tool("execute_code", {"code": CODE, "check": "off"}))
            assert "kept" in str(result["value"])
            await wait_until(pilot, lambda: pane.live_agents() == 1 and pane.views, "the session")
            view = next(iter(pane.views.values()))
            await wait_until(pilot, lambda: view.runs and view.runs[0].result is not None, "the run in the view")
            await pilot.pause(0.3)
            assert "beforeafter" in "".join(pane.log_widget.plain)
            assert_no_controls(app, "the Agents view")
