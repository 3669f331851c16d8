"""The tool cache: each server's last discovered tools, so front ends start with a full list.

Connecting to seven servers takes seconds; their tool lists rarely change.
After every discovery the tools of each server are saved in the cache folder
(``<cache>/tools/<server>.json``), and a front end loads them first: the
playground lists every saved server's tools at once while the servers connect,
and ``codemode-tui search`` / ``tools`` answer from the cache without
connecting at all (``--refresh`` connects).

A cached list is used only for the exact configuration it was discovered
with: the entry carries a fingerprint (SHA-256) of the server's configuration,
and any change (command, arguments, URL, environment, headers) makes it a miss.
The fingerprint is a hash, so the cache holds no secret in clear; the files are
the user's own (0600, in the user's cache folder) and are regenerable: a
damaged one is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .config import MCPServerConfig
from .files import atomic_write_text, read_user_file
from .names import sanitize_identifier
from .tool_types import ToolDefinition

FORMAT = 1
MAX_CACHE_FILE = 64 * 1024 * 1024


def fingerprint(config: MCPServerConfig) -> str:
    """What identifies a server's tool list: its whole configuration, hashed."""
    data = config.model_dump(mode="json", exclude={"enabled", "timeout", "defer_loading"})
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class CachedTools:
    """A server's cached tool list and when it was discovered (``time.time()``)."""

    tools: list[ToolDefinition]
    saved: float

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.saved)


class ToolCache:
    """The tool cache folder (``<cache>/tools`` unless given)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder else paths.cache_dir() / "tools"

    def _path(self, server: str) -> Path:
        digest = hashlib.sha256(server.encode()).hexdigest()[:8]
        return self.folder / f"{sanitize_identifier(server, fallback='server')}-{digest}.json"

    def save(self, config: MCPServerConfig, tools: list[ToolDefinition]) -> None:
        """Remember ``tools`` as what ``config`` offers; a cache that cannot be written is skipped."""
        entry = {
            "format": FORMAT,
            "server": config.name,
            "fingerprint": fingerprint(config),
            "saved": time.time(),
            "tools": [tool.to_dict() for tool in tools],
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write_text(self._path(config.name), json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        except OSError:
            pass

    def load(self, config: MCPServerConfig) -> CachedTools | None:
        """The cached tools of ``config``, or ``None`` (none saved, another configuration, damaged)."""
        try:
            entry: Any = json.loads(read_user_file(self._path(config.name), limit=MAX_CACHE_FILE, what="tool cache"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("format") != FORMAT
            or entry.get("server") != config.name
            or entry.get("fingerprint") != fingerprint(config)
            or not isinstance(entry.get("tools"), list)
        ):
            return None
        tools = []
        for item in entry["tools"]:
            try:
                tools.append(ToolDefinition.from_dict(config.name, item))
            except Exception:
                return None
        saved = entry.get("saved")
        return CachedTools(tools, float(saved) if isinstance(saved, int | float) else 0.0)

    def forget(self, server: str) -> None:
        try:
            self._path(server).unlink(missing_ok=True)
        except OSError:
            pass
