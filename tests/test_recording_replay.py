"""Recorded runs and their replay, against real servers (the demo in memory, others over stdio).

Every run keeps its tool traffic with its history entry; a replay answers every
call from that recording, so it must give the same output and value with every
server process stopped, or with the server gone from the configuration, and it
must say where the code left the recording (divergences) instead of inventing
answers.  The eval sandbox carries most cases (fast); the local kernel covers
the main path once, since it sends each call's code line over the wire.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from codemode_tui import MCPServerConfig, ToolRegistry
from codemode_tui.demo_server import scratch_dir
from codemode_tui.executor import CodeModeConfig
from codemode_tui.executor.policy import Approval, ApprovalRequest, ToolPolicy
from codemode_tui.executor.recording import Recording, RecordingError
from codemode_tui.workspace import Workspace
from tests.conftest import demo_stdio_config, in_memory_registry

#: A real stdio server whose tool answers with an image (tagged results must replay as objects).
IMAGE_SERVER = textwrap.dedent(
    '''
    from mcp.server.mcpserver import Image, MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer("pictures")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    def picture(name: str) -> Image:
        """A tiny PNG-ish payload named by ``name``."""
        return Image(data=("png:" + name).encode(), format="png")

    server.run()
    '''
)

RUN = """from generated.servers.demo import write_file, read_file, calculate, always_fails
await write_file(path="a.txt", content="hello")
text = await read_file(path="a.txt")
try:
    await always_fails(reason="on purpose")
except Exception as exc:
    print("caught", type(exc).__name__)
total = await calculate(a=2, b=3)
print(text.upper(), total)
{"text": text, "total": total}
"""


def workspace(*configs: MCPServerConfig, sandbox: str = "eval", **config: object) -> Workspace:
    ws = Workspace(registry=in_memory_registry(*(list(configs) or [demo_stdio_config()])))
    # No type check before each run: it is not what these tests are about, and it costs a second.
    ws.executor_config = CodeModeConfig(sandbox=sandbox, check="off", **config)  # type: ignore[arg-type]
    return ws


async def stop_servers(ws: Workspace) -> None:
    """Close every server connection: the server processes exit, nothing is left to answer."""
    for name in ws.registry.server_names:
        await ws.registry.connection(name).close()


async def test_every_call_is_recorded_with_arguments_result_error_timing_and_line() -> None:
    async with workspace() as ws:
        await ws.start()
        result = await ws.run(RUN)
        assert result.success, result.error
        record = ws.history.list()[0]
        assert record.recorded
        saved = ws.recording_of(record.id)
        assert [call.tool for call in saved.calls] == [
            "demo__write_file",
            "demo__read_file",
            "demo__always_fails",
            "demo__calculate",
        ]
        write, read, fails, calc = saved.calls
        assert write.arguments == {"path": "a.txt", "content": "hello"} and write.ok
        assert read.ok and read.value() == "hello" and json.loads(read.result or "") == "hello"
        assert not fails.ok and fails.result is None and "on purpose" in (fails.error or "")
        assert calc.value() == 5.0
        assert all(call.duration > 0 for call in saved.calls)
        assert saved.code == RUN
        assert [tool["name"] for tool in saved.tools["demo"]] >= ["add_note"]  # the server's catalog is kept
        assert [(c.name, c.line, c.order, c.answered) for c in result.trace] == [
            ("demo__write_file", 2, 1, "live"),
            ("demo__read_file", 3, 2, "live"),
            ("demo__always_fails", 5, 3, "live"),
            ("demo__calculate", 8, 4, "live"),
        ]
        assert [entry["line"] for entry in record.trace] == [2, 3, 5, 8]


GATHERED = """\
import asyncio
from generated.servers.demo import calculate
await calculate(a=1, b=1)
await asyncio.gather(calculate(a=2, b=2), calculate(a=3, b=3))
"""


@pytest.mark.parametrize("sandbox", ["eval", "local"])
async def test_a_call_started_as_a_task_has_no_line_rather_than_a_wrong_one(sandbox: str) -> None:
    # A gathered call has no frame of the run's code below it; the walk up the stack used to go on
    # into the kernel's own start-up script (also ``__main__``) and report its line.
    async with workspace(sandbox=sandbox) as ws:
        await ws.start()
        result = await ws.run(GATHERED)
        assert result.success, result.error
        assert [record.line for record in result.trace] == [3, None, None]


async def test_replay_with_every_server_stopped_gives_the_same_output_and_value() -> None:
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(RUN)
        assert live.success, live.error
        await stop_servers(ws)
        # Remove the file the run wrote: a replay that reached a server could not read it back.
        (scratch_dir() / "a.txt").unlink()
        replayed = await ws.replay(ws.history.list()[0].id)
        assert replayed.success, replayed.error
        assert replayed.stdout == live.stdout == "caught ToolError\nHELLO 5.0\n"
        assert replayed.value == live.value == {"text": "hello", "total": 5.0}
        assert replayed.divergences == []
        assert [c.answered for c in replayed.trace] == ["recording"] * 4
        assert [c.decision for c in replayed.trace] == [f"replayed from recorded call {n}" for n in range(1, 5)]
        assert [c.ok for c in replayed.trace] == [True, True, False, True]  # the recorded error replays as one
        again = ws.history.list()[0]
        assert again.replay_of == ws.history.list()[1].id


async def test_a_replay_is_recorded_in_the_history_as_a_replay() -> None:
    async with workspace() as ws:
        await ws.start()
        live = await ws.run("from generated.servers.demo import calculate\nawait calculate(a=1, b=2)")
        replayed = await ws.replay(ws.history.list()[0].id)
        planned = await ws.run(
            "from generated.servers.demo import write_file\nawait write_file(path='m', content='')", dry_run=True
        )
        assert (live.mode, replayed.mode, planned.mode) == ("live", "replay", "dry-run")
        assert [r.mode for r in ws.history.list()] == ["dry-run", "replay", "live"]


async def test_replay_of_a_run_whose_server_was_removed_uses_the_recorded_catalog(isolated_home: Path) -> None:
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(RUN)
        record_id = ws.history.list()[0].id
    # A later session without the server at all: the bindings come from the recording's catalog.
    async with Workspace(registry=ToolRegistry([])) as later:
        later.executor_config = CodeModeConfig(sandbox="eval", check="off")
        assert "demo" not in later.registry.server_names
        replayed = await later.replay(record_id)
        assert replayed.success, replayed.error
        assert (replayed.stdout, replayed.value) == (live.stdout, live.value)
        assert replayed.divergences == []
        assert not later.registry.server_config("demo").enabled  # known for its tools only, never started


async def test_a_result_over_the_recording_budget_is_dropped_and_its_replay_says_not_kept() -> None:
    code = (
        "from generated.servers.demo import write_file, read_file\n"
        "await write_file(path='big.txt', content='x' * 5000)\n"
        "big = await read_file(path='big.txt')\n"
        "len(big)"
    )
    async with workspace(max_recording_bytes=1000) as ws:
        await ws.start()
        live = await ws.run(code)
        assert live.success and live.value == 5000, live.error
        recording = ws.recording_of(ws.history.list()[0].id)
        kept, dropped = recording.calls
        assert kept.result is not None and not kept.dropped
        assert dropped.dropped and dropped.result is None and dropped.size > 5000 and dropped.ok
        assert recording.dropped == 1
        await stop_servers(ws)
        replayed = await ws.replay(ws.history.list()[0].id)
        assert not replayed.success
        assert replayed.error is not None and "too large to keep" in replayed.error.message
        assert [(d.kind, d.tool) for d in replayed.divergences] == [("not kept", "demo__read_file")]


async def test_divergences_other_arguments_an_extra_call_and_a_call_not_made() -> None:
    original = (
        "from generated.servers.demo import calculate\n"
        "first = await calculate(a=1, b=2)\n"
        "second = await calculate(a=3, b=4)\n"
        "first + second"
    )
    async with workspace() as ws:
        await ws.start()
        assert (await ws.run(original)).value == 10.0
        run_id = ws.history.list()[0].id
        await stop_servers(ws)

        edited = original.replace("a=3, b=4", "a=3, b=5")
        changed = await ws.replay(run_id, code=edited + "\n")
        assert changed.error is not None and "not recorded: demo__calculate" in changed.error.message
        kinds = [(d.kind, d.arguments) for d in changed.divergences]
        assert kinds == [("not recorded", {"a": 3, "b": 5}), ("not made", {"a": 3, "b": 4})]
        assert '"b": 4' in changed.divergences[0].detail  # says what the recording has instead

        extra = original + "\nawait calculate(a=9, b=9)"
        more = await ws.replay(run_id, code=extra)
        assert [(d.kind, d.order) for d in more.divergences] == [("not recorded", 3)]
        assert "no call of this tool left" in more.divergences[0].detail

        fewer = "from generated.servers.demo import calculate\nawait calculate(a=1, b=2)"
        short = await ws.replay(run_id, code=fewer)
        assert short.success and short.value == 3.0
        assert [(d.kind, d.order, d.arguments) for d in short.divergences] == [("not made", 2, {"a": 3, "b": 4})]

        caught = (
            "from generated.servers.demo import calculate\n"
            "await calculate(a=1, b=2)\n"
            "try:\n"
            "    await calculate(a=3, b=6)\n"
            "except Exception as exc:\n"
            "    message = str(exc)\n"
            "message"
        )
        handled = await ws.replay(run_id, code=caught)
        assert handled.success and "not recorded" in handled.value  # a ToolError the code can catch
        assert handled.divergences[0].kind == "not recorded"


async def test_gathered_calls_replay_in_any_order() -> None:
    gathered = (
        "import asyncio\n"
        "from generated.servers.demo import slow_echo\n"
        "await asyncio.gather(*(slow_echo(seconds=0.05 * (5 - n), message=str(n)) for n in range(5)))"
    )
    async with workspace() as ws:
        await ws.start()
        live = await ws.run(gathered)
        assert live.success, live.error
        recorded = [call.arguments["message"] for call in ws.recording_of(ws.history.list()[0].id).calls]
        assert recorded != sorted(recorded)  # recorded in the order they finished, not the order made
        await stop_servers(ws)
        replayed = await ws.replay(ws.history.list()[0].id)
        assert replayed.success and replayed.value == live.value and replayed.divergences == []
        backwards = gathered.replace("range(5)", "reversed(range(5))")
        reordered = await ws.replay(ws.history.list()[1].id, code=backwards)
        assert reordered.success and reordered.value == list(reversed(live.value))
        assert reordered.divergences == []


async def test_an_image_result_replays_as_the_same_object(tmp_path: Path) -> None:
    script = tmp_path / "pictures.py"
    script.write_text(IMAGE_SERVER)
    code = (
        "from generated.servers.pictures import picture\n"
        "image = await picture(name='cat')\n"
        "(type(image).__name__, image.mime_type, image.data)"
    )
    async with workspace(MCPServerConfig(name="pictures", command=sys.executable, args=[str(script)])) as ws:
        await ws.start()
        live = await ws.run(code)
        assert live.success, live.error
        assert live.value[0] == "ImageResult" and live.value[1] == "image/png"
        assert ws.recording_of(ws.history.list()[0].id).calls[0].tagged
        await stop_servers(ws)
        replayed = await ws.replay(ws.history.list()[0].id)
        assert replayed.success and replayed.value == live.value and replayed.divergences == []


async def test_local_kernel_records_lines_over_the_wire_and_replays_with_servers_stopped() -> None:
    async with workspace(sandbox="local") as ws:
        await ws.start()
        live = await ws.run(RUN)
        assert live.success, live.error
        assert [c.line for c in live.trace] == [2, 3, 5, 8]
        await stop_servers(ws)
        replayed = await ws.replay(ws.history.list()[0].id)
        assert replayed.success, replayed.error
        assert (replayed.stdout, replayed.value) == (live.stdout, live.value)
        assert [c.line for c in replayed.trace] == [2, 3, 5, 8]
        assert replayed.divergences == [] and {c.answered for c in replayed.trace} == {"recording"}


def test_a_recording_file_round_trips_and_a_damaged_one_says_what_is_wrong(tmp_path: Path) -> None:
    recording = Recording(max_bytes=10)
    recording.add("demo__calculate", {"a": 1}, text="3.0", size=3, duration=0.01)
    recording.add("demo__read_file", {"path": "x"}, text='"0123456789"', size=12)
    recording.add("demo__always_fails", {}, text=None, size=0, error="boom")
    assert [c.dropped for c in recording.calls] == [False, True, False]
    path = tmp_path / "run.json"
    recording.save(path)
    loaded = Recording.load(path)
    assert loaded.to_dict() == recording.to_dict()
    assert loaded.calls[2].error == "boom" and not loaded.calls[2].ok

    for bad, words in [
        ({"calls": "no"}, "not a recording"),
        ({"format": 99, "calls": []}, "format 99"),
        ({"calls": [{"arguments": {}}]}, "call 1 has no tool name"),
        ({"calls": [{"tool": "t", "arguments": []}]}, "call 1 (t) has no arguments object"),
        ({"calls": [], "tools": {"demo": {}}}, "'tools' must map"),
    ]:
        with pytest.raises(RecordingError, match=re.escape(words)):
            Recording.from_dict(bad)
    path.write_text("{not json")
    with pytest.raises(RecordingError, match=re.escape("run.json")):
        Recording.load(path)


async def test_replay_reads_answers_reads_from_the_recording_and_sends_writes_live_through_the_policy() -> None:
    original = (
        "from generated.servers.demo import write_file, read_file\n"
        "await write_file(path='a.txt', content='hello')\n"
        "await read_file(path='a.txt')"
    )
    asked: list[tuple[str, dict[str, object]]] = []

    async def approve(request: ApprovalRequest) -> Approval:
        asked.append((request.tool, request.arguments))
        return Approval("once", by="tester")

    async with workspace() as ws:
        await ws.start()
        assert (await ws.run(original)).value == "hello"
        run_id = ws.history.list()[0].id
        (scratch_dir() / "a.txt").write_text("changed on disk since")
        ws.policy = ToolPolicy()
        edited = original.replace("path='a.txt', content='hello'", "path='b.txt', content='bye'")
        reads = await ws.run(edited, replay=ws.recording_of(run_id), replay_reads=True, approver=approve)
        assert reads.success, reads.error
        assert reads.value == "hello"  # from the recording, not the file as it is now
        assert (scratch_dir() / "b.txt").read_text() == "bye"  # the write ran live, once approved
        assert asked == [("demo__write_file", {"path": "b.txt", "content": "bye"})]
        assert [(c.answered, c.decision) for c in reads.trace] == [
            ("live", "approved once by tester"),
            ("recording", "replayed from recorded call 2"),
        ]
        assert reads.divergences == []  # the recorded write is not "not made": writes are not replayed

        # Nobody to approve: the live write is refused, and the code hears it as a ToolError.
        unattended = await ws.replay(run_id, code=edited.replace("b.txt", "c.txt"), reads_only=True)
        assert unattended.error is not None and "denied by policy" in unattended.error.message
        assert not (scratch_dir() / "c.txt").exists()


async def test_replay_of_a_run_without_calls_and_of_an_unknown_run() -> None:
    async with workspace() as ws:
        plain = await ws.run("print('no tools')\n6 * 7")
        assert plain.success and not ws.history.list()[0].recorded
        replayed = await ws.replay(ws.history.list()[0].id)
        assert (replayed.stdout, replayed.value, replayed.divergences) == ("no tools\n", 42, [])
        with pytest.raises(RecordingError, match="no run 'nope' in the history"):
            await ws.replay("nope")


async def test_a_run_whose_result_was_not_kept_says_so_in_its_notes() -> None:
    code = (
        "from generated.servers.demo import calculate\n"
        "await calculate(a=1, b=2)\n"
        "await calculate(a=10000000, b=20000000)"
    )
    async with workspace(max_recording_bytes=4) as ws:
        await ws.start()
        live = await ws.run(code)
        assert live.success and ws.recording_of(ws.history.list()[0].id).dropped == 1
        assert any("recording" in note and "not kept" in note for note in live.notes), live.notes
