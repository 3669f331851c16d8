"""Running saved snippets with parameters, and the run history, in a real sandbox against the real demo server.

A person saves code with parameters, runs it again with other values from a
form built from their types, stops a runaway one, and reopens a past run's
code from the history.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Input, Static

from codemode_tui.snippets import RunHistory, Snippet, SnippetParam, SnippetStore
from codemode_tui.tui.screens.help import HelpScreen
from codemode_tui.tui.screens.history import HistoryScreen
from codemode_tui.tui.screens.run_params import RunParamsScreen
from codemode_tui.tui.widgets.code_view import CodeView
from codemode_tui.tui.widgets.history_list import HistoryList
from codemode_tui.tui.widgets.snippet_list import SnippetList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until
from .test_snippets import open_browser

KERNEL_START = 120  # seconds: a cold kernel on a busy 2-core CI machine

MULTIPLY = """\
from generated.servers.demo import calculate

total = await calculate(a=base, b=factor, op="multiply")
print(label.upper() if shout else label, total, tags)
total
"""

SPIN = """\
import time
while True:
    time.sleep(step)
"""


async def test_run_a_snippet_with_parameters_stop_one_and_reopen_from_history(tmp_path: Path) -> None:
    store = SnippetStore()
    params = [
        SnippetParam("base", "float", 6, "the first factor"),
        SnippetParam("factor", "int"),
        SnippetParam("label", "str"),
        SnippetParam("shout", "bool", False),
        SnippetParam("tags", "list", ["a"]),
    ]
    store.save(Snippet("multiply-label", MULTIPLY, "Multiply two numbers and print them", params))
    store.save(Snippet("spin", SPIN, "Loop until stopped", [SnippetParam("step", "float", 0.05)]))

    app = app_with(demo_stdio_config(), tmp_path=tmp_path, warm_sandbox=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await wait_until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox to warm up", KERNEL_START)
        app.hub.editor.text = "unchanged = True\n"

        # F5 in the browser asks for the parameters, in fields that fit their types.
        browser = await open_browser(pilot, app)
        browser.query_one(SnippetList).highlighted = 0
        await pilot.press("f5")
        form = app.screen
        assert isinstance(form, RunParamsScreen)
        assert form.query_one("#value-base", Input).value == "6.0"
        assert form.query_one("#value-base", Input).type == "number"
        assert form.query_one("#value-factor", Input).type == "integer"
        assert isinstance(form.query_one("#value-shout"), Checkbox)

        # A missing value and a mistyped one are errors in the form, before anything runs.
        await pilot.press("ctrl+r")
        assert app.screen is form and "factor needs a value" in str(form.query_one("#params-error", Static).content)
        form.query_one("#value-factor", Input).value = "7"
        form.query_one("#value-label", Input).value = "area"
        form.query_one("#value-tags").text = '{"not": "a list"}'  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        assert app.screen is form and "expects list" in str(form.query_one("#params-error", Static).content)
        form.query_one("#value-tags").text = '["x", "y"]'  # type: ignore[attr-defined]
        form.query_one("#value-shout", Checkbox).value = True
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.hub.running or app.hub.runs_recorded, "the run to start")
        await wait_until(pilot, lambda: not app.hub.running, "the run", KERNEL_START)

        # The same run path as F5: output, result, trace, and the editor untouched.
        log = app.hub.output.log_widget.plain
        assert "AREA 42.0 ['x', 'y']" in log
        assert any("running snippet multiply-label (base=6.0, factor=7, label='area'" in line for line in log)
        assert app.hub.output.query_one("#result", CodeView).text.strip() == "42.0"
        assert [r.name for r in app.hub.output.trace.records] == ["demo__calculate"]
        assert app.hub.editor.text == "unchanged = True\n"
        await wait_until(pilot, lambda: app.hub.runs_recorded == 1, "the history record")

        # Running the editor's buffer with parameters (shift+F5) after opening the snippet.
        browser = await open_browser(pilot, app)
        browser.query_one(SnippetList).highlighted = 0
        browser.query_one(SnippetList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.hub.editor.text == MULTIPLY
        await pilot.press("shift+f5")
        form = app.screen
        assert isinstance(form, RunParamsScreen)
        form.query_one("#value-factor", Input).value = "2"
        form.query_one("#value-label", Input).value = "twice"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.hub.runs_recorded == 2, "the second run", KERNEL_START)
        assert "twice 12.0 ['a']" in app.hub.output.log_widget.plain

        # A runaway snippet stops with ctrl+c like any run.
        browser = await open_browser(pilot, app)
        browser.query_one(SnippetList).highlighted = 1
        await pilot.press("f5")
        assert isinstance(app.screen, RunParamsScreen)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.hub.sandbox_state == "running", "the loop to run", KERNEL_START)
        await pilot.pause(0.3)
        await pilot.press("f1")  # ctrl+c stops the run from a dialog too
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.hub.running, "the loop to stop", 30)
        await pilot.press("escape")
        assert app.hub.output.query_one("#error", CodeView).text.startswith("KeyboardInterrupt")
        await wait_until(pilot, lambda: app.hub.runs_recorded == 3, "the third record")

        # Every run is in the history, newest first; Enter reopens a run's code.
        runs = RunHistory().list()
        assert [(r.snippet, r.status) for r in runs] == [
            ("spin", "cancelled"),  # stopped with ctrl+c
            ("multiply-label", "ok"),
            ("multiply-label", "ok"),
        ]
        assert runs[2].trace[0]["tool"] == "demo__calculate" and "AREA 42.0" in runs[2].output
        app.hub.editor.text = "# scratch\n"
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded, "the history")
        history = app.screen
        listing = history.query_one(HistoryList)
        assert [r.id for r in listing.records] == [r.id for r in runs]
        await pilot.press("down", "down")
        await pilot.pause()
        assert "AREA 42.0" in history.query_one("#history-output", CodeView).text
        assert "snippet multiply-label" in str(history.query_one("#history-meta", Static).content)
        assert history.query_one("#history-trace").row_count == 1  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)
        assert app.hub.editor.text == MULTIPLY
        await pilot.press("ctrl+z")
        assert app.hub.editor.text == "# scratch\n"
