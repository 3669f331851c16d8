"""The editor's completion popup and signature hint, driven by keys as a person types."""

from __future__ import annotations

from pathlib import Path

from codemode_tui.tui.widgets.code_editor import CodeEditor
from codemode_tui.tui.widgets.completion_popup import CompletionPopup
from codemode_tui.tui.widgets.signature_hint import SignatureHint
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(
            {
                " ": "space",
                ".": "full_stop",
                "(": "left_parenthesis",
                ",": "comma",
                "=": "equals_sign",
                "'": "apostrophe",
                "_": "underscore",
            }.get(char, char)
        )


def popup_labels(app) -> list[str]:
    found = app.screen.query(CompletionPopup)
    if not found or not found.first().is_open:
        return []
    return [item.label for item in found.first().items]


async def test_tools_complete_after_import_and_parameters_inside_the_call(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await pilot.press("f4")
        editor = app.screen.query_one("#editor", CodeEditor)
        await wait_until(pilot, lambda: app.focused is editor, "the editor's focus")
        editor.text = ""
        # After the package and a dot: the modules.
        await type_text(pilot, "from generated.servers.")
        await wait_until(pilot, lambda: popup_labels(app) == ["demo"], "the module list")
        await pilot.press("tab")
        assert editor.text == "from generated.servers.demo"
        # After "import ": the module's tools; typing narrows the list, Enter accepts.
        await type_text(pilot, " import wr")
        await wait_until(pilot, lambda: popup_labels(app) == ["write_file"], "the tools starting with wr")
        await pilot.press("enter")
        assert editor.text == "from generated.servers.demo import write_file"
        assert popup_labels(app) == []
        # Enter with no popup open is a new line, as always.
        await pilot.press("enter")
        assert editor.text.endswith("write_file\n")
        # Inside the call: the keywords not given yet, and the signature above the cursor.
        await type_text(pilot, "await write_file(")
        await wait_until(pilot, lambda: popup_labels(app) == ["path=", "content="], "the parameters")
        hint = app.screen.query_one(SignatureHint)
        assert hint.display and "write_file(*, path: str, content: str) -> str" in str(hint.render())
        await pilot.press("escape")
        assert popup_labels(app) == [] and app.focused is editor
        await type_text(pilot, "path='a.txt', ")
        await wait_until(pilot, lambda: popup_labels(app) == ["content="], "the parameter left")
        await pilot.press("down", "enter")
        assert editor.text.endswith("await write_file(path='a.txt', content=")


async def test_ctrl_space_completes_values_the_sandbox_holds(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        from codemode_tui.executor import CodeModeConfig

        app.workspace.executor_config = CodeModeConfig(sandbox="eval")
        assert (await app.workspace.run("answer_text = 'abc'")).success
        await pilot.press("f4")
        editor = app.screen.query_one("#editor", CodeEditor)
        await wait_until(pilot, lambda: app.focused is editor, "the editor's focus")
        editor.text = "answer_text.up"
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+space")
        await wait_until(pilot, lambda: popup_labels(app) == ["upper"], "the value's attributes")
        await pilot.press("tab")
        assert editor.text == "answer_text.upper"
