"""Two runs compared: their tool calls side by side, the calls that differ marked, and their outputs' diff.

The comparison itself is the engine's (``snippets.run_diff.diff_runs``): calls
lined up by tool, each pair the same, with other arguments or another result,
and calls only one run made.  This screen lays it out: one row per pair, the
first run's call on the left and the second's on the right, a mark and a colour
per kind; the highlighted row's arguments and results below; then the unified
diff of the two outputs and the two values when they differ.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..formatting import format_duration, run_status
from ..widgets.code_view import CodeView
from ..widgets.history_list import mode_label, run_mode

if TYPE_CHECKING:
    from ...snippets import RunRecord
    from ...snippets.run_diff import CallChange, RunDiff

#: Mark, words and style of each kind of change.
KINDS: dict[str, tuple[str, str, str]] = {
    "same": (" ", "same", "$text-muted"),
    "added": ("+", "added", "$text-success"),
    "removed": ("-", "removed", "$text-error"),
    "arguments": ("~", "other arguments", "$text-warning"),
    "result": ("≠", "other result", "$text-warning"),
}
CALL_WIDTH = 44


def call_text(call: dict[str, Any] | None, width: int = CALL_WIDTH) -> str:
    """``tool(arguments)`` on one line, cut to ``width`` (empty for the side that has no call)."""
    if call is None:
        return ""
    args = json.dumps(call.get("arguments") or {}, ensure_ascii=False, sort_keys=True, default=repr)[1:-1]
    text = f"{call.get('tool', '?')}({args})"
    return text if len(text) <= width else text[: width - 1] + "…"


def change_cells(change: CallChange) -> tuple[Content, ...]:
    mark, words, style = KINDS.get(change.kind, ("?", change.kind, ""))
    quiet = change.kind == "same"
    return (
        Content.styled(mark, f"bold {style}"),
        Content.styled(call_text(change.left), "$text-muted" if quiet else style),
        Content.styled(call_text(change.right), "$text-muted" if quiet else style),
        Content.styled(words, style),
    )


def side_detail(label: str, call: dict[str, Any] | None) -> str:
    """One side of a change: arguments and result (or error) as text."""
    if call is None:
        return f"{label}: (no such call)"
    args = json.dumps(call.get("arguments") or {}, ensure_ascii=False, sort_keys=True, default=repr)
    result = call.get("result")
    shown = "" if result is None else str(result)
    if len(shown) > 400:
        shown = shown[:399] + "…"
    outcome = "error" if call.get("ok") is False else "result"
    line = call.get("line")
    where = f" (line {line})" if line else ""
    return f"{label}{where}: {call.get('tool', '?')}\n  arguments: {args}\n  {outcome}: {shown}"


def run_heading(record: RunRecord, side: str) -> Content:
    calls = len(record.trace)
    mode = run_mode(record)
    mode = "" if mode == "live" else f" · {mode_label(mode)}"
    return Content.assemble(
        Content.styled(f"{side} {record.id} ", "bold"),
        run_status(record.status),
        Content.styled(
            f" · {format_duration(record.duration)} · {calls} call{'s' if calls != 1 else ''}{mode}", "$text-muted"
        ),
    )


class RunDiffScreen(ModalScreen[None]):
    """Read-only; escape closes it."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).parent / "dialogs.tcss",
        Path(__file__).parent.parent / "recorded.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close", id="diff-close")]

    def __init__(self, diff: RunDiff, left: RunRecord, right: RunRecord) -> None:
        super().__init__()
        self.diff = diff
        self.left = left
        self.right = right
        self.ready = False
        """Set once the comparison is on screen (for tests and screenshots)."""

    def compose(self) -> ComposeResult:
        diff = self.diff
        counts = {kind: n for kind, n in diff.counts().items() if kind != "same"}
        summary = (
            "identical"
            if diff.identical
            else "different: " + (", ".join(f"{n} {KINDS[k][1]}" for k, n in counts.items()) or "outputs differ")
        )
        with Vertical(classes="dialog wide tall", id="diff-dialog"):
            yield Static(
                Content.assemble(
                    Content.styled("Compare runs", "bold"),
                    Content.styled(f"  {summary} · esc closes", "$text-muted"),
                ),
                classes="dialog-title",
            )
            with Horizontal(id="diff-heads"):
                yield Static(run_heading(self.left, "A"), classes="diff-head")
                yield Static(run_heading(self.right, "B"), classes="diff-head")
            yield DataTable(id="diff-calls", cursor_type="row", zebra_stripes=False)
            yield CodeView("", id="diff-detail")
            with VerticalScroll(id="diff-scroll"):
                yield Static(Content.styled("Output", "bold"), classes="dialog-heading")
                yield CodeView("", id="diff-output")
                yield Static(Content(""), id="diff-value")

    def on_mount(self) -> None:
        diff = self.diff
        table = self.query_one("#diff-calls", DataTable)
        rows = [change_cells(change) for change in diff.calls]
        labels = ("", f"A {self.left.id}", f"B {self.right.id}", "")
        for index, label in enumerate(labels):
            width = max(len(label), *(row[index].cell_length for row in rows)) if rows else len(label) or 1
            table.add_column(label, key=f"c{index}", width=width)
        for row in rows:
            table.add_row(*row)
        if not rows:
            self.query_one("#diff-detail", CodeView).show_message("Neither run made a tool call.")
        else:
            first = next((i for i, change in enumerate(diff.calls) if change.kind != "same"), 0)
            table.move_cursor(row=first)
            self._show_change(first)
        output = self.query_one("#diff-output", CodeView)
        if diff.output:
            output.show("\n".join(diff.output), "diff")
        else:
            output.show_message("Same output." if self.left.output else "Same output (none).")
        value = self.query_one("#diff-value", Static)
        if diff.value[0] != diff.value[1]:
            value.update(
                Content.assemble(
                    Content.styled("Value  ", "bold"),
                    Content.styled(f"A {diff.value[0]}", "$text-error"),
                    Content("  →  "),
                    Content.styled(f"B {diff.value[1]}", "$text-success"),
                )
            )
        elif diff.value[0] is None:
            value.update(Content.styled("Neither run ended with a value.", "$text-muted"))
        else:
            value.update(Content.styled(f"Same value: {diff.value[0]}", "$text-muted"))
        table.focus()
        self.ready = True

    @on(DataTable.RowHighlighted, "#diff-calls")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_change(event.cursor_row)

    @on(DataTable.RowSelected, "#diff-calls")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    def _show_change(self, index: int) -> None:
        if not 0 <= index < len(self.diff.calls):
            return
        change = self.diff.calls[index]
        words = KINDS.get(change.kind, ("", change.kind, ""))[1]
        text = f"{words}\n{side_detail('A', change.left)}\n{side_detail('B', change.right)}"
        self.query_one("#diff-detail", CodeView).show(text, "text")

    def action_close(self) -> None:
        self.dismiss(None)
