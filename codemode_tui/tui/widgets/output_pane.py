"""The output tabs: live output, the last expression's value, the error, and the trace."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import TabbedContent, TabPane

from ..formatting import pretty_value
from .code_view import CodeView
from .run_log import RunLog
from .trace_table import TraceTable


class OutputPane(Vertical):
    """What a run produced; the App fills it from run messages."""

    ALLOW_MAXIMIZE = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Output"

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
