"""Messages that carry state changes to the App, which alone applies them.

Workers and engine callbacks post these (``post_message`` is thread-safe);
widgets post them to ask for something.  The App owns the workspace and turns
each message into widget updates, so no worker ever touches a widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # types only: the engine is imported after the first frame
    from ..executor.run_result import RunResult, ToolCallRecord
    from ..registry import ToolDefinition
    from ..snippets import Snippet
    from ..workspace import Workspace


class WorkspaceLoaded(Message):
    """The engine finished loading (``workspace`` is ``None`` when it failed: ``error`` says why)."""

    def __init__(self, workspace: Workspace | None, error: str | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.error = error


class RegistryChanged(Message):
    """A server's status or tools changed (from the registry's listener)."""

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server


@dataclass
class ToolRow:
    """One line of the tool list: a tool and, for a search, its score."""

    tool: ToolDefinition
    score: float | None = None


class SearchFinished(Message):
    """A search (or listing) finished; the tool list shows ``rows``."""

    def __init__(self, query: str, server: str | None, rows: list[ToolRow], total: int) -> None:
        super().__init__()
        self.query = query
        self.server = server
        self.rows = rows
        self.total = total


class ToolChosen(Message):
    """The highlighted tool changed (``None``: nothing highlighted)."""

    def __init__(self, tool: ToolDefinition | None) -> None:
        super().__init__()
        self.tool = tool


class InsertExampleRequested(Message):
    """Insert the tool's example call into the editor."""

    def __init__(self, tool: ToolDefinition) -> None:
        super().__init__()
        self.tool = tool


class ServerActionRequested(Message):
    """The servers pane asks for an action (add, edit, delete, ...) on a server."""

    def __init__(self, action: str, server: str | None) -> None:
        super().__init__()
        self.action = action
        self.server = server


class SandboxStateChanged(Message):
    """The sandbox moved to another state (starting, ready, running, restarting, failed)."""

    def __init__(self, state: str, detail: str | None = None) -> None:
        super().__init__()
        self.state = state
        self.detail = detail


class RunOutput(Message):
    """A chunk of a live run's stdout or stderr."""

    def __init__(self, stream: str, text: str) -> None:
        super().__init__()
        self.stream = stream
        self.text = text


class RunToolCall(Message):
    """A live run finished a tool call."""

    def __init__(self, record: ToolCallRecord) -> None:
        super().__init__()
        self.record = record


class RunFinished(Message):
    """A run ended; ``result`` is the executor's RunResult (``None`` when it never started)."""

    def __init__(self, result: RunResult | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class TraceCallSelected(Message):
    """A row of the trace table was chosen: open the call's arguments and result."""

    def __init__(self, record: ToolCallRecord) -> None:
        super().__init__()
        self.record = record


class SnippetStoreChanged(Message):
    """A snippet was renamed (``new`` is the renamed snippet) or deleted (``new`` is ``None``)."""

    def __init__(self, old: str, new: Snippet | None) -> None:
        super().__init__()
        self.old = old
        self.new = new


class HistoryRecorded(Message):
    """A run was written to the history (or could not be: ``error``)."""

    def __init__(self, run_id: str | None, error: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.error = error
