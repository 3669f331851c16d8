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

from codemode_tui.config import MCPServerConfig

TESTS = Path(__file__).parent
FAULTY_SERVER = TESTS / "servers" / "faulty_server.py"
CATALOGS = TESTS / "catalogs"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own CODEMODE_TUI_HOME: no test touches the real home."""
    home = tmp_path / "home"
    monkeypatch.setenv("CODEMODE_TUI_HOME", str(home))
    return home


def demo_stdio_config(name: str = "demo", **extra: object) -> MCPServerConfig:
    """The bundled demo server over stdio, as the first-start configuration runs it."""
    return MCPServerConfig(name=name, command=sys.executable, args=["-m", "codemode_tui", "demo-server"], **extra)


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
