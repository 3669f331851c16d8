"""Messages that workers and engine callbacks post to the main screen.

Workers and engine callbacks post these (``post_message`` is thread-safe);
the screen that owns the concern turns each into widget updates, so no worker
ever touches a widget.  Messages a widget posts to ask for something are
nested on that widget (``ToolList.InsertRequested``, ``ServerList.ActionRequested``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from .ui_types import RunStatus, SandboxState

if TYPE_CHECKING:  # types only: the engine is imported after the first frame
    from ..executor.run_result import RunResult, ToolCallRecord
    from ..registry import ToolDefinition
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


class SandboxStateChanged(Message):
    """The sandbox moved to another state; ``detail`` says why when it ``failed``."""

    def __init__(self, state: SandboxState, detail: str | None = None) -> None:
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
    """A run ended with ``status``; ``result`` is the executor's RunResult (``None`` when it never ran)."""

    def __init__(self, status: RunStatus, result: RunResult | None, error: str | None = None) -> None:
        super().__init__()
        self.status = status
        self.result = result
        self.error = error


class AgentEvent(Message):
    """A run event from the workspace (``codemode_tui.run_events``), for the Agents view."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class ServeChanged(Message):
    """Serving over HTTP started (``url`` set), or failed (``error`` says why)."""

    def __init__(self, url: str | None, error: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.error = error
