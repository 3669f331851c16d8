"""What the playground keeps between sessions: its settings and the editor buffer.

Reads happen once at start-up, before the first frame; writes go through
:class:`LatestWriter` on a worker thread so the UI never waits on the disk.
A settings file that does not parse is reported and left alone (never
overwritten), like every other user file.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..files import atomic_write_text

WELCOME_BUFFER = """\
# codemode-tui playground
# 1. Search tools on the left (F3).
# 2. Enter on a tool inserts its call here.
# 3. F5 (or ctrl+r) runs it; ctrl+c stops.
# The last expression's value is shown
# in the Result tab. F1 lists every key.
"""


def buffer_file() -> Path:
    """The unsaved editor buffer, restored on the next start."""
    return paths.data_dir() / "editor_buffer.py"


@dataclass
class Settings:
    """The playground's own settings (``settings.json`` in the config folder).

    ``keymap`` maps binding ids (shown in the help screen) to keys, so users
    can remap any binding without touching code.
    """

    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    hidden_panes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data: dict[str, Any] = {"theme": self.theme, "keymap": self.keymap, "hidden_panes": self.hidden_panes}
        return json.dumps(data, indent=2) + "\n"


@dataclass
class LoadedState:
    """Settings and buffer as read at start-up, plus problems to tell the user about."""

    settings: Settings
    buffer: str
    errors: list[str] = field(default_factory=list)
    settings_writable: bool = True


def load_state() -> LoadedState:
    """Read settings and the editor buffer; never raises for a broken file."""
    errors: list[str] = []
    settings = Settings()
    writable = True
    path = paths.settings_file()
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            theme = data.get("theme")
            keymap = data.get("keymap") or {}
            hidden = data.get("hidden_panes") or []
            if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
                raise ValueError('\'keymap\' must map binding ids to keys, like {"run": "f6"}')
            settings = Settings(
                theme=theme if isinstance(theme, str) else None,
                keymap={str(k): v for k, v in keymap.items()},
                hidden_panes=[str(p) for p in hidden if isinstance(p, str)],
            )
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            writable = False
            errors.append(f"settings file {path.name} was not read and will not be overwritten: {exc}")
    buffer = WELCOME_BUFFER
    try:
        buffer = buffer_file().read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"the saved editor buffer could not be read: {exc}")
    return LoadedState(settings=settings, buffer=buffer, errors=errors, settings_writable=writable)


class LatestWriter:
    """Atomic writes from worker threads where the newest content always wins.

    Each call to :meth:`ticket` numbers a write; :meth:`write` skips a write
    older than one already done for the same file, so two workers finishing
    out of order can never leave stale content on disk.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued = 0
        self._written: dict[Path, int] = {}

    def ticket(self) -> int:
        with self._lock:
            self._issued += 1
            return self._issued

    def write(self, path: Path, text: str, ticket: int) -> bool:
        """Write ``text`` unless a newer ticket already wrote ``path``; True if written."""
        with self._lock:
            if self._written.get(path, 0) > ticket:
                return False
            atomic_write_text(path, text)
            self._written[path] = ticket
            return True
