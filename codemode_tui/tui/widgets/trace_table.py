"""The trace of a run: one row per tool call; a row opens the call's arguments and result.

Besides the tool, its time and status, each row says where the call was made
(the code line), who answered it (the server, a recording or a dry run's
placeholder) and what a gate decided (the policy, or the recorded call a replay
used), so a replay or a dry run reads differently from a live run at a glance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable

from ..formatting import format_duration, safe

if TYPE_CHECKING:
    from ...executor.run_result import ToolCallRecord


def record_name(record: ToolCallRecord) -> str:
    """``server__tool``: the name the registry and the trace know the call by."""
    return record.name


def record_ok(record: ToolCallRecord) -> bool | None:
    """True (ok), False (failed) or None (still running)."""
    return record.ok


#: Who answered a call, and its style: the server itself reads quiet, the others stand out.
ANSWERED_STYLES = {"live": "$text-muted", "recording": "$text-accent", "placeholder": "$text-warning"}

COLUMNS = ("n", "tool", "line", "time", "answered", "status", "decision")


def answered_cell(answered: str | None) -> Content:
    """``live``, ``recording`` or ``placeholder``, styled."""
    word = answered or "live"
    return Content.styled(word, ANSWERED_STYLES.get(word, ""))


def line_cell(line: int | None) -> Content:
    return Content(str(line)) if line else Content.styled("–", "$text-muted")


def status_cell(record: ToolCallRecord, *, with_error: bool = True) -> Content:
    """``running``, ``ok`` or ``error`` (with its message unless the view is narrow), styled."""
    ok = record_ok(record)
    if ok is None:
        return Content.styled("running", "$text-warning")
    if ok:
        return Content.styled("ok", "$text-success")
    return Content.styled(f"error: {record.error}" if record.error and with_error else "error", "$text-error")


def decision_cell(decision: str | None) -> Content:
    """What a gate decided; a denial in the error colour."""
    if not decision:
        return Content("")
    return Content.styled(decision, "$text-error" if decision.startswith("denied") else "")


class TraceTable(DataTable[Content]):
    """Tool calls of the last run, in the order they started."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS
    """The column keys, in the order :meth:`_cells` gives the cells."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_call", "Open call", id="trace-open", tooltip="Open the call: arguments and result")
    ]

    class CallSelected(Message):
        """A row was chosen: open the call's arguments and result."""

        def __init__(self, record: ToolCallRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.records: list[ToolCallRecord] = []

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        """The columns, keyed as :attr:`COLUMNS` (Textual calls every class's ``on_mount``: override this)."""
        self.add_column("#", key="n", width=3)
        self.add_column("tool", key="tool")
        self.add_column("line", key="line", width=4)
        self.add_column("time", key="time", width=8)
        self.add_column("answered", key="answered", width=11)
        self.add_column("status", key="status")
        self.add_column("decision", key="decision")

    def reset(self) -> None:
        self.records.clear()
        self.clear()

    def add_record(self, record: ToolCallRecord) -> None:
        """Add a call, or update its row when the same call finishes."""
        key = str(record.call_id)
        if key in self.rows:
            index = self.get_row_index(key)
            self.records[index] = record
            for column, value in zip(self.COLUMNS, self._cells(index + 1, record), strict=True):
                self.update_cell(key, column, value)
            return
        self.records.append(record)
        self.add_row(*self._cells(len(self.records), record), key=key)

    def _cells(self, number: int, record: ToolCallRecord) -> tuple[Content, ...]:
        return (
            Content(str(number)),
            Content(safe(record_name(record))),
            line_cell(record.line),
            Content(format_duration(record.duration) if record_ok(record) is not None else "…"),
            answered_cell(record.answered),
            status_cell(record),
            decision_cell(record.decision),
        )

    def action_open_call(self) -> None:
        if 0 <= self.cursor_row < len(self.records):
            self.post_message(self.CallSelected(self.records[self.cursor_row]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_call()
