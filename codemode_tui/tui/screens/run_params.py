"""Ask for a snippet's parameter values before it runs, in a form built from their types.

A bool is a checkbox, an int or a float a numeric input, a list, a dict or a
JSON value a small JSON editor, and text a plain input.  Each value is checked
with the parameter's own ``coerce`` before the form closes, so a wrong value is
an error next to its field, never a failure halfway through the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Static, TextArea

from ...snippets import SnippetError, SnippetParam

JSON_TYPES = ("list", "dict", "json")


def initial_text(param: SnippetParam) -> str:
    """What the field shows at first: the default, as the user would type it."""
    if not param.has_default:
        return ""
    if param.type in JSON_TYPES:
        return json.dumps(param.default, ensure_ascii=False)
    return str(param.default)


class RunParamsScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with ``{name: value}`` (typed, defaults filled in), or ``None`` when cancelled."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="params-cancel"),
        Binding("ctrl+r,f5", "run", "Run", id="params-run", priority=True),
    ]

    def __init__(self, title: str, params: list[SnippetParam], description: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.params = params
        self.description = description

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="params-dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            if self.description:
                yield Static(Content.styled(self.description, "$text-muted"), classes="dialog-body")
            with VerticalScroll(id="params-fields"):
                for param in self.params:
                    yield self._label(param)
                    yield self._field(param)
            yield Static("", id="params-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run (ctrl+r)", variant="primary", id="params-run", compact=True)
                yield Button("Cancel (esc)", id="params-cancel", compact=True)

    @staticmethod
    def _label(param: SnippetParam) -> Static:
        parts = [Content.styled(param.name, "bold"), Content.styled(f" {param.type}", "$text-accent")]
        parts.append(Content.styled("  required" if param.required else "  optional", "$text-muted"))
        if param.description:
            parts.append(Content.styled(f" · {param.description}", "$text-muted"))
        return Static(Content.assemble(*parts), classes="param-label")

    @staticmethod
    def _field(param: SnippetParam) -> Widget:
        field_id = f"value-{param.name}"
        if param.type == "bool":
            value = bool(param.default) if param.has_default else False
            return Checkbox(param.name, value=value, id=field_id, compact=True)
        if param.type in JSON_TYPES:
            return TextArea(
                initial_text(param),
                id=field_id,
                classes="param-json",
                compact=True,
                placeholder='JSON, e.g. ["a", "b"]' if param.type == "list" else 'JSON, e.g. {"key": "value"}',
            )
        kind = {"int": "integer", "float": "number"}.get(param.type, "text")
        placeholder = "(required)" if param.required else ""
        return Input(initial_text(param), placeholder=placeholder, type=kind, id=field_id, compact=True)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        fields = self.query("#params-fields > Input, #params-fields > TextArea, #params-fields > Checkbox")
        if fields:
            fields.first().focus()

    def values(self) -> dict[str, Any]:
        """Every value given, converted to its type; raises ``(param name, message)`` via :class:`SnippetError`."""
        out: dict[str, Any] = {}
        for param in self.params:
            widget = self.query_one(f"#value-{param.name}")
            if isinstance(widget, Checkbox):
                out[param.name] = widget.value
                continue
            text = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
            if not text.strip():
                if param.required:
                    raise _FieldError(param.name, f"{param.name} needs a value ({param.type})")
                continue  # the default applies
            try:
                out[param.name] = param.coerce(text)
            except SnippetError as exc:
                raise _FieldError(param.name, str(exc)) from None
        return out

    def action_run(self) -> None:
        try:
            values = self.values()
        except _FieldError as error:
            self.query_one("#params-error", Static).update(Content.styled(str(error), "$text-error"))
            for widget in self.query(".-invalid"):
                widget.remove_class("-invalid")
            target = self.query_one(f"#value-{error.param}")
            target.add_class("-invalid")
            target.focus()
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#params-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#params-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_run()


class _FieldError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
