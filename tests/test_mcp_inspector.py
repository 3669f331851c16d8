"""MCP Inspector's CLI (an outside client, in Node) against ``codemode-tui serve`` over stdio.

The Inspector comes from npm through ``npx``: 2.x where Node is new enough
(it needs Node >= 22.19), else 0.15.0, the last that runs on Node 20.  No
``npx``, or a download that fails or takes too long (no network), skips the
module with the reason.  The Inspector's own options come before the server
command, and its ``--config`` would clash with serve's, so the servers are
saved under ``CODEMODE_TUI_HOME`` for serve to find.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codemode_tui.config import save_servers
from tests.conftest import demo_stdio_config

#: The meta-tools serve lists (no ``call_tool`` without ``--allow-direct-calls``).
META_TOOLS = {
    "list_servers",
    "list_tool_names",
    "search_tools",
    "get_tool_details",
    "execute_code",
    "list_skills",
    "run_skill",
    "save_skill",
}

#: Seconds for the first ``npx`` (it downloads the Inspector); a slower download skips.
DOWNLOAD_TIMEOUT = 300
#: Seconds for one Inspector call once it is downloaded (it starts serve, which starts the demo server).
CALL_TIMEOUT = 120

GATHER = """\
import asyncio
from generated.servers.demo import calculate
low, high = await asyncio.gather(calculate(a=2, b=3), calculate(a=10, b=20))
{"low": low, "high": high, "both": low + high}
"""


def node_version() -> tuple[int, ...] | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.match(r"v(\d+)\.(\d+)", out.strip())
    return (int(found[1]), int(found[2])) if found else None


def inspector_package() -> str:
    """2.x on Node >= 22.19, else 0.15.0 (2.x refuses older Node)."""
    version = node_version()
    release = "2" if version is not None and version >= (22, 19) else "0.15.0"
    return f"@modelcontextprotocol/inspector@{release}"


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    """The Inspector's CLI command (downloaded once), or a skip that says why it cannot run here."""
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed (MCP Inspector runs on Node)")
    command = [npx, "-y", inspector_package(), "--cli"]
    try:
        fetched = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"downloading {command[2]} took over {DOWNLOAD_TIMEOUT} s (no network?)")
    if fetched.returncode != 0:
        pytest.skip(f"cannot fetch {command[2]} with npx (no network?): {fetched.stderr.strip()[-500:]}")
    return command


@pytest.fixture
def home(isolated_home: Path) -> Path:
    """A home whose saved servers are the demo server, as serve reads them without ``--config``."""
    save_servers(isolated_home / "config" / "servers.json", [demo_stdio_config()])
    return isolated_home


def inspect(inspector: list[str], home: Path, *method: str) -> Any:
    """Run one Inspector CLI request against ``serve`` over stdio; its JSON answer."""
    command = [*inspector, "-e", f"CODEMODE_TUI_HOME={home}", sys.executable, "-m", "codemode_tui", "serve", *method]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CALL_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the Inspector did not answer within {CALL_TIMEOUT} s: {exc.stderr!r}") from None
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_inspector_lists_the_meta_tools(inspector: list[str], home: Path) -> None:
    listed = inspect(inspector, home, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert set(tools) == META_TOOLS
    assert "generated.servers" in tools["execute_code"]["description"]


def test_the_inspector_runs_code_that_gathers_two_tool_calls(inspector: list[str], home: Path) -> None:
    called = inspect(
        inspector, home, "--method", "tools/call", "--tool-name", "execute_code", "--tool-arg", f"code={GATHER}"
    )
    assert not called.get("isError"), called
    run = json.loads(called["content"][0]["text"])
    assert run["success"], run
    assert run["value"] == {"low": 5.0, "high": 30.0, "both": 35.0}
    assert [call["tool"] for call in run["trace"]] == ["demo__calculate", "demo__calculate"]
