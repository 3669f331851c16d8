"""Running a saved snippet: check its arguments, bind them, run its code.

Arguments are checked and converted before anything runs, so a missing or
mistyped value is a clear error rather than a ``NameError`` halfway through.
They are bound by a separate short run, which keeps the snippet's own line
numbers in its tracebacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import SnippetError, assignments
from .store import SnippetStore

if TYPE_CHECKING:
    from ..executor import CodeModeExecutor, RunResult


async def run_snippet(
    executor: CodeModeExecutor,
    store: SnippetStore,
    name: str,
    arguments: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
    **callbacks: Any,
) -> RunResult:
    """Run snippet ``name`` with ``arguments``; raises :class:`SnippetError` before the run if they are wrong."""
    snippet = store.get(name)
    return await run_with_values(executor, snippet.code, snippet.bind(arguments), timeout=timeout, **callbacks)


async def run_with_values(
    executor: CodeModeExecutor,
    code: str,
    values: dict[str, Any],
    *,
    timeout: float | None = None,
    **callbacks: Any,
) -> RunResult:
    """Bind already-checked ``values`` by a short run of their own, then run ``code``.

    The one place every front end (playground, CLI, MCP server, exported skill
    scripts) binds parameters; raises :class:`SnippetError` if binding fails.
    """
    if values:
        bound = await executor.execute(assignments(values))
        if not bound.success:
            raise SnippetError(f"could not set the parameters: {bound.error}")
    return await executor.execute(code, timeout=timeout, **callbacks)
