"""Import servers from an ``mcpServers`` JSON file (Claude Desktop, Cursor, VS Code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static


@dataclass
class ImportRequest:
    path: Path
    replace: bool


class ImportServersScreen(ModalScreen[ImportRequest | None]):
    """Asks for a file; the App reads and merges it in a worker."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="import-cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Import servers", classes="dialog-title")
            yield Static(
                Content.styled(
                    "An mcpServers JSON file, as Claude Desktop, Cursor or VS Code write it. Servers whose names "
                    "already exist are kept unless you tick Replace.",
                    "$text-muted",
                ),
                classes="dialog-body",
            )
            yield Input(placeholder="path/to/claude_desktop_config.json", id="import-path")
            yield Checkbox("Replace servers with the same name", id="import-replace", compact=True)
            yield Static("", id="import-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", variant="primary", id="import", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        raw = self.query_one("#import-path", Input).value.strip()
        error = self.query_one("#import-error", Static)
        if not raw:
            error.update(Content.styled("give the path of an mcpServers JSON file", "$text-error"))
            return
        path = Path(raw).expanduser()
        if not path.is_file():
            error.update(Content.styled(f"no file at {raw}", "$text-error"))
            return
        self.dismiss(ImportRequest(path, self.query_one("#import-replace", Checkbox).value))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import":
            self._submit()
        else:
            self.dismiss(None)
