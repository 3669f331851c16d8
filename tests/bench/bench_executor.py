"""Executor speed: per-call overhead of the bridge, concurrency, run latency, kernel start.

Goals (issue "Speed"):

* per-call overhead: 500 sequential calls of a trivial tool from sandbox code
  cost at most 1.2x the same calls made directly with the SDK's
  ``ClientSession.call_tool`` on the same server session, in the same run
  (at most 0.25 ms added from the local kernel, 0.15 ms from ``eval``);
* concurrency: 100 calls of a tool that sleeps 0.2 s, gathered in one run,
  finish in under 1 s;
* run latency of ``1 + 1`` after warm-up at most 5 ms;
* kernel start about 2 s (the playground warms it in the background).

The trivial tool is the bundled demo server's ``calculate`` over stdio and the
reference ``everything`` server's ``echo`` (Node, ``npx -y
@modelcontextprotocol/server-everything``; its calls are cheaper, so the
bridge's share is larger); one column per sandbox and server.  ``everything``
is left out, with a note, when npx cannot start it.  Each measurement is repeated (``--rounds``)
and the median kept, interleaving the direct and sandboxed loops so machine
load hits both alike.

Four more lines put the added cost in context, measured in the same run:

* the bridge alone: the same loop calling a host function that answers at
  once (no MCP server), so what remains is the bridge's round trip (framing,
  the sandbox's and the host's event loops, the per-call cap, trace and
  recording);
* floor, a bare asyncio round trip: the same frames between two processes
  over a Unix socket (the local kernel's path) or between two threads' event
  loops (the eval sandbox's hop), answered at once, with nothing else in them;
* floor, the same call relayed bare: that round trip answered by the very
  ``ClientSession.call_tool`` of the direct line, minus the direct line.  It is
  what relaying a call through a second process (or thread) costs on this
  machine before any of the bridge's work: a third process in the chain
  costs more than its one round trip (each hop wakes a process on the other
  core, and on a small VM that wake-up is most of the cost);
* the bridge's own share: sandboxed minus relayed, i.e. the generated
  binding, the run's checks, cap, timeout, trace, recording, audit and result
  unwrapping.

Run:  python tests/bench/bench_executor.py [--calls 500] [--rounds 3] [--sandbox local eval] [--server demo everything]
Prints a table; exits non-zero when a goal for the local kernel is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codemode_tui import CodeModeConfig, CodeModeExecutor, MCPServerConfig, ToolRegistry
from codemode_tui.executor.eval_sandbox import _on_loop

RATIO_GOAL = 1.2
ADDED_GOAL_MS = {"local": 0.25, "eval": 0.15}
GATHER_GOAL = 1.0
LATENCY_GOAL = 0.005

LOOP = """
import time
from generated.servers.{module} import {function}
started = time.perf_counter()
for i in range({calls}):
    await {function}({arguments})
time.perf_counter() - started
"""

#: server -> (module, function, keyword arguments in sandbox code, tool name, direct arguments)
TRIVIAL = {
    "demo": ("demo", "calculate", "a=i, b=1", "calculate", lambda i: {"a": i, "b": 1}),
    "everything": ("everything", "echo", "message=str(i)", "echo", lambda i: {"message": str(i)}),
}

BRIDGE_ONLY = """
import time
from generated import client
started = time.perf_counter()
for i in range({calls}):
    await client.call_tool("bench__echo", {{"i": i}})
time.perf_counter() - started
"""


async def _echo(arguments: dict) -> object:
    return arguments.get("i")


async def _echo_number(i: int) -> object:
    return i


GATHER = """
import asyncio, time
from generated.servers.demo import slow_echo
started = time.perf_counter()
await asyncio.gather(*(slow_echo(seconds=0.2, message=str(n)) for n in range(100)))
time.perf_counter() - started
"""


def direct_call(registry: ToolRegistry, server: str) -> Callable[[int], Awaitable[object]]:
    """``call(i)``: the trivial tool through the SDK's own ClientSession of the registry's connection."""
    session = registry.connection(server)._session
    assert session is not None
    _, _, _, tool, arguments = TRIVIAL[server]

    async def call(i: int) -> object:
        return (await session.call_tool(tool, arguments(i))).content[0].text  # type: ignore[union-attr]

    return call


async def direct_calls(registry: ToolRegistry, server: str, calls: int) -> float:
    call = direct_call(registry, server)
    started = time.perf_counter()
    for i in range(calls):
        await call(i)
    return time.perf_counter() - started


STUCK = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


_FRAME = struct.Struct("!I")


class _Framed(asyncio.Protocol):
    """Length-prefixed JSON frames both ways, parsed as the bridge parses them."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 4:
            (size,) = _FRAME.unpack_from(self.buffer)
            if len(self.buffer) < 4 + size:
                return
            message = json.loads(self.buffer[4 : 4 + size])
            del self.buffer[: 4 + size]
            self.on_frame(message)

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.transport.write(_FRAME.pack(len(body)) + body)  # type: ignore[attr-defined]

    def on_frame(self, message: dict) -> None:
        raise NotImplementedError


class _Relay(_Framed):
    """The host end of the floor: answers each call by awaiting ``answer(i)`` in a task, as the bridge does."""

    def __init__(self, answer: Callable[[int], Awaitable[object]], done: asyncio.Future[float]) -> None:
        self.answer = answer
        self.done = done

    def on_frame(self, message: dict) -> None:
        if "elapsed" in message:
            self.done.set_result(message["elapsed"])
            return

        async def reply() -> None:
            self.send({"i": message["i"], "v": await self.answer(message["a"]["i"])})

        asyncio.get_running_loop().create_task(reply())


class _Caller(_Framed):
    """The sandbox end of the floor: one call at a time, then the seconds per call."""

    waiting: asyncio.Future[object] | None = None

    def on_frame(self, message: dict) -> None:
        if self.waiting is not None:
            self.waiting.set_result(message["v"])

    async def call(self, i: int) -> object:
        self.waiting = asyncio.get_running_loop().create_future()
        self.send({"i": i, "t": "bench__echo", "a": {"i": i}, "r": "run"})
        return await self.waiting


def _call_host(path: str, calls: int) -> None:  # the child process of process_floor: a kernel with nothing in it
    async def run() -> None:
        _, caller = await asyncio.get_running_loop().create_unix_connection(_Caller, path)
        for i in range(50):
            await caller.call(i)
        started = time.perf_counter()
        for i in range(calls):
            await caller.call(i)
        caller.send({"elapsed": (time.perf_counter() - started) / calls})
        await asyncio.sleep(0.1)

    asyncio.run(run())


async def process_floor(calls: int, answer: Callable[[int], Awaitable[object]]) -> float:
    """Seconds per call relayed by a bare asyncio host: another process asks over a Unix socket, ``answer`` answers."""
    folder = tempfile.mkdtemp(prefix="bench-floor-")
    path = os.path.join(folder, "relay.sock")
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    server = await asyncio.get_running_loop().create_unix_server(lambda: _Relay(answer, done), path)
    child = multiprocessing.get_context("spawn").Process(target=_call_host, args=(path, calls), daemon=True)
    child.start()
    try:
        return await asyncio.wait_for(done, timeout=120)
    finally:
        server.close()
        child.kill()
        child.join()
        shutil.rmtree(folder, ignore_errors=True)


async def thread_floor(calls: int, answer: Callable[[int], Awaitable[object]]) -> float:
    """Seconds per call from another thread's event loop, answered by ``answer`` here (the eval sandbox's hop)."""
    host = asyncio.get_running_loop()
    done: asyncio.Future[float] = host.create_future()

    def thread() -> None:
        async def run() -> float:
            for i in range(50):
                await _on_loop(host, answer(i))
            started = time.perf_counter()
            for i in range(calls):
                await _on_loop(host, answer(i))
            return (time.perf_counter() - started) / calls

        elapsed = asyncio.run(run())
        host.call_soon_threadsafe(done.set_result, elapsed)

    threading.Thread(target=thread, daemon=True).start()
    return await done


async def forced_restart(executor: CodeModeExecutor) -> float:
    """Seconds a forced restart adds: a run that ignores SIGINT times out, then ``1 + 1`` runs.

    What is counted is everything past the timeout and the interrupt grace: the
    kernel's replacement (partly while the timed-out run returns) and the next run.
    """
    tick = time.perf_counter()
    stuck = await executor.execute(STUCK, timeout=0.5)
    assert stuck.kernel_restarted, stuck.error
    result = await executor.execute("1 + 1")
    assert result.value == 2, result.error
    return time.perf_counter() - tick - 0.5 - executor.config.interrupt_grace


async def measure(kind: str, registry: ToolRegistry, server: str, calls: int, rounds: int) -> dict[str, float]:
    started = time.perf_counter()
    executor = CodeModeExecutor(registry, CodeModeConfig(sandbox=kind, timeout=120))  # type: ignore[arg-type]
    await executor.setup()
    start_seconds = time.perf_counter() - started
    module, function, arguments, _, _ = TRIVIAL[server]
    loop = LOOP.replace("{module}", module).replace("{function}", function).replace("{arguments}", arguments)
    try:
        warm = await executor.execute(loop.format(calls=20))
        assert warm.success, warm.error
        executor.bridge.host_functions["bench__echo"] = _echo
        floor = process_floor if kind == "local" else thread_floor
        direct, sandboxed, bridge_only, floors, relays = [], [], [], [], []
        for _ in range(rounds):
            direct.append(await direct_calls(registry, server, calls))
            result = await executor.execute(loop.format(calls=calls))
            assert result.success, result.error
            sandboxed.append(float(result.value))
            result = await executor.execute(BRIDGE_ONLY.format(calls=calls))
            assert result.success, result.error
            bridge_only.append(float(result.value) / calls)
            floors.append(await floor(calls, _echo_number))
            relays.append(await floor(calls, direct_call(registry, server)))
        gathers = []
        for _ in range(rounds):
            result = await executor.execute(GATHER)
            assert result.success and len(result.trace) == 100, result.error
            gathers.append(float(result.value))
        latencies = []
        for _ in range(50):
            tick = time.perf_counter()
            result = await executor.execute("1 + 1")
            latencies.append(time.perf_counter() - tick)
            assert result.value == 2
        restart_seconds = cold_restart_seconds = float("nan")
        if kind == "local":
            restart_seconds = await forced_restart(executor)  # the spare kernel is swapped in
            sandbox = executor._sandbox
            sandbox.keep_spare = False  # type: ignore[union-attr]
            await sandbox._drop_spare()  # type: ignore[union-attr]
            cold_restart_seconds = await forced_restart(executor)  # a kernel started from nothing
    finally:
        cleanup_started = time.perf_counter()
        await executor.cleanup()
        cleanup_seconds = time.perf_counter() - cleanup_started
    per_direct = statistics.median(direct) / calls
    per_sandbox = statistics.median(sandboxed) / calls
    per_relay = statistics.median(relays)
    return {
        "start": start_seconds,
        "after_restart": restart_seconds,
        "after_cold_restart": cold_restart_seconds,
        "direct_ms": per_direct * 1000,
        "sandbox_ms": per_sandbox * 1000,
        "ratio": per_sandbox / per_direct,
        "added_ms": (per_sandbox - per_direct) * 1000,
        "bridge_ms": statistics.median(bridge_only) * 1000,
        "floor_ms": statistics.median(floors) * 1000,
        "relay_added_ms": (per_relay - per_direct) * 1000,
        "over_relay_ms": (per_sandbox - per_relay) * 1000,
        "gather": statistics.median(gathers),
        "latency_ms": statistics.median(latencies) * 1000,
        "cleanup": cleanup_seconds,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sandbox", nargs="+", default=["local", "eval"], choices=["local", "eval"])
    parser.add_argument(
        "--server", nargs="+", default=["demo", "everything"], choices=sorted(TRIVIAL), help="whose trivial tool"
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-executor-")
    demo = MCPServerConfig(
        name="demo",
        command=sys.executable,
        args=["-m", "codemode_tui", "demo-server"],
        env={"CODEMODE_TUI_HOME": home},
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    servers = [demo]
    if "everything" in args.server:
        npx = ["-y", "@modelcontextprotocol/server-everything"]
        servers.append(MCPServerConfig(name="everything", command="npx", args=npx, timeout=120))
    wanted = list(args.server)
    async with ToolRegistry(servers) as registry:
        for name, outcome in (await registry.discover_all()).items():
            if name == "everything" and not outcome.ok:
                print(f"note: the everything server did not start, left out: {outcome.error}", file=sys.stderr)
                wanted.remove(name)
                continue
            assert outcome.ok, f"{name}: {outcome.error}"
        await registry.call_tool("demo__calculate", {"a": 1, "b": 1})  # the demo's first call is slow
        rows = {
            f"{kind} {server}": await measure(kind, registry, server, args.calls, args.rounds)
            for server in wanted
            for kind in args.sandbox
        }

    print(
        f"\nExecutor benchmark: {args.calls} calls of a trivial tool ({', '.join(wanted)}) x {args.rounds} rounds, "
        f"medians; machine: {os.cpu_count()} cores\n"
    )
    header = f"{'measure':<48}" + "".join(f"{kind:>18}" for kind in rows) + f"{'goal':>17}"
    print(header)
    print("-" * len(header))
    lines = [
        ("direct ClientSession.call_tool (ms/call)", "direct_ms", "{:.3f}", ""),
        ("from sandbox code via the bridge (ms/call)", "sandbox_ms", "{:.3f}", ""),
        ("per-call ratio sandbox / direct", "ratio", "{:.2f}", f"<= {RATIO_GOAL}"),
        ("added per call (ms)", "added_ms", "{:.3f}", "<= 0.25 / 0.15"),
        ("  the bridge alone, a host function (ms/call)", "bridge_ms", "{:.3f}", ""),
        ("  floor: a bare asyncio round trip (ms)", "floor_ms", "{:.3f}", ""),
        ("  floor: the same call relayed bare (ms added)", "relay_added_ms", "{:.3f}", ""),
        ("  the bridge's own share: sandbox - relay (ms)", "over_relay_ms", "{:.3f}", ""),
        ("100 x 0.2 s calls gathered (s)", "gather", "{:.3f}", f"< {GATHER_GOAL:g}"),
        ("run latency of 1 + 1 (ms)", "latency_ms", "{:.1f}", f"<= {LATENCY_GOAL * 1000:g}"),
        ("sandbox start incl. bindings (s)", "start", "{:.2f}", "<= 1.5"),
        ("first run after a forced restart (s)", "after_restart", "{:.2f}", "<= 0.5"),
        ("  the same without a spare kernel (s)", "after_cold_restart", "{:.2f}", ""),
        ("cleanup (s)", "cleanup", "{:.2f}", "< 2"),
    ]
    for label, key, fmt, goal in lines:
        print(f"{label:<48}" + "".join(f"{fmt.format(row[key]):>18}" for row in rows.values()) + f"{goal:>17}")
    missed = [
        f"{name} ({column})"
        for column, local in rows.items()
        if column.startswith("local ")
        for name, ok in (
            ("ratio", local["ratio"] <= RATIO_GOAL),
            ("gather", local["gather"] < GATHER_GOAL),
            ("added", local["added_ms"] <= ADDED_GOAL_MS["local"]),
            ("latency", local["latency_ms"] <= LATENCY_GOAL * 1000),
            ("cleanup", local["cleanup"] < 2),
        )
        if not ok
    ]
    if not any(column.startswith("local ") for column in rows):
        return 0
    print(f"\nlocal kernel goals: {'all met' if not missed else 'MISSED: ' + ', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
