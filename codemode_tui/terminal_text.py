"""Text from tools and sandboxes, made safe to print on a terminal.

A tool result or a sandbox's stdout is untrusted: printed as is, an escape
sequence in it can write the user's clipboard (OSC 52), retitle the window,
clear the screen or move the cursor over earlier output so a failed run looks
like a success.  :func:`strip_controls` removes every such sequence (OSC, DCS
and the other string sequences, CSI, two-character escapes, their 8-bit C1
forms) and every other control character except newline and tab, so what
reaches the terminal is only text.

:class:`SanitizingWriter` applies it to everything written to a stream, which is
how the command line guards each of its outputs in one place.  Because every
ESC and C1 byte is dropped from every write, a sequence split across two
writes cannot survive either.  JSON output keeps the data intact instead:
:func:`escape_c1` writes the C1 characters (which ``json.dumps`` leaves raw) as
``\\u`` escapes.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_SEQUENCES = re.compile(
    "|".join(
        (
            # OSC, DCS, SOS, PM, APC: up to BEL or ST (or the next ESC / the end when unterminated).
            r"\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?",
            r"[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?",
            # CSI: parameters, intermediates, one final byte.
            r"\x1b\[[0-?]*[ -/]*[@-~]?",
            r"\x9b[0-?]*[ -/]*[@-~]?",
            # Any other escape: intermediates and a final byte (ESC c resets the terminal, ESC 7/8 move the cursor).
            r"\x1b[ -/]*[0-~]?",
        )
    )
)
# What is left: C0 controls but tab and newline, DEL, and the C1 range.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without terminal control sequences or control characters (``\\n`` and ``\\t`` are kept).

    ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` (which would let later text overwrite
    the line) is dropped like the other controls.
    """
    if not text.isprintable():
        text = _CONTROLS.sub("", _SEQUENCES.sub("", text.replace("\r\n", "\n")))
    return text


def escape_c1(json_text: str) -> str:
    """JSON text with DEL and the C1 controls written as ``\\u`` escapes (same data, safe to print)."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


class SanitizingWriter:
    """A text stream wrapper that strips control sequences from everything written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(strip_controls(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, ...
        return getattr(self._stream, name)


@contextlib.contextmanager
def sanitized_output() -> Iterator[None]:
    """Strip control sequences from ``sys.stdout`` and ``sys.stderr`` while the block runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout = SanitizingWriter(saved[0])  # type: ignore[assignment]
    sys.stderr = SanitizingWriter(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
