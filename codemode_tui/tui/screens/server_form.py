"""Add or edit a server: a modal form that validates before it returns a config."""

from __future__ import annotations

import shlex
from collections.abc import Collection
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static, TextArea

from ...config import DEFAULT_TIMEOUT, MCPServerConfig
from ...names import sanitize_identifier

TRANSPORTS = ("stdio", "http", "sse")
STDIO_FIELDS = ("command", "args", "env", "cwd")
HTTP_FIELDS = ("url", "headers")


class FormError(ValueError):
    """A field the user must fix; ``field`` is focused."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_pairs(text: str, what: str, field: str, sep: str = "=") -> dict[str, str]:
    """``NAME=VALUE`` lines (``Name: value`` for headers) into a dict."""
    pairs: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, found, value = line.partition(sep)
        if not found or not key.strip():
            raise FormError(field, f"{what} line {number} must look like NAME{sep}VALUE, got {line!r}")
        pairs[key.strip()] = value.strip() if sep == ":" else value
    return pairs


class ServerFormScreen(ModalScreen[MCPServerConfig | None]):
    """Returns the new or edited :class:`MCPServerConfig`, or ``None`` when cancelled."""

    CSS_PATH = Path(__file__).parent / "server_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form-cancel"),
        Binding("ctrl+s", "save", "Save", id="form-save"),
    ]

    def __init__(self, config: MCPServerConfig | None = None, *, existing: Collection[str] = ()) -> None:
        super().__init__()
        self.original = config
        self.existing = {name for name in existing if config is None or name != config.name}

    def compose(self) -> ComposeResult:
        config = self.original
        transport = (config.transport if config else None) or "stdio"
        title = f"Edit server {config.name}" if config else "Add a server"
        with Vertical(id="dialog"):
            yield Static(Content(title), id="form-title")
            with Grid(id="form-grid"):
                yield Label("Name", classes="field-label")
                yield Input(config.name if config else "", placeholder="e.g. filesystem", id="name", compact=True)
                yield Label("Transport", classes="field-label")
                with RadioSet(id="transport", compact=True):
                    for kind in TRANSPORTS:
                        yield RadioButton(kind, value=kind == transport, id=f"transport-{kind}", compact=True)
                yield Label("Command", classes="field-label stdio")
                yield Input(
                    config.command or "" if config else "",
                    placeholder="program to start, e.g. npx",
                    id="command",
                    classes="stdio",
                    compact=True,
                )
                yield Label("Arguments", classes="field-label stdio")
                yield Input(
                    shlex.join(config.args) if config else "",
                    placeholder="-y @scope/server /tmp",
                    id="args",
                    classes="stdio",
                    compact=True,
                )
                yield Label("Environment", classes="field-label stdio")
                yield TextArea(
                    "\n".join(f"{k}={v}" for k, v in (config.env if config else {}).items()),
                    id="env",
                    classes="stdio pairs",
                    compact=True,
                    placeholder="NAME=VALUE, one per line",
                )
                yield Label("Working folder", classes="field-label stdio")
                yield Input(
                    config.cwd or "" if config else "",
                    placeholder="(optional)",
                    id="cwd",
                    classes="stdio",
                    compact=True,
                )
                yield Label("URL", classes="field-label http")
                yield Input(
                    config.url or "" if config else "",
                    placeholder="https://example.com/mcp",
                    id="url",
                    classes="http",
                    compact=True,
                )
                yield Label("Headers", classes="field-label http")
                yield TextArea(
                    "\n".join(f"{k}: {v}" for k, v in (config.headers if config else {}).items()),
                    id="headers",
                    classes="http pairs",
                    compact=True,
                    placeholder="Name: value, one per line",
                )
                yield Label("Timeout (s)", classes="field-label")
                yield Input(
                    f"{config.timeout:g}" if config else f"{DEFAULT_TIMEOUT:g}",
                    id="timeout",
                    type="number",
                    compact=True,
                )
                yield Label("", classes="field-label")
                yield Checkbox("Enabled", value=config.enabled if config else True, id="enabled", compact=True)
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._show_transport(self.transport)
        self.query_one("#name", Input).focus()

    @property
    def transport(self) -> str:
        pressed = self.query_one("#transport", RadioSet).pressed_button
        return str(pressed.label) if pressed is not None else "stdio"

    @on(RadioSet.Changed, "#transport")
    def _transport_changed(self, event: RadioSet.Changed) -> None:
        self._show_transport(str(event.pressed.label))

    def _show_transport(self, transport: str) -> None:
        for widget in self.query(".stdio"):
            widget.display = transport == "stdio"
        for widget in self.query(".http"):
            widget.display = transport != "stdio"

    def _value(self, field: str) -> str:
        widget = self.query_one(f"#{field}")
        return widget.text if isinstance(widget, TextArea) else self.query_one(f"#{field}", Input).value

    def build_config(self) -> MCPServerConfig:
        """The config the form describes; raises :class:`FormError` naming the field at fault."""
        name = self._value("name").strip()
        if not name:
            raise FormError("name", "give the server a name")
        if name in self.existing:
            raise FormError("name", f"a server named {name!r} already exists; pick another name")
        module = sanitize_identifier(name, fallback="server")
        for other in self.existing:
            if sanitize_identifier(other, fallback="server") == module:
                raise FormError("name", f"{name!r} and {other!r} would share the module name {module!r}; rename")
        transport = self.transport
        timeout_text = self._value("timeout").strip() or f"{DEFAULT_TIMEOUT:g}"
        try:
            timeout = float(timeout_text)
        except ValueError:
            raise FormError("timeout", f"timeout must be a number of seconds, got {timeout_text!r}") from None
        if timeout <= 0:
            raise FormError("timeout", "timeout must be more than 0 seconds")
        enabled = self.query_one("#enabled", Checkbox).value
        if transport == "stdio":
            command = self._value("command").strip()
            if not command:
                raise FormError("command", "a stdio server needs a command to start")
            try:
                args = shlex.split(self._value("args"))
            except ValueError as exc:
                raise FormError("args", f"arguments: {exc} (quote arguments that contain spaces)") from None
            env = parse_pairs(self._value("env"), "environment", "env")
            cwd = self._value("cwd").strip() or None
            if cwd is not None and not Path(cwd).expanduser().is_dir():
                raise FormError("cwd", f"working folder {cwd!r} does not exist")
            fields: dict[str, Any] = {"command": command, "args": args, "env": env, "cwd": cwd}
        else:
            url = self._value("url").strip()
            if not url:
                raise FormError("url", f"an {transport} server needs a URL")
            if not url.startswith(("http://", "https://")):
                raise FormError("url", "the URL must start with http:// or https://")
            fields = {"url": url, "headers": parse_pairs(self._value("headers"), "headers", "headers", sep=":")}
        try:
            fields.update(name=name, transport=transport, timeout=timeout, enabled=enabled)
            original = self.original
            if original is not None:  # what the form does not show is kept, not dropped by an edit
                fields["defer_loading"] = original.defer_loading
                if transport == "stdio" and original.transport == "stdio":
                    fields["env_file"] = original.env_file
            return MCPServerConfig.model_validate(fields)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = [str(part) for part in error.get("loc", ())]
            field = loc[0] if loc and loc[0] in {"name", "command", "url", "timeout"} else "name"
            raise FormError(field, str(error.get("msg", "invalid value")).removeprefix("Value error, ")) from None

    def _fail(self, error: FormError) -> None:
        self.query_one("#form-error", Static).update(Content.styled(str(error), "$text-error"))
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        target: Widget = self.query_one(f"#{error.field}")
        target.add_class("-invalid")
        target.focus()

    def action_save(self) -> None:
        try:
            config = self.build_config()
        except FormError as error:
            self._fail(error)
            return
        self.dismiss(config)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
