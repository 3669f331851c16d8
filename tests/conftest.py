"""Shared fixtures: an isolated home, and real MCP servers to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp.server.mcpserver import MCPServer

from codemode_tui.config import MCPServerConfig
from codemode_tui.demo_server import build_server
from codemode_tui.paths import HOME_ENV
from codemode_tui.registry import ToolRegistry

TESTS = Path(__file__).parent
FAULTY_SERVER = TESTS / "servers" / "faulty_server.py"
CATALOGS = TESTS / "catalogs"


def sandbox_processes(marker: str = "codemode-session-", *, parent: int | None = None) -> set[int]:
    """Live pids whose command line names ``marker`` (an executor's folder: its kernel and the kernel's nanny).

    ``parent``: only that process's children (a worker of a parallel run sees the other workers' servers).
    """
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if marker in cmdline and stat[0] != "Z" and (parent is None or int(stat[1]) == parent):
            found.add(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own CODEMODE_TUI_HOME: no test touches the real home."""
    home = tmp_path / "home"
    monkeypatch.setenv("CODEMODE_TUI_HOME", str(home))
    return home


def demo_stdio_config(name: str = "demo", **extra: object) -> MCPServerConfig:
    """The bundled demo server over stdio, as the first-start configuration runs it."""
    return MCPServerConfig(name=name, command=sys.executable, args=["-m", "codemode_tui", "demo-server"], **extra)


def is_demo(config: MCPServerConfig) -> bool:
    """Whether ``config`` runs the bundled demo server as ``python -m codemode_tui demo-server``."""
    return config.command == sys.executable and config.args == ["-m", "codemode_tui", "demo-server"]


def in_process_demos(*configs: MCPServerConfig) -> dict[str, MCPServer]:
    """In-process stand-ins for the demo servers among ``configs``, keeping the data folder their process
    would use (the ``CODEMODE_TUI_HOME`` a config hands it, else this process's home).

    A Python process importing the MCP SDK costs about 2 s of CPU; tests that are not about the stdio
    transport or a server process talk to the same server over the SDK's in-memory transport instead.
    """
    demos = {}
    for config in configs:
        if is_demo(config):
            home = config.env.get(HOME_ENV)
            demos[config.name] = build_server(Path(home) / "data" / "demo" if home else None)
    return demos


def in_memory_registry(*configs: MCPServerConfig) -> ToolRegistry:
    """A registry of ``configs`` whose demo servers run in this process (see ``in_process_demos``)."""
    return ToolRegistry(configs, in_process=in_process_demos(*configs))


def faulty_config(name: str, *args: str, timeout: float = 10) -> MCPServerConfig:
    return MCPServerConfig(name=name, command=sys.executable, args=[str(FAULTY_SERVER), *args], timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def demo_http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo server over streamable HTTP, in its own process, for the session."""
    port = free_port()
    env = {**os.environ, "CODEMODE_TUI_HOME": str(tmp_path_factory.mktemp("demo-http-home"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codemode_tui", "demo-server", "--http", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(url, timeout=1)
            break
        except httpx2.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("the demo HTTP server did not start")
    yield url
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
