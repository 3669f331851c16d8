"""The playground's typed states agree with the engine's."""

from __future__ import annotations

from typing import get_args

from codemode_tui.executor import RunError, RunResult
from codemode_tui.executor import SandboxState as EngineSandboxState
from codemode_tui.tui.ui_types import SERVER_ACTIONS, SandboxState
from codemode_tui.tui.widgets.output_pane import run_status
from codemode_tui.tui.widgets.server_list import ServerList


def test_the_status_bar_knows_every_sandbox_state_of_the_executor() -> None:
    assert set(get_args(SandboxState)) == set(get_args(EngineSandboxState))


def test_a_run_stopped_on_request_is_cancelled_not_an_error() -> None:
    assert run_status(RunResult(run_id="a")) == "ok"
    failed = RunResult(run_id="b", error=RunError("ValueError", "bad"))
    assert run_status(failed) == "error"
    stopped = RunResult(run_id="c", error=RunError("KeyboardInterrupt", ""), cancelled=True)
    assert run_status(stopped) == "cancelled"


def test_every_server_key_asks_for_a_typed_action() -> None:
    verbs = {b.action.split("'")[1] for b in ServerList.BINDINGS if hasattr(b, "action")}  # type: ignore[union-attr]
    assert verbs == set(SERVER_ACTIONS)
