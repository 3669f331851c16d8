"""The output tabs, and the run that fills them: live output, the value, the error, the trace.

The pane owns the run's execution: :meth:`OutputPane.run` starts a worker that
runs the code through ``Workspace.run`` (source ``playground``; it records the
history), and the worker's messages (``RunOutput``, ``RunToolCall``,
``RunFinished``) are shown here first, then bubble on to the main screen,
which keeps the run state for the bindings and the status bar.

Recorded runs go the same way: :meth:`OutputPane.replay` runs a past run's code
(or an edit of it) with its calls answered from its recording, and
:meth:`OutputPane.dry_run` runs code with every call that is not read-only held
back, then shows the effect plan, whose "run for real" starts a live run.  These
three start from the pane itself (the history browser and the effect plan ask
for them), so each posts :class:`OutputPane.RunStarted` for the screen that
keeps the run state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, assert_never

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from ..formatting import format_duration, pretty_value
from ..messages import RunFinished, RunOutput, RunToolCall
from ..ui_types import RunStatus
from .code_view import CodeView
from .run_log import RunLog
from .trace_table import TraceTable

if TYPE_CHECKING:
    from ...executor.run_result import RunResult
    from ...snippets import RunRecord
    from ...workspace import Workspace

#: How a run's mode reads in the log's last line.
MODE_WORDS = {
    "replay": "replayed from the recording",
    "replay-reads": "replayed with recorded reads",
    "dry-run": "dry run",
}


def run_status(result: RunResult) -> RunStatus:
    """How a finished run ended: stopped on request (``cancelled``), with an error, or fine."""
    if result.cancelled:
        return "cancelled"
    return "ok" if result.error is None else "error"


class OutputPane(Vertical):
    """What a run produced, filled from the run's messages."""

    ALLOW_MAXIMIZE = True

    class RunStarted(Message):
        """The pane started a run of its own (a replay, a dry run, a run for real): the run is live.

        A run the main screen starts (:meth:`OutputPane.run`) does not post it:
        the screen set its run state before asking.
        """

        def __init__(self, label: str, mode: str) -> None:
            super().__init__()
            self.label = label
            self.mode = mode

    class PlanReady(Message):
        """A dry run finished: show its effect plan (posted to the pane itself by the run's worker)."""

        def __init__(self, code: str, result: RunResult) -> None:
            super().__init__()
            self.code = code
            self.result = result

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Output"
        self._started = 0.0
        self._mode = "live"
        """The kind of the run going (what the pane asked the workspace for)."""
        self.session: str | None = None
        """The agent session whose sandbox the run going uses (``None``: the playground's own)."""
        self.replay_base: RunRecord | None = None
        """The past run whose recorded reads :meth:`replay_edited` uses (set by the history browser)."""

    def compose(self) -> ComposeResult:
        with TabbedContent(id="output-tabs", initial="tab-output"):
            with TabPane("Output", id="tab-output"):
                yield RunLog(id="run-log")
            with TabPane("Result", id="tab-result"), VerticalScroll(classes="output-scroll"):
                yield CodeView("The value of the last expression appears here.", id="result")
            with TabPane("Error", id="tab-error"), VerticalScroll(classes="output-scroll"):
                yield CodeView("No error.", id="error")
            with TabPane("Trace", id="tab-trace"):
                yield TraceTable(id="trace")

    @property
    def log_widget(self) -> RunLog:
        return self.query_one(RunLog)

    @property
    def trace(self) -> TraceTable:
        return self.query_one(TraceTable)

    # -- the run ------------------------------------------------------------------------

    def run(
        self,
        workspace: Workspace,
        code: str,
        label: str,
        *,
        values: dict[str, Any],
        snippet: str | None,
        session: str | None = None,
    ) -> None:
        """Clear the tabs and run ``code`` (``values`` set first; ``snippet`` names it in the history).

        ``session``: run in that agent session's sandbox (the editor attached to it).
        """
        self.start_run(label)
        self._started = time.monotonic()
        self._mode = "live"
        self.session = session
        self._run(workspace, code, values, snippet, session)

    @property
    def busy(self) -> bool:
        """Whether a run of this pane is still going."""
        return any(worker.group == "run" and not worker.is_finished for worker in self.workers)

    def _workspace(self) -> Workspace | None:
        """The app's workspace, or ``None`` (said to the user) while it loads or when a run is going."""
        if self.busy:
            self.notify("A run is already going; stop it first.", severity="warning")
            return None
        if not getattr(self.app, "engine_ready", False):
            self.notify("The engine is still loading.", severity="warning")
            return None
        return self.app.workspace  # type: ignore[attr-defined,no-any-return]

    def replay(self, record: RunRecord | str, *, code: str | None = None, reads_only: bool = False) -> bool:
        """Run a past run's code (or ``code``, an edit of it) with its tool calls answered from its recording.

        No server is contacted; ``reads_only`` answers only the read-only calls
        from the recording, the others go to the policy and run live.  Returns
        whether a run started.
        """
        workspace = self._workspace()
        if workspace is None:
            return False
        run_id = record if isinstance(record, str) else record.id
        what = f"the edited code of run {run_id}" if code is not None else f"run {run_id}"
        if reads_only:
            label = f"▶ replaying {what}: read-only calls from its recording, the others live"
        else:
            label = f"▶ replaying {what} from its recording (no server is called)"
        self.start_run(label)
        self._started = time.monotonic()
        self._mode = "replay-reads" if reads_only else "replay"
        self.session = None
        self.post_message(self.RunStarted(label, self._mode))
        self._replay(workspace, record, code, reads_only)
        return True

    def replay_edited(self, code: str) -> bool:
        """Run ``code`` (the editor's edit of :attr:`replay_base`) with that run's recorded reads."""
        if self.replay_base is None:
            self.notify(
                "Reopen a run from the history first (ctrl+g, then e): its recorded reads answer the edited code.",
                severity="warning",
            )
            return False
        return self.replay(self.replay_base, code=code, reads_only=True)

    def dry_run(self, code: str, *, recorded: RunRecord | str | None = None) -> bool:
        """Run ``code`` with every call that is not read-only held back, then show the effect plan.

        A held-back call gets a placeholder built from the tool's output schema,
        or, with ``recorded`` (a past run), that run's recorded answer when it
        made the same call, so the code after it sees a real value.
        """
        workspace = self._workspace()
        if workspace is None:
            return False
        if not code.strip():
            self.notify("Nothing to run: the editor is empty.", severity="warning")
            return False
        label = "▶ dry run: calls that are not read-only are held back"
        if recorded is not None:
            label += f", answered from run {recorded if isinstance(recorded, str) else recorded.id} where it made them"
        self.start_run(label)
        self._started = time.monotonic()
        self._mode = "dry-run"
        self.session = None
        self.post_message(self.RunStarted(label, self._mode))
        self._dry_run(workspace, code, recorded)
        return True

    def run_for_real(self, code: str) -> bool:
        """Run ``code`` live (after its effect plan was read)."""
        workspace = self._workspace()
        if workspace is None:
            return False
        label = "▶ running for real"
        self.post_message(self.RunStarted(label, "live"))
        self.run(workspace, code, label, values={}, snippet=None)
        return True

    def stop(self, workspace: Workspace) -> None:
        """Interrupt the live run (the sandbox restarts if the code ignores the interrupt)."""
        if workspace.interrupt_session(self.session):
            self.log_widget.note("■ interrupt sent")
            return
        for worker in self.workers:  # still waiting for the sandbox to start
            if worker.group == "run":
                worker.cancel()

    @work(group="run", exclusive=True, exit_on_error=False)
    async def _run(
        self, workspace: Workspace, code: str, values: dict[str, Any], snippet: str | None, session: str | None
    ) -> None:
        on_output, on_tool_call = self._callbacks()

        async def record_failure(error: str) -> None:
            elapsed = time.monotonic() - self._started
            await asyncio.to_thread(_record_failure, workspace, code, snippet, error, elapsed)

        running = workspace.run(
            code,
            values=values,
            snippet=snippet,
            source="playground",
            session=session,
            on_output=on_output,
            on_tool_call=on_tool_call,
        )
        await self._settle(running, on_failure=record_failure)

    async def _settle(
        self,
        running: Awaitable[RunResult],
        *,
        nothing_ran: str | None = None,
        on_failure: Callable[[str], Awaitable[None]] | None = None,
    ) -> RunResult | None:
        """Wait for a run and post its ``RunFinished``: the one place its end, a stop and a failure are told apart.

        ``nothing_ran``: the words before a ``RecordingError`` (the run or its recording is
        gone, so nothing ran).  ``on_failure``: told the error when the sandbox itself failed
        (what the code does is in the result, not an exception).
        """
        from ...executor.recording import RecordingError

        try:
            result = await running
        except asyncio.CancelledError:  # stopped while the sandbox was starting: Workspace.run recorded it
            self.post_message(RunFinished("cancelled", None, "stopped before the sandbox was ready"))
            raise
        except Exception as exc:
            if nothing_ran is not None and isinstance(exc, RecordingError):
                self.post_message(RunFinished("failed", None, f"{nothing_ran}: {exc}"))
                return None
            error = f"{type(exc).__name__}: {exc}"
            if on_failure is not None:
                await on_failure(error)
            self.post_message(RunFinished("failed", None, error))
            return None
        self.post_message(RunFinished(run_status(result), result))
        return result

    def _callbacks(self) -> tuple[Any, Any]:
        def on_output(stream: str, text: str) -> None:
            self.post_message(RunOutput(stream, text))

        def on_tool_call(record: Any) -> None:
            self.post_message(RunToolCall(record))

        return on_output, on_tool_call

    @work(group="run", exclusive=True, exit_on_error=False)
    async def _replay(self, workspace: Workspace, record: RunRecord | str, code: str | None, reads_only: bool) -> None:
        on_output, on_tool_call = self._callbacks()
        running = workspace.replay(
            record, code=code, reads_only=reads_only, on_output=on_output, on_tool_call=on_tool_call
        )
        await self._settle(running, nothing_ran="cannot replay")

    @work(group="run", exclusive=True, exit_on_error=False)
    async def _dry_run(self, workspace: Workspace, code: str, recorded: RunRecord | str | None) -> None:
        on_output, on_tool_call = self._callbacks()

        async def dry_run() -> RunResult:
            recording = None if recorded is None else await asyncio.to_thread(workspace.recording_of, recorded)
            return await workspace.run(
                code,
                source="playground",
                on_output=on_output,
                on_tool_call=on_tool_call,
                dry_run=True,
                replay=recording,
            )

        result = await self._settle(dry_run(), nothing_ran="cannot answer from the recording")
        if result is not None:
            self.post_message(self.PlanReady(code, result))

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        message.stop()
        from ..screens.effect_plan import EffectPlanScreen

        code = message.code

        def chosen(run: bool | None) -> None:
            if run:
                self.run_for_real(code)

        self.app.push_screen(EffectPlanScreen(message.result), chosen)

    @on(RunOutput)
    def _run_output(self, message: RunOutput) -> None:
        self.log_widget.append(message.stream, message.text)

    @on(RunToolCall)
    def _run_tool_call(self, message: RunToolCall) -> None:
        self.trace.add_record(message.record)
        self.count_calls()

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        self.log_widget.flush()
        if message.result is None:
            self._show_no_result(message.error or message.status)
        else:
            self._show_result(message.status, message.result)

    def _show_no_result(self, error: str) -> None:
        self.log_widget.note(f"✖ {error}")
        self.show_error(error)
        self.show_value(None, None)
        self.activate("tab-error")

    def _show_result(self, status: RunStatus, result: RunResult) -> None:
        for record in result.trace:
            self.trace.add_record(record)
        self.count_calls()
        error = result.error
        self.show_error(f"{error.type}: {error.message}\n\n{error.traceback}".rstrip() if error else None)
        self.show_value(result.value, result.value_repr)
        match status:
            case "ok":
                summary = "■ done"
            case "cancelled":
                summary = "■ stopped"
            case "error" | "failed":
                summary = f"✖ {error.type}" if error else "✖ failed"
            case _:
                assert_never(status)
        calls = len(result.trace)
        mode = MODE_WORDS.get(self._mode)
        self.log_widget.note(
            f"{summary} in {format_duration(result.duration)} · {calls} tool call{'s' if calls != 1 else ''}"
            + (f" · {mode}" if mode else "")
            + (f" · {len(result.effects)} held back" if self._mode == "dry-run" else "")
            + (f" · {', '.join(result.notes)}" if result.notes else "")
        )
        self._show_divergences(result)
        if error is not None:
            self.activate("tab-error")
        elif result.value_repr is not None:
            self.activate("tab-result")
        if result.kernel_restarted:
            self.notify(
                "The sandbox was restarted: variables from earlier runs are gone.",
                title="Sandbox restarted",
                severity="warning",
            )

    def _show_divergences(self, result: RunResult) -> None:
        """Where a replay left its recording: one log line each (kind, call, what differs), and a notice."""
        divergences = result.divergences
        if self._mode not in ("replay", "replay-reads"):
            return
        if not divergences:
            self.log_widget.note("✓ the replay followed the recording: no divergence")
            return
        count = len(divergences)
        self.log_widget.note(f"⚠ {count} divergence{'s' if count != 1 else ''} from the recording:")
        for divergence in divergences:
            self.log_widget.note(f"  {divergence.describe()}")
        self.notify(
            "\n".join(divergence.describe() for divergence in divergences[:3])
            + (f"\n… and {count - 3} more (in the output)" if count > 3 else ""),
            title=f"The replay diverged ({count})",
            severity="warning",
            markup=False,
        )

    # -- the tabs -----------------------------------------------------------------------

    def start_run(self, label: str) -> None:
        self.log_widget.reset()
        self.trace.reset()
        self.query_one("#result", CodeView).show_message("Running…")
        self.query_one("#error", CodeView).show_message("No error.")
        self._label("tab-trace", "Trace")
        self._label("tab-error", "Error")
        self.log_widget.note(label)
        self.query_one(TabbedContent).active = "tab-output"

    def show_value(self, value: Any, value_repr: str | None) -> None:
        """The last expression's value: JSON data pretty-printed, anything else by its ``repr``."""
        view = self.query_one("#result", CodeView)
        if value_repr is None:
            view.show_message("The code ended without a value (its last line is not an expression).")
        elif isinstance(value, str) and value == value_repr:  # not JSON data: the executor sent its repr
            view.show(value_repr, "python")
        else:
            text, language = pretty_value(value)
            view.show(text, language)

    def clear(self) -> None:
        self.log_widget.reset()
        self.trace.reset()
        self.query_one("#result", CodeView).show_message("The value of the last expression appears here.")
        self.show_error(None)
        self.count_calls()

    def show_error(self, text: str | None) -> None:
        view = self.query_one("#error", CodeView)
        if not text:
            view.show_message("No error.")
            self._label("tab-error", "Error")
            return
        view.show(text, "pytb")
        self._label("tab-error", "Error ✖")

    def count_calls(self) -> None:
        count = len(self.trace.records)
        self._label("tab-trace", f"Trace ({count})" if count else "Trace")

    def activate(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def _label(self, pane: str, label: str) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.get_tab(pane).label = label


def _record_failure(workspace: Workspace, code: str, snippet: str | None, error: str, elapsed: float) -> None:
    """Keep a run whose sandbox failed in the history (``Workspace.run`` records only runs that ran)."""
    from ...snippets import RunRecord

    try:
        workspace.history.add(
            RunRecord(code=code, status="error", duration=elapsed, error=error, snippet=snippet, source="playground")
        )
    except OSError:
        pass  # a history that cannot be written never fails the run
