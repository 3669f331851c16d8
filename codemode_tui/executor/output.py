"""A run's stdout and stderr: streamed to a callback, capped, marked when cut.

Kernels cut their own output at the cap (so hundreds of megabytes never cross
the wire) and print :data:`TRUNCATION_TAG`; the collector here is the second
line: it keeps at most the cap plus room for that marker, whatever arrives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

TRUNCATION_TAG = "[codemode: output truncated"
#: Room kept above the cap for the kernel's own marker line.
MARKER_ALLOWANCE = 512

OutputCallback = Callable[[str, str], Any]
"""``on_output(stream, text)`` with ``stream`` ``"stdout"`` or ``"stderr"``."""

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def strip_ansi(text: str) -> str:
    """Remove terminal colour and control sequences (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)


def truncation_marker(limit: int) -> str:
    return f"\n{TRUNCATION_TAG} at {limit:,} bytes; the rest of this run's output was dropped]\n"


def byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


class OutputCollector:
    """Collects one run's output up to ``limit`` bytes (plus ``allowance`` for a marker)."""

    def __init__(self, limit: int, on_output: OutputCallback | None = None, *, allowance: int = 0) -> None:
        self.limit = limit
        self.ceiling = limit + allowance
        self.on_output = on_output
        self.used = 0
        self.truncated = False
        self._closed = False
        self._parts: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def write(self, stream: str, text: str) -> None:
        if self._closed or not text:
            return
        stream = "stderr" if stream == "stderr" else "stdout"
        size = byte_length(text)
        if self.used + size > self.ceiling:
            room = self.ceiling - self.used
            room = max(room, 0)
            text = text[:room]  # never fewer characters than bytes
            if byte_length(text) > room:  # multi-byte characters: cut the bytes, drop a split character
                text = text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore")
            self._emit(stream, text)
            self._emit(stream, truncation_marker(self.limit))
            self.truncated = True
            self._closed = True
            return
        self.used += size
        if TRUNCATION_TAG in text:
            self.truncated = True
        self._emit(stream, text)

    def _emit(self, stream: str, text: str) -> None:
        if not text:
            return
        self._parts[stream].append(text)
        if self.on_output is not None:
            try:
                self.on_output(stream, text)
            except Exception:
                log.exception("on_output callback failed")

    @property
    def stdout(self) -> str:
        return "".join(self._parts["stdout"])

    @property
    def stderr(self) -> str:
        return "".join(self._parts["stderr"])
