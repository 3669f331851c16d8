"""Saved recordings: each recorded run's tool traffic, next to its history entry.

A history line stays small (the code, the head of the output, the trace's
previews); the recording, with every result the run kept (up to a few MB), is
a file of its own, ``<data>/recordings/<history id>.json``, so the history
file's rotation is not driven by results and a recording can be exported and
used as a test fixture as it is.  The folder keeps the newest
:data:`MAX_RECORDINGS` files and at most :data:`MAX_TOTAL_BYTES`; older ones
are removed when a new one is saved, as the history forgets old runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths
from ..executor.recording import Recording, RecordingError

MAX_RECORDINGS = 500
MAX_TOTAL_BYTES = 512 * 1024 * 1024


class RecordingStore:
    """The recordings folder (``<data>/recordings`` unless given)."""

    def __init__(
        self, folder: Path | None = None, *, keep: int = MAX_RECORDINGS, max_total_bytes: int = MAX_TOTAL_BYTES
    ) -> None:
        self.folder = Path(folder) if folder else paths.data_dir() / "recordings"
        self.keep = keep
        self.max_total_bytes = max_total_bytes

    def path(self, record_id: str) -> Path:
        if not record_id or not all(ch.isalnum() or ch in "-_" for ch in record_id):
            raise RecordingError(f"{record_id!r} is not a run id (letters, digits, '-' and '_')")
        return self.folder / f"{record_id}.json"

    def save(self, record_id: str, recording: Recording) -> Path:
        """Write the recording of run ``record_id``, then forget the oldest past the limits."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path(record_id)
        recording.save(target)
        self._prune()
        return target

    def load(self, record_id: str) -> Recording:
        """The recording of run ``record_id``; :class:`RecordingError` when there is none."""
        target = self.path(record_id)
        if not target.exists():
            raise RecordingError(f"run {record_id} has no recording (it made no tool call, or it was removed)")
        return Recording.load(target)

    def has(self, record_id: str) -> bool:
        try:
            return self.path(record_id).exists()
        except RecordingError:
            return False

    def _prune(self) -> None:
        try:
            entries = sorted(
                (
                    (entry.stat().st_mtime, entry.stat().st_size, Path(entry.path))
                    for entry in os.scandir(self.folder)
                    if entry.name.endswith(".json")
                ),
                reverse=True,
            )
        except OSError:
            return
        total = 0
        for index, (_, size, path) in enumerate(entries):
            total += size
            if index >= self.keep or total > self.max_total_bytes:
                try:
                    path.unlink()
                except OSError:
                    pass
