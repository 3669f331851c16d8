"""Live stdout and stderr of a run, stderr in the theme's error colour."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

from ..formatting import safe

MAX_LINES = 5000


class RunLog(RichLog):
    """Appends streamed chunks; a partial line waits until its newline (or the end of the run)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False, highlight=False, wrap=True, max_lines=MAX_LINES)
        self._partial: dict[str, str] = {}
        self.lines_written = 0
        self.plain: list[str] = []

    def _style(self, stream: str) -> Style:
        if stream == "stderr":
            return Style(color=self.app.theme_variables.get("text-error", "red"))
        if stream == "note":
            return Style(color=self.app.theme_variables.get("text-warning", "yellow"), italic=True)
        return Style()

    def append(self, stream: str, text: str) -> None:
        pending = self._partial.pop(stream, "") + text
        *complete, rest = pending.split("\n")
        for line in complete:
            self._write_line(stream, line)
        if rest:
            self._partial[stream] = rest

    def flush(self) -> None:
        for stream, rest in list(self._partial.items()):
            self._write_line(stream, rest)
        self._partial.clear()

    def note(self, text: str) -> None:
        """A line from the playground itself (run started, cancelled...)."""
        self._write_line("note", text)

    def _write_line(self, stream: str, line: str) -> None:
        line = safe(line)  # a print in sandbox code must not write the clipboard or the title
        self.plain.append(line)
        if len(self.plain) > MAX_LINES:
            del self.plain[: len(self.plain) - MAX_LINES]
        self.lines_written += 1
        self.write(Text(line, style=self._style(stream)))

    def reset(self) -> None:
        self._partial.clear()
        self.plain.clear()
        self.lines_written = 0
        self.clear()
