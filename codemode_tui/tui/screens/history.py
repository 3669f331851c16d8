"""The run history browser: past runs newest first; Enter reopens a run's code in the editor.

Every run's tool traffic is recorded with it, so from here a run can be
replayed (``r``: the same code, every call answered from the recording, no
server contacted), reopened for an edit whose read-only calls keep their
recorded answers (``e``; the editor's "replay with recorded reads" then runs it),
or compared with another (``m`` marks one, ``c`` compares the marked run, or the
run it replayed, or the one before it, with the highlighted one).  The runs
start in the output pane (``OutputPane.replay``) once this screen is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from ..formatting import format_duration, format_started, run_status, safe
from ..widgets.code_view import CodeView
from ..widgets.history_list import HistoryList, mode_label, run_mode
from ..widgets.output_pane import OutputPane
from ..widgets.trace_table import answered_cell

if TYPE_CHECKING:
    from ...executor.recording import Recording
    from ...snippets import RunHistory, RunRecord
    from ...workspace import Workspace

#: ``(record, code, reads_only)``: start a replay (the default: the output pane under this screen).
ReplayStarter = Callable[["RunRecord", "str | None", bool], object]

EMPTY_HINT = "No runs yet: every run of the playground (F5) is kept here, the last 500."


TRACE_COLUMNS = ("tool", "line", "answered", "time", "status")


def trace_cells(call: dict[str, Any]) -> tuple[Content, ...]:
    """Tool, code line, who answered, duration and status of one recorded tool call."""
    ok = call.get("ok")
    if ok:
        status = Content.styled("ok", "$text-success")
    else:
        error = call.get("error")
        status = Content.styled(f"error: {error}" if error else "error", "$text-error")
    duration = call.get("duration")
    line = call.get("line")
    return (
        Content(str(call.get("tool", "?"))),
        Content(str(line)) if isinstance(line, int) else Content.styled("–", "$text-muted"),
        answered_cell(call.get("answered")),
        Content(format_duration(float(duration)) if isinstance(duration, int | float) else "–"),
        status,
    )


def divergence_text(divergence: dict[str, Any]) -> str:
    """A recorded divergence (``Divergence.to_dict``) as one line: kind, call, what differs."""
    from ...executor.recording import describe_divergence

    return describe_divergence(divergence)


class HistoryScreen(ModalScreen["RunRecord | None"]):
    """Dismisses with the run to reopen, or ``None``."""

    CSS_PATH = Path(__file__).parent / "snippets.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="history-close"),
        Binding("r", "replay", "Replay", id="history-replay", tooltip="Replay the run from its recording"),
        Binding(
            "e",
            "edit_replay",
            "Edit, replay reads",
            id="history-edit-replay",
            tooltip="Reopen the code; the edited code replays with this run's recorded reads",
        ),
        Binding("m", "mark", "Mark to compare", id="history-mark"),
        Binding("c", "compare", "Compare", id="history-compare", tooltip="Compare the marked run with this one"),
    ]

    def __init__(
        self,
        history: RunHistory,
        *,
        workspace: Workspace | None = None,
        replay: ReplayStarter | None = None,
    ) -> None:
        """``workspace`` (default: the app's) reads the recordings; ``replay`` starts a replay."""
        super().__init__()
        self.history = history
        self.loaded = False
        self._workspace = workspace
        self._replay = replay

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
                yield Button("Replay (r)", id="history-replay", compact=True)
                yield Button("Edit, replay reads (e)", id="history-edit-replay", compact=True)
                yield Button("Mark (m)", id="history-mark", compact=True)
                yield Button("Compare (c)", id="history-compare", compact=True)

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
        mode = run_mode(record)
        parts += [
            Content("\n"),
            Content.styled(mode_label(mode), "$text-accent" if mode != "live" else ""),
            Content.styled(
                " · recorded (replays offline)" if record.recorded or not record.trace else " · not recorded",
                "$text-muted",
            ),
        ]
        if record.replay_of:
            parts.append(Content.styled(f" · replay of {record.replay_of}", "$text-muted"))
        if mode == "dry-run":
            held = len(record.effects)
            parts.append(Content.styled(f" · {held} call{'s' if held != 1 else ''} held back", "$text-warning"))
        if record.error:
            parts += [Content("\n"), Content.styled(safe(record.error), "$text-error")]
        if record.divergences:
            count = len(record.divergences)
            parts += [Content("\n"), Content.styled(f"{count} divergence{'s' if count != 1 else ''}:", "$text-warning")]
            for divergence in record.divergences:
                parts += [Content("\n  "), Content(divergence_text(divergence))]
        meta.update(Content.assemble(*parts))
        code.show(record.code.rstrip("\n") or "(empty)", "python")
        if record.output:
            output.show(record.output.rstrip("\n"), "text")
        else:
            output.show_message("(no output)")
        rows = [trace_cells(call) for call in record.trace] or [
            (Content.styled("(no tool calls)", "$text-muted"), *(Content("") for _ in TRACE_COLUMNS[1:]))
        ]
        # Widths from the cells themselves: DataTable does not measure Content cells.
        for index, label in enumerate(TRACE_COLUMNS):
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

    # -- replay and compare ------------------------------------------------------------

    def _output_pane(self) -> OutputPane | None:
        """The output pane of the screen under this one, where a replay shows like a run."""
        for screen in reversed(self.app.screen_stack[:-1]):
            panes = screen.query(OutputPane)
            if panes:
                return panes.first()
        return None

    def _replayable(self) -> RunRecord | None:
        record = self.query_one(HistoryList).highlighted_record
        if record is None:
            return None
        if record.trace and not record.recorded:
            self.notify(
                f"Run {record.id} made tool calls but has no recording: it cannot be replayed.", severity="warning"
            )
            return None
        return record

    def action_replay(self) -> None:
        """Replay the highlighted run: its code, every call answered from its recording."""
        record = self._replayable()
        if record is None:
            return
        if self._replay is not None:
            self.dismiss(None)
            self._replay(record, None, False)
            return
        output = self._output_pane()
        if output is None or output.busy:
            self.notify("A run is going: stop it before replaying.", severity="warning")
            return
        self.dismiss(None)
        output.replay(record)

    def action_edit_replay(self) -> None:
        """Reopen the run's code; the edited code then replays with this run's recorded reads."""
        record = self._replayable()
        if record is None:
            return
        output = self._output_pane()
        if output is not None:
            output.replay_base = record
        self.notify(f"Edit the code, then replay it with the recorded reads of run {record.id}.", markup=False)
        self.dismiss(record)

    def action_mark(self) -> None:
        """Mark the highlighted run to compare with another (or unmark it)."""
        history_list = self.query_one(HistoryList)
        record = history_list.highlighted_record
        if record is None:
            return
        if history_list.toggle_mark(record):
            self.notify(f"Marked run {record.id}: highlight another run and press c to compare.", markup=False)

    def compare_partner(self, record: RunRecord) -> RunRecord | None:
        """What ``record`` is compared with: the marked run, else the run it replayed, else the one before it."""
        history_list = self.query_one(HistoryList)
        marked = history_list.marked_record
        if marked is not None and marked.id != record.id:
            return marked
        records = history_list.records
        if record.replay_of:
            found = next((other for other in records if other.id == record.replay_of), None)
            if found is not None:
                return found
        index = next((i for i, other in enumerate(records) if other.id == record.id), None)
        if index is not None and index + 1 < len(records):
            return records[index + 1]
        return None

    def action_compare(self) -> None:
        """Compare the highlighted run with its partner (older run on the left)."""
        record = self.query_one(HistoryList).highlighted_record
        if record is None:
            return
        partner = self.compare_partner(record)
        if partner is None:
            self.notify("Mark a run (m), then highlight another and press c.", severity="warning")
            return
        records = self.query_one(HistoryList).records
        position = {other.id: i for i, other in enumerate(records)}
        # Newest first in the list: the older run is the one further down.
        if position.get(partner.id, 0) > position.get(record.id, 0):
            left, right = partner, record
        else:
            left, right = record, partner
        self._compare(left, right)

    @work(group="history-compare", exclusive=True, exit_on_error=False, thread=True)
    def _compare(self, left: RunRecord, right: RunRecord) -> None:
        from ...snippets.run_diff import diff_runs

        diff = diff_runs(left, right, self._recording(left), self._recording(right))
        self.app.call_from_thread(self._show_diff, diff, left, right)

    def _recording(self, record: RunRecord) -> Recording | None:
        """A run's recording for full results (``None``: compare on the trace's previews)."""
        workspace = self._workspace
        if workspace is None and getattr(self.app, "engine_ready", False):
            workspace = self.app.workspace  # type: ignore[attr-defined]
        if workspace is None or not record.recorded:
            return None
        try:
            return workspace.recording_of(record)
        except (OSError, ValueError):
            return None

    def _show_diff(self, diff: Any, left: RunRecord, right: RunRecord) -> None:
        from .run_diff import RunDiffScreen

        self.app.push_screen(RunDiffScreen(diff, left, right))

    @on(Button.Pressed, "#history-replay")
    def _replay_pressed(self) -> None:
        self.action_replay()

    @on(Button.Pressed, "#history-edit-replay")
    def _edit_replay_pressed(self) -> None:
        self.action_edit_replay()

    @on(Button.Pressed, "#history-mark")
    def _mark_pressed(self) -> None:
        self.action_mark()

    @on(Button.Pressed, "#history-compare")
    def _compare_pressed(self) -> None:
        self.action_compare()
