"""A tool call waiting for a person: approve it once, for the run, always, or deny it.

The policy's ``ask`` pauses the call in the bridge; the run keeps waiting on
its ``await`` (its timeout paused) while this dialog is up, so nothing is
replayed once the person answers.  The dialog shows what the person needs to
decide: the tool and its server, the arguments, the code line that made the
call, why the policy asks, the tool's annotations and its input schema.  The
safe answer is the default: escape denies.
"""

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

from ..formatting import pretty_json
from ..widgets.code_view import CodeView

if TYPE_CHECKING:
    from ...executor.policy import Approval, ApprovalRequest  # noqa: F401 (Approval: in a string below)

#: The person's answers: (answer, button label, key).
ANSWERS: tuple[tuple[str, str, str], ...] = (
    ("once", "Approve once", "o"),
    ("run", "For this run", "r"),
    ("always", "Always allow", "a"),
    ("deny", "Deny", "d"),
)

#: Who answered, as the trace records it.
APPROVED_BY = "a person (playground)"


class ApprovalScreen(ModalScreen["Approval | None"]):
    """Dismisses with the person's :class:`Approval` (``None`` only when closed by the app)."""

    CSS_PATH = Path(__file__).parent / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "answer('once')", "Approve once", id="approval-once"),
        Binding("r", "answer('run')", "Approve for this run", id="approval-run"),
        Binding("a", "answer('always')", "Always allow this tool", id="approval-always"),
        Binding("d,escape", "answer('deny')", "Deny", id="approval-deny"),
    ]

    def __init__(self, request: ApprovalRequest, *, waiting: int = 0) -> None:
        super().__init__()
        self.request = request
        self.waiting = waiting
        """Other calls queued behind this one (each gets its own dialog in turn)."""

    def _who(self) -> str:
        request = self.request
        if request.session:
            return f"an agent (session {request.session[:8]})"
        return f"your run ({request.source})" if request.source else "your run"

    def compose(self) -> ComposeResult:
        request = self.request
        who = self._who()
        with Vertical(classes="dialog wide tall", id="approval"):
            yield Static(
                Content.assemble(
                    Content.styled("Approve ", "bold"),
                    Content.styled(request.tool, "bold $text-warning"),
                    Content.styled("?", "bold"),
                ),
                classes="dialog-title",
            )
            yield Static(self._summary(who), id="approval-summary")
            with VerticalScroll(id="approval-scroll"):
                if request.code_line:
                    where = f"line {request.line}" if request.line else "the code"
                    yield Static(Content.styled(f"Called from {where}", "bold"), classes="dialog-heading")
                    yield CodeView("", id="approval-line")
                yield Static(Content.styled("Arguments", "bold"), classes="dialog-heading")
                yield CodeView("", id="approval-arguments")
                yield Static(Content.styled("Input schema", "bold"), classes="dialog-heading")
                yield CodeView("", id="approval-schema")
            with Horizontal(classes="dialog-buttons"):
                for answer, label, key in ANSWERS:
                    yield Button(
                        f"{label} ({key})",
                        id=f"approve-{answer}",
                        variant="error" if answer == "deny" else "primary" if answer == "once" else "default",
                        compact=True,
                    )

    def _summary(self, who: str) -> Content:
        request = self.request
        hints = ", ".join(f"{key}={value}" for key, value in sorted(request.annotations.items())) or "none"
        muted = "$text-muted"
        lines = [
            Content.assemble(Content.styled("server      ", muted), Content(request.server or "?")),
            Content.assemble(Content.styled("asked by    ", muted), Content(who)),
            Content.assemble(Content.styled("why         ", muted), Content(request.reason)),
            Content.assemble(Content.styled("annotations ", muted), Content(hints)),
        ]
        if self.waiting:
            more = f"{self.waiting} more call{'s' if self.waiting != 1 else ''} waiting after this one"
            lines.append(Content.styled(more, "$text-warning"))
        return Content("\n").join(lines)

    def set_waiting(self, waiting: int) -> None:
        """Another call started (or stopped) waiting behind this one."""
        self.waiting = waiting
        if self.is_mounted:
            self.query_one("#approval-summary", Static).update(self._summary(self._who()))

    def on_mount(self) -> None:
        request = self.request
        self.query_one("#approval-summary", Static).update(self._summary(self._who()))  # waiting may have moved
        if request.code_line:
            self.query_one("#approval-line", CodeView).show(request.code_line.strip(), "python")
        self.query_one("#approval-arguments", CodeView).show(pretty_json(request.arguments), "json")
        self.query_one("#approval-schema", CodeView).show(pretty_json(request.input_schema), "json")
        self.query_one("#approve-deny", Button).focus()

    def action_answer(self, answer: str) -> None:
        from ...executor.policy import Approval

        self.dismiss(Approval(answer, by=APPROVED_BY))  # type: ignore[arg-type]

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id and event.button.id.startswith("approve-"):
            self.action_answer(event.button.id.removeprefix("approve-"))
