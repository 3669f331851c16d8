"""One parameter of a snippet in the save form: name, type, default, description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Input, Select

if TYPE_CHECKING:
    from ...snippets import SnippetParam

# The snippet engine's types, in the order a person reaches for them (no engine import at start-up).
PARAM_TYPES = ("str", "int", "float", "bool", "list", "dict", "json")


def default_text(param: SnippetParam) -> str:
    """A parameter's default as the user would type it back ('' when it has none)."""
    import json

    if not param.has_default:
        return ""
    value: Any = param.default
    if param.type == "str":
        return '""' if value == "" else str(value)
    if param.type == "bool":
        return "true" if value else "false"
    if param.type in ("int", "float"):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class ParamRow(Horizontal):
    """Inputs for one parameter and a button that removes the row."""

    class RemoveRequested(Message):
        def __init__(self, row: ParamRow) -> None:
            super().__init__()
            self.row = row

    def __init__(
        self, name: str = "", type_: str = "str", default: str = "", description: str = "", *, id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="param-row")
        self._initial = (name, type_ if type_ in PARAM_TYPES else "str", default, description)

    def compose(self) -> ComposeResult:
        name, type_, default, description = self._initial
        yield Input(name, placeholder="name", classes="param-name", compact=True)
        yield Select(
            [(kind, kind) for kind in PARAM_TYPES], value=type_, allow_blank=False, classes="param-type", compact=True
        )
        yield Input(default, placeholder="(required)", classes="param-default", compact=True)
        yield Input(description, placeholder="what it is for", classes="param-description", compact=True)
        yield Button("✖", classes="param-remove", compact=True, tooltip="Remove this parameter")

    @property
    def name_input(self) -> Input:
        return self.query_one(".param-name", Input)

    @property
    def default_input(self) -> Input:
        return self.query_one(".param-default", Input)

    def values(self) -> tuple[str, str, str, str]:
        """Name, type, default text and description as typed."""
        kind = self.query_one(".param-type", Select).value
        return (
            self.name_input.value.strip(),
            kind if isinstance(kind, str) else "str",
            self.default_input.value,
            self.query_one(".param-description", Input).value.strip(),
        )

    @on(Button.Pressed, ".param-remove")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RemoveRequested(self))
