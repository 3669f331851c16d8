"""The search box above the tool list: every key press starts a ranked search."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class ToolSearch(Input):
    """Search-as-you-type input; Down or Enter moves to the results."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down", "app.focus_tools", "Results", id="search-to-results", tooltip="Move to the results", show=False
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Search tools…", id=id)
