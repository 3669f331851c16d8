"""Running code from the playground in a real sandbox (a local kernel) against the real demo server.

The path a new user takes: search a tool, insert its call, run it, read the
result and the trace, then stop a runaway loop with the key the status bar shows.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.trace_call import TraceCallScreen
from codemode_tui.tui.widgets.code_view import CodeView
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_for_notice, wait_until

KERNEL_START = 120  # seconds: a cold kernel on a busy 2-core CI machine


def text_of(app: PlaygroundApp, selector: str) -> str:
    return app.hub.output.query_one(selector, CodeView).text


async def test_find_insert_run_read_trace_and_stop_a_loop(tmp_path: Path) -> None:
    # The one pilot test on the real demo process over stdio (the others talk to it in memory).
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, warm_sandbox=True, real_processes=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await wait_until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox to warm up", KERNEL_START)

        # Find the tool, insert its example call, fill in the placeholders.
        app.hub.editor.text = ""
        await pilot.press("f3", *"arithmetic")
        await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 1, "the search")
        await pilot.press("enter")
        assert app.focused is app.hub.editor
        assert "await calculate(a=0.0, b=0.0)" in app.hub.editor.text
        app.hub.editor.text = app.hub.editor.text.replace("a=0.0, b=0.0", "a=2, b=40") + 'print("sum ready")\n'
        app.hub.editor.text += "_ = 1\nawait calculate(a=2, b=40)\n"

        await pilot.press("f5")
        await wait_until(pilot, lambda: not app.hub.running, "the run to finish", KERNEL_START)
        assert "sum ready" in app.hub.output.log_widget.plain
        assert any(line.startswith("■ done") and "2 tool calls" in line for line in app.hub.output.log_widget.plain)
        assert text_of(app, "#result").strip() == "42.0"
        assert app.hub.query_one("#output-tabs").active == "tab-result"
        trace = app.hub.output.trace
        assert [r.name for r in trace.records] == ["demo__calculate", "demo__calculate"]
        assert all(r.ok for r in trace.records)
        assert "2 tool calls" in str(app.hub.status.render())

        # A trace row opens the call's arguments and result.
        app.hub.output.activate("tab-trace")
        trace.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, TraceCallScreen)
        assert '"b": 40' in app.screen.query_one("#call-arguments", CodeView).text
        assert "42" in app.screen.query_one("#call-result", CodeView).text
        await pilot.press("escape")

        # A failing tool and stderr: the error tab explains, stderr is in the log.
        app.hub.editor.text = (
            "import sys\nprint('to stderr', file=sys.stderr)\n"
            "from generated.servers.demo import always_fails\nawait always_fails()\n"
        )
        await pilot.press("f5")
        await wait_until(pilot, lambda: not app.hub.running, "the failing run", KERNEL_START)
        assert "to stderr" in app.hub.output.log_widget.plain
        error = text_of(app, "#error")
        assert error.startswith("ToolError") and "always_fails" in error
        assert app.hub.query_one("#output-tabs").active == "tab-error"
        assert [r.ok for r in app.hub.output.trace.records] == [False]

        # A runaway loop: ctrl+c stops it even while the editor (where ctrl+c copies) has focus.
        app.hub.editor.text = "import time\nwhile True:\n    time.sleep(0.05)\n"
        app.hub.editor.focus()
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.hub.sandbox_state == "running", "the loop to run", KERNEL_START)
        await pilot.pause(0.5)
        assert app.hub.running and "ctrl+c stops" in str(app.hub.status.render())
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.hub.running, "the loop to stop", 15)
        assert text_of(app, "#error").startswith("KeyboardInterrupt")
        assert any("interrupted" in line for line in app.hub.output.log_widget.plain)
        await wait_until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox to be ready again", 30)

        # Run selection runs only the selected lines.
        app.hub.editor.text = "print('first')\nprint('second')\n"
        app.hub.editor.select_line(1)
        await pilot.press("f6")
        await wait_until(pilot, lambda: not app.hub.running, "the selection run", KERNEL_START)
        assert "second" in app.hub.output.log_widget.plain and "first" not in app.hub.output.log_widget.plain


async def test_run_keys_say_what_is_wrong_without_a_run(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.hub.editor.text = "   \n"
        await pilot.press("f5")
        assert not app.hub.running
        await wait_for_notice(pilot, "editor is empty")
        await pilot.press("f6")
        await wait_for_notice(pilot, "Select some code")
        app.query_one("#search", Input).focus()
        await pilot.press("ctrl+c")  # no run: ctrl+c is left to the focused widget
        assert not app.hub.running
