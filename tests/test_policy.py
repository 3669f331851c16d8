"""Tool policy: allow / ask / deny, from annotations, per server and per tool, and approvals.

The decisions are unit-tested on tool definitions; everything a person (or an
approver function) does is tested on real runs against the demo server, because
the point is what the *code* sees: a denial is a ``ToolError`` it can catch,
an approval lets the call run, and waiting for a person does not count against
the run's timeout.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from codemode_tui.demo_server import scratch_dir
from codemode_tui.executor import CodeModeConfig
from codemode_tui.executor.policy import Approval, ApprovalRequest, PolicyError, ToolPolicy, tool_kind
from codemode_tui.run_events import RunApproval
from codemode_tui.tool_types import ToolDefinition
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry

READ = {"readOnlyHint": True}
DESTRUCTIVE = {"readOnlyHint": False, "destructiveHint": True}
OPEN_WORLD = {"readOnlyHint": False, "destructiveHint": False, "openWorldHint": True}
ADDITIVE = {"readOnlyHint": False, "destructiveHint": False, "openWorldHint": False}

WRITE = "from generated.servers.demo import write_file\nawait write_file(path={path!r}, content='x')\n"


def tool(name: str, annotations: dict[str, object], server: str = "fs") -> ToolDefinition:
    return ToolDefinition(name=name, server=server, annotations=dict(annotations))


def workspace(sandbox: str = "eval") -> Workspace:
    ws = Workspace(registry=in_memory_registry(demo_stdio_config()))
    ws.executor_config = CodeModeConfig(sandbox=sandbox, check="off")  # type: ignore[arg-type]
    ws.policy = ToolPolicy()
    return ws


def test_defaults_follow_the_annotations() -> None:
    policy = ToolPolicy()
    cases = {
        "read": (READ, "read_only", "allow"),
        "wipe": (DESTRUCTIVE, "destructive", "ask"),
        "fetch": (OPEN_WORLD, "open_world", "ask"),
        "append": (ADDITIVE, "other", "allow"),
        "silent": ({}, "unannotated", "allow"),
        "implicit": ({"idempotentHint": True}, "destructive", "ask"),  # MCP: destructive unless said otherwise
    }
    for name, (hints, kind, decision) in cases.items():
        definition = tool(name, hints)
        assert tool_kind(definition) == kind, name
        found, why = policy.decide(definition.qualified_name, definition)
        assert found == decision, name
        assert why == f"the default for {kind.replace('_', '-')} tools"
    strict = ToolPolicy.from_dict({"defaults": {"unannotated": "ask", "destructive": "deny"}})
    assert strict.decide("fs__silent", tool("silent", {}))[0] == "ask"
    assert strict.decide("fs__wipe", tool("wipe", DESTRUCTIVE))[0] == "deny"


def test_a_tool_entry_beats_its_server_which_beats_the_default() -> None:
    policy = ToolPolicy.from_dict(
        {
            "servers": {"fs": "deny"},
            "tools": {"fs__read": "ask", "fs.wipe": "allow", "fs__write_*": "ask", "*__danger": "deny"},
        }
    )
    assert policy.decide("fs__read", tool("read", READ)) == ("ask", "the policy for fs__read")
    assert policy.decide("fs__wipe", tool("wipe", DESTRUCTIVE)) == ("allow", "the policy for fs.wipe")
    assert policy.decide("fs__write_file", tool("write_file", DESTRUCTIVE)) == ("ask", "the policy for fs__write_*")
    assert policy.decide("fs__other", tool("other", READ)) == ("deny", "the policy for server fs")
    assert policy.decide("git__danger", tool("danger", READ, "git")) == ("deny", "the policy for *__danger")
    assert policy.decide("git__status", tool("status", READ, "git"))[0] == "allow"
    # An exact entry wins over a glob that also matches, whatever their order in the file.
    ordered = ToolPolicy.from_dict({"tools": {"fs__*": "deny", "fs__read": "allow"}})
    assert ordered.decide("fs__read", tool("read", READ))[0] == "allow"
    # A call of a tool the registry does not know still finds its server's entry by name.
    assert policy.decide("fs__gone", None) == ("deny", "the policy for server fs")


def test_from_dict_errors_name_what_is_wrong(tmp_path: Path) -> None:
    for data, words in [
        ([], "a policy is a JSON object"),
        ({"tool": {}}, "unknown key(s) tool"),
        ({"tools": []}, "'tools' must be an object"),
        ({"defaults": {"dangerous": "ask"}}, "defaults.dangerous is not a kind"),
        ({"servers": {"git": "maybe"}}, "servers.git: 'maybe' is not a decision"),
        ({"tools": {"fs__read": True}}, "tools.fs__read: True is not a decision"),
    ]:
        with pytest.raises(PolicyError, match=re.escape(words)):
            ToolPolicy.from_dict(data)
    path = tmp_path / "policy.json"
    assert ToolPolicy.load(path) == ToolPolicy()  # no file: the defaults
    path.write_text("{ nope")
    with pytest.raises(PolicyError, match=re.escape(f"{path}: not valid JSON")):
        ToolPolicy.load(path)
    path.write_text(json.dumps({"servers": {"git": "no"}}))
    with pytest.raises(PolicyError, match=re.escape(f"{path}: servers.git")):
        ToolPolicy.load(path)
    policy = ToolPolicy.from_dict({"defaults": {"destructive": "deny"}, "tools": {"fs__*": "allow"}})
    policy.save(path)
    assert ToolPolicy.load(path) == policy
    assert json.loads(path.read_text()) == {"defaults": {"destructive": "deny"}, "tools": {"fs__*": "allow"}}


async def test_ask_with_nobody_attached_is_a_denial_the_code_can_catch() -> None:
    code = (
        "from generated.servers.demo import write_file, calculate\n"
        "try:\n"
        "    await write_file(path='nobody.txt', content='x')\n"
        "except ToolError as exc:\n"
        "    print('caught:', exc)\n"
        "await calculate(a=1, b=1)\n"
    )
    async with workspace() as ws:
        await ws.start()
        result = await ws.run("from generated.client import ToolError\n" + code)
        assert result.success, result.error
        assert "caught: " in result.stdout and "denied by policy: demo__write_file needs approval" in result.stdout
        assert "nobody is attached" in result.stdout
        assert not (scratch_dir() / "nobody.txt").exists()
        assert [c.decision for c in result.trace] == [
            "denied: the default for destructive tools is ask and nobody is attached to approve",
            "allowed by the default for read-only tools",
        ]
        assert [c.ok for c in result.trace] == [False, True]
        assert ws.history.list()[0].trace[0]["decision"].startswith("denied")


async def test_a_deny_entry_refuses_without_asking() -> None:
    asked: list[str] = []

    async def approver(request: ApprovalRequest) -> Approval:
        asked.append(request.tool)
        return Approval("once")

    async with workspace() as ws:
        await ws.start()
        ws.policy = ToolPolicy.from_dict({"servers": {"demo": "deny"}})
        result = await ws.run(WRITE.format(path="no.txt"), approver=approver)
        assert result.error is not None and result.error.type == "ToolError"
        assert "denied by policy: demo__write_file is refused by the policy for server demo" in result.error.message
        assert asked == [] and not (scratch_dir() / "no.txt").exists()


async def test_approve_once_for_the_run_and_always(tmp_path: Path) -> None:
    twice = WRITE.format(path="one.txt") + "await write_file(path='two.txt', content='y')\n"
    answers: list[str] = []
    requests: list[ApprovalRequest] = []

    async def approver(request: ApprovalRequest) -> Approval:
        requests.append(request)
        return Approval(answers.pop(0), by="ana")  # type: ignore[arg-type]

    async with workspace() as ws:
        await ws.start()
        ws.policy_path = tmp_path / "policy.json"
        events: list[object] = []
        ws.add_run_listener(events.append)

        answers[:] = ["once", "once"]
        once = await ws.run(twice, approver=approver)
        assert once.success, once.error
        assert [c.decision for c in once.trace] == ["approved once by ana", "approved once by ana"]
        assert len(requests) == 2 and answers == []
        first = requests[0]
        assert (first.tool, first.server, first.arguments) == (
            "demo__write_file",
            "demo",
            {"path": "one.txt", "content": "x"},
        )
        assert first.annotations["destructiveHint"] is True and "path" in first.input_schema["properties"]
        assert first.reason == "the default for destructive tools is 'ask'"
        assert (first.line, first.code_line) == (2, "await write_file(path='one.txt', content='x')")
        assert [e.request.tool for e in events if isinstance(e, RunApproval)] == ["demo__write_file"] * 2

        requests.clear()
        answers[:] = ["run"]
        for_run = await ws.run(twice, approver=approver)
        assert for_run.success and len(requests) == 1
        assert [c.decision for c in for_run.trace] == [
            "approved for this run by ana",
            "approved for this run by a person",
        ]
        requests.clear()
        answers[:] = ["run", "once"]
        next_run = await ws.run(WRITE.format(path="three.txt"), approver=approver)
        assert next_run.success and len(requests) == 1  # "for this run" ends with the run

        requests.clear()
        answers[:] = ["always"]
        always = await ws.run(twice, approver=approver)
        assert always.success and len(requests) == 1
        assert [c.decision for c in always.trace] == [
            "always allowed by ana",
            "allowed by the policy for demo__write_file",
        ]
        assert json.loads(ws.policy_path.read_text()) == {"tools": {"demo__write_file": "allow"}}
        assert ToolPolicy.load(ws.policy_path).decide("demo__write_file", None)[0] == "allow"

        answers[:] = ["deny"]
        ws.policy = ToolPolicy()
        refused = await ws.run(WRITE.format(path="four.txt"), approver=deny_with_note)
        assert refused.error is not None
        assert refused.error.message.endswith("denied by policy: bob refused demo__write_file: not on a Friday")
        assert refused.trace[0].decision == "denied by bob (not on a Friday)"
        assert not (scratch_dir() / "four.txt").exists()


async def deny_with_note(request: ApprovalRequest) -> Approval:
    return Approval("deny", by="bob", note="not on a Friday")


async def test_a_slow_approver_does_not_trip_the_run_timeout() -> None:
    async def slow(request: ApprovalRequest) -> Approval:
        await asyncio.sleep(1.2)
        return Approval("once", by="a slow person")

    # An "ask" on a tool that touches no disk: only the person's time is long, never the call's.
    ask = "from generated.servers.demo import calculate\nawait calculate(a=1, b=2)\n"
    async with workspace() as ws:
        await ws.start()
        await ws.registry.call_tool("demo__calculate", {"a": 0, "b": 0})  # the server's first call is slow
        ws.policy = ToolPolicy.from_dict({"tools": {"demo__calculate": "ask"}})
        result = await ws.run(ask + "import asyncio\nawait asyncio.sleep(0.1)\n'done'", approver=slow, timeout=0.6)
        assert result.success and not result.timed_out, result.error
        assert result.value == "done" and result.trace[0].decision == "approved once by a slow person"
        # The clock runs again after the answer: code that then overstays is still stopped.
        late = await ws.run(ask + "import asyncio\nawait asyncio.sleep(3)", approver=slow, timeout=0.6)
        assert late.timed_out


async def test_an_approver_that_raises_is_a_denial() -> None:
    async def broken(request: ApprovalRequest) -> Approval:
        raise RuntimeError("the dialog crashed")

    async with workspace() as ws:
        await ws.start()
        result = await ws.run(WRITE.format(path="broken.txt"), approver=broken)
        assert result.error is not None and result.error.type == "ToolError"
        assert "denied by policy: the approver refused demo__write_file: RuntimeError: the dialog crashed" in (
            result.error.message
        )
        assert result.trace[0].decision == "denied by the approver (RuntimeError: the dialog crashed)"
        assert not (scratch_dir() / "broken.txt").exists()


async def test_local_kernel_approval_shows_the_code_line_and_a_denial_is_caught() -> None:
    code = (
        "from generated.servers.demo import write_file\n"
        "from generated.client import ToolError\n"
        "try:\n"
        "    await write_file(path='kernel.txt', content='k')\n"
        "except ToolError as exc:\n"
        "    print('caught', exc)\n"
        "await write_file(path='kernel.txt', content='k')\n"
        "'written'"
    )
    requests: list[ApprovalRequest] = []

    async def approver(request: ApprovalRequest) -> Approval:
        requests.append(request)
        return Approval("deny" if len(requests) == 1 else "once", by="kim")

    async with workspace(sandbox="local") as ws:
        await ws.start()
        result = await ws.run(code, approver=approver)
        assert result.success and result.value == "written", result.error
        assert "caught" in result.stdout and "denied by policy: kim refused demo__write_file" in result.stdout
        assert [(r.line, r.code_line) for r in requests] == [
            (4, "await write_file(path='kernel.txt', content='k')"),
            (7, "await write_file(path='kernel.txt', content='k')"),
        ]
        assert [c.decision for c in result.trace] == ["denied by kim", "approved once by kim"]
        assert (scratch_dir() / "kernel.txt").read_text() == "k"


async def test_gathered_calls_waiting_together_pause_the_clock_once() -> None:
    """Two calls ask at once; the person takes longer than the run's timeout; both run."""
    waiting: list[float] = []

    async def approver(request: ApprovalRequest) -> Approval:
        waiting.append(request.arguments["a"])
        await asyncio.sleep(1.0)
        return Approval("once", by="pat")

    code = (
        "import asyncio\n"
        "from generated.servers.demo import calculate\n"
        "both = await asyncio.gather(calculate(a=1, b=1), calculate(a=2, b=2))\n"
        "await asyncio.sleep(0.2)\n"
        "both"
    )
    async with workspace() as ws:
        await ws.start()
        await ws.registry.call_tool("demo__calculate", {"a": 0, "b": 0})  # the server's first call is slow
        ws.policy = ToolPolicy.from_dict({"tools": {"demo__calc*": "ask"}})
        result = await ws.run(code, approver=approver, timeout=0.7)
        assert result.success and result.value == [2.0, 4.0], result.error
        assert sorted(waiting) == [1, 2]
