"""Where agents connect: the URL, the token and a client config snippet ready to paste.

``codemode-tui --serve`` serves the meta-tools over streamable HTTP on
loopback while the playground is open.  Every request needs the bearer
token, so this dialog shows it (and copies it) with the configuration a
client needs: Cursor and VS Code take a streamable HTTP server with headers
(their files differ in the outer key and the transport's name); Claude
Desktop's file takes local commands, so it reaches the server through
``mcp-remote``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TabbedContent, TabPane

from ..widgets.code_view import CodeView

Client = Literal["claude", "cursor", "vscode"]
CLIENTS: tuple[tuple[Client, str], ...] = (
    ("claude", "Claude Desktop"),
    ("cursor", "Cursor"),
    ("vscode", "VS Code"),
)
SERVER_NAME = "codemode-tui"


@dataclass(frozen=True)
class ServeInfo:
    """What the playground serves on: the URL, and the token every request must carry."""

    url: str
    token: str
    port: int


def client_config(info: ServeInfo, client: Client) -> str:
    """The JSON a client's MCP configuration needs for this server (streamable HTTP, bearer token)."""
    headers = {"Authorization": f"Bearer {info.token}"}
    if client == "vscode":  # .vscode/mcp.json
        data: dict[str, object] = {"servers": {SERVER_NAME: {"type": "http", "url": info.url, "headers": headers}}}
    elif client == "cursor":  # ~/.cursor/mcp.json
        data = {"mcpServers": {SERVER_NAME: {"url": info.url, "headers": headers}}}
    else:  # claude_desktop_config.json: its file takes local commands, so mcp-remote bridges to HTTP
        args = ["-y", "mcp-remote", info.url, "--header", f"Authorization: Bearer {info.token}"]
        data = {"mcpServers": {SERVER_NAME: {"command": "npx", "args": args}}}
    return json.dumps(data, indent=2)


class ServeInfoScreen(ModalScreen[None]):
    """The serving address and token; c copies the token, s the shown snippet, u the URL."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="serve-close"),
        Binding("ctrl+c,c", "copy('token')", "Copy token", id="serve-copy-token", priority=True),
        Binding("s", "copy('snippet')", "Copy config snippet", id="serve-copy-snippet"),
        Binding("u", "copy('url')", "Copy URL", id="serve-copy-url"),
    ]

    def __init__(self, info: ServeInfo, *, agents: int = 0) -> None:
        super().__init__()
        self.info = info
        self.agents = agents

    def compose(self) -> ComposeResult:
        info = self.info
        muted = "$text-muted"
        with Vertical(classes="dialog wide tall", id="serve-info"):
            yield Static(Content.styled("Agents connect here", "bold"), classes="dialog-title")
            yield Static(
                Content("\n").join(
                    [
                        Content.assemble(Content.styled("URL    ", muted), Content.styled(info.url, "bold")),
                        Content.assemble(Content.styled("token  ", muted), Content(info.token)),
                        Content.assemble(
                            Content.styled("now    ", muted),
                            Content(f"{self.agents} agent{'s' if self.agents != 1 else ''} connected"),
                        ),
                        Content.styled(
                            "Every request needs 'Authorization: Bearer <token>'; paste one of these into the client:",
                            muted,
                        ),
                    ]
                ),
                id="serve-summary",
            )
            with TabbedContent(id="serve-clients"):
                for client, title in CLIENTS:
                    with TabPane(title, id=f"serve-{client}"), VerticalScroll(classes="output-scroll"):
                        yield CodeView("", id=f"serve-snippet-{client}")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy token (c)", id="copy-token", variant="primary", compact=True)
                yield Button("Copy snippet (s)", id="copy-snippet", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        for client, _ in CLIENTS:
            self.query_one(f"#serve-snippet-{client}", CodeView).show(client_config(self.info, client), "json")

    @property
    def shown_client(self) -> Client:
        active = self.query_one(TabbedContent).active or "serve-claude"
        return active.removeprefix("serve-")  # type: ignore[return-value]

    def action_copy(self, what: str) -> None:
        if what == "token":
            text, said = self.info.token, "the token"
        elif what == "url":
            text, said = self.info.url, "the URL"
        else:
            client = self.shown_client
            text, said = client_config(self.info, client), f"the {dict(CLIENTS)[client]} config"
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {said}.", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy-token":
            self.action_copy("token")
        elif event.button.id == "copy-snippet":
            self.action_copy("snippet")
        else:
            self.dismiss(None)
