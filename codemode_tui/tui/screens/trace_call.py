"""One tool call of a run: its arguments and its result or error, where it was made and who answered it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..formatting import format_duration, pretty_json
from ..widgets.code_view import CodeView
from ..widgets.trace_table import answered_cell, record_name, record_ok

if TYPE_CHECKING:
    from ...executor.run_result import ToolCallRecord


class TraceCallScreen(ModalScreen[None]):
    """Read-only view; escape closes it."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "close", "Close", id="call-close")]

    def __init__(self, record: ToolCallRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        record = self.record
        ok = record_ok(record)
        status = (
            ("running", "$text-warning")
            if ok is None
            else (("ok", "$text-success") if ok else ("error", "$text-error"))
        )
        with Vertical(classes="dialog wide tall"):
            yield Static(
                Content.assemble(
                    Content.styled(record_name(record), "bold"),
                    Content.styled(f"  {format_duration(record.duration)}  ", "$text-muted"),
                    Content.styled(status[0], status[1]),
                ),
                classes="dialog-title",
            )
            yield Static(self._provenance(), id="call-provenance")
            with VerticalScroll(id="call-scroll"):
                yield Static(Content.styled("Arguments", "bold"), classes="dialog-heading")
                args = CodeView("", id="call-arguments")
                yield args
                yield Static(Content.styled("Error" if record.error else "Result", "bold"), classes="dialog-heading")
                yield CodeView("", id="call-result")

    def _provenance(self) -> Content:
        """Call number and code line, who answered (server, recording, placeholder) and the gate's decision."""
        record = self.record
        parts = [Content.styled(f"call {record.order}" if record.order else "call", "$text-muted")]
        if record.line:
            parts.append(Content.styled(f" · line {record.line}", "$text-muted"))
        parts += [Content.styled(" · answered by ", "$text-muted"), answered_cell(record.answered)]
        if record.decision:
            parts += [Content.styled(" · ", "$text-muted"), Content(record.decision)]
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        record = self.record
        self.query_one("#call-arguments", CodeView).show(pretty_json(record.arguments), "json")
        result_view = self.query_one("#call-result", CodeView)
        if record.error:
            result_view.show(record.error, "text")
            return
        preview, size = record.preview, record.result_size
        try:
            result_view.show(pretty_json(json.loads(preview)), "json")
        except ValueError:
            shown = preview + ("\n…" if size > len(preview.encode()) else "")
            result_view.show(shown or "(empty result)", "text")

    def action_close(self) -> None:
        self.dismiss(None)
