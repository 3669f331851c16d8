"""An agent run's trace as it grows: one row per tool call, with the line that made it and its decision.

Watching an agent, what matters of each call is what it did and what let it
through: the policy's decision (allowed, approved once by a person, denied)
sits next to the tool, and the code line says where in the agent's script
the call was made.  Enter opens the call's arguments and result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from ..formatting import format_duration, safe
from .trace_table import TraceTable, record_ok, status_cell

if TYPE_CHECKING:
    from ...executor.run_result import ToolCallRecord

COLUMNS = ("n", "tool", "line", "time", "status", "decision")


def decision_style(decision: str | None) -> str:
    """Denials in the error colour, a person's approval in the warning colour, the rest muted."""
    text = decision or ""
    if text.startswith("denied") or "deny" in text:
        return "$text-error"
    if text.startswith("approved"):
        return "$text-warning"
    return "$text-muted"


def short_decision(decision: str | None) -> str:
    """A gate's decision in fewer words ("allowed by default for read-only"), for a narrow column."""
    text = decision or ""
    if " the default for " in text and text.endswith(" tools"):
        text = text.replace(" the default for ", " default for ").removesuffix(" tools")
    return text


class AgentTrace(TraceTable):
    """The trace table with the columns of a watched run: rows added (or updated in place) as calls finish."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_call", "Open call", id="agent-trace-open", tooltip="Open the call: arguments and result")
    ]

    def _add_columns(self) -> None:
        # Fixed widths: the rows arrive one by one while the view may be hidden.
        self.add_column("#", key="n", width=3)
        self.add_column("tool", key="tool", width=22)
        self.add_column("line", key="line", width=4)
        self.add_column("time", key="time", width=7)
        self.add_column("status", key="status", width=7)
        self.add_column("decision", key="decision", width=48)

    def show(self, records: list[ToolCallRecord]) -> None:
        """Replace the rows with ``records`` (another run was selected)."""
        self.reset()
        for record in records:
            self.add_record(record)

    def _cells(self, number: int, record: ToolCallRecord) -> tuple[Content, ...]:
        decision = short_decision(record.decision) or ("from the recording" if record.answered == "recording" else "")
        return (
            Content(str(number)),
            Content(safe(record.name)),
            Content(str(record.line) if record.line else ""),
            Content(format_duration(record.duration) if record_ok(record) is not None else "…"),
            status_cell(record, with_error=False),  # the message: in the call (enter)
            Content.styled(decision, decision_style(record.decision)),
        )
