"""Serving agents from the playground (``--serve``): the meta-tools over streamable HTTP on loopback.

Agents' runs and the editor's share one workspace, so the server runs in the
app's own event loop.  The address and the token are stable (port 8765 unless
taken or ``--port``; the token kept 0600 in the config folder unless
``CODEMODE_TUI_SERVE_TOKEN`` is set), so a client config pasted once keeps
working across restarts.  A taken default port falls back to a free one; an
explicit port does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import paths
from .messages import ServeChanged

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .screens.serve_info import ServeInfo

SERVE_HOST = "127.0.0.1"
#: Where the playground serves agents by default (stable, so a pasted client config keeps working).
DEFAULT_SERVE_PORT = 8765
#: The serving token, kept in the config folder (0600) unless CODEMODE_TUI_SERVE_TOKEN is set.
SERVE_TOKEN_FILE = "serve-token"


async def serve_agents(
    workspace: Workspace,
    *,
    port: int | None,
    stop: asyncio.Event,
    started: Callable[[ServeInfo], None],
    changed: Callable[[ServeChanged], None],
) -> None:
    """Serve until ``stop`` is set; ``started`` gets the address, ``changed`` every change or failure."""
    from .. import server_mode
    from .screens.serve_info import ServeInfo

    try:
        token = await asyncio.to_thread(server_mode.remembered_token, paths.config_dir() / SERVE_TOKEN_FILE)
    except OSError as exc:
        changed(ServeChanged(None, f"cannot keep the serving token: {exc}"))
        return
    chosen = port or DEFAULT_SERVE_PORT
    for attempt in range(2):
        ready = asyncio.Event()
        task = asyncio.ensure_future(
            server_mode.serve_http(workspace, host=SERVE_HOST, port=chosen, token=token, ready=ready)
        )
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        taken = task.done() and not task.cancelled() and isinstance(task.exception(), OSError)
        if ready.is_set() or not taken or port or attempt:
            break
        waiter.cancel()
        chosen = free_port()
    try:
        if not ready.is_set():
            error = task.exception() if task.done() and not task.cancelled() else None
            changed(ServeChanged(None, f"{type(error).__name__}: {error}" if error else "stopped"))
            return
        info = ServeInfo(f"http://{SERVE_HOST}:{chosen}/mcp", token, chosen)
        started(info)
        changed(ServeChanged(info.url))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            changed(ServeChanged(None, f"{type(error).__name__}: {error}"))
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def free_port() -> int:
    """A port free on loopback now (for a taken default, and for tests)."""
    with socket.socket() as sock:
        sock.bind((SERVE_HOST, 0))
        return int(sock.getsockname()[1])
