"""SVG snapshots of the playground's main states (pytest-textual-snapshot).

Each test builds the app on a servers file in its own temporary folder, waits
for the real demo server where it matters, and compares the screen at a fixed
size with steady cursors.  Refresh after an intended change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from codemode_tui.config import MCPServerConfig
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.widgets.server_list import ServerList
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, missing_command_config, server_status, wait_until


async def demo_ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, PlaygroundApp)
    await wait_until(pilot, lambda: connected(app), "the demo server")
    await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 10, "the demo tools")
    await pilot.pause(0.2)


def test_main_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    assert snap_compare(app, terminal_size=(130, 36), run_before=demo_ready)


def test_main_screen_80x24(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=demo_ready)


def test_light_theme(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await demo_ready(pilot)
        app.theme = "codemode-light"
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(130, 36), run_before=run_before)


def test_add_server_form(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    assert snap_compare(app, terminal_size=(100, 30), press=["f2", "a", "_"])


def test_server_form_with_an_error(snap_compare: Any, tmp_path: Path) -> None:
    server = MCPServerConfig(name="api", url="https://example.com/mcp", headers={"Authorization": "Bearer x"})
    app = app_with(server, tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("f2", "e")
        await pilot.pause()
        url = app.screen.query_one("#url")
        url.value = "example.com/mcp"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_failed_server_log(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(missing_command_config(), tmp_path=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: server_status(app, "broken") == "failed", "the failure")
        app.clear_notifications()
        app.query_one(ServerList).focus()
        await pilot.press("l")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_failed_server_notice(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(missing_command_config(), tmp_path=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: server_status(app, "broken") == "failed", "the failure")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_delete_confirmation(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    assert snap_compare(app, terminal_size=(100, 30), press=["f2", "d", "_"])


def test_import_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    assert snap_compare(app, terminal_size=(100, 30), press=["f2", "i", "_"])


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    assert snap_compare(app, terminal_size=(100, 30), press=["f1", "_"])
