"""Run history: the newest runs, kept as JSON lines in the data folder.

Each record keeps what a person needs to find and reopen a run: the code, when
it ran, how long it took, whether it worked, the head of its output and its
tool-call trace.

Appending costs the same at 1 MB of history as at 150 MB: a record is one
``O_APPEND`` write under the history's file lock, never a re-read of the file.
When the live file passes ``max_bytes`` it is renamed over the one rotated file
(``history.1.jsonl``) and a new live file starts, so the disk holds at most about
twice the cap.  Reading the newest runs reads the files backwards, block by
block, until it has enough of them.  Several processes (the playground, the
CLI, ``serve``) append to the same file; the lock keeps every line whole.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import paths
from ..files import file_lock

MAX_RUNS = 500
OUTPUT_HEAD = 2000
MAX_BYTES = 8 * 1024 * 1024
"""Size of the live history file that triggers a rotation (bytes)."""
_BLOCK = 64 * 1024


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
    mode: str = "live"  # "live", "replay", "replay-reads" or "dry-run"
    recorded: bool = False  # its tool traffic is in the recordings folder (RecordingStore)
    value: str | None = None  # repr of the last expression's value, cut to its head
    effects: list[dict[str, Any]] = field(default_factory=list)  # a dry run's effect plan
    divergences: list[dict[str, Any]] = field(default_factory=list)  # where a replay left its recording
    replay_of: str | None = None  # the run this one replayed

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
            "line": call.line,
            "decision": call.decision,
            "answered": call.answered,
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
        mode=getattr(result, "mode", "live"),
        value=None if result.value_repr is None else result.value_repr[:OUTPUT_HEAD],
        effects=[planned.to_dict() for planned in getattr(result, "effects", [])],
        divergences=[divergence.to_dict() for divergence in getattr(result, "divergences", [])],
    )


class RunHistory:
    """The run history file (``<data>/history.jsonl`` unless given) and its one rotated file.

    ``limit`` is how many runs :meth:`list` returns; ``max_bytes`` the size at
    which the live file is rotated.
    """

    def __init__(self, path: Path | None = None, *, limit: int = MAX_RUNS, max_bytes: int = MAX_BYTES) -> None:
        self.path = Path(path) if path else paths.data_dir() / "history.jsonl"
        self.limit = limit
        self.max_bytes = max_bytes

    @property
    def rotated_path(self) -> Path:
        """Where the older runs go when the live file is rotated (``history.1.jsonl``)."""
        return self.path.with_name(f"{self.path.stem}.1{self.path.suffix}")

    def add(self, record: RunRecord) -> RunRecord:
        """Append ``record`` (its output cut to its head); takes the history's lock itself."""
        record.output = record.output[:OUTPUT_HEAD]
        line = (json.dumps(asdict(record), ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with file_lock(self.path):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.max_bytes:
                os.replace(self.path, self.rotated_path)
        return record

    def list(self) -> list[RunRecord]:
        """The newest ``limit`` runs, newest first; damaged lines are skipped."""
        records: list[RunRecord] = []
        with file_lock(self.path, shared=True):
            for path in (self.path, self.rotated_path):
                for line in _lines_backwards(path):
                    try:
                        records.append(RunRecord(**json.loads(line)))
                    except (ValueError, TypeError):
                        continue
                    if len(records) >= self.limit:
                        return records
        return records

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
        return self.add_record(record)

    def add_record(self, record: RunRecord) -> RunRecord:
        """:meth:`add`, except that a history that cannot be written never fails the run."""
        try:
            return self.add(record)
        except OSError:
            return record

    def get(self, run_id: str) -> RunRecord | None:
        """The run ``run_id``; a unique prefix of an id (as people type them) also finds it."""
        records = self.list()
        exact = next((r for r in records if r.id == run_id), None)
        if exact is not None or not run_id:
            return exact
        matches = [r for r in records if r.id.startswith(run_id)]
        return matches[0] if len(matches) == 1 else None


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The non-empty lines of ``path``, last first, reading only as much of the end as is consumed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        position = os.fstat(fd).st_size
        rest = b""
        while position > 0:
            step = min(_BLOCK, position)
            position -= step
            chunk = os.pread(fd, step, position) + rest
            lines = chunk.split(b"\n")
            rest = lines.pop(0)  # may continue in the block before
            for line in reversed(lines):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest
    finally:
        os.close(fd)
