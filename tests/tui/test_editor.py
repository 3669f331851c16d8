"""The editor's keys and where an inserted call lands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from codemode_tui.tui.screens.main import CHECK_DELAY
from codemode_tui.tui.state import WELCOME_BUFFER
from codemode_tui.tui.widgets.code_editor import CodeEditor
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until

BUFFER = "first = 1\nsecond = 2\nthird = 3\n"


async def test_ctrl_a_selects_all_and_home_goes_to_the_line_start(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f4")
        editor = app.screen.query_one("#editor", CodeEditor)
        assert app.focused is editor
        editor.text = BUFFER
        editor.move_cursor((1, 4))
        await pilot.press("ctrl+a")
        assert editor.selected_text == BUFFER
        editor.move_cursor((1, 4))
        await pilot.press("home")
        assert editor.cursor_location == (1, 0)
        await pilot.press("alt+l")
        assert editor.selected_text.rstrip("\n") == "second = 2"
        await pilot.press("ctrl+end")
        assert editor.cursor_location == editor.document.end
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)


async def test_every_editor_key_is_in_the_help(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)):
        editor = next(section for section in app.help_sections() if section.title == "Editor")
        keys = {entry.keys: entry.description for entry in editor.entries}
        assert keys["^a"] == "Select all"
        assert any(entry.description == "Select line" for entry in editor.entries)
        assert not any(entry.description == "Line start" and "^a" in entry.keys for entry in editor.entries)


async def test_a_call_inserted_inside_the_welcome_comment_goes_below_it(tmp_path: Path) -> None:
    posted: list[Message] = []
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36), message_hook=posted.append) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        tools = app.screen.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 10, "the tool list")
        editor = app.screen.query_one("#editor", CodeEditor)
        editor.text = WELCOME_BUFFER + "x = 1\n"
        editor.move_cursor((2, 7))  # in the middle of a comment line
        tools.focus()
        await wait_until(pilot, lambda: app.focused is tools, "the tool list to take focus")
        await pilot.press("enter")
        inserted: Any = next(m for m in posted if isinstance(m, ToolList.InsertRequested))
        text = editor.text
        assert text.startswith(WELCOME_BUFFER), "the comment block is untouched"
        assert f"await {inserted.tool.name}(" in text[len(WELCOME_BUFFER) :]
        assert text.rstrip().endswith("x = 1")

        # A comment among code is the user's own place: the call goes where the cursor is.
        editor.text = "a = 1\n# here\nb = 2\n"
        editor.move_cursor((1, 6))
        tools.focus()
        await wait_until(pilot, lambda: app.focused is tools, "the tool list to take focus")
        await pilot.press("enter")
        lines = editor.text.splitlines()
        assert lines[1] == "# here" and lines[2].startswith("from generated.servers.demo import")


async def test_a_comment_block_at_the_end_gets_a_line_below_it(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        tools = app.screen.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 10, "the tool list")
        editor = app.screen.query_one("#editor", CodeEditor)
        editor.text = "# one\n# two"
        editor.move_cursor((0, 3))
        tools.focus()
        await wait_until(pilot, lambda: app.focused is tools, "the tool list to take focus")
        await pilot.press("enter")
        lines = editor.text.splitlines()
        assert lines[:2] == ["# one", "# two"] and lines[2].startswith("from generated.servers.demo import")


async def test_the_editor_type_checks_as_you_type_and_marks_each_problem(tmp_path: Path) -> None:
    """Real ty against the real demo server's bindings, in a worker after a pause in typing."""
    from codemode_tui.tui.widgets.status_bar import StatusBar

    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        editor = app.screen.query_one("#editor", CodeEditor)
        status = app.screen.query_one(StatusBar)
        editor.text = "from generated.servers.demo import add_note\nnote = await add_note(titel='x')\nnote.upper()\n"
        await wait_until(pilot, lambda: len(editor.diagnostics) == 3, "the type check", timeout=60)
        assert [d.code for d in editor.diagnostics] == ["missing-argument", "unknown-argument", "missing-attribute"]
        assert status.problems == (3, 0) and "3 errors" in str(status.render())
        editor.move_cursor((2, 0))
        await pilot.pause()
        assert "AddNoteOutput is a dict" in str(editor.border_subtitle)
        highlights = editor._highlights[1]  # the second line's spans are underlined
        assert any(name == "diagnostic.error" for _, _, name in highlights)

        editor.text = "from generated.servers.demo import add_note\nnote = await add_note(title='x')\nnote['id']\n"
        await wait_until(pilot, lambda: not editor.diagnostics, "the problems to clear", timeout=60)
        assert status.problems == (0, 0) and "error" not in str(status.render())
        assert editor.border_subtitle == ""


async def test_a_line_with_a_finding_is_marked_in_the_gutter(tmp_path: Path) -> None:
    from codemode_tui.check.diagnostic import Diagnostic

    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        editor = app.screen.query_one("#editor", CodeEditor)
        editor.text = BUFFER
        editor.show_line_numbers = True
        # Let the screen's own check of the new text land first, or it would replace the findings below.
        await pilot.pause(CHECK_DELAY + 0.1)
        await app.workers.wait_for_complete()
        await pilot.pause()
        gutter = editor.gutter_width

        def gutter_of(row: int) -> str:
            return editor.render_line(row).text[:gutter]

        assert "●" not in gutter_of(1)
        editor.show_diagnostics(
            [
                Diagnostic(2, 1, 2, 7, "error", "unknown name"),
                Diagnostic(3, 1, 3, 6, "warning", "unused"),
            ]
        )
        # Read at once: the screen's own check may land at any later moment and replace these findings.
        assert "●" in gutter_of(1) and "▲" in gutter_of(2) and gutter_of(0).strip() == "1"
        editor.show_diagnostics([])
        assert "●" not in gutter_of(1)
