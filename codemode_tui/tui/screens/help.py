"""F1: every key binding, by pane, with the id to remap it in settings.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


@dataclass
class HelpEntry:
    keys: str
    description: str
    binding_id: str = ""


@dataclass
class HelpSection:
    title: str
    entries: list[HelpEntry]


INTRO = (
    "Find a tool on the left, Enter inserts an example call into the editor, F5 runs it in the sandbox, "
    "ctrl+c stops a run. ctrl+p opens the command palette, which offers every action. "
    'Remap a key in settings.json: {"keymap": {"<id>": "<key>"}}.'
)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of bindings; any of escape, q or F1 closes it."""

    CSS_PATH = Path(__file__).parent / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1", "close", "Close", id="help-close")]

    def __init__(self, sections: list[HelpSection], settings_path: str = "settings.json") -> None:
        super().__init__()
        self.sections = sections
        self.settings_path = settings_path

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Content("Keys"), id="help-title")
            yield Static(Content.styled(INTRO, "$text-muted"), id="help-intro")
            with VerticalScroll(id="help-scroll"):
                for section in self.sections:
                    yield Static(Content.styled(section.title, "bold $text-primary"), classes="help-section")
                    lines = []
                    for entry in section.entries:
                        lines.append(
                            Content.assemble(
                                Content.styled(f"{entry.keys:<16}", "bold $text-accent"),
                                Content(f"{entry.description:<40}"),
                                Content.styled(entry.binding_id, "$text-muted"),
                            )
                        )
                    yield Static(Content("\n").join(lines), classes="help-entries")

    def action_close(self) -> None:
        self.dismiss(None)
