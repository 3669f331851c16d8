"""Themes from TOML files: ours, a user's, and broken ones."""

from __future__ import annotations

from pathlib import Path

from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.themes import EDITOR_THEME_NAME, load_themes, shipped_themes_dir, user_themes_dir
from tests.conftest import demo_stdio_config

from .helpers import app_with, wait_for_notice

USER_THEME = """
name = "my-theme"
dark = true
primary = "#FF00FF"
background = "#000000"

[syntax]
keyword = "bold #123456"
"""


def test_we_ship_a_dark_and_a_light_theme() -> None:
    catalog = load_themes([shipped_themes_dir()])
    assert catalog.errors == []
    by_name = {item.theme.name: item.theme for item in catalog.themes}
    assert by_name["codemode-dark"].dark is True
    assert by_name["codemode-light"].dark is False


def test_broken_theme_files_are_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(USER_THEME)
    (tmp_path / "bad-toml.toml").write_text("name = ")
    (tmp_path / "no-primary.toml").write_text('name = "x"')
    (tmp_path / "bad-colour.toml").write_text('name = "y"\nprimary = "not a colour"')
    (tmp_path / "typo.toml").write_text('name = "z"\nprimary = "#fff"\nbackgroud = "#000"')
    catalog = load_themes([tmp_path])
    assert [item.theme.name for item in catalog.themes] == ["my-theme"]
    assert len(catalog.errors) == 4
    joined = "\n".join(catalog.errors)
    assert "bad-toml.toml: not valid TOML" in joined
    assert "'primary' is required" in joined
    assert "'not a colour' is not a colour" in joined
    assert "backgroud" in joined


async def test_user_themes_load_and_the_editor_follows_the_theme(tmp_path: Path) -> None:
    user_themes_dir().mkdir(parents=True)
    (user_themes_dir() / "mine.toml").write_text(USER_THEME)
    (user_themes_dir() / "broken.toml").write_text("primary = 3")
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert "my-theme" in app.available_themes
        await wait_for_notice(pilot, "broken.toml")
        editor = app.hub.editor
        assert editor.theme == EDITOR_THEME_NAME
        dark_string = editor._theme.syntax_styles["string"].color
        app.theme = "codemode-light"
        await pilot.pause()
        assert editor._theme.syntax_styles["string"].color != dark_string
        app.theme = "my-theme"
        await pilot.pause()
        assert str(editor._theme.syntax_styles["keyword"].color.name) == "#123456"


def test_app_falls_back_to_our_dark_theme_for_an_unknown_saved_theme() -> None:
    from codemode_tui import paths

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text('{"theme": "gone"}')
    assert PlaygroundApp(cursor_blink=False, warm_sandbox=False).theme == "codemode-dark"
