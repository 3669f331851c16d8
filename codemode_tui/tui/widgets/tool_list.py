"""The tool list: search results (or every tool), with the server and the score."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..messages import ToolRow

if TYPE_CHECKING:
    from ...registry import ToolDefinition

MAX_ROWS = 60  # about two screens: more costs layout time on every key press


class ToolList(OptionList):
    """Tools as options; highlighting fills the preview, Enter inserts an example call."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "insert", "Insert call", id="tool-insert", tooltip="Insert the example call into the editor"),
        Binding(
            "slash", "screen.focus_search", "Search", id="tool-search", tooltip="Back to the search box", show=False
        ),
    ]

    class Highlighted(Message):
        """The highlighted tool changed (``tool`` is ``None`` when nothing is highlighted)."""

        def __init__(self, tool: ToolDefinition | None) -> None:
            super().__init__()
            self.tool = tool

    class InsertRequested(Message):
        """Insert the tool's example call into the editor."""

        def __init__(self, tool: ToolDefinition) -> None:
            super().__init__()
            self.tool = tool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summary = ""
        self._tools: list[ToolDefinition] = []

    @property
    def highlighted_tool(self) -> ToolDefinition | None:
        index = self.highlighted
        if index is None or index >= len(self._tools):
            return None
        return self._tools[index]

    def show(self, rows: list[ToolRow], total: int, *, searching: bool, keep_highlight: bool = False) -> None:
        """Replace the options; the best hit is highlighted unless ``keep_highlight`` (same query, new tools)."""
        keep = self.highlighted_tool if keep_highlight else None
        rows = rows[:MAX_ROWS]
        self._tools = [row.tool for row in rows]
        options = [Option(self._prompt(row), id=row.tool.qualified_name) for row in rows]
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            if rows:
                names = [tool.qualified_name for tool in self._tools]
                self.highlighted = names.index(keep.qualified_name) if keep and keep.qualified_name in names else 0
        shown = len(rows)
        if searching:
            self.summary = f"{total} match{'es' if total != 1 else ''}" if total else "no match"
        else:
            self.summary = f"{total} tools" if shown == total else f"{shown} of {total} tools"
        self.post_message(self.Highlighted(self.highlighted_tool))

    @staticmethod
    def _prompt(row: ToolRow) -> Content:
        tool = row.tool
        parts = [Content(tool.name), Content.styled(f" {tool.server}", "$text-muted")]
        if row.score is not None:
            parts.append(Content.styled(f" {row.score:.2f}", "italic $text-muted"))
        return Content.assemble(*parts)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.highlighted_tool))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    def action_insert(self) -> None:
        tool = self.highlighted_tool
        if tool is not None:
            self.post_message(self.InsertRequested(tool))
