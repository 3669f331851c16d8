"""A server's tool policy: who may call what, edited where the servers are.

Lists the server's tools with the decision each gets now (``allow``, ``ask``,
``deny``) and where it comes from (the tool's own entry, the server's, or the
default for its kind, read from its annotations).  Enter or space cycles the
highlighted tool's own entry (none, allow, ask, deny), ``s`` the server's; the
change holds at once for every run and is saved in the policy file when the
dialog closes.  Dismisses with whether anything changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from ...executor.policy import ToolPolicy
    from ...tool_types import ToolDefinition

#: What Enter cycles through: no entry of its own (``None``), then the three decisions.
CYCLE: tuple[str | None, ...] = (None, "allow", "ask", "deny")
_STYLE = {"allow": "$text-success", "ask": "$text-warning", "deny": "$text-error"}


class PolicyScreen(ModalScreen[bool]):
    """See the module docstring."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "cycle_tool", "Tool: allow/ask/deny", id="policy-tool"),
        Binding("s", "cycle_server", "Server: allow/ask/deny", id="policy-server"),
        Binding("escape,q", "close", "Close (saves)", id="policy-close"),
    ]

    def __init__(self, server: str, tools: list[ToolDefinition], policy: ToolPolicy) -> None:
        super().__init__()
        self.server = server
        self.tools = sorted(tools, key=lambda tool: tool.name)
        self.policy = policy
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Static(id="policy-title", classes="dialog-title")
            yield DataTable(id="policy-tools", cursor_type="row", zebra_stripes=True)
            yield Static(
                Content.styled(
                    "Enter: the tool's own decision (none → allow → ask → deny)   s: the server's   "
                    "Esc: close and save\n"
                    "ask: the run waits while you (or, headless, the agent's client) decide; deny: the code gets a "
                    "ToolError",
                    "$text-muted",
                ),
                classes="dialog-body",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("tool", "tool"), ("kind", "kind"), ("decision", "decision"), ("why", "from")):
            table.add_column(label, key=key)
        self._fill()
        table.focus()

    def _fill(self) -> None:
        from ...executor.policy import tool_kind

        server = self.policy.servers.get(self.server)
        title = Content.assemble(
            Content.styled(f"Tool policy of {self.server}", "bold"),
            Content.styled("   server: ", "$text-muted"),
            Content.styled(server, _STYLE[server]) if server else Content.styled("by annotation", "$text-muted"),
        )
        self.query_one("#policy-title", Static).update(title)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for tool in self.tools:
            decision, why = self.policy.decide(tool.qualified_name, tool)
            table.add_row(
                Content(tool.name),
                Content.styled(tool_kind(tool).replace("_", "-"), "$text-muted"),
                Content.styled(decision, _STYLE[decision]),
                Content.styled(why.removeprefix("the "), "$text-muted"),
                key=tool.qualified_name,
            )
        if self.tools:
            table.move_cursor(row=min(max(row, 0), len(self.tools) - 1), animate=False)

    def action_cycle_tool(self) -> None:
        table = self.query_one(DataTable)
        if not self.tools or table.cursor_row < 0:
            return
        name = self.tools[table.cursor_row].qualified_name
        current = self.policy.tools.get(name)
        following = CYCLE[(CYCLE.index(current) + 1) % len(CYCLE)] if current in CYCLE else None
        if following is None:
            self.policy.tools.pop(name, None)
        else:
            self.policy.set_tool(name, following)  # type: ignore[arg-type]
        self.changed = True
        self._fill()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter on a row (the table's own key): the same as space
        self.action_cycle_tool()

    def action_cycle_server(self) -> None:
        current = self.policy.servers.get(self.server)
        following = CYCLE[(CYCLE.index(current) + 1) % len(CYCLE)] if current in CYCLE else None
        if following is None:
            self.policy.servers.pop(self.server, None)
        else:
            self.policy.servers[self.server] = following  # type: ignore[assignment]
        self.changed = True
        self._fill()

    def action_close(self) -> None:
        self.dismiss(self.changed)
