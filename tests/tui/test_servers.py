"""The servers pane against the real demo server: add, validate, fail, delete, toggle, import."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.widgets import Input

from codemode_tui import paths
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.confirm import ConfirmScreen
from codemode_tui.tui.screens.help import HelpScreen
from codemode_tui.tui.screens.server_form import ServerFormScreen
from codemode_tui.tui.screens.server_log import ServerLogScreen
from codemode_tui.tui.widgets.server_list import ServerList
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config, faulty_config

from .helpers import (
    MISSING_COMMAND,
    app_with,
    connected,
    missing_command_config,
    server_status,
    wait_for_notice,
    wait_until,
)


def saved_servers(path: Path) -> dict[str, dict[str, object]]:
    return json.loads(path.read_text(encoding="utf-8"))["mcpServers"]


async def test_first_start_connects_the_demo_server_and_lists_its_tools() -> None:
    app = PlaygroundApp(cursor_blink=False, warm_sandbox=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server to connect")
        await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 10, "the ten demo tools")
        table = app.query_one(ServerList)
        assert table.highlighted_server == "demo"
        assert table.border_subtitle == "1/1 connected"
        assert app.query_one("#tools-pane").border_subtitle == "10 tools"
        assert "servers 1/1" in str(app.hub.status.render())
    # The first start saved the demo server in the config folder.
    assert "demo" in saved_servers(paths.servers_file())


async def test_add_a_server_through_the_form(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await pilot.press("f2", "a")
        assert isinstance(app.screen, ServerFormScreen)
        await pilot.press(*"second")
        app.screen.query_one("#command", Input).value = sys.executable
        app.screen.query_one("#args", Input).value = "-m codemode_tui demo-server"
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, ServerFormScreen)
        await wait_until(pilot, lambda: connected(app, "second"), "the added server to connect")
        await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 20, "both servers' tools")
        await app.workers.wait_for_complete()
    entry = saved_servers(tmp_path / "servers.json")["second"]
    assert entry == {"command": sys.executable, "args": ["-m", "codemode_tui", "demo-server"]}


async def test_the_form_says_what_to_fix_and_stays_open(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2", "a")
        form = app.screen
        assert isinstance(form, ServerFormScreen)
        await pilot.press(*"demo", "ctrl+s")
        assert app.screen is form
        assert "already exists" in str(form.query_one("#form-error").render())
        assert form.query_one("#name").has_class("-invalid")
        form.query_one("#name", Input).value = "other"
        await pilot.press("ctrl+s")
        assert app.screen is form
        assert "needs a command" in str(form.query_one("#form-error").render())
        assert form.focused is form.query_one("#command")
        # An HTTP server needs a URL that looks like one.
        await pilot.click("#transport-http")
        form.query_one("#url", Input).value = "example.com/mcp"
        await pilot.press("ctrl+s")
        assert "http:// or https://" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, ServerFormScreen)
    assert list(saved_servers(tmp_path / "servers.json")) == ["demo"]


async def test_a_failed_server_says_why(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), missing_command_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_until(pilot, lambda: server_status(app, "broken") == "failed", "the broken server to fail")
        await wait_until(pilot, lambda: connected(app), "the demo server (not blocked by the broken one)")
        await pilot.pause()
        await wait_for_notice(pilot, "not found")  # a notification says why
        table = app.query_one(ServerList)
        table.focus()
        table.move_cursor(row=1)
        assert table.highlighted_server == "broken"
        await pilot.press("l")
        log = app.screen
        assert isinstance(log, ServerLogScreen)
        reason = str(log.query_one("#server-error").render())
        assert f"command {MISSING_COMMAND!r} not found" in reason
        await pilot.press("escape")
        assert not isinstance(app.screen, ServerLogScreen)


async def test_delete_asks_first_and_saves(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), missing_command_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ServerList)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert "broken" in app.workspace.servers
        await pilot.press("d")
        await pilot.press("y")
        assert "broken" not in app.workspace.servers
        await pilot.pause()
        assert table.row_count == 1
        await app.workers.wait_for_complete()
    assert list(saved_servers(tmp_path / "servers.json")) == ["demo"]


async def test_disable_and_enable_a_server(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        app.query_one(ServerList).focus()
        await pilot.press("space")
        await wait_until(pilot, lambda: server_status(app, "demo") == "disabled", "the server to be disabled")
        await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 0, "its tools to go away")
        await app.workers.wait_for_complete()
        assert saved_servers(tmp_path / "servers.json")["demo"].get("disabled") is True
        await pilot.press("space")
        await wait_until(pilot, lambda: connected(app), "the server to come back")
        await app.workers.wait_for_complete()
    assert "disabled" not in saved_servers(tmp_path / "servers.json")["demo"]


async def test_import_an_mcp_servers_file(tmp_path: Path) -> None:
    source = tmp_path / "claude_desktop_config.json"
    source.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "imported": {"command": MISSING_COMMAND, "timeout": 5},
                    "demo": {"command": "something-else"},
                }
            }
        )
    )
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.query_one(ServerList).focus()
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = str(source)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "imported" in app.workspace.servers, "the import")
        await wait_until(pilot, lambda: app.query_one(ServerList).row_count == 2, "the new row")
        messages = await wait_for_notice(pilot, "added: imported")
        assert any("kept" in m and "demo" in m for m in messages), messages
        await app.workers.wait_for_complete()
    saved = saved_servers(tmp_path / "servers.json")
    assert saved["demo"]["command"] == sys.executable  # a clash is reported, not overwritten
    assert saved["imported"]["command"] == MISSING_COMMAND


async def test_a_hanging_server_blocks_neither_the_ui_nor_the_others(tmp_path: Path) -> None:
    app = app_with(faulty_config("stuck", "--hang", timeout=30), demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server, while the other hangs")
        assert server_status(app, "stuck") == "connecting"
        # The UI answers: search, preview and dialogs work while the server hangs.
        await pilot.press("f3", *"arithmetic")
        await wait_until(pilot, lambda: app.query_one(ToolList).option_count == 1, "a search")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        # Deleting the stuck server does not wait for it either.
        table = app.query_one(ServerList)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("d", "y")
        assert "stuck" not in app.workspace.servers


async def test_a_server_that_exits_at_start_shows_its_stderr(tmp_path: Path) -> None:
    app = app_with(faulty_config("keyless", "--exit-at-start", "3"), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: server_status(app, "keyless") == "failed", "the failure")
        app.query_one(ServerList).focus()
        await pilot.press("l")
        assert isinstance(app.screen, ServerLogScreen)
        assert "missing API key FAULTY_KEY" in str(app.screen.query_one("#stderr").render())
        assert "missing API key" in str(app.screen.query_one("#server-error").render())
        # Reconnect from the log: it fails again, for the same reason, without hanging the UI.
        await pilot.press("r")
        assert not isinstance(app.screen, ServerLogScreen)
        await wait_until(pilot, lambda: server_status(app, "keyless") == "failed", "the second failure")


async def test_editing_a_server_keeps_what_the_form_does_not_show(tmp_path: Path) -> None:
    env_file = tmp_path / "demo.env"
    env_file.write_text("DEMO=1\n")
    server = demo_stdio_config(env_file=str(env_file), defer_loading=True)
    app = app_with(server, tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2", "e")
        form = app.screen
        assert isinstance(form, ServerFormScreen)
        form.query_one("#timeout", Input).value = "12"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ServerFormScreen), "the form to close")
        await app.workers.wait_for_complete()
    entry = saved_servers(tmp_path / "servers.json")["demo"]
    assert entry["timeout"] == 12 and entry["deferLoading"] is True and entry["envFile"] == str(env_file)
