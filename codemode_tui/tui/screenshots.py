"""Regenerate the README screenshots: ``python -m codemode_tui.tui.screenshots [OUT_DIR]``.

Each screenshot drives the real app headless against the bundled demo server,
in a throw-away ``CODEMODE_TUI_HOME`` so no user file is read or written, and
saves an SVG (default folder: ``screenshots/`` in the current directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ..config import MCPServerConfig, save_servers
from ..workspace import Workspace, demo_server_config
from .app import PlaygroundApp

#: A scene: it drives the app to what the screenshot shows; it may return what to do after it was taken.
Scenario = Callable[[PlaygroundApp, Pilot[Any]], Awaitable["Callable[[], Awaitable[None]] | None"]]
#: The token the serving scenes' agent presents (a throw-away home: never a real one).
SHOT_TOKEN = "screenshot-token"
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


# -- debugging agent code: the Agents view, an approval, an effect plan, two runs compared ----

AGENT_CODE = """\
from generated.servers.demo import add_note, calculate, search_notes
note = await add_note(title="groceries", body="milk, eggs")
found = await search_notes(query="milk")
print("notes about milk:", len(found))
total = await calculate(a=19, b=23)
{"note": note["id"], "total": total}
"""


@contextlib.asynccontextmanager
async def _agent(app: PlaygroundApp, name: str = "claude-code", version: str = "2.1") -> AsyncIterator[Any]:
    """An agent: the MCP SDK's client over streamable HTTP with the token, as Claude Code connects."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.types import Implementation

    assert app.serve_info is not None
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {SHOT_TOKEN}"}, timeout=120)
    async with (
        client,
        streamable_http_client(app.serve_info.url, http_client=client) as (read, write),
        ClientSession(read, write, client_info=Implementation(name=name, version=version)) as session,
    ):
        await session.initialize()
        yield session


async def _serving(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    await _demo_ready(app, pilot)
    await _until(pilot, lambda: app.serve_info is not None, "the app to serve agents")


async def agents(app: PlaygroundApp, pilot: Pilot[Any]) -> Callable[[], Awaitable[None]]:
    """An agent's two runs in its session, watched live in the Agents view (the agent still connected)."""
    await _serving(app, pilot)
    stack = contextlib.AsyncExitStack()
    session = await stack.enter_async_context(_agent(app))
    await session.call_tool("execute_code", {"code": AGENT_CODE})
    await session.call_tool("execute_code", {"code": "total * 2"})
    await pilot.press("ctrl+t")
    pane = app.hub.agents
    await _until(pilot, lambda: pane.live_agents() == 1, "the session in the Agents view")
    pane.run_list.focus()
    await pilot.press("down")  # the first run, with its calls
    await pilot.pause(0.5)
    return stack.aclose


async def approval(app: PlaygroundApp, pilot: Pilot[Any]) -> Callable[[], Awaitable[None]]:
    """An agent's write waits on its ``await`` while the dialog asks; approved after the screenshot."""
    from .screens.approval import ApprovalScreen

    await _serving(app, pilot)
    stack = contextlib.AsyncExitStack()
    session = await stack.enter_async_context(_agent(app))
    code = (
        "from generated.servers.demo import list_files, write_file\n"
        "names = await list_files()\n"
        'await write_file(path="report.md", content=f"# Report\\n{len(names)} files")\n'
    )
    call = asyncio.ensure_future(session.call_tool("execute_code", {"code": code}))
    await _until(pilot, lambda: isinstance(app.screen, ApprovalScreen), "the approval dialog", timeout=180)
    await pilot.pause(0.5)

    async def approve() -> None:
        await pilot.press("o")
        await call
        await stack.aclose()

    return approve


EFFECTS = """\
from generated.servers.demo import add_note, list_files, write_file

files = await list_files()
await write_file(path="report.md", content=f"{len(files)} files")
note = await add_note(title="report", body="written")
print("report written, note", note["id"])
"""


async def effect_plan(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """A dry run: the writes are held back and listed before anything real happens."""
    from .screens.effect_plan import EffectPlanScreen

    await _demo_ready(app, pilot)
    await _until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox", timeout=180)
    app.hub.editor.text = EFFECTS
    await pilot.press("shift+f6")
    await _until(pilot, lambda: isinstance(app.screen, EffectPlanScreen) and app.screen.ready, "the effect plan")
    await pilot.pause(0.5)


BEFORE = """\
from generated.servers.demo import read_file, write_file
await write_file(path="greeting.txt", content="hello")
print((await read_file(path="greeting.txt")).upper())
"""


async def run_diff(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """Two runs of an edited script compared: the changed write, the output's diff."""
    from ..executor.policy import ToolPolicy
    from .screens.run_diff import RunDiffScreen

    await _demo_ready(app, pilot)
    app.workspace.policy = ToolPolicy(servers={"demo": "allow"})  # a person who allowed the demo server
    await _until(pilot, lambda: app.hub.sandbox_state == "ready", "the sandbox", timeout=180)
    edited = BEFORE.replace("hello", "bonjour") + 'await write_file(path="log.txt", content="ok")\n'
    for number, code in enumerate((BEFORE, edited), 1):
        app.hub.editor.text = code
        await pilot.press("f5")
        await _until(pilot, lambda n=number: app.hub.runs_recorded == n, "the run", timeout=120)
    await pilot.press("ctrl+g")
    await _until(pilot, lambda: getattr(app.screen, "loaded", False), "the history")
    await pilot.press("c")  # the newest run against the one before it
    await _until(pilot, lambda: isinstance(app.screen, RunDiffScreen) and app.screen.ready, "the comparison")
    await pilot.pause(0.5)


async def completion(app: PlaygroundApp, pilot: Pilot[Any]) -> None:
    """The editor completes a tool's parameters, with the signature above the cursor."""
    await _demo_ready(app, pilot)
    editor = app.hub.editor
    editor.text = 'from generated.servers.demo import add_note\n\nnote = await add_note()\nprint(note["id"])\n'
    editor.focus()
    editor.move_cursor((2, len("note = await add_note(")))
    await pilot.press("ctrl+space")
    await _until(pilot, lambda: editor.completion_popup is not None and editor.completion_popup.is_open, "the popup")
    await pilot.pause(0.5)


WITH_RUNS = (main_screen, light_theme, snippets, history, effect_plan, run_diff, agents, approval)
SERVING = (agents, approval)

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
    ("completion", completion, (120, 30), False),
    ("agents", agents, (140, 40), False),
    ("approval", approval, (130, 40), False),
    ("effect-plan", effect_plan, (130, 36), False),
    ("run-diff", run_diff, (140, 38), False),
]


async def take(name: str, scenario: Scenario, size: tuple[int, int], with_broken: bool, out: Path) -> Path:
    home = Path(tempfile.mkdtemp(prefix="codemode-shot-"))
    os.environ["CODEMODE_TUI_HOME"] = str(home)
    servers = [demo_server_config()] + ([MISSING] if with_broken else [])
    config = home / "servers.json"
    save_servers(config, servers)
    os.environ["CODEMODE_TUI_SERVE_TOKEN"] = SHOT_TOKEN
    app = PlaygroundApp(
        Workspace(config, persist=False),
        cursor_blink=False,
        warm_sandbox=scenario in WITH_RUNS,
        serve=scenario in SERVING,
        serve_port=None,  # the playground's default port (a free one if it is taken)
    )
    async with app.run_test(size=size) as pilot:
        after = await scenario(app, pilot)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        if after is not None:
            await after()
    return path


async def run(out: Path, only: set[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, scenario, size, with_broken in SHOTS:
        if only and name not in only:
            continue
        path = await take(name, scenario, size, with_broken, out)
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    """``[OUT_DIR] [NAME ...]``: every screenshot, or only those named."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("screenshots")
    asyncio.run(run(out, set(args[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
