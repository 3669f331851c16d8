"""The code editor: a Python ``TextArea`` whose highlighting follows the app theme."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.widgets import TextArea

from ..themes import EDITOR_THEME_NAME, editor_theme


class CodeEditor(TextArea):
    """Where the user writes the code that runs in the sandbox."""

    def apply_theme(self, variables: Mapping[str, str], overrides: Mapping[str, Style] | None = None) -> None:
        """Re-derive the token colours from the app theme (called on every theme change)."""
        self.register_theme(editor_theme(variables, overrides))
        self.theme = EDITOR_THEME_NAME  # always_update: re-applies even when the name is unchanged

    @property
    def code_to_run(self) -> str:
        """The selection if there is one, else the whole buffer."""
        return self.selected_text or self.text

    def insert_snippet(self, snippet: str) -> None:
        """Insert ``snippet`` at the cursor on lines of its own; skip import lines already present."""
        existing = {line.strip() for line in self.text.splitlines()}
        lines = snippet.splitlines()
        kept = [line for line in lines if not (line.startswith(("from ", "import ")) and line.strip() in existing)]
        while kept and not kept[0].strip():
            kept.pop(0)
        text = "\n".join(kept)
        row, column = self.cursor_location
        line = self.document.get_line(row)
        if column > 0 or line.strip():
            if line[column:].strip():
                text = text + "\n"
            if line[:column].strip():
                text = "\n" + text
        else:
            text = text + "\n"
        self.insert(text)
