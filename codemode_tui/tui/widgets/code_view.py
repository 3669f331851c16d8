"""Read-only highlighted code (schemas, bindings, values) that follows the app theme."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ..formatting import highlighted, safe


class CodeView(Static):
    """A Static showing code; ``text`` keeps the plain source for copying."""

    def __init__(self, placeholder: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Content.styled(placeholder, "$text-muted"), id=id, classes=classes, expand=True)
        self.text = ""
        self.placeholder = placeholder

    def show(self, code: str, language: str = "python") -> None:
        code = safe(code)  # values, results, errors and agents' code come from outside
        self.text = code
        if not code:
            self.update(Content.styled(self.placeholder, "$text-muted"))
        elif language == "text":
            self.update(Content(code))
        else:
            self.update(highlighted(code, language))

    def show_message(self, message: str, style: str = "$text-muted") -> None:
        """Plain text (escaped: never parsed as markup), for 'nothing here' states."""
        self.text = ""
        self.update(Content.styled(safe(message), style))
