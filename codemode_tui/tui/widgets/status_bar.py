"""The status line: sandbox state, elapsed time of the run, tool calls so far, type-check problems, servers.

With ``--serve`` it also says where agents connect and how many are connected,
and which agent session the editor is attached to, if any (its runs go there).
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ..formatting import format_duration

SANDBOX_STYLES = {
    "not started": "$text-muted",
    "starting": "$text-warning",
    "ready": "$text-success",
    "running": "$text-accent",
    "restarting": "$text-warning",
    "failed": "$text-error",
    "closed": "$text-muted",
}


class StatusBar(Static):
    """One line at the bottom; the main screen binds ``sandbox`` and ``running`` and sets the rest."""

    sandbox: reactive[str] = reactive("not started")
    elapsed: reactive[float | None] = reactive(None)
    tool_calls: reactive[int] = reactive(0)
    running: reactive[bool] = reactive(False)
    stop_hint: reactive[str] = reactive("ctrl+c stops")
    servers: reactive[str] = reactive("")
    message: reactive[str] = reactive("")
    problems: reactive[tuple[int, int]] = reactive((0, 0))
    """Errors and warnings the type check found in the editor's code."""
    serving: reactive[str] = reactive("")
    """``serving :PORT, N agents`` (``--serve``)."""
    attached: reactive[str] = reactive("")
    """The agent session the editor's runs go to."""

    def render(self) -> Content:
        parts = [
            Content.styled("sandbox ", "$text-muted"),
            Content.styled(self.sandbox, SANDBOX_STYLES.get(self.sandbox, "")),
        ]
        if self.elapsed is not None:
            calls = f"{self.tool_calls} tool call{'s' if self.tool_calls != 1 else ''}"
            parts += [
                Content.styled(" · ", "$text-muted"),
                Content(format_duration(self.elapsed)),
                Content.styled(" · ", "$text-muted"),
                Content(calls),
            ]
        if self.running:
            parts += [Content.styled(" · ", "$text-muted"), Content.styled(self.stop_hint, "bold $text-warning")]
        if self.message:
            parts += [Content.styled(" · ", "$text-muted"), Content.styled(self.message, "$text-muted")]
        errors, warnings = self.problems
        if errors or warnings:
            text = ", ".join(
                f"{count} {what}{'s' if count != 1 else ''}"
                for count, what in ((errors, "error"), (warnings, "warning"))
                if count
            )
            parts += [
                Content.styled(" · ", "$text-muted"),
                Content.styled(f"✖ {text}" if errors else f"⚠ {text}", "$text-error" if errors else "$text-warning"),
            ]
        if self.attached:
            parts += [Content.styled(" · ", "$text-muted"), Content.styled(self.attached, "bold $text-accent")]
        if self.serving:
            parts += [Content.styled(" · ", "$text-muted"), Content.styled(self.serving, "$text-accent")]
        if self.servers:
            parts += [Content.styled(" · ", "$text-muted"), Content.styled(self.servers, "$text-muted")]
        return Content.assemble(*parts)
