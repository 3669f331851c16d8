"""The Problems list: every finding of the type check in the buffer, worst first; Enter jumps to it.

The underlines, the gutter marks and the message at the cursor show one line at a
time; this list shows them all at once, with where each is, so a person can walk
through them.  It dismisses with the chosen finding (the editor moves there).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from ...check.diagnostic import Diagnostic

_ORDER = {"error": 0, "warning": 1, "info": 2}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


class ProblemsScreen(ModalScreen["Diagnostic | None"]):
    """The findings as a list; Enter (or a click) picks one, Esc closes."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close", id="problems-close")]

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__()
        self.diagnostics = sorted(diagnostics, key=lambda d: (_ORDER.get(d.severity, 3), d.line, d.column))

    def compose(self) -> ComposeResult:
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        title = f"Problems: {errors} error(s), {len(self.diagnostics) - errors} other"
        with Vertical(classes="dialog wide tall"):
            yield Static(Content.styled(title, "bold"), classes="dialog-title")
            if not self.diagnostics:
                yield Static(Content.styled("No problems: the type check found nothing.", "$text-muted"))
            options = OptionList(*(Option(self._label(d)) for d in self.diagnostics), id="problems")
            options.display = bool(self.diagnostics)
            yield options
            yield Static(Content.styled("Enter: go to the problem   Esc: close", "$text-muted"), classes="dialog-body")

    @staticmethod
    def _label(diagnostic: Diagnostic) -> Text:
        text = Text(f"{diagnostic.line}:{diagnostic.column}  ", style="dim")
        text.append(f"{diagnostic.severity:<7}", style=_STYLE.get(diagnostic.severity, ""))
        text.append(" " + diagnostic.message.splitlines()[0] if diagnostic.message else "")
        if diagnostic.source:
            text.append(f"  ({diagnostic.source})", style="dim")
        return text

    def on_mount(self) -> None:
        if self.diagnostics:
            options = self.query_one("#problems", OptionList)
            options.highlighted = 0
            options.focus()

    @on(OptionList.OptionSelected, "#problems")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.diagnostics[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
