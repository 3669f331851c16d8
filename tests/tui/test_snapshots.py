"""SVG snapshots of the playground's main states (pytest-textual-snapshot).

Each test builds the app on a servers file in its own temporary folder, waits
for the real demo server where it matters, and compares the screen at a fixed
size with steady cursors.  Refresh after an intended change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from codemode_tui.config import MCPServerConfig
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.server_log import ServerLogScreen
from codemode_tui.tui.widgets.server_list import ServerList
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, missing_command_config, server_status, settle, wait_until


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
        await settle(pilot)  # a theme change restyles every widget: more than one pause on a loaded machine

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
        # The notice follows the status change on the next refresh: wait for it before clearing it.
        await wait_until(pilot, lambda: app.hub.servers.failure_noticed("broken"), "the failure notice")
        app.clear_notifications()
        servers = app.query_one(ServerList)
        servers.focus()
        # Focus moves on the next message: a key pressed before that lands in the search box.
        await wait_until(pilot, lambda: app.focused is servers, "the server list to take focus")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, ServerLogScreen), "the server log")
        app.clear_notifications()
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


ORDER_CALL = """\
from generated.servers.demo import calculate

lines = [(2, 9.5), (1, 20.0)]
subtotal = 0.0
for quantity, price in lines:
    cost = await calculate(a=quantity, b=price, op="multiply")
    subtotal = await calculate(a=subtotal, b=cost)
print("subtotal:", subtotal)
{"lines": len(lines), "subtotal": subtotal, "with_vat": await calculate(a=subtotal, b=1.2, op="multiply")}
"""


async def finished_run(pilot: Pilot[Any]) -> None:
    """Search, highlight calculate, run code that calls it five times; pin the clocks shown."""
    app = pilot.app
    assert isinstance(app, PlaygroundApp)
    await demo_ready(pilot)
    await pilot.press("f3", *"multiply", "down")
    await wait_until(
        pilot, lambda: app.hub.selected_tool is not None and app.hub.selected_tool.name == "calculate", "tool"
    )
    app.hub.editor.text = ORDER_CALL
    await wait_until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox", 120)
    await pilot.press("f5")
    await wait_until(pilot, lambda: not app.hub.running, "the run", 120)
    app.hub.status.elapsed = 0.25
    for record in app.hub.output.trace.records:
        record.duration = 0.012
        app.hub.output.trace.add_record(record)
    await pilot.pause(0.3)


def test_finished_run(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, warm_sandbox=True)
    assert snap_compare(app, terminal_size=(130, 36), run_before=finished_run)


def test_trace_call_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, warm_sandbox=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await finished_run(pilot)
        app.hub.output.activate("tab-trace")
        app.hub.output.trace.focus()
        await wait_until(pilot, lambda: app.focused is app.hub.output.trace, "the trace to take focus")
        await pilot.press("enter")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(110, 32), run_before=run_before)


def test_context_budget(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await demo_ready(pilot)
        await pilot.press("f7")
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=(110, 32), run_before=run_before)


# -- snippets and history ------------------------------------------------------------------

SNIPPET_CODE = """\
from generated.servers.demo import calculate

total = await calculate(a=base, b=factor, op="multiply")
print(label, total)
total
"""


def save_snippets() -> None:
    from codemode_tui.snippets import Snippet, SnippetParam, SnippetStore

    store = SnippetStore()
    params = [
        SnippetParam("base", "float", 6, "the first factor"),
        SnippetParam("factor", "int"),
        SnippetParam("label", "str", description="printed before the total"),
        SnippetParam("shout", "bool", False),
        SnippetParam("tags", "list", ["a", "b"]),
    ]
    store.save(Snippet("multiply-label", SNIPPET_CODE, "Multiply two numbers and print them with a label", params))
    store.save(
        Snippet("list-notes", "from generated.servers.demo import list_notes\nawait list_notes()\n", "All notes")
    )


async def browser_open(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: getattr(app.screen, "loaded", False), "the snippets browser")
    await pilot.pause(0.2)


def test_snippet_form_with_an_error(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready and app.hub.is_mounted, "the engine and the main screen")
        app.hub.editor.text = SNIPPET_CODE
        await pilot.press("ctrl+s")
        await pilot.press(*"Multiply Label")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_snippets_browser_80x24(snap_compare: Any, tmp_path: Path) -> None:
    save_snippets()
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await browser_open(pilot)
        await pilot.press("down")  # from the search box to the list
        await pilot.press("down")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_run_parameters_form(snap_compare: Any, tmp_path: Path) -> None:
    save_snippets()
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await browser_open(pilot)
        await pilot.press(*"multiply", "f5")
        await pilot.press("ctrl+r")  # factor and label are missing: said in the form
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 34), run_before=run_before)


def test_export_skill_prompt(snap_compare: Any, tmp_path: Path) -> None:
    save_snippets()
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await browser_open(pilot)
        await pilot.press("down", "x")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Times shown in local time: pin the zone so the snapshot does not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_history_browser(snap_compare: Any, tmp_path: Path, utc: Any) -> None:
    from codemode_tui.snippets import RunHistory, RunRecord

    history = RunHistory()
    call = {"tool": "demo__calculate", "ok": True, "duration": 0.012, "arguments": {"a": 6, "b": 7}, "preview": "42"}
    history.add(
        RunRecord(
            code=SNIPPET_CODE,
            status="ok",
            duration=0.31,
            output="area 42.0\n",
            trace=[call],
            started="2025-03-14T09:26:53+00:00",
            id="run-one",
            snippet="multiply-label",
        )
    )
    history.add(
        RunRecord(
            code="import time\nwhile True:\n    time.sleep(0.05)\n",
            status="error",
            duration=2.5,
            error="KeyboardInterrupt: interrupted",
            started="2025-03-14T09:30:00+00:00",
            id="run-two",
        )
    )
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False), "the history")
        await pilot.press("down")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
