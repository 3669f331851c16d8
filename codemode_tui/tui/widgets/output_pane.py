"""The output tabs, and the run that fills them: live output, the value, the error, the trace.

The pane owns the run's execution: :meth:`OutputPane.run` starts a worker that
runs the code through ``Workspace.run`` (source ``playground``; it records the
history), and the worker's messages (``RunOutput``, ``RunToolCall``,
``RunFinished``) are shown here first, then bubble on to the main screen,
which keeps the run state for the bindings and the status bar.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, assert_never

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import TabbedContent, TabPane

from ..formatting import format_duration, pretty_value
from ..messages import RunFinished, RunOutput, RunToolCall
from ..ui_types import RunStatus
from .code_view import CodeView
from .run_log import RunLog
from .trace_table import TraceTable

if TYPE_CHECKING:
    from ...executor.run_result import RunResult
    from ...workspace import Workspace


def run_status(result: RunResult) -> RunStatus:
    """How a finished run ended: stopped on request (``cancelled``), with an error, or fine."""
    if result.cancelled:
        return "cancelled"
    return "ok" if result.error is None else "error"


class OutputPane(Vertical):
    """What a run produced, filled from the run's messages."""

    ALLOW_MAXIMIZE = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Output"
        self._started = 0.0

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

    def run(self, workspace: Workspace, code: str, label: str, *, values: dict[str, Any], snippet: str | None) -> None:
        """Clear the tabs and run ``code`` (``values`` set first; ``snippet`` names it in the history)."""
        self.start_run(label)
        self._started = time.monotonic()
        self._run(workspace, code, values, snippet)

    def stop(self, workspace: Workspace) -> None:
        """Interrupt the live run (the sandbox restarts if the code ignores the interrupt)."""
        if workspace.executor.interrupt():
            self.log_widget.note("■ interrupt sent")
            return
        for worker in self.workers:  # still waiting for the sandbox to start
            if worker.group == "run":
                worker.cancel()

    @work(group="run", exclusive=True, exit_on_error=False)
    async def _run(self, workspace: Workspace, code: str, values: dict[str, Any], snippet: str | None) -> None:
        def on_output(stream: str, text: str) -> None:
            self.post_message(RunOutput(stream, text))

        def on_tool_call(record: Any) -> None:
            self.post_message(RunToolCall(record))

        try:
            result = await workspace.run(
                code,
                values=values,
                snippet=snippet,
                source="playground",
                on_output=on_output,
                on_tool_call=on_tool_call,
            )
        except asyncio.CancelledError:  # stopped while the sandbox was starting: Workspace.run recorded it
            self.post_message(RunFinished("cancelled", None, "stopped before the sandbox was ready"))
            raise
        except Exception as exc:  # the sandbox itself failing (what the code does is in the result)
            error = f"{type(exc).__name__}: {exc}"
            elapsed = time.monotonic() - self._started
            await asyncio.to_thread(_record_failure, workspace, code, snippet, error, elapsed)
            self.post_message(RunFinished("failed", None, error))
            return
        self.post_message(RunFinished(run_status(result), result))

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
        self.log_widget.note(
            f"{summary} in {format_duration(result.duration)} · {calls} tool call{'s' if calls != 1 else ''}"
            + (f" · {', '.join(result.notes)}" if result.notes else "")
        )
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
