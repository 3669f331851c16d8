"""The sandbox side of a tool call: copied verbatim as ``generated/client.py``.

This file must stay self-contained (standard library only, no codemode_tui
import required) because it runs wherever the sandbox runs.  Generated
bindings call :func:`call_tool`; it forwards the call to the host:

* in-process, through a caller registered with :func:`set_caller`;
* otherwise through the host's tool-call bridge (see the executor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

try:  # the same class as the host's when codemode_tui is importable
    from codemode_tui.results import ToolError
except ImportError:  # pragma: no cover - a remote kernel without codemode_tui

    class ToolError(Exception):  # type: ignore[no-redef]
        """A tool reported an error (``isError``), or could not be called."""

        def __init__(self, message: str, *, server: str | None = None, tool: str | None = None) -> None:
            self.server = server
            self.tool = tool
            self.message = message
            where = f"{server}.{tool}" if server and tool else (tool or server or "tool")
            super().__init__(f"{where}: {message}")


Caller = Callable[[str, dict[str, Any]], Awaitable[Any]]
_caller: Caller | None = None


def set_caller(caller: Caller | None) -> None:
    """Route calls to ``caller(qualified_name, arguments)`` in this process."""
    global _caller
    _caller = caller


async def call_tool(qualified_name: str, arguments: dict[str, Any]) -> Any:
    """Call ``server__tool`` with ``arguments`` and return its unwrapped result."""
    if _caller is not None:
        return await _caller(qualified_name, arguments)
    raise ToolError(
        "no tool-call bridge is configured in this process; run the code through "
        "CodeModeExecutor, or call generated.client.set_caller() first",
        tool=qualified_name,
    )


__all__ = ["ToolError", "call_tool", "set_caller"]
