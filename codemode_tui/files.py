"""Safe reads and writes of user files.

Every write of user data goes through :func:`atomic_write_text`: the content is
written to a temporary file in the same folder and renamed over the target, so
a crash mid-write leaves either the old file or the new one, never half of one.

Several processes (the playground and a CLI, two CLIs) share the same files, so
a read-modify-write runs under :func:`file_lock`: an ``flock`` on a sibling
``.<name>.lock`` file (the data file itself is replaced by each write, so it
cannot carry the lock).  :func:`read_user_file` reads a file a user named
without hanging on a FIFO or a device and without reading more than a cap.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

MAX_USER_FILE = 16 * 1024 * 1024
"""Largest configuration or snippet file read (bytes); no real one comes near it."""

# flock is per open file description, so two threads of one process each opening the
# lock file would exclude each other too; the in-process lock keeps that cheap and fair.
_thread_locks: dict[Path, threading.RLock] = {}
_thread_locks_guard = threading.Lock()


class UserFileError(OSError):
    """A user file that cannot be read as one: what is wrong, phrased for the user."""


def lock_path(path: Path) -> Path:
    """The sibling lock file that guards ``path``."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an exclusive (or ``shared``) lock on ``path`` across processes and threads.

    Writers re-read the file inside the lock and apply their change to what they
    find, so two processes changing the file at once both keep their change.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = path.absolute()
    with _thread_locks_guard:
        local = _thread_locks.setdefault(key, threading.RLock())
    with local:
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def read_user_file(path: Path, *, limit: int = MAX_USER_FILE, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises :class:`FileNotFoundError` when it is missing and :class:`UserFileError`
    with a message a user can act on for a folder, a FIFO, a device or a file too
    large: opening is non-blocking, so a FIFO never hangs the caller, and no more
    than ``limit`` bytes are ever read, so ``/dev/zero`` cannot fill the memory.
    """
    path = Path(path)
    if path.is_dir():
        raise UserFileError(f"is a folder, not a {what}; give the path of the JSON file inside it")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except IsADirectoryError:
        raise UserFileError(f"is a folder, not a {what}; give the path of the JSON file inside it") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a device or special file"
            raise UserFileError(f"is {kind}, not a regular {what}; save the settings to a file and give its path")
        if info.st_size > limit:
            raise UserFileError(
                f"is {info.st_size:,} bytes, more than the {limit:,} a {what} may have; is this the right file?"
            )
        os.set_blocking(fd, True)
        chunks = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UserFileError(f"grew past the {limit:,} bytes a {what} may have while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, creating parent folders."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp_name, path.stat().st_mode & 0o777)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
