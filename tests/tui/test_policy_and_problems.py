"""The tool policy edited in the servers pane, and the Problems list of the type check."""

from __future__ import annotations

import json
from pathlib import Path

from codemode_tui.check.diagnostic import Diagnostic
from codemode_tui.tui.screens.policy import PolicyScreen
from codemode_tui.tui.screens.problems import ProblemsScreen
from codemode_tui.tui.widgets.code_editor import CodeEditor
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until


async def test_a_servers_tool_policy_is_edited_in_the_servers_pane_and_saved(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, policy_path=policy_file)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        policy = app.workspace.policy
        assert (
            policy is not None
            and policy.decide("demo__write_file", app.workspace.registry.get_tool("demo__write_file"))[0] == "ask"
        )
        await pilot.press("f2", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, PolicyScreen), "the policy dialog")
        screen = app.screen
        names = [tool.name for tool in screen.tools]
        table = screen.query_one("#policy-tools")
        table.move_cursor(row=names.index("write_file"))
        await pilot.press("enter")  # none -> allow
        write = app.workspace.registry.get_tool("demo__write_file")
        assert policy.decide("demo__write_file", write) == ("allow", "the policy for demo__write_file")
        await pilot.press("s", "s", "s")  # the server: allow -> ask -> deny
        read = app.workspace.registry.get_tool("demo__read_file")
        assert policy.decide("demo__read_file", read)[0] == "deny"  # the server's entry beats the default
        assert policy.decide("demo__write_file", write)[0] == "allow"  # the tool's own entry beats the server's
        await pilot.press("escape")
        await wait_until(pilot, lambda: policy_file.exists(), "the policy file")
        saved = json.loads(policy_file.read_text())
        assert saved == {"servers": {"demo": "deny"}, "tools": {"demo__write_file": "allow"}}
        # In force at once: a run's read is refused, and the code can catch it.
        result = await app.workspace.run(
            "from generated.servers.demo import read_file\n"
            "try:\n    await read_file(path='x')\nexcept Exception as exc:\n    print(exc)\n"
        )
        assert "denied by policy" in result.stdout


async def test_the_problems_list_goes_to_the_finding_chosen(tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path, connect=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, "the engine")
        editor = app.screen.query_one("#editor", CodeEditor)
        editor.text = "a = 1\nb = c\nd = e\n"
        editor.show_diagnostics(
            [
                Diagnostic(3, 5, 3, 6, "warning", "maybe unbound"),
                Diagnostic(2, 5, 2, 6, "error", "unknown name c"),
            ]
        )
        await pilot.press("alt+p")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemsScreen), "the problems list")
        assert [d.line for d in app.screen.diagnostics] == [2, 3]  # errors first
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProblemsScreen), "the list to close")
        assert editor.cursor_location == (2, 4) and app.focused is editor
