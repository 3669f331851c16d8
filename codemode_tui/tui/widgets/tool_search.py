"""The search box above the tool list: every key press starts a ranked search."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
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

    # Textual's Input sets its virtual width to the text's width on every key, and a
    # virtual size change lays out the whole screen.  The box's own size never
    # depends on its text (it scrolls inside a fixed width), so a repaint is enough:
    # one screen layout fewer per key press while the user types.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    class InsertRequested(Message):
        """Enter was pressed: insert the call of the best hit for the query as typed so far."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Search tools…", id=id)

    def action_insert_best(self) -> None:
        self.post_message(self.InsertRequested())
