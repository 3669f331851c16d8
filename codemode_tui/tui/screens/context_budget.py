"""The context budget: tokens that every tool definition would take versus the Code Mode meta-tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

BAR_WIDTH = 30


def _bar(value: int, largest: int, style: str) -> Content:
    cells = 0 if largest <= 0 else max(1 if value else 0, round(BAR_WIDTH * value / largest))
    return Content.styled("█" * cells, style)


class ContextBudgetScreen(ModalScreen[None]):
    """Shows the answer of ``MetaTools.context_cost()`` (computed by the App in a worker)."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f7", "close", "Close", id="budget-close")]

    def __init__(self, cost: dict[str, Any]) -> None:
        super().__init__()
        self.cost = cost

    def compose(self) -> ComposeResult:
        cost = self.cost
        every = int(cost["all_tools"]["estimated_tokens"])
        meta = int(cost["meta_tools"]["estimated_tokens"])
        saved = int(cost["estimated_tokens_saved"])
        share = f"{100 * saved / every:.0f}%" if every else "–"
        largest = max(every, meta)
        with Vertical(classes="dialog wide tall"):
            yield Static("Context budget", classes="dialog-title")
            yield Static(
                Content.assemble(
                    Content.styled("Every tool definition in the model's context\n", "bold"),
                    _bar(every, largest, "$text-error"),
                    f" {every:,} tokens · {cost['tools']} tools from {cost['servers']} server"
                    f"{'s' if cost['servers'] != 1 else ''}\n\n",
                    Content.styled("Code Mode: the meta-tools only\n", "bold"),
                    _bar(meta, largest, "$text-success"),
                    f" {meta:,} tokens · {', '.join(cost['meta_tools']['names'])}\n\n",
                    Content.styled("Saved on every request: ", "bold"),
                    Content.styled(f"{saved:,} tokens ({share})", "bold $text-success"),
                ),
                id="budget-summary",
            )
            with VerticalScroll(id="budget-scroll"):
                yield DataTable(id="budget-servers", cursor_type="none", zebra_stripes=True)
            yield Static(Content.styled(str(cost.get("note", "")), "$text-muted"), id="budget-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("server", key="server")
        table.add_column("tools", key="tools")
        table.add_column("est. tokens", key="tokens")
        for row in sorted(self.cost["per_server"], key=lambda r: -int(r["estimated_tokens"])):
            table.add_row(
                Content(str(row["server"])), Content(str(row["tools"])), Content(f"{int(row['estimated_tokens']):,}")
            )

    def action_close(self) -> None:
        self.dismiss(None)
