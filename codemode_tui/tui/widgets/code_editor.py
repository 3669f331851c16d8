"""The code editor: a Python ``TextArea`` whose highlighting follows the app theme.

Its keys are those of code editors: ctrl+a selects everything (line start is
Home alone), and selecting a line has a key of its own, because the screen's
F6 (run selection) and F7 (context budget) shadow ``TextArea``'s.  Its
``BINDINGS`` are what the help screen lists for the editor.

It completes what the bindings define (``Workspace.complete``): a popup opens
on ``.``, after ``import `` and ``(`` / ``,`` inside a tool's call, and on
ctrl+space; Tab or Enter accepts, Esc closes, typing narrows it, and Enter is
never taken when no popup is open.  Inside a tool's call a hint above the
cursor shows the tool's signature and description.  Both ask the workspace
in a worker; an answer that arrives after the text moved on is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widgets import TextArea

from ..themes import EDITOR_THEME_NAME, editor_theme
from .completion_popup import MAX_ROWS, CompletionPopup
from .signature_hint import SignatureHint

if TYPE_CHECKING:
    from ...check.diagnostic import Diagnostic

#: Lines that start with this are comments; a call inserted inside a leading comment block goes below it.
COMMENT = "#"


class CodeEditor(TextArea):
    """Where the user writes the code that runs in the sandbox."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "select_all", "Select all", id="editor-select-all", tooltip="Select the whole buffer"),
        Binding("home", "cursor_line_start", "Line start", id="editor-line-start", show=False),
        Binding("alt+l", "select_line", "Select line", id="editor-select-line", tooltip="Select the cursor's line"),
        Binding("ctrl+home", "document_start", "Buffer start", id="editor-start", show=False),
        Binding("ctrl+end", "document_end", "Buffer end", id="editor-end", show=False),
        Binding("ctrl+z", "undo", "Undo", id="editor-undo", show=False),
        Binding("ctrl+y", "redo", "Redo", id="editor-redo", show=False),
        Binding("ctrl+x", "cut", "Cut", id="editor-cut", show=False),
        Binding("ctrl+c", "copy", "Copy selection (when no run is live)", id="editor-copy", show=False),
        Binding("ctrl+v", "paste", "Paste", id="editor-paste", show=False),
        Binding("ctrl+k", "delete_to_end_of_line_or_delete_line", "Delete to line end", id="editor-kill", show=False),
        Binding("ctrl+shift+k", "delete_line", "Delete line", id="editor-delete-line", show=False),
        Binding("ctrl+u", "delete_to_start_of_line", "Delete to line start", id="editor-kill-start", show=False),
        Binding("ctrl+w", "delete_word_left", "Delete word left", id="editor-delete-word", show=False),
        Binding(
            "ctrl+space,ctrl+@", "complete", "Complete", id="editor-complete", tooltip="Tools, parameters, attributes"
        ),
    ]

    #: Shown in the help next to the bindings: what the cursor keys do with shift.
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("shift+arrows", "Select text"),
        ("ctrl+shift+arrows", "Select by word"),
        ("tab", "Indent"),
    ]

    completion_session: str | None = None
    """The sandbox that answers completions of values (``result.``): an attached agent session, or ours."""

    diagnostics: Sequence[Diagnostic] = ()
    """What the type check found in the buffer as it was checked (underlined; see :meth:`show_diagnostics`)."""

    def show_diagnostics(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Underline each finding's span (errors and warnings in their theme colours) and redraw."""
        self.diagnostics = tuple(diagnostics)
        self._build_highlight_map()
        self.refresh()

    def diagnostics_at(self, row: int) -> list[Diagnostic]:
        """The findings on a 0-based ``row`` (the cursor's line, for the message under the editor)."""
        return [d for d in self.diagnostics if d.line - 1 <= row <= d.end_line - 1]

    def _render_line(self, y: int) -> Strip:
        """The line, with a mark in the gutter's margin when a finding is on it (errors before warnings)."""
        strip = super()._render_line(y)
        if not self.diagnostics or not self.show_line_numbers:
            return strip
        try:
            line_index, section = self.wrapped_document._offset_to_line_info[y + self.scroll_offset.y]
        except (AttributeError, IndexError, TypeError):
            return strip
        severities = {d.severity for d in self.diagnostics_at(line_index)}
        severity = "error" if "error" in severities else ("warning" if "warning" in severities else None)
        segments = list(strip)
        if section != 0 or severity is None or not segments or len(segments[0].text) < 2:
            return strip
        gutter = segments[0]
        theme = self._theme
        found = theme.syntax_styles.get(f"diagnostic.{severity}") if theme is not None else None
        mark = Style(color=found.color, bold=True) if found is not None and found.color else Style(bold=True)
        base = gutter.style or Style()
        segments[0:1] = [
            Segment(gutter.text[:-2], base),
            Segment("●" if severity == "error" else "▲", base + mark),
            Segment(gutter.text[-1:], base),
        ]
        return Strip(segments, strip.cell_length)

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        lines = self.document.line_count
        for diagnostic in self.diagnostics:
            name = f"diagnostic.{diagnostic.severity}"
            first, last = diagnostic.line - 1, min(diagnostic.end_line - 1, lines - 1)
            if not 0 <= first < lines:
                continue
            end = diagnostic.end_column - 1
            if first == last and end <= diagnostic.column - 1:
                end = len(self.document.get_line(first))  # an empty span: mark the rest of the line
            for row in range(first, last + 1):
                start = diagnostic.column - 1 if row == first else 0
                self._highlights[row].append((start, end if row == last else None, name))

    # -- completion and signature help --------------------------------------------

    def _overlay(self, kind: type[Any]) -> Any:
        """The popup (or hint) of this editor's screen, mounted there on first use."""
        found = self.screen.query(kind)
        if found:
            return found.first()
        widget = kind()
        self.screen.mount(widget)
        return widget

    @property
    def completion_popup(self) -> CompletionPopup | None:
        found = self.screen.query(CompletionPopup) if self.is_mounted else None
        return found.first() if found else None

    async def _on_key(self, event: events.Key) -> None:
        popup = self.completion_popup
        if popup is not None and popup.is_open:
            steps = {"up": -1, "down": 1, "pageup": -MAX_ROWS, "pagedown": MAX_ROWS}
            if event.key in steps:
                popup.move(steps[event.key])
            elif event.key in ("tab", "enter"):
                self._accept(popup)
            elif event.key == "escape":
                popup.hide()
            else:
                await super()._on_key(event)
                self._after_typing(event, popup_open=True)
                return
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)
        self._after_typing(event, popup_open=False)

    def _after_typing(self, event: events.Key, *, popup_open: bool) -> None:
        character = event.character if event.is_printable else None
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        after_comma = character == " " and before.rstrip().endswith(",")
        if character in (".", "(", ",") or before.endswith("import ") or after_comma:
            self._request()
        elif popup_open and (character is not None and (character.isalnum() or character == "_")):
            self._request()
        elif popup_open and event.key == "backspace" and re.search(r"[\w.]$", before):
            self._request()
        elif popup_open:
            popup = self.completion_popup
            if popup is not None:
                popup.hide()

    def action_complete(self) -> None:
        self._request()

    def _engine(self) -> Any:
        """The app's workspace once the engine has loaded (``None`` before, or outside the playground)."""
        return self.app.workspace if getattr(self.app, "engine_ready", False) else None  # type: ignore[attr-defined]

    def _request(self) -> None:
        workspace = self._engine()
        if workspace is None:
            return
        row, column = self.cursor_location
        self.run_worker(self._complete(workspace, self.text, row, column), exclusive=True, group="completion")

    async def _complete(self, workspace: Any, code: str, row: int, column: int) -> None:
        found = await workspace.complete(code, row + 1, column, session=self.completion_session)
        if self.text != code or self.cursor_location != (row, column):
            return  # typed on meanwhile: a newer request follows
        popup: CompletionPopup = self._overlay(CompletionPopup)
        if found.items:
            x, y = self.cursor_screen_offset
            hints = self.screen.query(SignatureHint)
            if hints and hints.first().display and hints.first().below:
                y += hints.first().rows  # the hint sits under the cursor's line: the list goes under it
            popup.show(found.items, found.prefix, (x, y))
        else:
            popup.hide()

    def _accept(self, popup: CompletionPopup) -> None:
        item, prefix = popup.chosen, popup.prefix
        popup.hide()
        if item is None:
            return
        row, column = self.cursor_location
        start = (row, max(0, column - len(prefix)))
        self.replace(item.text, start, (row, column))
        if item.text.endswith("="):
            self._update_signature()

    def _watch_selection(self, previous: Any, selection: Any) -> None:
        super()._watch_selection(previous, selection)
        self._update_signature()

    def _update_signature(self) -> None:
        workspace = self._engine()
        if workspace is None or not self.is_mounted:
            return
        row, column = self.cursor_location
        try:
            found = workspace.signature_help(self.text, row + 1, column)
        except Exception:
            found = None
        existing = self.screen.query(SignatureHint)
        if found is None:
            if existing:
                existing.first().hide()
            return
        hint: SignatureHint = existing.first() if existing else self._overlay(SignatureHint)
        hint.show(found, tuple(self.cursor_screen_offset))

    def on_blur(self) -> None:
        for kind in (CompletionPopup, SignatureHint):
            for widget in self.screen.query(kind):
                widget.hide()

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)

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
        self._leave_leading_comment()
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

    def _leave_leading_comment(self) -> None:
        """A cursor inside the comment block at the top (the welcome text) moves to the line below it."""
        lines = self.text.split("\n")
        row = self.cursor_location[0]
        if row >= len(lines) or not lines[row].lstrip().startswith(COMMENT):
            return
        if any(not line.lstrip().startswith(COMMENT) for line in lines[:row]):
            return  # a comment further down, among code: the user placed the cursor there
        end = row
        while end < len(lines) and lines[end].lstrip().startswith(COMMENT):
            end += 1
        if end == len(lines):
            self.move_cursor((end - 1, len(lines[end - 1])))
            self.insert("\n")
        else:
            self.move_cursor((end, 0))
