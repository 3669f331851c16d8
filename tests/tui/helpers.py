"""Helpers for driving the playground with the pilot."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from codemode_tui.config import MCPServerConfig, save_servers
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.workspace import Workspace
from tests.conftest import in_process_demos

MISSING_COMMAND = "no-such-mcp-server-command"


async def wait_until(pilot: Pilot[object], predicate: Callable[[], object], what: str, timeout: float = 30) -> None:
    """Let the app run until ``predicate()`` is true (servers and sandboxes take real time)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot[object]) -> None:
    """Let a change of screen or theme finish restyling and animating before a snapshot."""
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.3)


def notices(app: PlaygroundApp) -> list[str]:
    """The notifications the screen shows now (Textual's toasts), title and message, as a person reads them.

    ``App.run_test`` turns toasts off unless it is given ``notifications=True``.
    """
    return [toast.render().plain for toast in app.screen.query("Toast")]


async def wait_for_notice(pilot: Pilot[object], text: str, timeout: float = 10) -> list[str]:
    """Wait until a notification on screen contains ``text``; returns those that do."""
    app = pilot.app
    assert isinstance(app, PlaygroundApp)
    await wait_until(pilot, lambda: any(text in n for n in notices(app)), f"a notification saying {text!r}", timeout)
    return [n for n in notices(app) if text in n]


def server_status(app: PlaygroundApp, name: str) -> str | None:
    if not app.engine_ready:  # the app builds its workspace after the first frame when not given one
        return None
    for info in app.workspace.registry.list_servers():
        if info.name == name:
            return info.status
    return None


def connected(app: PlaygroundApp, name: str = "demo") -> bool:
    return server_status(app, name) == "connected" and bool(app.workspace.registry.list_tools(name))


def write_config(path: Path, *servers: MCPServerConfig) -> Path:
    save_servers(path, servers)
    return path


def app_with(
    *servers: MCPServerConfig, tmp_path: Path, real_processes: bool = False, **kwargs: object
) -> PlaygroundApp:
    """An app on a saved servers file holding exactly ``servers`` (changes are saved to it).

    The demo server runs in this process over the SDK's in-memory transport (same
    session and messages, none of the 2 s of CPU a Python process importing the
    SDK costs); ``real_processes=True`` starts its command, for the tests about a
    process (its stderr, its death, its start-up).
    """
    path = write_config(tmp_path / "servers.json", *servers)
    kwargs.setdefault("warm_sandbox", False)  # a kernel costs seconds of CPU: only the run tests start one
    in_process = {} if real_processes else in_process_demos(*servers)
    workspace = Workspace(path, persist=True, in_process=in_process)
    return PlaygroundApp(workspace, cursor_blink=False, **kwargs)  # type: ignore[arg-type]


def missing_command_config(name: str = "broken") -> MCPServerConfig:
    return MCPServerConfig(name=name, command=MISSING_COMMAND, timeout=5)


def screen_text(app: PlaygroundApp) -> str:
    """Every character the current screen would send to the terminal, from its rendered strips."""
    strips = app.screen._compositor.render_strips()  # the frame Textual writes, before styling is encoded
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
