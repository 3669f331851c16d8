"""The tools pane: the search box, the server filter and the tool list.

It owns its concern: every key press in the search box (or a new filter, or a
registry change the main screen passes on with :meth:`ToolsPane.refresh_tools`)
searches again at once.  The index is in memory and a search takes a
millisecond or so even on thousands of tools, so the typed character and the
re-ranked list land in the same frame, and the index stays on the event loop
that owns the registry (it is not thread-safe).  The box's value is watched,
not its ``Input.Changed`` message: a message is handled after the screen may
already have painted the character, which put the list a frame (17 ms) later
on every key press typed at a human pace.  The workspace comes down from the main
screen by ``data_bind``; the pane says which tool is highlighted with
``ToolsPane.ToolChosen`` and asks for inserts with ``ToolList.InsertRequested``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Select

from ..messages import ToolRow
from .server_filter import ServerFilter
from .tool_list import MAX_ROWS, ToolList
from .tool_search import ToolSearch

if TYPE_CHECKING:
    from ...registry import ToolDefinition
    from ...workspace import Workspace


class ToolsPane(Vertical):
    """Search-as-you-type over every connected server's tools."""

    workspace: reactive[Workspace | None] = reactive(None, init=False)

    class ToolChosen(Message):
        """The highlighted tool changed (``tool`` is ``None`` when nothing is highlighted)."""

        def __init__(self, tool: ToolDefinition | None) -> None:
            super().__init__()
            self.tool = tool

    def __init__(self, *, id: str | None = None) -> None:
        self._summary_only = False
        super().__init__(id=id)
        self.border_title = "Tools"
        self._shown: tuple[str, str | None] | None = None  # the query and server the list answers

    def compose(self) -> ComposeResult:
        yield ToolSearch(id="search")
        yield ServerFilter(id="server-filter")
        yield ToolList(id="tools")

    @property
    def search(self) -> ToolSearch:
        return self.query_one(ToolSearch)

    @property
    def tool_list(self) -> ToolList:
        return self.query_one(ToolList)

    def on_mount(self) -> None:
        if self.workspace is None:
            self.border_subtitle = "loading…"
        self.watch(self.search, "value", self.refresh_tools, init=False)

    def _show_summary(self, text: str) -> None:
        """Show "N matches" on the bottom border, repainting that line alone.

        Setting ``border_subtitle`` repaints the whole pane (search box, filter
        and every visible row) and, on each key press, that was most of the
        time from the key to the new list on screen (p50 45 -> 20 ms here).
        """
        if text == self.border_subtitle:
            return
        self._summary_only = True
        try:
            self.border_subtitle = text
        finally:
            self._summary_only = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        outer = self.outer_size
        if self._summary_only and outer.height and not (regions or layout or recompose):
            offset = self.content_offset  # regions are relative to the content, inside the border
            regions = (Region(-offset.x, outer.height - 1 - offset.y, outer.width, 1),)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def watch_workspace(self, workspace: Workspace | None) -> None:
        if workspace is not None:
            self.refresh_tools()

    def set_servers(self, names: list[str]) -> None:
        """Offer these servers in the filter (the current choice stays when it still exists)."""
        self.query_one(ServerFilter).set_servers(names)

    def _wanted(self) -> tuple[str, str | None]:
        return self.search.value.strip(), self.query_one(ServerFilter).server

    def refresh_tools(self) -> None:
        """Search again for what the box and the filter say (after typing, or when the tools changed)."""
        workspace = self.workspace
        if workspace is None:
            return  # the list fills in when the engine has loaded
        query, server = self._wanted()
        registry = workspace.registry
        if server is not None and server not in registry.server_names:
            server = None
        if query:
            result = registry.search_index.search(query, server=server, limit=MAX_ROWS)
            rows = [ToolRow(hit.tool, hit.score) for hit in result.hits]
            total = result.total
        else:
            tools = sorted(registry.list_tools(server), key=lambda t: (t.server, t.name))
            rows, total = [ToolRow(tool) for tool in tools], len(tools)
        shown = (query, server)
        tool_list = self.tool_list
        tool_list.show(rows, total, searching=bool(query), keep_highlight=shown == self._shown)
        self._shown = shown
        self._show_summary(tool_list.summary)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()  # searched already, by the watch on the box's value

    @on(Select.Changed, "#server-filter")
    def _filter_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.refresh_tools()

    @on(ToolList.Highlighted)
    def _highlighted(self, message: ToolList.Highlighted) -> None:
        # Passed on as the pane's own message: one the list posts while this pane handles a search
        # result would not bubble past the pane (Textual does not bubble a message back to its sender).
        message.stop()
        self.post_message(self.ToolChosen(message.tool))

    @on(ToolSearch.InsertRequested)
    def _insert_requested(self, message: ToolSearch.InsertRequested) -> None:
        """Enter in the search box: insert the best hit for what was typed."""
        message.stop()
        if self.workspace is None:
            self.notify("The engine is still loading; try again in a moment.", severity="warning")
            return
        tool = self.tool_list.highlighted_tool
        if tool is None:
            self.notify("No tool matches the search.", severity="warning")
            return
        self.post_message(ToolList.InsertRequested(tool))
