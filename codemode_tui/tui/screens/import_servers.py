"""Import servers from another client's file (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf).

The dialog reads the file in a worker first: when it declares VS Code inputs
(``${input:id}``) that have no value, it asks for each one in place (password
inputs masked) before importing, with an opt-in to save the values in the
servers file; otherwise they are kept for this session only.  Given an
``importer``, the dialog runs the import itself and shows its report (added,
kept, not imported and why) before closing; without one it hands the request
back to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from ...config import ConfigError, ImportReport, InputSpec, read_client_config


@dataclass
class ImportRequest:
    """What the user chose; ``report`` is set when the dialog ran the import itself."""

    path: Path
    replace: bool
    inputs: dict[str, str] = field(default_factory=dict)
    save_inputs: bool = False
    report: ImportReport | None = None


Importer = Callable[[ImportRequest], ImportReport]
"""Runs an import (on the UI thread: it changes the workspace) and returns its report."""


class ImportServersScreen(ModalScreen[ImportRequest | None]):
    """Asks for a file, then for any missing inputs; imports and reports when given an ``importer``."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).parent / "dialogs.tcss",
        Path(__file__).parent / "import_servers.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="import-cancel")]

    def __init__(self, importer: Importer | None = None) -> None:
        super().__init__()
        self.importer = importer
        self.path: Path | None = None
        self.asked: list[InputSpec] = []
        self.done: ImportRequest | None = None

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
            yield VerticalScroll(id="import-inputs")
            yield Static("", id="import-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", variant="primary", id="import", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def action_cancel(self) -> None:
        self.dismiss(self.done)

    def _error(self, message: str) -> None:
        self.query_one("#import-error", Static).update(Content.styled(message, "$text-error"))
        self.query_one("#import", Button).disabled = False

    def _submit(self) -> None:
        if self.done is not None:  # the report is showing: the button closes
            self.dismiss(self.done)
            return
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self._error("give the path of an mcpServers JSON file")
            return
        path = Path(raw).expanduser()
        if not path.is_file():
            self._error(f"no file at {raw}")
            return
        if self.asked and path == self.path:
            self._import_with_inputs()
            return
        self.path, self.asked = path, []
        self.query_one("#import-inputs", VerticalScroll).remove_children()
        self.query_one("#import", Button).disabled = True
        self._read(path)

    @work(group="import-read", exclusive=True, exit_on_error=False, thread=True)
    def _read(self, path: Path) -> None:
        try:
            missing = read_client_config(path).missing_inputs
        except ConfigError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self._read_done, path, missing)

    def _read_done(self, path: Path, missing: list[InputSpec]) -> None:
        self.query_one("#import", Button).disabled = False
        if missing:
            self._ask(missing)
        else:
            self._finish(ImportRequest(path, self._replace))

    @property
    def _replace(self) -> bool:
        return self.query_one("#import-replace", Checkbox).value

    def _ask(self, specs: list[InputSpec]) -> None:
        """One field per missing input, masked when the file says ``password``."""
        self.asked = specs
        box = self.query_one("#import-inputs", VerticalScroll)
        widgets: list[Static | Input | Checkbox] = [
            Static(Content.styled("The file asks for these values (VS Code inputs):", "$text-muted"))
        ]
        for index, spec in enumerate(specs):
            label = Content.assemble((spec.id, "bold"), f"  {spec.description}" if spec.description else "")
            widgets.append(Static(label, classes="import-input-label"))
            widgets.append(Input(password=spec.password, id=f"import-input-{index}", classes="import-input"))
        widgets.append(
            Checkbox(
                "Save these values in the servers file (plain text); else they last this session",
                id="import-save-inputs",
                compact=True,
            )
        )
        box.mount_all(widgets)
        box.display = True
        self.query_one("#import-error", Static).update("")
        self.call_after_refresh(self.query_one("#import-input-0", Input).focus)

    def _import_with_inputs(self) -> None:
        assert self.path is not None
        values: dict[str, str] = {}
        for index, spec in enumerate(self.asked):
            value = self.query_one(f"#import-input-{index}", Input).value
            if not value:
                self._error(f"give a value for {spec.id}" + (f" ({spec.description})" if spec.description else ""))
                return
            values[spec.id] = value
        save = self.query_one("#import-save-inputs", Checkbox).value
        self._finish(ImportRequest(self.path, self._replace, values, save))

    def _finish(self, request: ImportRequest) -> None:
        if self.importer is None:
            self.dismiss(request)
            return
        try:
            request.report = self.importer(request)
        except (ConfigError, ValueError) as exc:
            self._error(str(exc))
            return
        self.done = request
        self._show_report(request.report)

    def _show_report(self, report: ImportReport) -> None:
        """The same report the command line prints, in place of the form."""
        for selector in ("#import-path", "#import-replace", "#import-inputs", "#cancel"):
            self.query_one(selector).display = False
        lines = report.lines()
        failed = len(report.failed)
        style = "$text-warning" if failed or report.conflicts else "$text-success"
        self.query_one("#import-error", Static).update(Content.styled("\n".join(lines), style))
        button = self.query_one("#import", Button)
        button.label = "Close"
        button.disabled = False
        button.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import":
            self._submit()
        else:
            self.action_cancel()
