"""The signature hint: the tool being called at the cursor, with its signature and description.

Shown above the cursor while the cursor is inside a tool's call, so a person
typing the arguments sees which keywords exist and what they take; it goes
away outside a call.  It never takes the focus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from ...codegen.completion import SignatureHelp


class SignatureHint(Static):
    """One or two lines: signature (the parameter being typed in bold), then the description's first line."""

    can_focus = False

    def __init__(self) -> None:
        super().__init__(id="signature-hint")
        self.display = False
        self.help: SignatureHelp | None = None
        self.below = False
        self.rows = 0

    def show(self, help_: SignatureHelp, at: tuple[int, int]) -> None:
        self.help = help_
        text = Text(help_.signature)
        if help_.active:
            start = help_.signature.find(f"{help_.active}:")
            if start >= 0:
                text.stylize("bold underline", start, start + len(help_.active))
        first = next((line.strip() for line in help_.description.splitlines() if line.strip()), "")
        if first:
            text.append("\n" + first[:100], style="italic")
        self.update(text)
        rows = 2 if first else 1
        x, y = at
        wide = min(110, max(len(help_.signature), len(first[:100])) + 4)
        top = y - rows - 2
        self.below = top < 0  # no room above the cursor's line: below it (the popup then goes under it)
        self.rows = rows + 2
        self.styles.offset = (max(0, min(x - 4, self.screen.size.width - wide)), y + 1 if self.below else top)
        self.display = True

    def hide(self) -> None:
        self.display = False
        self.help = None
