"""The type check before a run: one warm checker per executor, and what earlier runs defined.

``check="warn"`` runs the code and returns the diagnostics beside the result;
``check="block"`` returns them instead of running when there is an error, so
no tool is called by code that cannot be right; ``check="off"`` skips it.
Only code that uses the bindings (mentions ``generated``) is checked: that is
what the check is for, and it keeps a plain ``1 + 1`` as fast as before.

Names earlier runs bound at the top level are known to the checker; a name
the checker cannot see (made with ``exec`` or ``globals()``) is still reported
as unresolved, so after a first run that report is a warning, never a reason
to block.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import replace
from pathlib import Path

from ..check.checker import CheckerUnavailable, CodeChecker
from ..check.diagnostic import Diagnostic, has_errors, uses_bindings
from ..check.lsp import LspError
from .config import CheckMode

log = logging.getLogger(__name__)


def top_level_names(code: str) -> set[str]:
    """Names a cell binds at module level (assignments, imports, defs, for/with targets)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.alias):
                names.add((sub.asname or sub.name).split(".")[0])
            elif isinstance(sub, ast.Global):
                names.update(sub.names)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


class RunChecker:
    """Checks code for one executor: a warm ty server on its bindings, and the names runs left."""

    def __init__(self) -> None:
        self._checker: CodeChecker | None = None
        self._root: Path | None = None
        self.defined: set[str] = set()
        self.ran = False
        self.unavailable: str | None = None

    def forget(self) -> None:
        """The kernel's variables are gone (reset, restart, crash)."""
        self.defined.clear()
        self.ran = False

    def bindings_changed(self) -> None:
        if self._checker is not None:
            self._checker.bindings_changed()

    def remember(self, code: str) -> None:
        self.defined |= top_level_names(code)
        self.ran = True

    async def diagnose(self, code: str, bindings_root: Path | None) -> list[Diagnostic] | None:
        """Diagnostics, or ``None`` when the code was not checked (no bindings used, or no checker here)."""
        if bindings_root is None or not uses_bindings(code) or self.unavailable:
            return None
        try:
            if self._checker is None or self._root != bindings_root:
                await self.close()
                self._checker, self._root = CodeChecker(bindings_root), bindings_root
            found = await self._checker.check(code, defined=self.defined)
        except CheckerUnavailable as exc:
            self.unavailable = str(exc)
            log.warning("type check unavailable: %s", exc)
            return None
        except (LspError, OSError) as exc:
            log.warning("type check failed, the run goes on unchecked: %s", exc)
            await self.close()
            return None
        if self.ran:
            found = [_soften(d) for d in found]
        return found

    async def close(self) -> None:
        checker, self._checker = self._checker, None
        if checker is not None:
            await checker.close()


def _soften(diagnostic: Diagnostic) -> Diagnostic:
    if diagnostic.code == "unresolved-reference" and diagnostic.severity == "error":
        message = diagnostic.message + " (unless an earlier run defined it in a way the check cannot see)"
        return replace(diagnostic, severity="warning", message=message)
    return diagnostic


def blocking_summary(found: list[Diagnostic]) -> str:
    errors = [d for d in found if d.severity == "error"]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"not run: the type check found {len(errors)} error(s); line {first.line}: {first.message}{more}"


__all__ = ["CheckMode", "RunChecker", "blocking_summary", "has_errors", "top_level_names"]
