"""The tool list: search results (or every tool), with the server and the score.

It is redrawn on every key press in the search box, so it is a virtualised
list on Textual's line API: a new result replaces a list of rows (no widget,
option or prompt object is built per tool), and a frame renders only the rows
on screen, each one line of three segments.  An ``OptionList`` measured every
option's height on each update, which cost more than the search itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..formatting import safe
from ..messages import ToolRow

if TYPE_CHECKING:
    from ...registry import ToolDefinition

MAX_ROWS = 60  # about two screens of the best hits


class ToolList(ScrollView, can_focus=True):
    """Tools as rows; highlighting fills the preview, Enter inserts an example call."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tool-list--highlighted",
        "tool-list--server",
        "tool-list--score",
    }
    DEFAULT_CSS = """
    ToolList {
        height: 1fr;
        color: $foreground;
        background: $surface;
        padding: 0 1;
        overflow-x: hidden;
        overflow-y: scroll;
        & > .tool-list--highlighted {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .tool-list--highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .tool-list--server { color: $text-muted; }
        & > .tool-list--score { color: $text-muted; text-style: italic; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "insert", "Insert call", id="tool-insert", tooltip="Insert the example call into the editor"),
        Binding(
            "slash", "screen.focus_search", "Search", id="tool-search", tooltip="Back to the search box", show=False
        ),
        Binding("down", "cursor_down", "Next tool", id="tool-down", tooltip="Highlight the next tool", show=False),
        Binding("up", "cursor_up", "Previous tool", id="tool-up", tooltip="Highlight the previous tool", show=False),
        Binding("pagedown", "page_down", "Page down", id="tool-page-down", tooltip="A screen further", show=False),
        Binding("pageup", "page_up", "Page up", id="tool-page-up", tooltip="A screen back", show=False),
        Binding("home", "first", "First tool", id="tool-first", tooltip="Highlight the best hit", show=False),
        Binding("end", "last", "Last tool", id="tool-last", tooltip="Highlight the last tool", show=False),
    ]

    highlighted: reactive[int | None] = reactive(None, init=False)
    """The index of the highlighted row (``None`` when the list is empty)."""

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
        self._texts: list[tuple[str, str, str]] = []  # name, " server", " score": what each row shows
        self._quiet = False
        self._styles: tuple[Style, Style, Style, Style] | None = None

    @property
    def option_count(self) -> int:
        """How many rows the list holds."""
        return len(self._tools)

    @property
    def highlighted_tool(self) -> ToolDefinition | None:
        index = self.highlighted
        if index is None or index >= len(self._tools):
            return None
        return self._tools[index]

    def row_text(self, index: int) -> str:
        """The text of one row, as shown (name, server, score)."""
        return "".join(self._texts[index])

    def show(self, rows: list[ToolRow], total: int, *, searching: bool, keep_highlight: bool = False) -> None:
        """Replace the rows; the best hit is highlighted unless ``keep_highlight`` (same query, new tools)."""
        keep = self.highlighted_tool if keep_highlight else None
        rows = rows[:MAX_ROWS]
        self._tools = [row.tool for row in rows]
        self._texts = [
            (
                safe(row.tool.name),
                f" {safe(row.tool.server)}",
                f" {row.score:.2f}" if row.score is not None else "",
            )
            for row in rows
        ]
        if self.virtual_size.height != len(rows):
            # Not through the reactive, which lays out the whole screen (30 ms with the editor and
            # the preview): the list's own size never depends on its rows.  The scrollbar is
            # updated in place, and only its appearing or going away needs a layout.
            size = Size(self.scrollable_content_region.width, len(rows))
            self.set_reactive(ToolList.virtual_size, size)
            self._scroll_update(size)
        index: int | None = None
        if rows:
            names = [tool.qualified_name for tool in self._tools]
            index = names.index(keep.qualified_name) if keep and keep.qualified_name in names else 0
        self._quiet = True
        try:
            self.highlighted = index
        finally:
            self._quiet = False
        self._scroll_to_highlighted()
        self.refresh()
        shown = len(rows)
        if searching:
            self.summary = f"{total} match{'es' if total != 1 else ''}" if total else "no match"
        else:
            self.summary = f"{total} tools" if shown == total else f"{shown} of {total} tools"
        self.post_message(self.Highlighted(self.highlighted_tool))

    def validate_highlighted(self, index: int | None) -> int | None:
        if index is None or not self._tools:
            return None
        return max(0, min(index, len(self._tools) - 1))

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        if not self._quiet:
            self._scroll_to_highlighted()
            self.post_message(self.Highlighted(self.highlighted_tool))

    def _refresh_row(self, index: int | None) -> None:
        if index is not None:
            y = index - self.scroll_offset.y
            if 0 <= y < self.scrollable_content_region.height:
                self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_highlighted(self) -> None:
        if self.highlighted is not None:
            self.scroll_to_region(Region(0, self.highlighted, 1, 1), animate=False, force=True, immediate=True)

    def _row_styles(self) -> tuple[Style, Style, Style, Style]:
        """Plain, highlighted, server and score styles, computed once per style change (not per row)."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("tool-list--highlighted"),
                base + self.get_component_rich_style("tool-list--server"),
                base + self.get_component_rich_style("tool-list--score"),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + self.scroll_offset.y
        base, cursor, server_style, score_style = self._row_styles()
        if index >= len(self._texts):
            return Strip.blank(width, base)
        name, server, score = self._texts[index]
        if index == self.highlighted:
            return Strip([Segment(name + server + score, cursor)]).adjust_cell_length(width, cursor)
        segments = [Segment(name, base), Segment(server, server_style)]
        if score:
            segments.append(Segment(score, score_style))
        return Strip(segments).adjust_cell_length(width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # focus and theme change the styles the rows are drawn with
        self.refresh()

    def _move(self, delta: int) -> None:
        if not self._tools:
            return
        current = self.highlighted if self.highlighted is not None else -1
        self.highlighted = current + delta

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self._move(-max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        if self._tools:
            self.highlighted = 0

    def action_last(self) -> None:
        if self._tools:
            self.highlighted = len(self._tools) - 1

    def on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self._tools):
            self.highlighted = index

    def action_insert(self) -> None:
        tool = self.highlighted_tool
        if tool is not None:
            self.post_message(self.InsertRequested(tool))
