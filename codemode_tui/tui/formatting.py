"""Small pure helpers that turn engine data into text for the panes."""

from __future__ import annotations

import json
import pprint
from datetime import UTC, datetime
from typing import Any

from textual.content import Content
from textual.highlight import highlight

from ..terminal_text import strip_controls

STATUS_GLYPHS = {
    "connected": ("●", "$text-success"),
    "connecting": ("◌", "$text-warning"),
    "failed": ("✖", "$text-error"),
    "disabled": ("○", "$text-disabled"),
    "disconnected": ("·", "$text-muted"),
}


def safe(text: str) -> str:
    """``text`` fit for the screen: no terminal control sequences (OSC 52 clipboard writes, titles, CSI).

    Textual passes an escape character in widget text straight to the
    terminal, so whatever a sandbox, a tool, a server or an agent sent goes
    through here before a widget shows it.
    """
    return strip_controls(text)


def status_glyph(status: str) -> Content:
    glyph, style = STATUS_GLYPHS.get(status, ("?", ""))
    return Content.styled(glyph, style)


def pretty_json(data: Any) -> str:
    """Indented JSON (falls back to ``repr`` for what JSON cannot hold)."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return pprint.pformat(data, width=88)


def highlighted(code: str, language: str) -> Content:
    """Code highlighted with the app theme's colours (follows theme changes)."""
    return highlight(code, language=language)


def pretty_value(value: Any) -> tuple[str, str]:
    """Text and language for a run's value: JSON when it is JSON, else ``pprint``."""
    if isinstance(value, dict | list | int | float | bool) or value is None:
        try:
            return json.dumps(value, indent=2, ensure_ascii=False), "json"
        except (TypeError, ValueError):
            pass
    if isinstance(value, str):
        return value, "text"
    return pprint.pformat(value, width=88, sort_dicts=False), "python"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def first_line(text: str | None, limit: int = 200) -> str:
    lines = safe(text or "").strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


RUN_STATUS = {
    "ok": ("✔", "ok", "$text-success"),
    "error": ("✖", "error", "$text-error"),
    "timeout": ("⏱", "timeout", "$text-warning"),
    "cancelled": ("■", "stopped", "$text-muted"),
}


def run_status(status: str, *, short: bool = False) -> Content:
    """A past run's status, with its glyph and colour (``short``: the glyph only)."""
    glyph, word, style = RUN_STATUS.get(status, ("?", status, ""))
    return Content.styled(glyph if short else f"{glyph} {word}", style)


def format_started(iso: str, now: datetime | None = None, *, full: bool = False) -> str:
    """When a run started, in local time: the time of day for today, else the date too."""
    try:
        started = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:16]
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    local = started.astimezone()
    if full:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    today = (now or datetime.now(UTC)).astimezone().date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%b %d %H:%M")
