"""Approvals in the playground: a destructive call waits on its ``await`` while a person decides.

The demo server's ``write_file`` is destructive, so the default policy asks;
the playground's approver shows a dialog and the run waits.  Approved, the
call runs and the run completes; denied, the agent's ``try/except`` catches
the ``ToolError``; "always" saves the policy; calls waiting at once queue one
dialog at a time.  Agents connect over HTTP with the SDK's client.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from codemode_tui import paths
from codemode_tui.demo_server import scratch_dir
from codemode_tui.tui.screens.approval import ApprovalScreen

from .helpers import wait_until
from .test_agents import agent, answer, ready, serve_token, serving_app

__all__ = ["serve_token"]  # the autouse fixture: every app here serves with the same token

WRITE = """\
from generated.servers.demo import read_file, write_file
await write_file(path="approved.txt", content="hello")
await read_file(path="approved.txt")
"""

GUARDED = """\
from generated.servers.demo import write_file
try:
    await write_file(path="denied.txt", content="no")
    outcome = "written"
except Exception as exc:
    outcome = f"caught {type(exc).__name__}: {exc}"
outcome
"""


def execute(session: Any, code: str) -> asyncio.Future[Any]:
    return asyncio.ensure_future(session.call_tool("execute_code", {"code": code, "check": "off"}))


async def dialog(pilot: Any) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), "the approval dialog")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ApprovalScreen)
    return screen


async def test_an_approved_call_runs_and_the_agents_run_completes(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            call = execute(session, WRITE)
            screen = await dialog(pilot)
            request = screen.request
            assert request.tool == "demo__write_file" and request.server == "demo"
            assert request.arguments == {"path": "approved.txt", "content": "hello"}
            assert request.line == 2 and "write_file(path=" in request.code_line
            assert request.reason.startswith("the default for destructive tools")
            assert request.annotations["destructiveHint"] is True
            assert "content" in request.input_schema["properties"]
            assert not call.done()  # the run waits on its await meanwhile
            await pilot.press("o")
            result = answer(await asyncio.wait_for(call, 30))
            assert result["value"] == "hello", result
            assert (scratch_dir() / "approved.txt").read_text() == "hello"
            run = next(iter(app.hub.agents.runs.values()))
            await wait_until(pilot, lambda: run.result is not None, "the run in the Agents view")
            decisions = [record.decision for record in run.calls.values()]
            assert decisions[0] == "approved once by a person (playground)"


async def test_a_denied_call_raises_in_the_agents_code_and_try_except_catches_it(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            call = execute(session, GUARDED)
            await dialog(pilot)
            await pilot.press("d")
            result = answer(await asyncio.wait_for(call, 30))
            assert result["value"].startswith("caught ToolError: demo.write_file: denied by policy"), result
            assert "error" not in result or not result["error"]
        assert not (scratch_dir() / "denied.txt").exists()


async def test_calls_waiting_at_once_queue_one_dialog_at_a_time_and_always_is_saved(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app, "first-agent") as first, agent(app, "second-agent") as second:
            one = execute(first, WRITE)
            await wait_until(pilot, lambda: app.approvals_waiting == 1, "the first call waiting")
            two = execute(second, GUARDED)  # (started once the first waits: eval sandboxes import one at a time)
            await wait_until(pilot, lambda: app.approvals_waiting == 2, "both calls waiting")
            shown = await dialog(pilot)
            assert shown.waiting == 1  # it says another call waits after it
            assert "1 more call waiting" in str(shown.query_one("#approval-summary").render())
            assert len(app.screen_stack) == 2  # one dialog at a time
            await pilot.press("a")  # always allow write_file: saved in the policy file
            await wait_until(pilot, lambda: app.screen is not shown, "the first dialog to close")
            if app.approvals_waiting:  # the second was asked before "always" was saved: it gets its dialog
                await dialog(pilot)
                await pilot.press("o")
            results = [answer(await asyncio.wait_for(call, 30)) for call in (one, two)]
            assert results[0]["value"] == "hello" and results[1]["value"] == "written"
            saved = json.loads((paths.config_dir() / "policy.json").read_text())
            assert saved["tools"]["demo__write_file"] == "allow"
            third = answer(await asyncio.wait_for(execute(first, WRITE), 30))  # no dialog any more
            assert third["value"] == "hello"


async def test_the_persons_own_run_asks_too(tmp_path: Path) -> None:
    app = serving_app(tmp_path, serve=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready_without_serving(pilot, app)
        hub = app.hub
        hub.open_in_editor(GUARDED)
        await pilot.press("f5")
        screen = await dialog(pilot)
        assert screen.request.session is None
        await pilot.press("escape")  # escape denies
        await wait_until(pilot, lambda: not hub.running and hub.runs_recorded == 1, "the run")
        assert hub.output.query_one("#result").text.startswith("caught ToolError: demo.write_file: denied by policy")  # type: ignore[attr-defined]


async def ready_without_serving(pilot: Any, app: Any) -> None:
    from .helpers import connected

    await wait_until(pilot, lambda: connected(app), "the demo server")


async def test_ctrl_c_in_the_dialog_stops_the_agents_waiting_run(tmp_path: Path) -> None:
    app = serving_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await ready(pilot, app)
        async with agent(app) as session:
            call = execute(session, WRITE)
            await dialog(pilot)
            await pilot.press("ctrl+c")  # the stop key, as for the person's own run
            result = answer(await asyncio.wait_for(call, 30))
            assert result["error"] is not None and result["value"] is None, result
            await wait_until(pilot, lambda: not isinstance(app.screen, ApprovalScreen), "the dialog to close")
        assert not (scratch_dir() / "approved.txt").exists()
