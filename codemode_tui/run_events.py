"""What a workspace tells its listeners about runs, as they happen.

Every run of every front end (the playground's editor, an agent's
``execute_code`` under ``serve``, the CLI) goes through ``Workspace.run``,
which reports it here: started, each piece of output, each finished tool
call, each call waiting for a person, finished.  The playground's Agents view
is a listener; so can be anything else that watches agents work.  A listener
is called on the event loop's thread and must not block; one that raises is
logged and kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    key: str
    """Identifies the run in the events that follow (not the history id, which comes at the end)."""
    code: str
    source: str
    session: str | None
    mode: str
    snippet: str | None = None


@dataclass(frozen=True)
class RunOutput:
    key: str
    stream: str
    text: str


@dataclass(frozen=True)
class RunToolCall:
    key: str
    record: Any
    """The finished call's ``ToolCallRecord``."""


@dataclass(frozen=True)
class RunApproval:
    key: str | None
    request: Any
    """The ``ApprovalRequest`` waiting for a person (``answered`` follows in the trace)."""


@dataclass(frozen=True)
class RunFinished:
    key: str
    result: Any
    """The ``RunResult``."""
    record: Any
    """The history's ``RunRecord`` (its ``id`` is what ``runs show`` and replay take)."""


@dataclass(frozen=True)
class SessionChanged:
    """A client session was seen (its first request, its client's name), or its sandbox closed."""

    session: str
    closed: bool = False


RunEvent = RunStarted | RunOutput | RunToolCall | RunApproval | RunFinished | SessionChanged
RunListener = Callable[[RunEvent], None]
