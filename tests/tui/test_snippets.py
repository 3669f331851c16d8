"""Saving the buffer as a snippet, and the snippets browser: open, rename, delete, export, import.

These run on the real snippet store in the test's data folder (CODEMODE_TUI_HOME);
no server has to connect, so the tools a snippet calls are kept by module name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

from codemode_tui.snippets import Snippet, SnippetParam, SnippetStore
from codemode_tui.snippets.skills import read_frontmatter
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.confirm import ConfirmScreen
from codemode_tui.tui.screens.history import HistoryScreen
from codemode_tui.tui.screens.prompt import PromptScreen
from codemode_tui.tui.screens.snippet_form import SnippetFormScreen
from codemode_tui.tui.screens.snippets import SnippetsScreen
from codemode_tui.tui.widgets.param_row import ParamRow
from codemode_tui.tui.widgets.snippet_list import SnippetList
from tests.conftest import demo_stdio_config

from .helpers import app_with, wait_for_notice, wait_until

CODE = """\
from generated.servers.demo import calculate

total = await calculate(a=base, b=factor, op="multiply")
print(label, total)
total
"""


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def open_browser(pilot: Pilot[Any], app: PlaygroundApp) -> SnippetsScreen:
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(app.screen, SnippetsScreen) and app.screen.loaded, "the browser")
    screen = app.screen
    assert isinstance(screen, SnippetsScreen)
    return screen


def saved(name: str, code: str = CODE, description: str = "Multiply two numbers and print them", **kw: Any) -> Snippet:
    return SnippetStore().save(Snippet(name=name, code=code, description=description, **kw))


async def test_save_the_buffer_as_a_snippet_with_parameters(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(110, 34), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        app.hub.editor.text = CODE
        await pilot.press("ctrl+s")
        form = app.screen
        assert isinstance(form, SnippetFormScreen)
        # The variables the code reads without setting them are offered as parameters.
        rows = list(form.query(ParamRow))
        assert [row.values()[0] for row in rows] == ["base", "factor", "label"]

        # An invalid name: said in the form, next to the field; nothing is written.
        await pilot.press(*"Multiply Label")
        assert "lowercase a-z" in text_of(form, "#snippet-name-hint")
        assert "e.g. 'multiply-label'" in text_of(form, "#snippet-name-hint")
        await pilot.press("ctrl+s")
        assert app.screen is form
        assert form.query_one("#snippet-name", Input).has_class("-invalid")
        assert "fix the name above" in text_of(form, "#snippet-error")

        # A description with ': ' is refused with what to change.
        form.query_one("#snippet-name", Input).value = "multiply-label"
        form.query_one("#snippet-description", Input).value = "Math: multiply"
        await pilot.press("ctrl+s")
        assert app.screen is form and "': '" in text_of(form, "#snippet-error")
        form.query_one("#snippet-description", Input).value = "Multiply two numbers and print them with a label"

        # A default that does not fit its type points at its row.
        rows[0].query_one(Select).value = "float"
        rows[0].default_input.value = "six"
        rows[1].query_one(Select).value = "int"
        await pilot.press("ctrl+s")
        assert app.screen is form and "expects float" in text_of(form, "#snippet-error")
        assert rows[0].has_class("-invalid")
        rows[0].default_input.value = "6"

        # A removed row is not saved; an added one is.
        rows[2].query_one(".param-remove").press()
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        added = list(form.query(ParamRow))[-1]
        added.name_input.value = "label"
        added.default_input.value = '""'
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, "the save")

        snippet = SnippetStore().get("multiply-label")
        assert snippet.code == CODE
        assert [(p.name, p.type, p.default if p.has_default else None) for p in snippet.parameters] == [
            ("base", "float", 6.0),
            ("factor", "int", None),
            ("label", "str", ""),
        ]
        assert snippet.description == "Multiply two numbers and print them with a label"
        assert app.hub.current_snippet is not None and app.hub.current_snippet.name == "multiply-label"
        assert app.hub.editor.border_title == "Editor · multiply-label"
        await wait_for_notice(pilot, "Saved the snippet multiply-label with 3 parameters")

        # ctrl+s again saves the changed buffer into the same snippet, without the form.
        app.hub.editor.text = CODE + "# changed\n"
        await pilot.pause()
        assert app.hub.editor.border_title == "Editor · multiply-label •"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: SnippetStore().get("multiply-label").code.endswith("# changed\n"), "resave")
        await wait_until(pilot, lambda: app.hub.editor.border_title == "Editor · multiply-label", "the title")
        assert len(SnippetStore().get("multiply-label").parameters) == 3

        # Save as (F12): a taken name is refused in the form, and the typed values stay.
        await pilot.press("f12")
        form = app.screen
        assert isinstance(form, SnippetFormScreen)
        saved("taken")
        form.query_one("#snippet-name", Input).value = "taken"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "already exists" in text_of(form, "#snippet-error"), "the refusal")
        assert form.query_one("#snippet-description", Input).value.startswith("Multiply two numbers")
        await pilot.press("escape")
        assert SnippetStore().get("taken").description == "Multiply two numbers and print them"


async def test_browse_open_rename_delete_export_and_import(tmp_path: Path) -> None:
    saved("multiply-label", parameters=[SnippetParam("base", "float", 6), SnippetParam("factor", "int")])
    saved("list-notes", code="from generated.servers.demo import list_notes\nawait list_notes()\n", description="")
    store = SnippetStore()
    (store.folder / "broken.py").write_text("this is not a snippet file\n")

    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(110, 34), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        app.hub.editor.text = "previous = 1\n"
        browser = await open_browser(pilot, app)
        listing = browser.query_one(SnippetList)
        assert [s.name for s in listing.snippets] == ["list-notes", "multiply-label"]
        # The corrupt file is reported once, by name, and left alone.
        skipped = await wait_for_notice(pilot, "Snippet files skipped")
        assert len(skipped) == 1 and "broken.py" in skipped[0]
        assert (store.folder / "broken.py").read_text() == "this is not a snippet file\n"

        # Search filters as you type; Enter opens the best match in the editor.
        await pilot.press(*"multiply")
        assert [s.name for s in listing.snippets] == ["multiply-label"]
        assert "base: float = 6.0" in text_of(browser, "#snippet-meta")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SnippetsScreen)
        assert app.hub.editor.text == CODE
        assert app.hub.current_snippet is not None and app.hub.current_snippet.name == "multiply-label"
        await pilot.press("ctrl+z")  # opening is one undoable edit
        assert app.hub.editor.text == "previous = 1\n"
        await pilot.press("ctrl+y")
        assert app.hub.editor.text == CODE

        # Rename: an invalid name is refused in the dialog; a valid one renames the file and the editor's link.
        browser = await open_browser(pilot, app)
        browser.query_one(SnippetList).focus()
        browser.query_one(SnippetList).highlighted = 1
        await pilot.press("n")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        prompt.query_one("#prompt-value", Input).value = "Times Label"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "lowercase a-z" in text_of(prompt, "#prompt-error"), "the refusal")
        prompt.query_one("#prompt-value", Input).value = "times-label"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is browser, "the rename")
        await wait_until(
            pilot, lambda: "times-label" in [s.name for s in browser.query_one(SnippetList).snippets], "list"
        )
        assert not store.exists("multiply-label") and store.get("times-label").code == CODE
        assert app.hub.current_snippet is not None and app.hub.current_snippet.name == "times-label"

        # Export refuses a snippet without a description, saying what to change.
        listing = browser.query_one(SnippetList)
        listing.focus()
        listing.highlighted = 0
        assert listing.highlighted_snippet is not None and listing.highlighted_snippet.name == "list-notes"
        await pilot.press("x")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert prompt.query_one("#prompt-value", Input).value == "skills"
        prompt.query_one("#prompt-value", Input).value = str(tmp_path / "out")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "description is empty" in text_of(prompt, "#prompt-error"), "the refusal")
        await pilot.press("escape")

        # Export writes the skill folder and says where.
        listing.highlighted = 1
        await pilot.press("x")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        prompt.query_one("#prompt-value", Input).value = str(tmp_path / "out")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is browser, "the export")
        skill = tmp_path / "out" / "times-label"
        meta = read_frontmatter((skill / "SKILL.md").read_text())
        assert meta["name"] == "times-label" and meta["description"] == "Multiply two numbers and print them"
        assert (skill / "scripts" / "times_label.py").is_file() and (skill / "references" / "tools.md").is_file()
        assert any(str(skill) in n for n in await wait_for_notice(pilot, "Skill exported"))
        # Again: the folder exists, so it is refused unless Replace is ticked.
        await pilot.press("x")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        prompt.query_one("#prompt-value", Input).value = str(tmp_path / "out")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "already exists" in text_of(prompt, "#prompt-error"), "the refusal")
        prompt.query_one("#prompt-option", Checkbox).value = True
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is browser, "the replacing export")

        # Delete asks first; "no" keeps it, "yes" removes the file.
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert store.exists("times-label")
        await pilot.press("d")
        await pilot.press("y")
        await wait_until(pilot, lambda: not store.exists("times-label"), "the delete")
        await wait_until(pilot, lambda: len(browser.query_one(SnippetList).snippets) == 1, "the list")
        assert app.hub.snippet_in_store is False  # the editor's snippet is gone: ctrl+s asks for a name again

        # Import: the exported folder opens in the editor as an unsaved snippet.
        await pilot.press("i")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        prompt.query_one("#prompt-value", Input).value = str(tmp_path / "nowhere")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "no SKILL.md" in text_of(prompt, "#prompt-error"), "the refusal")
        prompt.query_one("#prompt-value", Input).value = str(skill)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, SnippetsScreen | PromptScreen), "the import")
        assert app.hub.editor.text == CODE
        assert app.hub.current_snippet is not None and app.hub.current_snippet.name == "times-label"
        assert [p.name for p in app.hub.current_snippet.parameters] == ["base", "factor"]
        assert app.hub.snippet_in_store is False
        await pilot.press("ctrl+s")  # not in the store yet: the form opens, filled in from the skill
        form = app.screen
        assert isinstance(form, SnippetFormScreen)
        assert form.query_one("#snippet-name", Input).value == "times-label"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: store.exists("times-label"), "the save of the imported skill")


async def test_keys_that_need_a_snippet_say_so(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        app.hub.editor.text = "  \n"
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, SnippetFormScreen)
        await wait_for_notice(pilot, "nothing to save")
        await pilot.press("shift+f5")
        await wait_for_notice(pilot, "no parameters")
        browser = await open_browser(pilot, app)
        assert "No snippets yet" in text_of(browser, "#snippet-meta")
        await pilot.press("f5")  # nothing highlighted: nothing runs, and the editor's code does not either
        assert not app.hub.running
        await pilot.press("escape")

        # The command palette offers the new actions too.
        await pilot.press("ctrl+p", *"Run history")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history from the palette")
        await wait_until(pilot, lambda: app.screen.loaded, "the history to load")  # type: ignore[attr-defined]
        assert "No runs yet" in text_of(app.screen, "#history-meta")


def test_the_app_module_does_not_import_the_engine() -> None:
    """The first frame must not wait for the MCP SDK, pydantic or the code generator."""
    import subprocess

    heavy = ["mcp", "pydantic", "codemode_tui.registry", "codemode_tui.executor", "codemode_tui.codegen"]
    probe = f"import sys, codemode_tui.tui.app; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
