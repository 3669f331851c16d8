"""Layout, navigation, help and the command palette."""

from __future__ import annotations

import json
from pathlib import Path

from textual.binding import Binding

from codemode_tui import paths
from codemode_tui.tui.app import PALETTE, PlaygroundApp
from codemode_tui.tui.screens.help import HelpScreen
from codemode_tui.tui.screens.main import MainScreen
from codemode_tui.tui.screens.server_form import ServerFormScreen
from codemode_tui.tui.widgets.code_editor import CodeEditor
from codemode_tui.tui.widgets.preview_pane import PreviewPane
from codemode_tui.tui.widgets.server_list import ServerList
from codemode_tui.tui.widgets.tool_list import ToolList
from codemode_tui.tui.widgets.tool_search import ToolSearch
from tests.conftest import demo_stdio_config

from .helpers import app_with


def visible(app: PlaygroundApp, selector: str) -> bool:
    widget = app.query_one(selector)
    return widget.display and widget.region.width > 0 and widget.region.height > 0


async def test_80x24_shows_sidebar_editor_and_output_and_toggles_panes(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for pane in ("#sidebar", "#editor", "#output", "#status", "#footer"):
            assert visible(app, pane), pane
        assert not visible(app, "#preview")  # too narrow: shown on demand
        assert app.query_one("#editor").region.width >= 40
        await pilot.press("f8")
        await pilot.pause()
        assert visible(app, "#preview")
        await pilot.press("f8")
        await pilot.pause()
        assert not visible(app, "#preview")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not visible(app, "#sidebar")
        assert app.query_one("#editor").region.width > 60
        await pilot.press("f3")  # focusing the search brings the sidebar back
        await pilot.pause()
        assert visible(app, "#sidebar") and app.focused is app.query_one(ToolSearch)


async def test_maximise_the_focused_pane_and_restore(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4", "f10")
        await pilot.pause()
        assert app.screen.maximized is app.hub.editor
        assert app.hub.editor.region.width == 100
        await pilot.press("f10")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_keys_move_between_panes(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.focused is app.query_one(ToolSearch)
        await pilot.press("f2")
        assert app.focused is app.query_one(ServerList)
        await pilot.press("f4")
        assert app.focused is app.hub.editor
        await pilot.press("f3", "down")
        assert app.focused is app.query_one(ToolList)


def all_bindings(app: PlaygroundApp) -> list[Binding]:
    sections = app.help_sections()
    del sections
    from codemode_tui.tui.screens.confirm import ConfirmScreen
    from codemode_tui.tui.screens.context_budget import ContextBudgetScreen
    from codemode_tui.tui.screens.import_servers import ImportServersScreen
    from codemode_tui.tui.screens.server_log import ServerLogScreen
    from codemode_tui.tui.screens.trace_call import TraceCallScreen
    from codemode_tui.tui.widgets.trace_table import TraceTable

    classes = [
        PlaygroundApp,
        MainScreen,
        CodeEditor,
        ServerList,
        ToolSearch,
        ToolList,
        PreviewPane,
        TraceTable,
        ServerFormScreen,
        ServerLogScreen,
        ConfirmScreen,
        ImportServersScreen,
        TraceCallScreen,
        ContextBudgetScreen,
        HelpScreen,
    ]
    return [b for cls in classes for b in cls.BINDINGS if isinstance(b, Binding)]


async def test_every_binding_has_an_id_and_is_in_the_help_screen(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        bindings = all_bindings(app)
        assert all(b.id for b in bindings), [b.key for b in bindings if not b.id]
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(static.render()) for static in app.screen.query(".help-entries"))
        for binding in bindings:
            assert binding.id in text, binding.id
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_offers_every_app_action(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {title for title, _, _ in PALETTE} <= titles
        offered = {action.split("(")[0] for _, _, action in PALETTE}
        for binding in MainScreen.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.action != "quit":
                assert binding.action.split("(")[0] in offered, binding.action
        for binding in ServerList.BINDINGS:
            assert isinstance(binding, Binding)
            verb = binding.action.split("'")[1]
            assert f"server('{verb}')" in {a for _, _, a in PALETTE}, verb
        # Running a palette command works like its key.
        await pilot.press("ctrl+p")
        await pilot.press(*"Add server")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ServerFormScreen)


async def test_a_remapped_key_from_settings_works(tmp_path: Path) -> None:
    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(json.dumps({"keymap": {"help": "f12"}}))
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f12")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(static.render()) for static in app.screen.query(".help-entries"))
        assert "f12" in text
