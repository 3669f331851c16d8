"""What the executor needs from a sandbox, whatever runs the code.

The executor owns run semantics (timeouts, limits, results); a sandbox only
knows how to start, run one cell, interrupt, restart and stop.  Two kinds
implement it: :class:`~.kernel_sandbox.KernelSandbox` (a Jupyter kernel, local
or on a server by URL) and :class:`~.eval_sandbox.EvalSandbox` (in-process).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .output import OutputCollector
from .run_result import RunError


@dataclass
class CellOutcome:
    """What one cell produced besides its output (which went to the collector)."""

    value: Any = None
    value_repr: str | None = None
    has_value: bool = False
    error: RunError | None = None


@dataclass(frozen=True)
class BindingsPayload:
    """The generated package, as the sandbox needs it: a host folder and its files."""

    path: Path
    """The folder that contains ``generated/`` (for in-process sandboxes)."""
    files: dict[str, str]
    """``{path inside generated/: text}`` (for sandboxes in another process)."""


class Sandbox(ABC):
    """One place code runs; see the module docstring."""

    kind: str = ""
    isolated: bool = True
    restarted_unexpectedly: bool = False
    """Set when the sandbox lost its state on its own (a kernel crash); the executor reports it."""

    @abstractmethod
    async def start(self, bindings: BindingsPayload, bridge: dict[str, Any] | None) -> None:
        """Start and prepare the sandbox (bindings importable, bridge configured)."""

    @abstractmethod
    async def update_bindings(self, bindings: BindingsPayload) -> None:
        """Make a regenerated ``generated`` package the one imports see."""

    @abstractmethod
    async def run(self, code: str, run_id: str, output: OutputCollector) -> CellOutcome:
        """Run one cell; output goes to ``output``; exceptions in the code come back as data."""

    @abstractmethod
    async def interrupt(self) -> None:
        """Ask the running cell to stop (it may not)."""

    @abstractmethod
    async def restart(self) -> None:
        """Discard all state and be ready for the next run."""

    @abstractmethod
    async def reset(self) -> None:
        """Clear the user's variables, keep the sandbox running."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop everything the sandbox started; return within about 1.5 s."""

    async def complete(self, code: str, cursor: int) -> tuple[int, list[str]]:
        """``(start, matches)``: names that fit at ``cursor`` among the values the sandbox holds.

        ``start`` is where the replaced text begins.  Only asked between runs;
        a sandbox that cannot tell returns no matches.
        """
        return cursor, []


def value_from_json(text: str | None, fallback: str | None) -> tuple[Any, bool]:
    """The last expression's value from its JSON form, else its repr."""
    if text is not None:
        try:
            return json.loads(text), True
        except ValueError:
            pass
    return fallback, fallback is not None
