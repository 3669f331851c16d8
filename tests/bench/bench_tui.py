"""Playground speed: search-as-you-type over 5,000 tools, and cold start to the first full screen.

Goals (issue "Speed"): from a key press in the search box to the refreshed
tool list, p50 under 16 ms and p95 under 33 ms with 5,000 tools (issue "The
playground" asked for 50 ms), typed a key every 50 ms (1,200 keys a minute,
faster than the fastest typists).  The same phrases typed back to back, each
key as soon as the list showed the last one, are printed too: that is a
throughput figure, not a latency, because Textual paints on a fixed 60 Hz grid
and a key that arrives within 16.7 ms of the last frame waits for the next
grid line (a key typed at a human pace finds the screen idle and is painted at
once).  From launching the app to its
first full screen under 1 s while the demo server is still connecting.  Issue
"Debug agent code": from a call reaching the policy's ``ask`` to the approval
dialog on screen under 100 ms, and from the person's answer back to the call
going on (measured headless in the real app, eval sandbox, the demo server).

Run:  python tests/bench/bench_tui.py [--tools 5000] [--cadence 50] [--starts 5] [--approvals 10]
Prints a table; exits non-zero when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from codemode_tui.config import MCPServerConfig, save_servers  # noqa: E402
from codemode_tui.registry import ToolDefinition  # noqa: E402

CATALOGS = ROOT / "tests" / "catalogs"
PHRASES = [
    "read a file",
    "create issue",
    "time zone",
    "search notes",
    "list branches",
    "quote order total",
    "memory entities",
    "git diff",
]
SEARCH_GOAL_MS = 16.0  # issue "Speed": p50 within a 60 Hz frame
SEARCH_P95_GOAL_MS = 33.0  # and p95 within two
START_GOAL_S = 1.0


def catalog_tools(count: int, per_server: int = 50) -> dict[str, list[dict[str, Any]]]:
    """``count`` real tool definitions from the recorded catalogs, ``per_server`` to a server.

    The catalogs are small (5 to 40 tools), so copies are numbered and pooled
    into servers of ``per_server`` tools, as large real servers have.
    """
    pool: list[dict[str, Any]] = []
    for path in sorted(CATALOGS.glob("*.json")):
        pool.extend(json.loads(path.read_text()).get("tools", []))
    tools: list[dict[str, Any]] = []
    copy = 0
    while len(tools) < count:
        tools.extend({**tool, "name": f"{tool['name']}_{copy}" if copy else tool["name"]} for tool in pool)
        copy += 1
    servers: dict[str, list[dict[str, Any]]] = {}
    for index, tool in enumerate(tools[:count]):
        batch = servers.setdefault(f"server_{index // per_server}", [])
        if all(other["name"] != tool["name"] for other in batch):
            batch.append(tool)
        else:
            batch.append({**tool, "name": f"{tool['name']}_dup{index}"})
    return servers


async def bench_search(count: int, cadence: float) -> tuple[list[float], int]:
    """Type every phrase key by key, a key every ``cadence`` seconds (0: back to back).

    Each key press is timed until the list has been redrawn for it.
    """
    from textual import events

    from codemode_tui.tui.app import PlaygroundApp
    from codemode_tui.workspace import Workspace

    home = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    os.environ["CODEMODE_TUI_HOME"] = str(home)
    servers = catalog_tools(count)
    config = home / "servers.json"
    save_servers(config, [MCPServerConfig(name=name, command="bench-never-started") for name in servers])
    workspace = Workspace(config, persist=False)
    for name, tools in servers.items():
        workspace.registry.load_tools(name, [ToolDefinition.from_dict(name, tool) for tool in tools])
    loaded = len(workspace.registry.list_tools())
    app = PlaygroundApp(workspace, connect=False, cursor_blink=False)
    timings: list[float] = []
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.5)  # the main screen composes its panes after the first frame
        tool_list = app.hub.tools.tool_list
        refreshed: list[str] = []
        original = tool_list.show

        def show(rows: Any, total: int, **kwargs: Any) -> None:
            original(rows, total, **kwargs)
            query = app.hub.query_one("#search").value  # type: ignore[attr-defined]
            app.call_after_refresh(refreshed.append, query)

        tool_list.show = show  # type: ignore[method-assign]
        await pilot.pause(0.5)
        search = app.hub.query_one("#search")
        search.focus()
        for phrase in PHRASES:
            search.value = ""  # type: ignore[attr-defined]
            await pilot.pause(0.1)
            start = time.perf_counter()
            for index, char in enumerate(phrase):
                expected = phrase[: index + 1]
                refreshed.clear()
                await asyncio.sleep(max(0.0, start + cadence - time.perf_counter()))
                start = time.perf_counter()
                # Posted as the terminal driver does (the pilot's own waiting would be measured too).
                app.post_message(events.Key("space" if char == " " else char, char))
                while expected not in refreshed:
                    await asyncio.sleep(0)
                    if time.perf_counter() - start > 5:
                        raise RuntimeError(f"the list never refreshed for {expected!r}")
                timings.append((time.perf_counter() - start) * 1000)
    return timings, loaded


START_SCRIPT = r"""
import sys, time, json
launched = float(sys.argv[1])
entered = time.time()
from codemode_tui.tui.app import PlaygroundApp
imported = time.time()

class Timed(PlaygroundApp):
    def on_ready(self) -> None:
        shown = time.time()
        workspace = self._workspace  # built by a worker after the first frame: usually still loading here
        status = {i.name: i.status for i in workspace.registry.list_servers()} if workspace else {}
        print(json.dumps({"launch_to_main": entered - launched, "import": imported - entered,
                          "launch_to_screen": shown - launched, "demo": status.get("demo", "engine loading")}))
        self.exit()

Timed().run(headless=True, size=(120, 36))
"""


def bench_start(runs: int) -> list[dict[str, Any]]:
    """Launch the app in a fresh interpreter and time the first full frame (demo server still connecting)."""
    results = []
    for _ in range(runs):
        home = tempfile.mkdtemp(prefix="bench-start-")
        env = {**os.environ, "CODEMODE_TUI_HOME": home, "PYTHONPATH": str(ROOT)}
        launched = time.time()
        out = subprocess.run(
            [sys.executable, "-c", START_SCRIPT, repr(launched)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=ROOT,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


APPROVAL_GOAL_MS = 100.0


async def bench_approval(rounds: int) -> tuple[list[float], list[float]]:
    """``(ask → dialog shown, answer → call resumed)`` in ms, per approval."""
    from codemode_tui.executor import CodeModeConfig
    from codemode_tui.tui.app import PlaygroundApp
    from codemode_tui.tui.screens.approval import ApprovalScreen
    from codemode_tui.workspace import Workspace

    home = Path(tempfile.mkdtemp(prefix="bench-approval-"))
    os.environ["CODEMODE_TUI_HOME"] = str(home)
    config = home / "servers.json"
    save_servers(
        config, [MCPServerConfig(name="demo", command=sys.executable, args=["-m", "codemode_tui", "demo-server"])]
    )
    workspace = Workspace(config, persist=False)
    workspace.executor_config = CodeModeConfig(sandbox="eval")
    app = PlaygroundApp(workspace, cursor_blink=False, warm_sandbox=False)
    shown: list[float] = []
    resumed: list[float] = []
    asked: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        while not any(i.status == "connected" for i in workspace.registry.list_servers()):
            await pilot.pause(0.05)
        original = app.approve

        async def timed(request: Any) -> Any:
            asked.append(time.perf_counter())
            return await original(request)

        workspace.approver = timed
        code = "from generated.servers.demo import write_file\nimport time\n" + "\n".join(
            f"await write_file(path='b{n}.txt', content='x')\nprint(time.perf_counter())" for n in range(rounds)
        )
        run = asyncio.ensure_future(workspace.run(code, check="off"))
        for _ in range(rounds):
            while not isinstance(app.screen, ApprovalScreen):
                await asyncio.sleep(0.001)
            shown.append((time.perf_counter() - asked[-1]) * 1000)
            await pilot.pause(0.05)
            dialog = app.screen
            resumed.append(time.perf_counter())
            dialog.action_answer("once")  # what the key does; pilot.press would add its own wait for idle
            while app.screen is dialog:
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)
        result = await run
        assert result.success, result.error
        printed = [float(line) for line in result.stdout.split()]
    back = [(after - before) * 1000 for before, after in zip(resumed, printed, strict=True)]
    return shown, back


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=5000)
    parser.add_argument("--cadence", type=float, default=50.0, help="milliseconds from one key press to the next")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--approvals", type=int, default=10)
    args = parser.parse_args()

    timings, loaded = asyncio.run(bench_search(args.tools, args.cadence / 1000))
    burst, _ = asyncio.run(bench_search(args.tools, 0.0))
    starts = bench_start(args.starts)
    shown, back = asyncio.run(bench_approval(args.approvals))
    screen = [s["launch_to_screen"] for s in starts]

    rows = [
        (
            "search keypress → list (p50)",
            f"{statistics.median(timings):.1f} ms",
            f"< {SEARCH_GOAL_MS:g} ms",
            statistics.median(timings) < SEARCH_GOAL_MS,
        ),
        (
            "search keypress → list (p95)",
            f"{pct(timings, 0.95):.1f} ms",
            f"< {SEARCH_P95_GOAL_MS:g} ms",
            pct(timings, 0.95) < SEARCH_P95_GOAL_MS,
        ),
        ("search keypress → list (max)", f"{max(timings):.1f} ms", "", None),
        (
            "  keys back to back (p50 / p95)",
            f"{statistics.median(burst):.1f} / {pct(burst, 0.95):.1f} ms",
            "",
            None,
        ),
        (
            "cold start → first screen (median)",
            f"{statistics.median(screen):.2f} s",
            f"< {START_GOAL_S:g} s",
            statistics.median(screen) < START_GOAL_S,
        ),
        ("  of which interpreter start", f"{statistics.median(s['launch_to_main'] for s in starts):.2f} s", "", None),
        ("  of which imports", f"{statistics.median(s['import'] for s in starts):.2f} s", "", None),
        ("demo server at first screen", ", ".join(sorted({str(s["demo"]) for s in starts})), "not connected", None),
        (
            "approval: ask → dialog shown (median)",
            f"{statistics.median(shown):.1f} ms",
            f"< {APPROVAL_GOAL_MS:g} ms",
            statistics.median(shown) < APPROVAL_GOAL_MS,
        ),
        ("approval: ask → dialog shown (max)", f"{max(shown):.1f} ms", "", None),
        ("approval: answer → the call made, the code going on (median)", f"{statistics.median(back):.1f} ms", "", None),
    ]
    print(
        f"\nPlayground benchmark: {loaded} tools, {len(timings)} key presses a {args.cadence:g} ms apart, "
        f"{len(starts)} cold starts\n"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  {'goal':>10}  ok")
    print("-" * (width + 30))
    failed = False
    for name, value, goal, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        failed |= ok is False
        print(f"{name:<{width}}  {value:>10}  {goal:>10}  {mark}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
