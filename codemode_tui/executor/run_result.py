"""What a run reports: output, value, error, tool-call trace and notes.

Runs report, they do not raise: an exception in user code, a timeout, a dead
kernel all arrive here as data, so a caller (the playground, an agent, a
script) handles every outcome the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..check.diagnostic import Diagnostic

if TYPE_CHECKING:
    from .call_gate import PlannedCall
    from .recording import Divergence, Recording

NOTE_TRUNCATED = "output truncated"
NOTE_VALUE_TRUNCATED = "value or error truncated"
NOTE_RESTARTED = "kernel restarted, state lost"
NOTE_TIMED_OUT = "timed out"
NOTE_INTERRUPTED = "interrupted"
NOTE_CALL_CAP = "tool-call cap reached"
NOTE_BLOCKED = "not run: the type check found errors"
NOTE_NOT_ISOLATED = "eval sandbox: ran inside the host process, not isolated"


@dataclass(frozen=True)
class RunError:
    """An exception in user code (or a failure around it), as plain text."""

    type: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass
class ToolCallRecord:
    """One tool call made by a run, as the bridge saw it."""

    call_id: int
    run_id: str
    name: str
    """Qualified name, ``server__tool``."""
    server: str | None
    tool: str | None
    arguments: dict[str, Any]
    started: float
    """Wall-clock start (``time.time()``)."""
    duration: float | None = None
    """Seconds, ``None`` while the call is in flight."""
    ok: bool | None = None
    """``True`` on success, ``False`` on error, ``None`` while in flight."""
    error: str | None = None
    result_size: int = 0
    """Bytes of the result as sent to the sandbox (JSON)."""
    preview: str = ""
    """The start of the result (or the error message), for a trace view."""
    order: int = 0
    """The call's place in its run (1-based, in the order calls were made)."""
    line: int | None = None
    """The line of the run's code that made the call, when the sandbox could tell."""
    decision: str | None = None
    """What a gate decided (``allowed by ...``, ``approved once by ...``, ``denied by ...``,
    ``replayed from recorded call 3``); ``None`` when no gate looked at the call."""
    answered: str = "live"
    """Who answered: ``"live"`` (the server), ``"recording"`` or ``"placeholder"`` (a dry run)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Error types that mean the sandbox failed, not the code.
SANDBOX_ERRORS = frozenset({"SandboxError", "KernelDied"})


@dataclass(frozen=True)
class CodeError:
    """An exception in the code, as agent-codemode's ``code_error`` has it."""

    name: str
    value: str
    traceback: str


@dataclass(frozen=True)
class RunLogs:
    """A run's output as lists of lines, as code-sandboxes' ``logs`` has it."""

    stdout: list[str]
    stderr: list[str]

    @property
    def stdout_text(self) -> str:
        return "".join(self.stdout)

    @property
    def stderr_text(self) -> str:
        return "".join(self.stderr)


@dataclass(frozen=True)
class RunValue:
    """The last value as a mime bundle, as code-sandboxes' ``results`` entries have it."""

    data: dict[str, Any]


@dataclass
class RunResult:
    """Everything one ``execute()`` produced."""

    run_id: str
    stdout: str = ""
    stderr: str = ""
    value: Any = None
    """The last expression's value, like a notebook cell's: the value itself when
    it is JSON data (dict, list, str, number, bool, None), else its ``repr``."""
    value_repr: str | None = None
    """``repr`` of the last expression's value (``None`` when there was none)."""
    error: RunError | None = None
    trace: list[ToolCallRecord] = field(default_factory=list)
    duration: float = 0.0
    notes: list[str] = field(default_factory=list)
    sandbox: str = ""
    """Which sandbox ran the code (``local``, ``jupyter`` or ``eval``)."""
    timed_out: bool = False
    cancelled: bool = False
    """``True`` when the run was stopped on request (``interrupt()``/``cancel()``), not by its timeout."""
    truncated: bool = False
    kernel_restarted: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """What the type check found before the run (empty when it found nothing or did not run)."""
    checked: bool = False
    """Whether the code was type-checked (only code that uses the bindings is)."""
    mode: str = "live"
    """``"live"``, ``"replay"`` (every call answered from a recording), ``"replay-reads"``
    (read-only calls from a recording) or ``"dry-run"``."""
    effects: list[PlannedCall] = field(default_factory=list)
    """A dry run's effect plan: each call that was held back, in order."""
    divergences: list[Divergence] = field(default_factory=list)
    """Where a replay left its recording (empty: it followed the recording exactly)."""
    recording: Recording | None = None
    """The run's tool traffic with results, for replay (left out of :meth:`to_dict`)."""

    @property
    def success(self) -> bool:
        """``True`` when the code ran to its end without an exception."""
        return self.error is None

    # -- read-only names of agent-codemode / code-sandboxes results, so their code runs unchanged --

    @property
    def text(self) -> str | None:
        """The last expression's value as text (``value_repr``)."""
        return self.value_repr

    @property
    def execution_ok(self) -> bool:
        """``False`` only when the sandbox itself failed (it could not start, the kernel died)."""
        return self.error is None or self.error.type not in SANDBOX_ERRORS

    @property
    def execution_error(self) -> str | None:
        """What went wrong with the sandbox (not with the code), else ``None``."""
        return None if self.execution_ok or self.error is None else str(self.error)

    @property
    def code_error(self) -> CodeError | None:
        """The exception the code raised (name, value, traceback), else ``None``."""
        if self.error is None or not self.execution_ok:
            return None
        return CodeError(self.error.type, self.error.message, self.error.traceback)

    @property
    def results(self) -> list[RunValue]:
        """The last value as ``[RunValue(data={"text/plain": ...})]`` (empty when there was none)."""
        return [] if self.value_repr is None else [RunValue({"text/plain": self.value_repr})]

    @property
    def logs(self) -> RunLogs:
        """stdout and stderr as lists of lines."""
        return RunLogs(self.stdout.splitlines(keepends=True), self.stderr.splitlines(keepends=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the MCP server mode and the command line)."""
        recording, self.recording = self.recording, None
        try:
            data = asdict(self)
        finally:
            self.recording = recording
        data.pop("recording", None)
        data["success"] = self.success
        if not _is_json(self.value):
            data["value"] = self.value_repr
        return data


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False
