"""The effect plan of a dry run: every call that was held back, before anything real happens.

A dry run runs the code for real except for the calls that are not read-only:
those get an answer from a recording or a placeholder built from the tool's
output schema, and each is listed here (order, tool, kind, code line, what
answered it, arguments).  "Run for real" then runs the same code live; the
plan is what it will change.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from ..formatting import pretty_json
from ..widgets.code_view import CodeView
from ..widgets.trace_table import answered_cell, line_cell

if TYPE_CHECKING:
    from ...executor.call_gate import PlannedCall
    from ...executor.run_result import RunResult

EMPTY_PLAN = "Nothing to hold back: every call is read-only."
PLAN_COLUMNS = ("#", "tool", "kind", "line", "answered", "arguments")


def arguments_line(arguments: dict[str, object], width: int = 60) -> str:
    """The arguments on one line, cut to ``width``."""
    import json

    text = json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=repr)[1:-1]
    return text if len(text) <= width else text[: width - 1] + "…"


def plan_cells(call: PlannedCall) -> tuple[Content, ...]:
    """One row of the plan."""
    return (
        Content(str(call.order)),
        Content(call.tool),
        Content.styled(call.kind or "–", "$text-warning" if call.kind == "destructive" else ""),
        line_cell(call.line),
        answered_cell(call.answered),
        Content(arguments_line(call.arguments)),
    )


class EffectPlanScreen(ModalScreen[bool]):
    """Dismisses with ``True`` to run the code for real, ``False`` to leave it."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).parent / "dialogs.tcss",
        Path(__file__).parent.parent / "recorded.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "answer(False)", "Cancel", id="plan-cancel"),
        Binding("r", "answer(True)", "Run for real", id="plan-run"),
    ]

    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result
        self.effects: list[PlannedCall] = list(result.effects)
        self.ready = False
        """Set once the plan is on screen (for tests and screenshots)."""

    def compose(self) -> ComposeResult:
        count = len(self.effects)
        with Vertical(classes="dialog wide", id="plan-dialog"):
            yield Static(
                Content.assemble(
                    Content.styled("Effect plan", "bold"),
                    Content.styled(
                        f"  {count} call{'s' if count != 1 else ''} held back" if count else "  nothing held back",
                        "$text-muted",
                    ),
                ),
                classes="dialog-title",
            )
            yield Static(self._outcome(), id="plan-outcome")
            if self.effects:
                yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
                yield Static(Content.styled("Arguments", "bold"), classes="dialog-heading")
                with VerticalScroll(id="plan-arguments-scroll"):
                    yield CodeView("", id="plan-arguments")
            else:
                yield Static(Content.styled(EMPTY_PLAN, "$text-success"), id="plan-empty")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run for real (r)", variant="warning", id="plan-run", compact=True)
                yield Button("Cancel (esc)", id="plan-cancel", compact=True)

    def _outcome(self) -> Content:
        """How the dry run itself went: code after a placeholder may fail where a live run would not."""
        result = self.result
        calls = len(result.trace)
        parts = [
            Content.styled(
                f"The dry run made {calls} call{'s' if calls != 1 else ''}; read-only calls ran live, "
                "the rest were answered without calling the server.",
                "$text-muted",
            )
        ]
        if result.error is not None:
            parts += [
                Content("\n"),
                Content.styled(f"It ended with {result.error} (a placeholder may explain it).", "$text-warning"),
            ]
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        self.ready = True
        if not self.effects:
            self.query_one("#plan-cancel", Button).focus()
            return
        table = self.query_one("#plan-table", DataTable)
        rows = [plan_cells(call) for call in self.effects]
        # Widths from the cells themselves: DataTable does not measure Content cells.
        for index, label in enumerate(PLAN_COLUMNS):
            width = max(len(label), *(row[index].cell_length for row in rows))
            table.add_column(label, key=label, width=width)
        for row in rows:
            table.add_row(*row)
        table.focus()
        self._show_arguments(0)

    @on(DataTable.RowHighlighted, "#plan-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_arguments(event.cursor_row)

    def _show_arguments(self, index: int) -> None:
        if 0 <= index < len(self.effects):
            call = self.effects[index]
            self.query_one("#plan-arguments", CodeView).show(pretty_json(call.arguments), "json")

    @on(DataTable.RowSelected, "#plan-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter on a row shows it; running for real is its own key

    def action_answer(self, run: bool) -> None:
        self.dismiss(run)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "plan-run")
