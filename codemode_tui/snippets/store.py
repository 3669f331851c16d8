"""``SnippetStore``: saved snippets, one readable ``<name>.py`` file each.

Writes are atomic.  A file that does not parse is reported in
``store.problems``, kept on disk and skipped, never deleted or overwritten.

Saves, renames and deletes run under one lock on the folder (``.snippets.lock``
next to it), so the check "does this name exist?" and the write that follows are
one step: when two processes save the same new name at once, one wins and the
other is told, instead of both succeeding and one silently losing its snippet.
Files are read with the same caps as every user file (no FIFOs, no huge files).
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths
from ..files import UserFileError, atomic_write_text, file_lock, read_user_file
from . import fileformat
from .analysis import resolve, used_tools
from .model import Snippet, SnippetError, check_description, check_name

if TYPE_CHECKING:
    from ..tool_types import ToolDefinition


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SnippetStore:
    """The snippet folder (``<data>/snippets`` unless given)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder else paths.data_dir() / "snippets"
        self.problems: dict[Path, str] = {}

    def path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.py"

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.folder)

    @staticmethod
    def _read(path: Path) -> Snippet:
        try:
            text = read_user_file(path, what="snippet file").decode("utf-8")
        except UserFileError as exc:
            raise SnippetError(f"{path}: {exc}") from None
        return fileformat.parse(text, source=str(path))

    def list(self) -> list[Snippet]:
        """Every readable snippet, by name; unreadable files go to ``problems``."""
        self.problems = {}
        snippets = []
        if not self.folder.is_dir():
            return []
        for path in sorted(self.folder.glob("*.py")):
            try:
                snippet = self._read(path)
            except (SnippetError, OSError, UnicodeDecodeError) as exc:
                self.problems[path] = str(exc)
                continue
            if snippet.name != path.stem:
                self.problems[path] = f"{path}: the file name does not match the snippet name {snippet.name!r}"
                continue
            snippets.append(snippet)
        return snippets

    def get(self, name: str) -> Snippet:
        path = self.path(name)
        try:
            return self._read(path)
        except FileNotFoundError:
            known = [s.name for s in self.list()]
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SnippetError(f"no snippet named {name!r}{hint}") from None
        except UnicodeDecodeError as exc:
            raise SnippetError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def search(self, query: str) -> list[Snippet]:
        """Snippets whose name, description or code contain every word of ``query``."""
        words = query.lower().split()
        return [
            s
            for s in self.list()
            if all(w in f"{s.name} {s.description} {' '.join(s.tools)} {s.code}".lower() for w in words)
        ]

    def save(
        self,
        snippet: Snippet,
        *,
        overwrite: bool = True,
        tools: Iterable[ToolDefinition] = (),
    ) -> Snippet:
        """Write ``snippet``; fills in the tools it uses and the times. Returns what was saved."""
        if snippet.description:
            check_description(snippet.description)
        snippet.check_parameters()
        path = self.path(snippet.name)
        qualified, servers = resolve(used_tools(snippet.code), tools)
        with self._locked():
            previous: Snippet | None = None
            if os.path.lexists(path):
                if not overwrite:
                    raise SnippetError(f"a snippet named {snippet.name!r} already exists; choose another name")
                with contextlib.suppress(SnippetError, OSError, UnicodeDecodeError):
                    previous = self._read(path)
            now = _now()
            saved = replace(
                snippet,
                tools=qualified,
                servers=servers,
                created=(previous.created if previous else snippet.created) or now,
                updated=now,
            )
            text = fileformat.render(saved)
            again = fileformat.parse(text, source=str(path))
            if [p.to_dict() for p in again.parameters] != [p.to_dict() for p in saved.parameters]:
                raise SnippetError(f"the parameters of {snippet.name!r} would not read back as saved; simplify them")
            atomic_write_text(path, text)
        return saved

    def rename(self, old: str, new: str) -> Snippet:
        """Give a snippet a new name; refuses to replace another snippet."""
        with self._locked():
            snippet = self.get(old)
            if old == new:
                return snippet
            if self.exists(new):
                raise SnippetError(f"a snippet named {new!r} already exists; delete it or pick another name")
            renamed = replace(snippet, name=check_name(new), updated=_now())
            atomic_write_text(self.path(new), fileformat.render(renamed))
            os.unlink(self.path(old))
            fixture = self.fixture_path(old)
            if fixture.exists():  # the recording it was saved from goes with it
                os.replace(fixture, self.fixture_path(new))
        return renamed

    def fixture_path(self, name: str) -> Path:
        """The recording a snippet was saved from (``<name>.recording.json`` beside it), for its exported test."""
        return self.path(name).with_name(f"{check_name(name)}.recording.json")

    def delete(self, name: str) -> None:
        """Delete a snippet (the front ends confirm first)."""
        path = self.path(name)
        with self._locked():
            if not path.exists():
                raise SnippetError(f"no snippet named {name!r}")
            path.unlink()
            with contextlib.suppress(FileNotFoundError):
                self.fixture_path(name).unlink()
