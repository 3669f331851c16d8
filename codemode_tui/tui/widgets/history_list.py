"""The list of past runs in the history browser, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..formatting import format_duration, format_started, run_status

if TYPE_CHECKING:
    from ...snippets import RunRecord


class HistoryList(OptionList):
    """One line per run: when, status, duration and the code's first line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "reopen", "Reopen", id="history-reopen", tooltip="Open the run's code in the editor"),
    ]

    class Highlighted(Message):
        def __init__(self, record: RunRecord | None) -> None:
            super().__init__()
            self.record = record

    class ReopenRequested(Message):
        def __init__(self, record: RunRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.records: list[RunRecord] = []

    @property
    def highlighted_record(self) -> RunRecord | None:
        index = self.highlighted
        if index is None or index >= len(self.records):
            return None
        return self.records[index]

    def show(self, records: list[RunRecord]) -> None:
        self.records = list(records)
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(Option(self._prompt(record), id=record.id) for record in records)
            if records:
                self.highlighted = 0
        self.post_message(self.Highlighted(self.highlighted_record))

    @staticmethod
    def _prompt(record: RunRecord) -> Content:
        return Content.assemble(
            run_status(record.status, short=True),
            Content(f" {format_started(record.started)}"),
            Content.styled(f"  {format_duration(record.duration)}", "$text-muted"),
            Content("\n"),
            Content(f"{record.snippet} · {record.title()}" if record.snippet else record.title()),
        )

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.highlighted_record))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()

    def action_reopen(self) -> None:
        record = self.highlighted_record
        if record is not None:
            self.post_message(self.ReopenRequested(record))
