"""The tools pane and the preview: select a tool, read its schema and binding, insert its call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from codemode_tui.registry import ToolDefinition
from codemode_tui.tui.screens.context_budget import ContextBudgetScreen
from codemode_tui.tui.widgets.code_editor import CodeEditor
from codemode_tui.tui.widgets.code_view import CodeView
from codemode_tui.tui.widgets.preview_pane import PreviewPane
from codemode_tui.tui.widgets.server_filter import ServerFilter
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, missing_command_config, screen_text, wait_until


def highlight(tool_list: ToolList, name: str) -> None:
    names = [tool.name for tool in tool_list._tools]
    tool_list.highlighted = names.index(name)


async def demo_tool_list(pilot: Pilot[Any]) -> ToolList:
    """The tool list, once the demo server is connected and its 10 tools are listed."""
    app = pilot.app
    await wait_until(pilot, lambda: connected(app), "the demo server")
    tools = app.screen.query_one(ToolList)
    await wait_until(pilot, lambda: tools.option_count == 10, "the tool list")
    return tools


async def test_selecting_a_tool_fills_the_preview_and_enter_inserts_its_call(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        tools = await demo_tool_list(pilot)
        tools.focus()
        highlight(tools, "quote_order")
        await pilot.pause()
        assert app.hub.selected_tool is not None and app.hub.selected_tool.name == "quote_order"
        preview = app.query_one(PreviewPane)
        await wait_until(pilot, lambda: preview.tool is app.hub.selected_tool, "the preview (debounced while typing)")
        schema = json.loads(preview.query_one("#schema", CodeView).text)
        assert "items" in schema["input"]["properties"]
        assert schema["output"] is not None  # quote_order has structured output
        binding = preview.query_one("#binding", CodeView).text
        assert "async def quote_order" in binding
        compile(binding, "<binding>", "exec")
        assert "read-only" in str(preview.query_one("#details-badges").render())

        app.hub.editor.text = ""
        await pilot.press("enter")
        assert app.focused is app.hub.editor
        text = app.hub.editor.text
        assert "from generated.servers.demo import quote_order" in text
        assert "await quote_order(" in text
        # A second insert does not repeat the import line.
        tools.focus()
        await pilot.press("enter")
        assert app.hub.editor.text.count("from generated.servers.demo import quote_order") == 1
        assert app.hub.editor.text.count("await quote_order(") == 2


async def test_the_server_filter_limits_the_list(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), demo_stdio_config("other"), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app) and connected(app, "other"), "both servers")
        tools = app.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 20, "both servers' tools")
        app.query_one(ServerFilter).value = "other"
        await wait_until(pilot, lambda: tools.option_count == 10, "the filtered list")
        assert {tool.server for tool in tools._tools} == {"other"}


async def test_search_as_you_type_ranks_tools_and_shows_scores(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        tools = await demo_tool_list(pilot)
        # The best hit is highlighted for each new query (not the tool highlighted before).
        highlight(tools, "add_note")
        await pilot.press("f3", *"list notes")
        await wait_until(pilot, lambda: tools.option_count == 4, "the search result")
        assert tools.highlighted_tool is not None and tools.highlighted_tool.name == "list_notes"
        app.query_one("#search", Input).value = ""
        await pilot.press(*"arithmetic")
        await wait_until(pilot, lambda: tools.option_count == 1, "the search result")
        assert tools.highlighted_tool is not None and tools.highlighted_tool.name == "calculate"
        prompt = tools.row_text(0)
        assert prompt.startswith("calculate demo ") and float(prompt.split()[-1]) > 0
        assert app.query_one("#tools-pane").border_subtitle == "1 match"
        # On screen too: the summary repaints the pane's bottom border line alone.
        await wait_until(pilot, lambda: " 1 match ─╯" in screen_text(app), "the summary on the border")
        await wait_until(
            pilot,
            lambda: app.hub.selected_tool is not None and app.hub.selected_tool.name == "calculate",
            "the preview to follow",
        )
        # Enter in the search box inserts the best hit's call.
        app.hub.editor.text = ""
        await pilot.press("enter")
        assert "await calculate(" in app.hub.editor.text
        # A query that matches nothing says so; clearing lists every tool again.
        await pilot.press("f3", *"zzzqqq")
        await wait_until(pilot, lambda: tools.option_count == 0, "no match")
        assert app.query_one("#tools-pane").border_subtitle == "no match"
        await wait_until(pilot, lambda: " no match ─╯" in screen_text(app), "the summary on the border")
        app.query_one("#search", Input).value = ""
        await wait_until(pilot, lambda: tools.option_count == 10, "the full list")


async def test_the_first_enter_right_after_typing_inserts_the_best_hit(tmp_path: Path) -> None:
    posted: list[Message] = []
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36), message_hook=posted.append) as pilot:
        tools = await demo_tool_list(pilot)
        editor = app.screen.query_one("#editor", CodeEditor)
        editor.text = ""
        # No wait between the last key and Enter: the search for "arithmetic" may still be running.
        await pilot.press("f3", *"arithmetic", "enter")
        await wait_until(pilot, lambda: "await calculate(" in editor.text, "the call of the best hit")
        inserts = list({id(m): m for m in posted if isinstance(m, ToolList.InsertRequested)}.values())
        assert [m.tool.name for m in inserts] == ["calculate"]
        assert app.focused is editor
        # Down still moves to the results.
        await pilot.press("f3", "down")
        assert app.focused is tools


async def test_context_budget_compares_all_tools_with_the_meta_tools(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, ContextBudgetScreen), "the budget view")
        cost = app.screen.cost
        every, meta = cost["all_tools"]["estimated_tokens"], cost["meta_tools"]["estimated_tokens"]
        assert cost["tools"] == 10 and every > meta > 0
        summary = str(app.screen.query_one("#budget-summary").render())
        assert f"{every:,} tokens" in summary and f"Saved on every request: {every - meta:,} tokens" in summary
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("escape")
        assert not isinstance(app.screen, ContextBudgetScreen)


async def test_text_from_servers_is_shown_literally_never_as_markup(tmp_path: Path) -> None:
    app = app_with(missing_command_config("odd"), tmp_path=tmp_path, connect=False)
    hostile = {
        "name": "[b]bold[/b]",
        "description": "Uses [red]markup[/red] and [link=http://x]links[/link] $text-error",
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string", "description": "[i]x[/i]"}}},
    }
    async with app.run_test(size=(120, 36)) as pilot:
        app.workspace.registry.load_tools("odd", [ToolDefinition.from_dict("odd", hostile)])
        tools = app.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 1, "the tool")
        assert tools.row_text(0).startswith("[b]bold[/b]")
        preview = app.query_one(PreviewPane)
        await wait_until(pilot, lambda: preview.tool is not None, "the preview")
        assert str(preview.query_one("#details-description").render()) == hostile["description"]
        assert "[b]bold[/b]" in str(preview.query_one("#details-title").render())


async def test_the_tool_list_moves_with_keys_and_the_mouse(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        tools = await demo_tool_list(pilot)
        tools.focus()
        await pilot.press("home", "down", "down")
        assert tools.highlighted == 2
        await pilot.press("end")
        assert tools.highlighted == 9
        await pilot.press("down")  # stays on the last row
        assert tools.highlighted == 9
        await pilot.press("up", "home")
        assert tools.highlighted == 0
        await pilot.click(ToolList, offset=(3, 4))  # the fifth row
        await pilot.pause()
        assert tools.highlighted == 4
        assert tools.highlighted_tool is not None
        await wait_until(pilot, lambda: app.hub.selected_tool is tools.highlighted_tool, "the preview to follow")
        assert tools.row_text(4).startswith(tools.highlighted_tool.name)
