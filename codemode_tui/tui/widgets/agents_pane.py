"""The Agents view: the client sessions connected to ``--serve``, and each one's runs as they happen.

The workspace tells its run listeners about every run (``codemode_tui.run_events``);
the main screen turns each event into a message and hands it here, on the UI
thread.  This pane keeps what it heard (per run: the code, the output so far,
the calls so far with their decisions, the result) and shows the sessions, the
runs of the highlighted session, and the highlighted run, growing live.

What a person does with a run (stop it, open it in the editor, attach the
editor to its session, re-run it, replay it from its recording) goes up as :class:`AgentsPane.ActionRequested`;
the main screen owns runs and the editor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..formatting import first_line, format_duration, pretty_value, safe
from .agent_trace import AgentTrace
from .code_view import CodeView
from .run_log import RunLog

if TYPE_CHECKING:
    from ...executor.run_result import RunResult, ToolCallRecord
    from ...workspace import AgentSession

AgentAction = Literal["stop", "open", "attach", "rerun", "replay"]
RunState = Literal["running", "waiting", "ok", "error", "stopped"]

#: Runs kept per session (the oldest are forgotten; the history keeps them all).
MAX_RUNS = 200

STATE_STYLES = {
    "running": "$text-accent",
    "waiting": "bold $text-warning",
    "idle": "$text-muted",
    "closed": "$text-muted 60%",
    "ok": "$text-success",
    "error": "$text-error",
    "stopped": "$text-muted",
}
GLYPHS = {"running": "▶", "waiting": "⏸", "ok": "✔", "error": "✖", "stopped": "■"}


@dataclass
class AgentRun:
    """One run of a session, as heard so far."""

    key: str
    code: str
    session: str | None
    source: str
    mode: str
    number: int
    started: float = field(default_factory=time.monotonic)
    output: list[tuple[str, str]] = field(default_factory=list)
    calls: dict[int, ToolCallRecord] = field(default_factory=dict)
    result: RunResult | None = None
    history_id: str | None = None
    waiting: int = 0
    """Calls of this run waiting for a person's approval."""

    @property
    def state(self) -> RunState:
        result = self.result
        if result is None:
            return "waiting" if self.waiting else "running"
        if result.cancelled:
            return "stopped"
        return "ok" if result.error is None else "error"


@dataclass
class SessionView:
    """A session as the list shows it."""

    session: str
    number: int
    client: str = ""
    closed: bool = False
    runs: list[AgentRun] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.closed:
            return "closed"
        live = [run.state for run in self.runs if run.result is None]
        if "waiting" in live:
            return "waiting"
        return "running" if live else "idle"


class AgentsPane(Vertical):
    """Sessions and their runs on the left; the highlighted run on the right."""

    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "e", "request('open')", "Open in editor", id="agents-open", tooltip="Open the run's code in the editor"
        ),
        Binding(
            "a",
            "request('attach')",
            "Attach",
            id="agents-attach",
            tooltip="The editor's next runs go to this session's sandbox (its variables)",
        ),
        Binding("r", "request('rerun')", "Re-run", id="agents-rerun", tooltip="Run the code again"),
        Binding(
            "p",
            "request('replay')",
            "Replay",
            id="agents-replay",
            tooltip="Run it again with every call answered from its recording (no server contacted)",
        ),
        Binding("s", "request('stop')", "Stop run", id="agents-stop", tooltip="Stop the session's run (or ctrl+c)"),
    ]

    class ActionRequested(Message):
        """The person asked for ``action`` on ``run`` (of ``session``)."""

        def __init__(self, action: AgentAction, session: str | None, run: AgentRun | None) -> None:
            super().__init__()
            self.action = action
            self.session = session
            self.run = run

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Agents"
        self.views: dict[str, SessionView] = {}
        self.runs: dict[str, AgentRun] = {}
        self.selected_session: str | None = None
        self.selected_run: str | None = None
        self.serving = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="agents-body"):
            with Vertical(id="agents-left"):
                sessions = OptionList(id="agent-sessions")
                sessions.border_title = "Sessions"
                yield sessions
                runs = OptionList(id="agent-runs")
                runs.border_title = "Runs"
                yield runs
            with Vertical(id="agents-detail"):
                yield Static("", id="agent-run-title")
                with Horizontal(id="agents-run-top"):
                    with VerticalScroll(id="agent-code-scroll"):
                        yield CodeView("The highlighted run's code.", id="agent-code")
                    yield RunLog(id="agent-log")
                yield AgentTrace(id="agent-trace")
                with VerticalScroll(id="agent-result-scroll"):
                    yield CodeView("", id="agent-result")

    def on_mount(self) -> None:
        self.query_one("#agent-log", RunLog).border_title = "Output"
        self.query_one("#agent-trace", AgentTrace).border_title = "Trace"
        self._show_sessions()
        self._show_run()

    # -- what the pane heard -------------------------------------------------------

    @property
    def session_list(self) -> OptionList:
        return self.query_one("#agent-sessions", OptionList)

    @property
    def run_list(self) -> OptionList:
        return self.query_one("#agent-runs", OptionList)

    @property
    def trace(self) -> AgentTrace:
        return self.query_one(AgentTrace)

    @property
    def log_widget(self) -> RunLog:
        return self.query_one("#agent-log", RunLog)

    def live_agents(self) -> int:
        return sum(1 for view in self.views.values() if not view.closed)

    def current_run(self) -> AgentRun | None:
        return self.runs.get(self.selected_run) if self.selected_run else None

    def _view(self, session: str) -> SessionView:
        view = self.views.get(session)
        if view is None:
            view = self.views[session] = SessionView(session, len(self.views) + 1)
        return view

    def sessions_seen(self, sessions: list[AgentSession]) -> None:
        """The workspace's sessions (client names, closed ones): merged into the list."""
        for agent in sessions:
            view = self._view(agent.session)
            view.client = agent.client or view.client
            view.closed = agent.closed
        if self.selected_session is None and self.views:
            self.selected_session = next(iter(self.views))
        self._show_sessions()

    def handle(self, event: Any) -> None:
        """One event of :mod:`codemode_tui.run_events`, on the UI thread."""
        from ...run_events import RunApproval, RunFinished, RunOutput, RunStarted, RunToolCall

        if isinstance(event, RunStarted):
            if event.session is None:
                return  # the person's own runs are in the output pane
            view = self._view(event.session)
            run = AgentRun(event.key, event.code, event.session, event.source, event.mode, len(view.runs) + 1)
            view.runs.append(run)
            if len(view.runs) > MAX_RUNS:
                gone = view.runs.pop(0)
                self.runs.pop(gone.key, None)
            self.runs[event.key] = run
            if self.selected_session in (None, event.session):
                self.selected_session = event.session
                self.selected_run = event.key  # follow the newest run of the session watched
                self._show_run()
            self._show_sessions()
            return
        if isinstance(event, RunApproval):
            run = self._waiting_run(event.request)
            if run is not None:
                run.waiting += 1
                self._changed(run, lists=True)
            return
        run = self.runs.get(getattr(event, "key", "") or "")
        if run is None:
            return
        if isinstance(event, RunOutput):
            run.output.append((event.stream, event.text))
            if run.key == self.selected_run:
                self.log_widget.append(event.stream, event.text)
        elif isinstance(event, RunToolCall):
            record = event.record
            run.calls[record.call_id] = record
            if run.key == self.selected_run:
                self.trace.add_record(record)
            self._changed(run, lists=False)
        elif isinstance(event, RunFinished):
            run.result = event.result
            run.waiting = 0
            run.history_id = getattr(event.record, "id", None)
            for record in event.result.trace:
                run.calls[record.call_id] = record
            if run.key == self.selected_run:
                self._show_run()
            self._show_sessions()

    def approval_done(self, request: Any) -> None:
        """A person answered a call of ``request``'s session: its run goes on."""
        run = self._waiting_run(request)
        if run is not None and run.waiting:
            run.waiting -= 1
            self._changed(run, lists=True)

    def _waiting_run(self, request: Any) -> AgentRun | None:
        """The live run of the request's session (a session runs one run at a time)."""
        session = getattr(request, "session", None)
        view = self.views.get(session) if session else None
        if view is None:
            return None
        return next((run for run in reversed(view.runs) if run.result is None), None)

    def _changed(self, run: AgentRun, *, lists: bool) -> None:
        if run.key == self.selected_run:
            self._show_title(run)
        if lists:
            self._show_sessions()

    # -- showing it ------------------------------------------------------------------

    def _show_sessions(self) -> None:
        if not self.is_mounted:
            return
        sessions = self.session_list
        sessions.clear_options()
        if not self.views:
            hint = self.serving or "Start the playground with --serve, then connect an agent."
            sessions.add_option(Option(Content.styled(hint, "$text-muted"), disabled=True))
        for view in self.views.values():
            count = len(view.runs)
            sessions.add_option(
                Option(
                    Content.assemble(
                        Content.styled(f"{view.number:>2} ", "$text-muted"),
                        Content(safe(view.client or "unnamed client")),
                        Content.styled(f"  {count} run{'s' if count != 1 else ''}  ", "$text-muted"),
                        Content.styled(view.state, STATE_STYLES.get(view.state, "")),
                    ),
                    id=view.session,
                )
            )
        if self.selected_session in self.views:
            sessions.highlighted = list(self.views).index(self.selected_session)
        self._show_runs()

    def _show_runs(self) -> None:
        runs_list = self.run_list
        runs_list.clear_options()
        view = self.views.get(self.selected_session or "")
        runs = view.runs if view is not None else []
        for run in reversed(runs):
            state = run.state
            calls = len(run.calls)
            runs_list.add_option(
                Option(
                    Content.assemble(
                        Content.styled(f"{GLYPHS[state]} ", STATE_STYLES[state]),
                        Content.styled(f"#{run.number} ", "bold"),
                        Content.styled(f"{calls} call{'s' if calls != 1 else ''} ", "$text-muted"),
                        Content(safe(_code_summary(run.code, 22))),
                    ),
                    id=run.key,
                )
            )
        keys = [run.key for run in reversed(runs)]
        if self.selected_run in keys:
            runs_list.highlighted = keys.index(self.selected_run)

    def _show_title(self, run: AgentRun | None) -> None:
        title = self.query_one("#agent-run-title", Static)
        if run is None:
            title.update(Content.styled("No run yet: the highlighted session's runs appear here live.", "$text-muted"))
            return
        view = self.views.get(run.session or "")
        state = run.state
        calls = len(run.calls)
        parts = [
            Content.styled(f"run {run.number}", "bold"),
            Content.styled(f" of session {view.number if view else '?'}", "$text-muted"),
            Content.styled(f" · {run.source}", "$text-muted"),
        ]
        if run.mode != "live":
            parts.append(Content.styled(f" · {run.mode}", "$text-warning"))
        word = "waiting for your approval" if state == "waiting" else state
        parts += [Content.styled(" · ", "$text-muted"), Content.styled(word, STATE_STYLES[state])]
        parts.append(Content.styled(f" · {calls} tool call{'s' if calls != 1 else ''}", "$text-muted"))
        if run.result is not None:
            parts.append(Content.styled(f" · {format_duration(run.result.duration)}", "$text-muted"))
        if run.history_id:
            parts.append(Content.styled(f" · history {run.history_id[:8]}", "$text-muted"))
        title.update(Content.assemble(*parts))

    def _show_run(self) -> None:
        """Show the selected run whole (another run was picked, or it finished)."""
        if not self.is_mounted:
            return
        run = self.current_run()
        self._show_title(run)
        code = self.query_one("#agent-code", CodeView)
        log = self.log_widget
        log.reset()
        result_view = self.query_one("#agent-result", CodeView)
        if run is None:
            code.show_message("The highlighted run's code.")
            self.trace.show([])
            result_view.show_message("")
            return
        code.show(run.code, "python")
        for stream, text in run.output:
            log.append(stream, text)
        self.trace.show(sorted(run.calls.values(), key=lambda record: record.order or record.call_id))
        result = run.result
        if result is None:
            result_view.show_message("running…" if run.state == "running" else "waiting for your approval…")
            return
        log.flush()
        if result.error is not None:
            result_view.show(f"{result.error.type}: {result.error.message}", "text")
        elif result.value_repr is None:
            result_view.show_message("ended without a value")
        else:
            text, language = pretty_value(result.value)
            result_view.show(text, language)

    # -- the person's choices ------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        key = event.option.id
        if key is None:
            return
        if event.option_list.id == "agent-sessions":
            if key != self.selected_session:
                self.selected_session = key
                view = self.views.get(key)
                self.selected_run = view.runs[-1].key if view and view.runs else None
                self._show_runs()
                self._show_run()
        elif key != self.selected_run:
            self.selected_run = key
            self._show_run()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "agent-sessions":
            self.run_list.focus()

    def action_request(self, action: AgentAction) -> None:
        run = self.current_run()
        session = run.session if run is not None else self.selected_session
        if session is None:
            self.notify("No agent session yet.", severity="warning")
            return
        self.post_message(self.ActionRequested(action, session, run))


def _code_summary(code: str, limit: int) -> str:
    """The first line of the code that is not an import (what the run does, at a glance)."""
    for line in code.splitlines():
        text = line.strip()
        if text and not text.startswith(("from ", "import ", "#")):
            return first_line(text, limit)
    return first_line(code, limit)
