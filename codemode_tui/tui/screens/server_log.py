"""A server's health: status, the reason it failed, and the last lines of its stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..formatting import safe

if TYPE_CHECKING:
    from ...registry import ServerInfo


class ServerLogScreen(ModalScreen[str | None]):
    """Dismisses with ``"reconnect"`` when the user asks for it, else ``None``."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="log-close"),
        Binding("r", "reconnect", "Reconnect", id="log-reconnect"),
    ]

    def __init__(self, info: ServerInfo, target: str, stderr: list[str]) -> None:
        super().__init__()
        self.info = info
        self.target = target
        self.stderr = stderr

    def compose(self) -> ComposeResult:
        info = self.info
        status_style = {"connected": "$text-success", "failed": "$text-error"}.get(info.status, "$text-warning")
        with Vertical(classes="dialog wide"):
            yield Static(
                Content.assemble(Content.styled(info.name, "bold"), Content.styled("  server", "$text-muted")),
                classes="dialog-title",
            )
            yield Static(
                Content.assemble(
                    Content.styled("status     ", "$text-muted"),
                    Content.styled(info.status, status_style),
                    "\n",
                    Content.styled("transport  ", "$text-muted"),
                    Content(info.transport),
                    "\n",
                    Content.styled("runs       ", "$text-muted"),
                    Content(self.target),
                    "\n",
                    Content.styled("tools      ", "$text-muted"),
                    Content(str(info.tool_count)),
                ),
                id="server-facts",
            )
            if info.error:
                yield Static(Content.styled("Why it failed", "bold $text-error"), classes="dialog-heading")
                yield Static(Content(safe(info.error)), id="server-error")
            yield Static(Content.styled("stderr (last lines)", "bold"), classes="dialog-heading")
            with VerticalScroll(id="stderr-scroll"):
                text = "\n".join(self.stderr[-200:]) if self.stderr else "(nothing written to stderr)"
                yield Static(Content(safe(text)), id="stderr")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reconnect (r)", variant="primary", id="reconnect", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#stderr-scroll").scroll_end(animate=False)
        self.query_one("#close", Button).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reconnect(self) -> None:
        self.dismiss("reconnect")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss("reconnect" if event.button.id == "reconnect" else None)
