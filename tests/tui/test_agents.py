"""The playground with ``--serve``: a real MCP client over HTTP, watched in the Agents view.

The app serves the meta-tools on a free loopback port in its own event loop; the
SDK's client connects with the bearer token, runs code through ``execute_code``,
and the session and its runs appear in the Agents view as they happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from codemode_tui.executor import CodeModeConfig
from codemode_tui.tui.app import PlaygroundApp
from codemode_tui.tui.screens.serve_info import ServeInfoScreen, client_config
from codemode_tui.tui.widgets.agents_pane import AgentsPane
from codemode_tui.tui.widgets.status_bar import StatusBar
from tests.conftest import demo_stdio_config, free_port

from .helpers import app_with, connected, wait_until

TOKEN = "agents-view-token"

COMPOSE = """\
from generated.servers.demo import add_note, calculate
note = await add_note(title="groceries", body="milk")
print("added", note["title"])
total = await calculate(a=19, b=23)
{"total": total}
"""


@pytest.fixture(autouse=True)
def serve_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CODEMODE_TUI_SERVE_TOKEN", TOKEN)
    return TOKEN


def serving_app(tmp_path: Path, **kwargs: Any) -> PlaygroundApp:
    kwargs.setdefault("serve", True)
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, serve_port=free_port(), **kwargs)
    app.workspace.executor_config = CodeModeConfig(sandbox="eval")  # the isolation is not the point here
    return app


async def ready(pilot: Any, app: PlaygroundApp) -> None:
    await wait_until(pilot, lambda: connected(app), "the demo server")
    await wait_until(pilot, lambda: app.serve_info is not None, "the app to serve over HTTP")


@contextlib.asynccontextmanager
async def agent(app: PlaygroundApp, name: str = "test-agent") -> AsyncIterator[ClientSession]:
    """An MCP client session over streamable HTTP, with the token, as an agent would connect."""
    assert app.serve_info is not None
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    async with (
        client,
        streamable_http_client(app.serve_info.url, http_client=client) as (read, write),
        ClientSession(read, write, client_info=Implementation(name=name, version="1.2")) as session,
    ):
        await session.initialize()
        yield session


def answer(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


async def test_an_agents_session_and_runs_appear_live_in_the_agents_view(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        status = app.screen.query_one(StatusBar)
        assert status.serving == f"serving :{app.serve_info.port}, 0 agents"  # type: ignore[union-attr]
        await pilot.press("ctrl+t")
        pane = app.screen.query_one(AgentsPane)
        assert pane.display and not app.screen.query_one("#top").display
        async with agent(app) as session:
            first = answer(await session.call_tool("execute_code", {"code": COMPOSE, "check": "off"}))
            assert first["value"] == {"total": 42}
            await wait_until(pilot, lambda: pane.live_agents() == 1, "the session in the Agents view")
            view = next(iter(pane.views.values()))
            assert view.client == "test-agent 1.2"
            assert status.serving.endswith(", 1 agent")
            second = answer(await session.call_tool("execute_code", {"code": "total * 2", "check": "off"}))
            assert second["value"] == 84  # the session's sandbox kept its variables
            await wait_until(pilot, lambda: len(view.runs) == 2 and view.runs[1].result is not None, "two runs")
            run = view.runs[0]
            assert [call.name for call in run.calls.values()] == ["demo__add_note", "demo__calculate"]
            assert "".join(text for _, text in run.output) == "added groceries\n"
            # The newest run is shown; pick the first and see its output, trace and decisions.
            pane.run_list.focus()
            await pilot.press("down")
            await pilot.pause()
            assert pane.selected_run == run.key
            assert pane.log_widget.plain == ["added groceries"]
            decisions = [record.decision for record in pane.trace.records]
            assert decisions == ["allowed by the default for other tools", "allowed by the default for read-only tools"]
            # Open it in the editor: its code replaces the buffer and the Agents view gives way.
            await pilot.press("e")
            await pilot.pause()
            assert app.screen.query_one("#editor").text == COMPOSE  # type: ignore[attr-defined]
            assert not pane.display
        await wait_until(pilot, lambda: view.closed, "the session to close when the client leaves")
        assert status.serving.endswith(", 0 agents")


async def test_stopping_an_agents_run_from_the_agents_view(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+t")
        pane = app.screen.query_one(AgentsPane)
        async with agent(app) as session:
            call = asyncio.ensure_future(
                session.call_tool(
                    "execute_code",
                    {"code": "import time\nprint('working', flush=True)\nfor _ in range(600):\n    time.sleep(0.05)\n"},
                )
            )
            await wait_until(pilot, lambda: bool(pane.runs) and pane.log_widget.plain == ["working"], "the run")
            pane.run_list.focus()
            await pilot.press("ctrl+c")  # the same key as for the person's own run
            stopped = answer(await asyncio.wait_for(call, 30))
            assert stopped["error"]["type"] in ("KeyboardInterrupt", "CancelledError"), stopped
            run = next(iter(pane.runs.values()))
            await wait_until(pilot, lambda: run.result is not None, "the run to finish")
            assert run.state == "stopped"


async def test_attaching_the_editor_to_an_agents_session_runs_in_its_sandbox(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            answer(await session.call_tool("execute_code", {"code": "secret = 'from the agent'", "check": "off"}))
            await pilot.press("ctrl+t")
            pane = app.screen.query_one(AgentsPane)
            await wait_until(pilot, lambda: bool(pane.runs) and next(iter(pane.runs.values())).result, "the run")
            await pilot.press("a")
            await pilot.pause()
            hub = app.hub
            assert hub.attached is not None
            assert app.screen.query_one(StatusBar).attached == "attached to agent 1 (test-agent 1.2)"
            hub.open_in_editor("secret.upper()")
            await pilot.press("f5")
            await wait_until(pilot, lambda: not hub.running and hub.runs_recorded == 1, "the editor's run")
            assert hub.output.query_one("#result").text == "FROM THE AGENT"  # type: ignore[attr-defined]
            # The agent sees what the person's run defined (one sandbox), and the run is in its view.
            assert len(next(iter(pane.views.values())).runs) == 2
            hub.action_detach_session()
            assert hub.attached is None and not app.screen.query_one(StatusBar).attached


async def test_serve_info_shows_the_url_and_copies_the_token(tmp_path: Path) -> None:
    app = serving_app(tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.serve_info is not None, "serving")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ServeInfoScreen)
        await pilot.press("ctrl+c")
        assert app.clipboard == TOKEN
        await pilot.press("s")
        snippet = json.loads(app.clipboard)
        assert snippet["mcpServers"]["codemode-tui"]["args"][-1] == f"Authorization: Bearer {TOKEN}"
        info = app.serve_info
        assert info is not None
        vscode = json.loads(client_config(info, "vscode"))["servers"]["codemode-tui"]
        assert vscode == {"type": "http", "url": info.url, "headers": {"Authorization": f"Bearer {TOKEN}"}}
        await pilot.press("escape")
        # The config works: a client with it gets in, one without is refused.
        async with httpx2.AsyncClient(timeout=10) as http:
            refused = await http.post(info.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert refused.status_code == 401


async def test_rerunning_an_agents_run_runs_its_code_again_in_the_sessions_sandbox(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            code = "count = globals().get('count', 0) + 1\ncount"
            assert answer(await session.call_tool("execute_code", {"code": code, "check": "off"}))["value"] == 1
            await pilot.press("ctrl+t")
            pane = app.hub.agents
            await wait_until(pilot, lambda: bool(pane.runs) and next(iter(pane.runs.values())).result, "the run")
            await pilot.press("r")
            hub = app.hub
            await wait_until(pilot, lambda: hub.runs_recorded == 1 and not hub.running, "the re-run")
            assert hub.output.query_one("#result").text == "2"  # type: ignore[attr-defined]  # its variables
            assert hub.attached is None  # a re-run does not attach the editor
            view = next(iter(pane.views.values()))
            assert [run.source for run in view.runs] == ["serve", "playground"]


async def test_replaying_an_agents_run_answers_from_its_recording_with_the_server_stopped(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            live = answer(await session.call_tool("execute_code", {"code": COMPOSE, "check": "off"}))
        pane = app.hub.agents
        run = next(iter(pane.runs.values()))
        await wait_until(pilot, lambda: run.history_id is not None, "the run's history entry")
        await app.workspace.registry.connection("demo").close()  # no server to answer any more
        await pilot.press("ctrl+t")
        pane.run_list.focus()
        await pilot.press("p")
        hub = app.hub
        await wait_until(pilot, lambda: hub.runs_recorded == 1 and not hub.running, "the replay")
        assert hub.output.log_widget.plain[1] == live["stdout"].strip()  # the same output
        assert json.loads(hub.output.query_one("#result").text) == live["value"]  # type: ignore[attr-defined]
        assert [record.answered for record in hub.output.trace.records] == ["recording", "recording"]
