"""The search box above the tool list: every key press starts a ranked search."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class ToolSearch(Input):
    """Search-as-you-type input; Enter inserts the best hit's call, Down moves to the results."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "insert_best",
            "Insert call",
            id="search-insert",
            tooltip="Insert the best hit's example call (once the search has caught up with the typing)",
            show=False,
        ),
        Binding(
            "down", "screen.focus_tools", "Results", id="search-to-results", tooltip="Move to the results", show=False
        ),
    ]

    class InsertRequested(Message):
        """Enter was pressed: insert the call of the best hit for the query as typed so far."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Search tools…", id=id)

    def action_insert_best(self) -> None:
        self.post_message(self.InsertRequested())
