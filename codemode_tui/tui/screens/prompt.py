"""Ask for one value (a name, a folder) and act on it, showing what went wrong in place.

Used to rename a snippet, export it as a skill and import a skill folder.  The
action runs in a worker thread (it touches the disk); when it fails the dialog
stays open with the message and the typed value, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

T = TypeVar("T")

# Errors a user can act on: shown in the dialog.  Anything else is a bug and propagates.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)


class PromptScreen(ModalScreen[T | None], Generic[T]):
    """Dismisses with what ``submit(value, option)`` returned, or ``None`` when cancelled."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(
        self,
        title: str,
        body: str,
        submit: Callable[[str, bool], T],
        *,
        value: str = "",
        placeholder: str = "",
        action: str = "OK",
        option: str | None = None,
        empty_error: str = "type a value first",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.submit = submit
        self.value = value
        self.placeholder = placeholder
        self.action = action
        self.option = option
        self.empty_error = empty_error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="prompt-dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Static(Content.styled(self.body, "$text-muted"), classes="dialog-body")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-value")
            if self.option is not None:
                yield Checkbox(self.option, id="prompt-option", compact=True)
            yield Static("", id="prompt-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action, variant="primary", id="prompt-ok", compact=True)
                yield Button("Cancel", id="prompt-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-value", Input).focus()

    @property
    def option_value(self) -> bool:
        return bool(self.option is not None and self.query_one("#prompt-option", Checkbox).value)

    def show_error(self, message: str) -> None:
        self.query_one("#prompt-error", Static).update(Content.styled(message, "$text-error"))
        self.query_one("#prompt-ok", Button).disabled = False

    def action_ok(self) -> None:
        value = self.query_one("#prompt-value", Input).value.strip()
        if not value:
            self.show_error(self.empty_error)
            return
        self.query_one("#prompt-ok", Button).disabled = True  # one submit at a time
        self.query_one("#prompt-error", Static).update(Content.styled("working…", "$text-muted"))
        self._run(value, self.option_value)

    @work(group="prompt", exclusive=True, exit_on_error=False, thread=True)
    def _run(self, value: str, option: bool) -> None:
        try:
            result: Any = self.submit(value, option)
        except USER_ERRORS as exc:
            self.app.call_from_thread(self.show_error, str(exc))
            return
        self.app.call_from_thread(self.dismiss, result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_ok()

    @on(Button.Pressed, "#prompt-ok")
    def _ok_pressed(self) -> None:
        self.action_ok()

    @on(Button.Pressed, "#prompt-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
