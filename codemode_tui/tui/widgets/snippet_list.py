"""The list of saved snippets in the snippets browser; its keys act on the highlighted one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from ...snippets import Snippet


class SnippetList(OptionList):
    """Snippets as options; posts :class:`SnippetList.ActionRequested` for the screen to act on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "request('open')", "Open", id="snippet-open", tooltip="Open the snippet in the editor"),
        Binding("n", "request('rename')", "Rename", id="snippet-rename", tooltip="Give the snippet a new name"),
        Binding("delete,d", "request('delete')", "Delete", id="snippet-delete", tooltip="Delete (asks first)"),
        Binding("x", "request('export')", "Export", id="snippet-export", tooltip="Export as an agent skill folder"),
        Binding("i", "request('import')", "Import", id="snippet-import", tooltip="Open a skill folder in the editor"),
        Binding("slash", "request('search')", "Search", id="snippet-search", tooltip="Back to the search box"),
    ]

    class ActionRequested(Message):
        """Open, run, rename, delete, export or import (``snippet`` is ``None`` when none is highlighted)."""

        def __init__(self, action: str, snippet: Snippet | None) -> None:
            super().__init__()
            self.action = action
            self.snippet = snippet

    class Highlighted(Message):
        def __init__(self, snippet: Snippet | None) -> None:
            super().__init__()
            self.snippet = snippet

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snippets: list[Snippet] = []

    @property
    def highlighted_snippet(self) -> Snippet | None:
        index = self.highlighted
        if index is None or index >= len(self.snippets):
            return None
        return self.snippets[index]

    def show(self, snippets: list[Snippet], keep: str | None = None) -> None:
        """Replace the options, keeping the snippet named ``keep`` highlighted when it is still there."""
        self.snippets = list(snippets)
        options = [Option(self._prompt(snippet), id=snippet.name) for snippet in snippets]
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            names = [s.name for s in snippets]
            if names:
                self.highlighted = names.index(keep) if keep in names else 0
        self.post_message(self.Highlighted(self.highlighted_snippet))

    @staticmethod
    def _prompt(snippet: Snippet) -> Content:
        count = len(snippet.parameters)
        parts = [Content(snippet.name)]
        if count:
            parts.append(Content.styled(f" ({count} param{'s' if count != 1 else ''})", "$text-muted"))
        return Content.assemble(*parts)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.highlighted_snippet))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    def action_request(self, action: str) -> None:
        self.post_message(self.ActionRequested(action, self.highlighted_snippet))
