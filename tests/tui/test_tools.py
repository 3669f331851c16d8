"""The tools pane and the preview: select a tool, read its schema and binding, insert its call."""

from __future__ import annotations

import json
from pathlib import Path

from codemode_tui.tui.widgets.code_view import CodeView
from codemode_tui.tui.widgets.preview_pane import PreviewPane
from codemode_tui.tui.widgets.server_filter import ServerFilter
from codemode_tui.tui.widgets.tool_list import ToolList
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until


def highlight(tool_list: ToolList, name: str) -> None:
    names = [tool.name for tool in tool_list._tools]
    tool_list.highlighted = names.index(name)


async def test_selecting_a_tool_fills_the_preview_and_enter_inserts_its_call(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        tools = app.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 10, "the tool list")
        tools.focus()
        highlight(tools, "quote_order")
        await pilot.pause()
        assert app.selected_tool is not None and app.selected_tool.name == "quote_order"
        preview = app.query_one(PreviewPane)
        schema = json.loads(preview.query_one("#schema", CodeView).text)
        assert "items" in schema["input"]["properties"]
        assert schema["output"] is not None  # quote_order has structured output
        binding = preview.query_one("#binding", CodeView).text
        assert "async def quote_order" in binding
        compile(binding, "<binding>", "exec")
        assert "read-only" in str(preview.query_one("#details-badges").render())

        app.editor.text = ""
        await pilot.press("enter")
        assert app.focused is app.editor
        text = app.editor.text
        assert "from generated.servers.demo import quote_order" in text
        assert "await quote_order(" in text
        # A second insert does not repeat the import line.
        tools.focus()
        await pilot.press("enter")
        assert app.editor.text.count("from generated.servers.demo import quote_order") == 1
        assert app.editor.text.count("await quote_order(") == 2


async def test_the_server_filter_limits_the_list(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), demo_stdio_config("other"), tmp_path=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: connected(app) and connected(app, "other"), "both servers")
        tools = app.query_one(ToolList)
        await wait_until(pilot, lambda: tools.option_count == 20, "both servers' tools")
        app.query_one(ServerFilter).value = "other"
        await wait_until(pilot, lambda: tools.option_count == 10, "the filtered list")
        assert {tool.server for tool in tools._tools} == {"other"}
