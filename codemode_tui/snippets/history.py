"""Run history: the last 500 runs, kept as JSON lines in the data folder.

Each record keeps what a person needs to find and reopen a run: the code, when
it ran, how long it took, whether it worked, the head of its output and its
tool-call trace.  Appends are cheap; the file is trimmed (atomically) once it
grows past the cap by a margin, so a long session never rewrites it per run.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import paths
from ..files import atomic_write_text

MAX_RUNS = 500
OUTPUT_HEAD = 2000


@dataclass
class RunRecord:
    """One past run."""

    code: str
    status: str  # "ok", "error", "timeout", "cancelled"
    duration: float
    output: str = ""
    error: str | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    snippet: str | None = None
    source: str = "playground"  # which front end ran it: "playground", "cli", "serve", "toolset"
    session: str | None = None  # the MCP session (serve over HTTP) or other run context, if any

    def title(self) -> str:
        first = next((line.strip() for line in self.code.splitlines() if line.strip()), "(empty)")
        return first[:60]


def record_from_run(
    code: str,
    result: Any,
    *,
    snippet: str | None = None,
    source: str = "playground",
    session: str | None = None,
) -> RunRecord:
    """A history record for an executor's ``RunResult``."""
    if result.success:
        status = "ok"
    elif result.timed_out:
        status = "timeout"
    elif "interrupted" in result.notes:  # stopped by the user (the executor's NOTE_INTERRUPTED)
        status = "cancelled"
    else:
        status = "error"
    trace = [
        {
            "tool": call.name,
            "ok": call.ok,
            "duration": call.duration,
            "arguments": call.arguments,
            "preview": call.preview,
            "error": call.error,
        }
        for call in result.trace
    ]
    return RunRecord(
        code=code,
        status=status,
        duration=result.duration,
        output=result.stdout + result.stderr,
        error=str(result.error) if result.error else None,
        trace=trace,
        snippet=snippet,
        source=source,
        session=session,
    )


class RunHistory:
    """The run history file (``<data>/history.jsonl`` unless given)."""

    def __init__(self, path: Path | None = None, *, limit: int = MAX_RUNS) -> None:
        self.path = Path(path) if path else paths.data_dir() / "history.jsonl"
        self.limit = limit

    def add(self, record: RunRecord) -> RunRecord:
        record.output = record.output[:OUTPUT_HEAD]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(record), ensure_ascii=False, default=str) + "\n")
        lines = self._lines()
        if len(lines) > self.limit + max(10, self.limit // 10):
            atomic_write_text(self.path, "".join(lines[-self.limit :]))
        return record

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            return []

    def list(self) -> list[RunRecord]:
        """The kept runs, newest first; damaged lines are skipped."""
        records = []
        for line in self._lines():
            try:
                records.append(RunRecord(**json.loads(line)))
            except (ValueError, TypeError):
                continue
        return list(reversed(records[-self.limit :]))

    def add_run(
        self,
        code: str,
        result: Any,
        *,
        snippet: str | None = None,
        source: str = "playground",
        session: str | None = None,
    ) -> RunRecord:
        """Record an executor's ``RunResult``; a history that cannot be written never fails the run.

        ``source`` names the front end that ran it and ``session`` the run context (an MCP
        session id under ``serve``), so one history can tell runs from different places apart.
        """
        record = record_from_run(code, result, snippet=snippet, source=source, session=session)
        try:
            return self.add(record)
        except OSError:
            return record

    def get(self, run_id: str) -> RunRecord | None:
        return next((r for r in self.list() if r.id == run_id), None)
