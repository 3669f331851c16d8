"""The list of past runs in the history browser, newest first.

Each line says how the run ran when it was not live (replay, dry run) and
whether its tool traffic is recorded (``●``: it can be replayed); one run can be
marked (``◆``) to compare with another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..formatting import format_duration, format_started, run_status, safe

if TYPE_CHECKING:
    from ...snippets import RunRecord

#: How a run that was not live is named in the list and the details.
MODE_LABELS = {"replay": "replay", "replay-reads": "replay, recorded reads", "dry-run": "dry run"}


RUN_MODES = ("live", "replay", "replay-reads", "dry-run")


def run_mode(record: RunRecord) -> str:
    """The run's mode; one this version does not know is read from what the run left (a replay, an effect plan)."""
    if record.mode in RUN_MODES:
        return record.mode
    if record.replay_of:
        return "replay"
    return "dry-run" if record.effects else "live"


def mode_label(mode: str) -> str:
    """``live``, ``replay``, ``replay, recorded reads`` or ``dry run``."""
    return MODE_LABELS.get(mode, mode or "live")


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
        self.marked: str | None = None
        """The id of the run marked to compare with another."""

    @property
    def marked_record(self) -> RunRecord | None:
        return next((record for record in self.records if record.id == self.marked), None)

    def toggle_mark(self, record: RunRecord) -> bool:
        """Mark ``record`` to compare (unmarking the one marked before); returns whether it is now marked."""
        previous = self.marked_record
        self.marked = None if self.marked == record.id else record.id
        for changed in (previous, record):
            if changed is not None:
                self.replace_option_prompt(changed.id, self._prompt(changed, marked=changed.id == self.marked))
        return self.marked == record.id

    @property
    def highlighted_record(self) -> RunRecord | None:
        index = self.highlighted
        if index is None or index >= len(self.records):
            return None
        return self.records[index]

    def show(self, records: list[RunRecord]) -> None:
        self.records = list(records)
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(
                Option(self._prompt(record, marked=record.id == self.marked), id=record.id) for record in records
            )
            if records:
                self.highlighted = 0
        self.post_message(self.Highlighted(self.highlighted_record))

    @staticmethod
    def _prompt(record: RunRecord, *, marked: bool = False) -> Content:
        tags = []
        mode = run_mode(record)
        if mode != "live":
            tags.append(Content.styled(" dry run" if mode == "dry-run" else " replay", "$text-accent"))
        if record.recorded:
            tags.append(Content.styled(" ●", "$text-success"))
        return Content.assemble(
            Content.styled("◆ ", "bold $text-warning") if marked else Content(""),
            run_status(record.status, short=True),
            Content(f" {format_started(record.started)}"),
            Content.styled(f"  {format_duration(record.duration)}", "$text-muted"),
            *tags,
            Content("\n"),
            Content(safe(f"{record.snippet} · {record.title()}" if record.snippet else record.title())),
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
