"""The run history browser: past runs newest first; Enter reopens a run's code in the editor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from ..formatting import format_duration, format_started, run_status
from ..widgets.code_view import CodeView
from ..widgets.history_list import HistoryList

if TYPE_CHECKING:
    from ...snippets import RunHistory, RunRecord

EMPTY_HINT = "No runs yet: every run of the playground (F5) is kept here, the last 500."


def trace_cells(call: dict[str, Any]) -> tuple[Content, Content, Content]:
    """Tool, duration and status of one recorded tool call."""
    ok = call.get("ok")
    if ok:
        status = Content.styled("ok", "$text-success")
    else:
        error = call.get("error")
        status = Content.styled(f"error: {error}" if error else "error", "$text-error")
    duration = call.get("duration")
    return (
        Content(str(call.get("tool", "?"))),
        Content(format_duration(float(duration)) if isinstance(duration, int | float) else "–"),
        status,
    )


class HistoryScreen(ModalScreen["RunRecord | None"]):
    """Dismisses with the run to reopen, or ``None``."""

    CSS_PATH = Path(__file__).parent / "snippets.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close", id="history-close")]

    def __init__(self, history: RunHistory) -> None:
        super().__init__()
        self.history = history
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog"):
            yield Static(Content("Run history"), id="history-title")
            with Horizontal(id="history-body"):
                yield HistoryList(id="history-list")
                with VerticalScroll(id="history-details"):
                    yield Static(Content.styled("Loading…", "$text-muted"), id="history-meta")
                    yield CodeView("", id="history-code")
                    yield Static(Content.styled("Output", "bold"), classes="history-heading", id="history-output-title")
                    yield CodeView("", id="history-output")
                    yield Static(Content.styled("Trace", "bold"), classes="history-heading", id="history-trace-title")
                    yield DataTable(id="history-trace", cursor_type="none", zebra_stripes=True)
            with Horizontal(id="history-buttons"):
                yield Button("Reopen in editor ⏎", id="history-reopen", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one(HistoryList).focus()
        self.load()

    @work(group="history-load", exclusive=True, exit_on_error=False, thread=True)
    def load(self) -> None:
        try:
            records = self.history.list()
        except OSError as exc:
            self.app.call_from_thread(
                self.app.notify, f"The run history could not be read: {exc}", severity="error", markup=False
            )
            records = []
        self.app.call_from_thread(self._loaded, records)

    def _loaded(self, records: list[RunRecord]) -> None:
        self.loaded = True
        count = len(records)
        self.query_one("#history-title", Static).update(
            Content.assemble(
                Content("Run history "),
                Content.styled(f"({count} run{'s' if count != 1 else ''}) · esc closes", "$text-muted"),
            )
        )
        self.query_one(HistoryList).show(records)

    @on(HistoryList.Highlighted)
    def _highlighted(self, message: HistoryList.Highlighted) -> None:
        self.show_record(message.record)

    def show_record(self, record: RunRecord | None) -> None:
        meta = self.query_one("#history-meta", Static)
        code = self.query_one("#history-code", CodeView)
        output = self.query_one("#history-output", CodeView)
        table = self.query_one("#history-trace", DataTable)
        table.clear(columns=True)
        for widget in self.query("#history-output-title, #history-output, #history-trace-title, #history-trace"):
            widget.display = record is not None
        if record is None:
            meta.update(Content.styled(EMPTY_HINT, "$text-muted"))
            code.show_message("")
            output.show_message("")
            return
        calls = len(record.trace)
        parts = [
            run_status(record.status),
            Content.styled(
                f"  {format_started(record.started, full=True)} · {format_duration(record.duration)}", "$text-muted"
            ),
            Content.styled(f" · {calls} tool call{'s' if calls != 1 else ''}", "$text-muted"),
        ]
        if record.snippet:
            parts.append(Content.styled(f" · snippet {record.snippet}", "$text-muted"))
        if record.error:
            parts += [Content("\n"), Content.styled(record.error, "$text-error")]
        meta.update(Content.assemble(*parts))
        code.show(record.code.rstrip("\n") or "(empty)", "python")
        if record.output:
            output.show(record.output.rstrip("\n"), "text")
        else:
            output.show_message("(no output)")
        rows = [trace_cells(call) for call in record.trace] or [
            (Content.styled("(no tool calls)", "$text-muted"), Content(""), Content(""))
        ]
        # Widths from the cells themselves: DataTable does not measure Content cells.
        for index, label in enumerate(("tool", "time", "status")):
            width = max(len(label), *(row[index].cell_length for row in rows))
            table.add_column(label, key=label, width=width)
        for row in rows:
            table.add_row(*row)

    @on(HistoryList.ReopenRequested)
    def _reopen(self, message: HistoryList.ReopenRequested) -> None:
        self.dismiss(message.record)

    @on(Button.Pressed, "#history-reopen")
    def _reopen_pressed(self) -> None:
        record = self.query_one(HistoryList).highlighted_record
        if record is not None:
            self.dismiss(record)

    def action_close(self) -> None:
        self.dismiss(None)
