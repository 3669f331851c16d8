"""Regenerate the README screenshots: ``python -m codemode_tui.tui.screenshots [OUT_DIR]``.

Each screenshot drives the real app headless against the bundled demo server,
in a throw-away ``CODEMODE_TUI_HOME`` so no user file is read or written, and
saves an SVG (default folder: ``screenshots/`` in the current directory).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ..config import MCPServerConfig, save_servers
from ..workspace import Workspace, demo_server_config
from .app import PlaygroundApp

Scenario = Callable[[PlaygroundApp, Pilot[Any]], Awaitable[None]]
MISSING = MCPServerConfig(name="broken", command="no-such-mcp-server-command", timeout=5)


async def _until(pilot: Pilot[Any], predicate: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def _connected(app: PlaygroundApp, name: str = "demo") -> bool:
    if not app.engine_ready:
        return False
    return any(i.name == name and i.status == "connected" for i in app.workspace.registry.list_servers())


async def _demo_ready(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _until(pilot, lambda: _connected(app), "the demo server")
    await pilot.pause(0.3)


FILLED_IN = """\
from generated.servers.demo import quote_order

quote = await quote_order(
    customer={"name": "Ada", "email": "ada@example.com"},
    items=[{"sku": "A-1", "quantity": 2, "unit_price": 9.5},
           {"sku": "B-7", "quantity": 1, "unit_price": 20.0}],
)
print("total:", quote["total"])
quote
"""


async def main_screen(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """A search, the tool's preview, its call filled in and run: result, trace and status."""
    await _demo_ready(app, pilot)
    app.hub.editor.text = ""
    await pilot.press("f3", *"order total", "down", "enter")
    await pilot.pause(0.3)
    app.hub.editor.text = FILLED_IN  # the placeholders of the inserted call, filled in as a user would
    await _until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox", timeout=180)
    await pilot.press("f5")
    await _until(pilot, lambda: not app.hub.running, "the run", timeout=120)
    app.hub.tools.tool_list.focus()
    await pilot.pause(0.5)


async def context_budget(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _demo_ready(app, pilot)
    await pilot.press("f7")
    await pilot.pause(0.5)


async def light_theme(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await main_screen(app, pilot)
    app.theme = "codemode-light"
    await pilot.pause(0.3)


async def server_form(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _demo_ready(app, pilot)
    await pilot.press("f2", "a", *"filesystem")
    await pilot.press("tab", "tab", *"npx", "tab", *"-y @modelcontextprotocol/server-filesystem /tmp")
    await pilot.pause(0.3)


async def failed_server(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _until(pilot, lambda: any(i.status == "failed" for i in app.workspace.registry.list_servers()), "failure")
    await _demo_ready(app, pilot)
    await _until(pilot, lambda: app.hub.servers.failure_noticed("broken"), "the failure notice")  # then clear it
    app.clear_notifications()
    app.hub.servers.server_list.focus()
    app.hub.servers.server_list.move_cursor(row=1)
    await pilot.press("l")
    await pilot.pause(0.3)


async def narrow(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _demo_ready(app, pilot)


MULTIPLY = """\
from generated.servers.demo import calculate

total = await calculate(a=base, b=factor, op="multiply")
print(label, total)
total
"""


async def _fill_save_form(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """ctrl+s on code that reads three unset variables: they are offered as parameters; fill them in."""
    from textual.widgets import Input, Select

    from .widgets.param_row import ParamRow

    app.hub.editor.text = MULTIPLY
    await pilot.press("ctrl+s")
    await pilot.pause(0.2)
    form = app.screen
    await pilot.press(*"multiply-label")
    form.query_one("#snippet-description", Input).value = "Multiply two numbers and print them with a label"
    rows = list(form.query(ParamRow))
    for row, (kind, default, description) in zip(
        rows,
        [("float", "6", "the first factor"), ("int", "", "the second factor"), ("str", "", "printed first")],
        strict=True,
    ):
        row.query_one(Select).value = kind
        row.default_input.value = default
        row.query_one(".param-description", Input).value = description
    await pilot.pause(0.3)


async def save_snippet(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _demo_ready(app, pilot)
    await _fill_save_form(app, pilot)


async def _saved_and_run(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """Save the snippet, then run it from the browser with values asked for by the parameter form."""
    from textual.widgets import Input

    from ..snippets import Snippet

    await _demo_ready(app, pilot)
    await _fill_save_form(app, pilot)
    await pilot.press("ctrl+s")
    await _until(pilot, lambda: app.hub.snippet_in_store, "the save")
    app.workspace.snippets.save(
        Snippet("list-notes", "from generated.servers.demo import list_notes\nawait list_notes()\n", "All notes")
    )
    await _until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox", timeout=180)
    await pilot.press("ctrl+o")
    await _until(pilot, lambda: getattr(app.screen, "loaded", False), "the snippets browser")
    await pilot.press(*"multiply", "f5")
    await pilot.pause(0.2)
    app.screen.query_one("#value-factor", Input).value = "7"
    app.screen.query_one("#value-label", Input).value = "area"
    await pilot.press("ctrl+r")
    await _until(pilot, lambda: app.hub.runs_recorded == 1, "the run", timeout=120)


async def snippets(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _saved_and_run(app, pilot)
    await pilot.press("ctrl+o")
    await _until(pilot, lambda: getattr(app.screen, "loaded", False), "the snippets browser")
    await pilot.press("down", "down")
    await pilot.pause(0.3)


async def history(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _saved_and_run(app, pilot)
    await pilot.press("ctrl+g")
    await _until(pilot, lambda: getattr(app.screen, "loaded", False), "the history")
    await pilot.pause(0.3)


WITH_RUNS = (main_screen, light_theme, snippets, history)

SHOTS: list[tuple[str, Scenario, tuple[int, int], bool]] = [
    ("main", main_screen, (140, 40), False),
    ("server-form", server_form, (120, 32), False),
    ("failed-server", failed_server, (120, 32), True),
    ("light-theme", light_theme, (140, 40), False),
    ("80x24", narrow, (80, 24), False),
    ("context-budget", context_budget, (110, 30), False),
    ("save-snippet", save_snippet, (110, 30), False),
    ("snippets", snippets, (110, 30), False),
    ("history", history, (110, 30), False),
]


async def take(name: str, scenario: Scenario, size: tuple[int, int], with_broken: bool, out: Path) -> Path:
    home = Path(tempfile.mkdtemp(prefix="codemode-shot-"))
    os.environ["CODEMODE_TUI_HOME"] = str(home)
    servers = [demo_server_config()] + ([MISSING] if with_broken else [])
    config = home / "servers.json"
    save_servers(config, servers)
    app = PlaygroundApp(Workspace(config, persist=False), cursor_blink=False, warm_sandbox=scenario in WITH_RUNS)
    async with app.run_test(size=size) as pilot:
        await scenario(app, pilot)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


async def run(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, scenario, size, with_broken in SHOTS:
        path = await take(name, scenario, size, with_broken, out)
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("screenshots")
    asyncio.run(run(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
