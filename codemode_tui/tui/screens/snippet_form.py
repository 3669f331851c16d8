"""Save the editor buffer as a snippet: name, one-line description and typed parameters.

Everything is checked here with the snippet engine's own rules (``check_name``,
``check_description``, :class:`SnippetParam`) before anything is written, and
the write itself runs in a worker thread.  A problem is shown in the form next
to the field at fault; nothing typed is lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from ...snippets import Snippet, SnippetError, SnippetParam, check_description, check_name, suggest_name
from ..widgets.param_row import ParamRow, default_text
from .server_form import FormError

SaveFunction = Callable[[Snippet, bool], Snippet]
EXAMPLE_NAME = "summarize-notes"


def parse_default(kind: str, text: str) -> tuple[bool, object]:
    """``(has_default, value)`` from the default column: empty means required, ``""`` an empty string."""
    if not text.strip():
        return False, None
    if kind == "str" and text.strip() in ('""', "''"):
        return True, ""
    return True, text if kind == "str" else text.strip()


class SnippetFormScreen(ModalScreen[Snippet | None]):
    """Returns the saved :class:`Snippet`, or ``None`` when cancelled."""

    CSS_PATH = Path(__file__).parent / "snippet_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="snippet-form-cancel"),
        Binding("ctrl+s", "save", "Save", id="snippet-form-save"),
        Binding("ctrl+n", "add_param", "Add parameter", id="snippet-form-add-param"),
    ]

    def __init__(
        self,
        code: str,
        save: SaveFunction,
        *,
        snippet: Snippet | None = None,
        overwrite_name: str | None = None,
        candidates: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.code = code
        self.save_function = save
        self.original = snippet
        self.overwrite_name = overwrite_name
        self.candidates = sorted(candidates)
        self._row_ids = itertools.count(1)

    def _row(self, *fields: str) -> ParamRow:
        return ParamRow(*fields, id=f"param-row-{next(self._row_ids)}")

    def compose(self) -> ComposeResult:
        snippet = self.original
        title = f"Save snippet {snippet.name}" if snippet and self.overwrite_name else "Save as a snippet"
        with Vertical(id="snippet-dialog"):
            yield Static(Content(title), id="snippet-title")
            with Grid(id="snippet-grid"):
                yield Label("Name", classes="field-label")
                yield Input(snippet.name if snippet else "", placeholder=EXAMPLE_NAME, id="snippet-name", compact=True)
                yield Label("", classes="field-label")
                yield Static("", id="snippet-name-hint")
                yield Label("Description", classes="field-label")
                yield Input(
                    snippet.description if snippet else "",
                    placeholder="one line: what it does, e.g. Sum the totals of a customer's orders",
                    id="snippet-description",
                    compact=True,
                )
            with Horizontal(id="params-heading"):
                yield Static(Content.styled("Parameters", "bold"), id="params-title")
                yield Static(self._candidates_hint(), id="params-hint")
            with Horizontal(id="params-columns"):
                for label, classes in (
                    ("name", "param-name"),
                    ("type", "param-type"),
                    ("default", "param-default"),
                    ("description", "param-description"),
                ):
                    yield Static(Content.styled(label, "$text-muted"), classes=classes)
            with VerticalScroll(id="params"):
                yield from self._initial_rows()
            yield Button("+ Add parameter (ctrl+n)", id="add-param", compact=True)
            yield Static("", id="snippet-error")
            with Horizontal(id="snippet-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def _candidates_hint(self) -> Content:
        if not self.candidates:
            return Content.styled("variables the code reads without setting them become parameters", "$text-muted")
        return Content.styled(f"used but never set in the code: {', '.join(self.candidates)}", "$text-muted")

    def _initial_rows(self) -> Iterable[ParamRow]:
        declared = set()
        if self.original is not None:
            for param in self.original.parameters:
                declared.add(param.name)
                yield self._row(param.name, param.type, default_text(param), param.description)
        for name in self.candidates:
            if name not in declared:
                yield self._row(name)

    def on_mount(self) -> None:
        self._update_hint()
        self.query_one("#snippet-name", Input).focus()

    # -- live hints -------------------------------------------------------------

    @on(Input.Changed, "#snippet-name, #snippet-description")
    def _fields_changed(self) -> None:
        self._update_hint()

    def _update_hint(self) -> None:
        name = self.query_one("#snippet-name", Input).value.strip()
        description = self.query_one("#snippet-description", Input).value
        hint = self.query_one("#snippet-name-hint", Static)
        if not name:
            suggestion = suggest_name(description) or EXAMPLE_NAME
            hint.update(Content.styled(f"lowercase a-z, 0-9 and hyphens, e.g. {suggestion}", "$text-muted"))
            return
        try:
            check_name(name)
        except SnippetError as exc:
            hint.update(Content.styled(str(exc), "$text-error"))
            return
        verb = "overwrites" if name == self.overwrite_name else "saved as"
        hint.update(Content.styled(f"{verb} {name}.py in the snippets folder", "$text-muted"))

    # -- parameters ---------------------------------------------------------------

    async def action_add_param(self) -> None:
        row = self._row()
        await self.query_one("#params", VerticalScroll).mount(row)
        row.scroll_visible()
        row.name_input.focus()

    @on(Button.Pressed, "#add-param")
    async def _add_pressed(self) -> None:
        await self.action_add_param()

    @on(ParamRow.RemoveRequested)
    def _remove_row(self, message: ParamRow.RemoveRequested) -> None:
        message.row.remove()

    # -- building and saving ----------------------------------------------------------

    def build_snippet(self) -> Snippet:
        """The snippet the form describes; raises :class:`FormError` naming the widget at fault."""
        name = self.query_one("#snippet-name", Input).value.strip()
        description = self.query_one("#snippet-description", Input).value.strip()
        if not name:
            suggestion = suggest_name(description)
            hint = f", e.g. {suggestion!r}" if suggestion else ""
            raise FormError("snippet-name", f"give the snippet a name{hint}")
        try:
            check_name(name)
        except SnippetError as exc:
            raise FormError("snippet-name", str(exc)) from None
        try:
            check_description(description)
        except SnippetError as exc:
            raise FormError("snippet-description", str(exc)) from None
        params: list[SnippetParam] = []
        seen: set[str] = set()
        for index, row in enumerate(self.query(ParamRow), start=1):
            pname, kind, default, pdescription = row.values()
            if not pname and not default.strip() and not pdescription:
                continue  # an empty row: ignored
            row_id = row.id or ""
            if not pname:
                raise FormError(row_id, f"parameter {index} needs a name")
            if pname in seen:
                raise FormError(row_id, f"parameter {pname!r} is declared twice")
            seen.add(pname)
            has_default, value = parse_default(kind, default)
            try:
                if has_default:
                    param = SnippetParam(pname, kind, value, pdescription)  # type: ignore[arg-type]
                else:
                    param = SnippetParam(pname, kind, description=pdescription)  # type: ignore[arg-type]
            except SnippetError as exc:
                raise FormError(row_id, str(exc)) from None
            params.append(param)
        base = self.original
        try:
            return Snippet(
                name=name,
                code=self.code,
                description=description,
                parameters=params,
                created=base.created if base is not None and name == base.name else "",
            )
        except SnippetError as exc:
            raise FormError("snippet-name", str(exc)) from None

    def _fail(self, field: str | None, message: str) -> None:
        self._update_hint()
        shown_above = field == "snippet-name" and message == str(self.query_one("#snippet-name-hint", Static).content)
        self.query_one("#snippet-error", Static).update(
            Content.styled("fix the name above" if shown_above else message, "$text-error")
        )
        self.query_one("#save", Button).disabled = False
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        if field is None:
            return
        target: Widget = self.query_one(f"#{field}")
        target.add_class("-invalid")
        if isinstance(target, ParamRow):
            target.scroll_visible()
            target = target.name_input if not target.values()[0] else target.default_input
        target.focus()

    def action_save(self) -> None:
        try:
            snippet = self.build_snippet()
        except FormError as error:
            self._fail(error.field, str(error))
            return
        self.query_one("#save", Button).disabled = True
        self.query_one("#snippet-error", Static).update(Content.styled("saving…", "$text-muted"))
        self._save(snippet, snippet.name == self.overwrite_name)

    @work(group="snippet-save", exclusive=True, exit_on_error=False, thread=True)
    def _save(self, snippet: Snippet, overwrite: bool) -> None:
        try:
            saved = self.save_function(snippet, overwrite)
        except SnippetError as exc:
            self.app.call_from_thread(self._fail, "snippet-name", str(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self._fail, None, f"could not write the snippet: {exc}")
            return
        self.app.call_from_thread(self.dismiss, saved)

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
