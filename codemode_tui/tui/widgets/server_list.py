"""The servers pane: every configured server with its status, transport and tool count."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable

from ..formatting import status_glyph
from ..ui_types import SERVER_ACTIONS, ServerAction

if TYPE_CHECKING:
    from ...registry import ServerInfo


class ServerList(DataTable[Content]):
    """A table of servers; its keys ask the main screen to add, edit, delete or reconnect one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "request('add')", "Add", id="server-add", tooltip="Add a server"),
        Binding("e", "request('edit')", "Edit", id="server-edit", tooltip="Edit the highlighted server"),
        Binding(
            "delete,d",
            "request('delete')",
            "Delete",
            id="server-delete",
            tooltip="Delete the highlighted server (asks first)",
        ),
        Binding(
            "space",
            "request('toggle')",
            "On/off",
            id="server-toggle",
            tooltip="Enable or disable the highlighted server",
        ),
        Binding("r", "request('reconnect')", "Reconnect", id="server-reconnect", tooltip="Restart the server session"),
        Binding("l,enter", "request('log')", "Log", id="server-log", tooltip="Status, failure reason and stderr"),
        Binding("p", "request('policy')", "Policy", id="server-policy", tooltip="Which tools run, ask or are refused"),
        Binding(
            "i", "request('import')", "Import", id="server-import", tooltip="Import an mcpServers JSON file", show=False
        ),
    ]

    class ActionRequested(Message):
        """Asks for ``action`` on ``server`` (the highlighted one; ``None`` when there is none)."""

        def __init__(self, action: ServerAction, server: str | None) -> None:
            super().__init__()
            self.action = action
            self.server = server

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_header=False)
        self.border_title = "Servers"
        self._servers: list[ServerInfo] = []

    def on_mount(self) -> None:
        self.add_column("", key="status", width=1)
        self.add_column("server", key="name")
        self.add_column("transport", key="transport")
        self.add_column("tools", key="tools")

    @property
    def highlighted_server(self) -> str | None:
        if not self._servers or self.cursor_row < 0 or self.cursor_row >= len(self._servers):
            return None
        return self._servers[self.cursor_row].name

    def show(self, servers: list[ServerInfo]) -> None:
        """Replace the rows, keeping the highlighted server highlighted."""
        keep = self.highlighted_server
        self._servers = list(servers)
        self.clear()
        for info in servers:
            name = Content(info.name) if info.enabled else Content.styled(info.name, "$text-disabled")
            count = Content(str(info.tool_count)) if info.status == "connected" else Content("")
            self.add_row(
                status_glyph(info.status), name, Content.styled(info.transport, "$text-muted"), count, key=info.name
            )
        names = [info.name for info in servers]
        if keep in names:
            self.move_cursor(row=names.index(keep), animate=False)
        connected = sum(1 for info in servers if info.status == "connected")
        self.border_subtitle = f"{connected}/{len(servers)} connected" if servers else "none: press a to add"

    def action_request(self, action: str) -> None:
        if action in SERVER_ACTIONS:
            self.post_message(self.ActionRequested(action, self.highlighted_server))  # type: ignore[arg-type]
