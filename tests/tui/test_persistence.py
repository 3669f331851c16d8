"""What survives a restart: the editor buffer, the theme, the panes; broken files are kept."""

from __future__ import annotations

import json
from pathlib import Path

from codemode_tui import paths
from codemode_tui.tui.state import WELCOME_BUFFER, buffer_file
from tests.conftest import demo_stdio_config

from .helpers import app_with, wait_for_notice, wait_until


async def test_the_unsaved_buffer_comes_back(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.hub.editor.text == WELCOME_BUFFER
        app.hub.editor.focus()
        app.hub.editor.text = ""
        await pilot.press(*"x = 41 + 1")
        # Saved after a pause in typing (a slow first key may let an earlier state be saved first).
        await wait_until(
            pilot,
            lambda: buffer_file().exists() and buffer_file().read_text() == "x = 41 + 1",
            "the buffer to be saved",
            timeout=5,
        )
        await app.workers.wait_for_complete()
        await pilot.press(*"  # last edit")  # written when the app closes, even before the delay
    assert buffer_file().read_text() == "x = 41 + 1  # last edit"
    again = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with again.run_test(size=(100, 30)):
        assert again.hub.editor.text == "x = 41 + 1  # last edit"


async def test_theme_and_hidden_panes_are_saved(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.theme == "codemode-dark"
        app.theme = "codemode-light"
        await pilot.press("f9")
        await pilot.pause()
        await app.workers.wait_for_complete()
    saved = json.loads(paths.settings_file().read_text())
    assert saved["theme"] == "codemode-light" and saved["hidden_panes"] == ["output"]
    again = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with again.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert again.theme == "codemode-light"
        assert not again.query_one("#output").display or again.query_one("#output").region.height == 0


async def test_a_broken_settings_file_is_reported_and_kept(tmp_path: Path) -> None:
    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text("{not json")
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        await wait_for_notice(pilot, "settings file")
        app.theme = "codemode-light"
        await pilot.pause()
        await app.workers.wait_for_complete()
    assert paths.settings_file().read_text() == "{not json"
