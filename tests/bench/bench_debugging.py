"""Debugging agent code: the cost of recording every call, of replay, and of an approval.

Goals (issue "Debug agent code"):

* recording overhead per tool call under 5% against an unrecorded run, on the
  trivial tool of ``bench_executor.py`` (the demo server's ``calculate`` over
  stdio), in the same process;
* replay of a 1,000-call run under 1 s;
* the approval round trip from the bridge to a programmatic approver and back
  under 100 ms (the dialog's share is measured with the playground).

Baselines, all measured in the same run, on the same workspace, sandbox and
server process, rounds interleaved so machine load hits every variant alike:

* *unrecorded*: ``Recording.add`` replaced by a no-op for the duration of the
  loop, i.e. the bridge exactly as it runs minus recording (no call kept, so
  no recording file is written either).  ``max_recording_bytes=0`` is not an
  unrecorded run: every call is still listed, only the results are not kept;
  it is shown as its own row.
* *recorded*: the default (results kept up to 4 MB, the recording saved with
  the history entry).  Per call, two numbers: inside the run (the loop's own
  clock in the sandbox) and the whole ``Workspace.run`` divided by the calls
  (which includes writing the recording file).
* the approval row compares the same calls under a policy that allows them
  with a policy that asks an approver who answers at once.

Run:  python tests/bench/bench_debugging.py [--calls 500] [--rounds 3] [--sandbox local eval]
Prints a table; no goal fails the run (the numbers are for reading).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codemode_tui import CodeModeConfig, MCPServerConfig, ToolRegistry
from codemode_tui.executor.policy import Approval, ApprovalRequest, ToolPolicy
from codemode_tui.executor.recording import DEFAULT_RECORDING_BYTES, Recording
from codemode_tui.workspace import Workspace

OVERHEAD_GOAL = 0.05
REPLAY_GOAL = 1.0
APPROVAL_GOAL = 0.100

LOOP = """
import time
from generated.servers.demo import calculate
started = time.perf_counter()
for i in range({calls}):
    await calculate(a=i, b=1)
time.perf_counter() - started
"""

GATHERED = """
import asyncio
from generated.servers.demo import calculate
results = await asyncio.gather(*(calculate(a=i, b=1) for i in range({calls})))
sum(results)
"""

#: Each call timed on its own, so the approval's share per call can be read off.
TIMED = """
import time
from generated.servers.demo import calculate
times = []
for i in range({calls}):
    tick = time.perf_counter()
    await calculate(a=i, b=1)
    times.append(time.perf_counter() - tick)
sorted(times)[len(times) // 2]
"""


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """The bridge minus recording: ``Recording.add`` keeps nothing (and costs a call)."""
    original = Recording.add

    def add(self: Recording, *args: Any, **kwargs: Any) -> None:
        return None

    Recording.add = add  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        Recording.add = original  # type: ignore[method-assign]


def recording_alone(calls: int = 20000) -> dict[str, float]:
    """The recording's own work per call, without the noise of a server round trip.

    ``Recording.add`` as the bridge calls it (a small result, as ``calculate``'s),
    and the file: ``Recording.save`` of those calls divided by their number.
    """
    recording = Recording()
    arguments = [{"a": i, "b": 1} for i in range(calls)]
    tick = time.perf_counter()
    for i in range(calls):
        recording.add("demo__calculate", arguments[i], text="1.0", size=3, duration=0.0003)
    add = (time.perf_counter() - tick) / calls
    with tempfile.TemporaryDirectory() as folder:
        tick = time.perf_counter()
        recording.save(Path(folder) / "run.json")
        save = (time.perf_counter() - tick) / calls
    return {"add_us": add * 1e6, "save_us": save * 1e6}


async def timed_run(ws: Workspace, code: str, **run: Any) -> tuple[float, Any]:
    tick = time.perf_counter()
    result = await ws.run(code, **run)
    wall = time.perf_counter() - tick
    assert result.success, result.error
    return wall, result


async def recording_overhead(ws: Workspace, calls: int, rounds: int) -> dict[str, float]:
    code = LOOP.format(calls=calls)
    config = ws.executor.config
    inside: dict[str, list[float]] = {"off": [], "zero": [], "on": []}
    whole: dict[str, list[float]] = {"off": [], "zero": [], "on": []}
    for _ in range(rounds):
        for variant in ("off", "zero", "on"):
            config.max_recording_bytes = 0 if variant == "zero" else DEFAULT_RECORDING_BYTES
            with unrecorded() if variant == "off" else contextlib.nullcontext():
                wall, result = await timed_run(ws, code)
            inside[variant].append(float(result.value) / calls)
            whole[variant].append(wall / calls)
    config.max_recording_bytes = DEFAULT_RECORDING_BYTES
    med = {
        f"{key}_{variant}": statistics.median(values[variant])
        for key, values in (("in", inside), ("run", whole))
        for variant in values
    }
    return {
        "unrecorded_us": med["in_off"] * 1e6,
        "zero_us": med["in_zero"] * 1e6,
        "recorded_us": med["in_on"] * 1e6,
        "overhead": med["in_on"] / med["in_off"] - 1,
        "run_unrecorded_us": med["run_off"] * 1e6,
        "run_recorded_us": med["run_on"] * 1e6,
        "run_overhead": med["run_on"] / med["run_off"] - 1,
    }


async def replay_speed(ws: Workspace, rounds: int) -> dict[str, float]:
    live_wall, _ = await timed_run(ws, LOOP.format(calls=1000))
    sequential = ws.history.list()[0].id
    await timed_run(ws, GATHERED.format(calls=1000))
    gathered = ws.history.list()[0].id
    backwards = GATHERED.format(calls=1000).replace("range(1000)", "reversed(range(1000))")
    replays, reordered = [], []
    for _ in range(rounds):
        tick = time.perf_counter()
        result = await ws.replay(sequential)
        replays.append(time.perf_counter() - tick)
        assert result.success and not result.divergences, (result.error, result.divergences[:2])
        tick = time.perf_counter()
        result = await ws.replay(gathered, code=backwards)
        reordered.append(time.perf_counter() - tick)
        assert result.success and not result.divergences, (result.error, result.divergences[:2])
    return {
        "live_1000": live_wall,
        "replay_1000": statistics.median(replays),
        "replay_gathered": statistics.median(reordered),
    }


async def approval_round_trip(ws: Workspace, calls: int, rounds: int) -> dict[str, float]:
    async def approve(request: ApprovalRequest) -> Approval:
        return Approval("once", by="bench")

    code = TIMED.format(calls=calls)
    allowed, asked = [], []
    for _ in range(rounds):
        ws.policy = ToolPolicy()
        _, result = await timed_run(ws, code)
        allowed.append(float(result.value))
        ws.policy = ToolPolicy.from_dict({"tools": {"demo__calculate": "ask"}})
        _, result = await timed_run(ws, code, approver=approve)
        assert all(c.decision == "approved once by bench" for c in result.trace)
        asked.append(float(result.value))
    ws.policy = None
    allow, ask = statistics.median(allowed), statistics.median(asked)
    return {"allowed_ms": allow * 1000, "asked_ms": ask * 1000, "approval_ms": (ask - allow) * 1000}


async def measure(kind: str, demo: MCPServerConfig, calls: int, rounds: int) -> dict[str, float]:
    ws = Workspace(registry=ToolRegistry([demo]))
    ws.executor_config = CodeModeConfig(sandbox=kind, timeout=300, max_tool_calls=5000, check="off")  # type: ignore[arg-type]
    async with ws:
        for name, outcome in (await ws.start()).items():
            assert outcome.ok, f"{name}: {outcome.error}"
        await ws.ensure_executor()
        await timed_run(ws, LOOP.format(calls=20))  # warm: the demo's first calls are slow
        row = await recording_overhead(ws, calls, rounds)
        alone = recording_alone()
        row.update(alone)
        row["alone_share"] = (alone["add_us"] + alone["save_us"]) / row["unrecorded_us"]
        row.update(await replay_speed(ws, rounds))
        row.update(await approval_round_trip(ws, min(calls, 200), rounds))
    return row


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sandbox", nargs="+", default=["local", "eval"], choices=["local", "eval"])
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-debugging-")
    os.environ["CODEMODE_TUI_HOME"] = home  # history and recordings of the bench runs stay out of the user's
    demo = MCPServerConfig(
        name="demo",
        command=sys.executable,
        args=["-m", "codemode_tui", "demo-server"],
        env={"CODEMODE_TUI_HOME": home},
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    rows = {kind: await measure(kind, demo, args.calls, args.rounds) for kind in args.sandbox}

    print(
        f"\nDebugging benchmark: {args.calls} calls of demo calculate x {args.rounds} rounds, medians; "
        f"machine: {os.cpu_count()} cores\n"
    )
    header = f"{'measure':<50}" + "".join(f"{kind:>12}" for kind in rows) + f"{'goal':>12}"
    print(header)
    print("-" * len(header))
    lines = [
        ("per call, unrecorded (us, in the run)", "unrecorded_us", "{:.0f}", ""),
        ("per call, max_recording_bytes=0 (us)", "zero_us", "{:.0f}", ""),
        ("per call, recorded (us, in the run)", "recorded_us", "{:.0f}", ""),
        ("recording overhead in the run", "overhead", "{:+.1%}", f"< {OVERHEAD_GOAL:.0%}"),
        ("Recording.add alone (us per call)", "add_us", "{:.2f}", ""),
        ("saving the recording file (us per call)", "save_us", "{:.2f}", ""),
        ("both, as a share of an unrecorded call", "alone_share", "{:.2%}", f"< {OVERHEAD_GOAL:.0%}"),
        ("per call, whole run unrecorded (us)", "run_unrecorded_us", "{:.0f}", ""),
        ("per call, whole run recorded + saved (us)", "run_recorded_us", "{:.0f}", ""),
        ("recording overhead, whole run incl. the file", "run_overhead", "{:+.1%}", f"< {OVERHEAD_GOAL:.0%}"),
        ("live run of 1,000 calls (s)", "live_1000", "{:.3f}", ""),
        ("replay of that run, servers not contacted (s)", "replay_1000", "{:.3f}", f"< {REPLAY_GOAL:g}"),
        ("replay, 1,000 gathered calls in reverse order (s)", "replay_gathered", "{:.3f}", f"< {REPLAY_GOAL:g}"),
        ("call allowed by the policy (ms, median)", "allowed_ms", "{:.3f}", ""),
        ("call asked and approved at once (ms, median)", "asked_ms", "{:.3f}", ""),
        ("approval round trip, bridge to approver (ms)", "approval_ms", "{:.3f}", f"< {APPROVAL_GOAL * 1000:g}"),
    ]
    for label, key, fmt, goal in lines:
        print(f"{label:<50}" + "".join(f"{fmt.format(row[key]):>12}" for row in rows.values()) + f"{goal:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
