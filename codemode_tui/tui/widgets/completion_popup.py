"""The completion popup: the proposals at the editor's cursor.

It never takes the focus: the editor keeps it and forwards the keys that
belong to an open popup (up, down, page keys, Tab and Enter to accept, Esc to
close), so typing goes on into the buffer and narrows the list.  It sits on the
screen's overlay layer, just below the cursor (above it near the bottom).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from ...codegen.completion import Completion

#: Rows the popup shows at most (it scrolls beyond).
MAX_ROWS = 10


class CompletionPopup(OptionList):
    """Proposals with their kind, type or signature; see the module docstring."""

    can_focus = False

    def __init__(self) -> None:
        super().__init__(id="completion-popup")
        self.items: list[Completion] = []
        self.prefix = ""
        self.display = False

    def show(self, items: list[Completion], prefix: str, at: tuple[int, int]) -> None:
        """Fill the list and open it at screen cell ``at`` (the cursor's)."""
        self.items, self.prefix = items, prefix
        self.clear_options()
        self.add_options([Option(self._label(item)) for item in items])
        self.highlighted = 0 if items else None
        rows = min(MAX_ROWS, len(items))
        x, y = at
        width, height = self.screen.size
        top = y + 1 if y + 1 + rows + 2 <= height else max(0, y - rows - 2)
        wide = min(100, max((self._label(item).cell_len for item in items), default=20) + 4)
        self.styles.offset = (max(0, min(x - len(prefix), width - wide)), top)
        self.styles.height = rows + 2
        self.display = bool(items)

    @staticmethod
    def _label(item: Completion) -> Text:
        label = Text(item.label, style="bold")
        if item.detail:
            label.append("  " + item.detail, style="dim")
        if item.description:
            label.append("  " + item.description[:60], style="italic dim")
        return label

    def hide(self) -> None:
        self.display = False
        self.items = []

    @property
    def is_open(self) -> bool:
        return bool(self.display and self.items)

    @property
    def chosen(self) -> Completion | None:
        index = self.highlighted
        return self.items[index] if index is not None and 0 <= index < len(self.items) else None

    def move(self, step: int) -> None:
        if not self.items:
            return
        current = self.highlighted or 0
        self.highlighted = max(0, min(len(self.items) - 1, current + step))
