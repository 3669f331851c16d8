"""The tools pane: the search box, the server filter and the tool list, with the search worker.

It owns its concern: every key press in the search box (or a new filter, or a
registry change the main screen passes on with :meth:`ToolsPane.refresh_tools`)
starts an exclusive search worker, and the result is shown only if it still
answers what the box and the filter say.  The workspace comes down from the
main screen by ``data_bind``; the pane says which tool is highlighted with
``ToolsPane.ToolChosen`` and asks for inserts with ``ToolList.InsertRequested``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Select

from ..messages import SearchFinished, ToolRow
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
        super().__init__(id=id)
        self.border_title = "Tools"
        self._shown: tuple[str, str | None] | None = None
        self._insert_pending = False

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
        self._search(workspace, query, server)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def _search(self, workspace: Workspace, query: str, server: str | None) -> None:
        registry = workspace.registry
        if server is not None and server not in registry.server_names:
            server = None
        if query:
            result = await registry.search_tools(query, server=server, limit=MAX_ROWS)
            rows = [ToolRow(hit.tool, hit.score) for hit in result.hits]
            self.post_message(SearchFinished(query, server, rows, result.total))
            return
        tools = registry.list_tools(server)
        rows = [ToolRow(tool) for tool in sorted(tools, key=lambda t: (t.server, t.name))]
        self.post_message(SearchFinished(query, server, rows, len(rows)))

    @on(SearchFinished)
    def _search_finished(self, message: SearchFinished) -> None:
        message.stop()
        shown = (message.query, message.server)
        tool_list = self.tool_list
        tool_list.show(message.rows, message.total, searching=bool(message.query), keep_highlight=shown == self._shown)
        self._shown = shown
        self.border_subtitle = tool_list.summary
        if self._insert_pending and message.query == self._wanted()[0]:
            self._insert_pending = False
            self._insert_best()

    @on(Input.Changed, "#search")
    @on(Select.Changed, "#server-filter")
    def _query_changed(self, event: Any) -> None:
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
        """Enter in the search box: insert the best hit, once the list answers what was typed."""
        message.stop()
        if self.workspace is None:
            self.notify("The engine is still loading; try again in a moment.", severity="warning")
            return
        query = self._wanted()[0]
        if self._shown is None or self._shown[0] != query:
            self._insert_pending = True  # the search for the last keys is still running: insert when it lands
            self.refresh_tools()
            return
        self._insert_best()

    def _insert_best(self) -> None:
        tool = self.tool_list.highlighted_tool
        if tool is None:
            self.notify("No tool matches the search.", severity="warning")
            return
        self.post_message(ToolList.InsertRequested(tool))
