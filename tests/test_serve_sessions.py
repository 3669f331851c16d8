"""``serve --transport http``: a session's sandbox lives and ends with the MCP session.

Driven by the MCP SDK's own streamable HTTP client against a real ``serve``
process: ending a session (the client's ``DELETE`` on exit) gives its sandbox
back at once, and kernels on an existing Jupyter Server are one per session.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import free_port
from tests.test_executor_jupyter import JupyterServer, kernels
from tests.test_executor_jupyter import server as jupyter  # noqa: F401 (a fixture)
from tests.test_server_mode import config_file, session_error, wait_for_http  # noqa: F401 (config_file: a fixture)

TOKEN = "test-token-sessions"


@contextlib.contextmanager
def serving(config: Path, home: Path, *options: str) -> Iterator[str]:
    """A ``serve --transport http`` process with ``options``; yields its MCP URL."""
    port = free_port()
    env = {**os.environ, "CODEMODE_TUI_HOME": str(home), "CODEMODE_TUI_SERVE_TOKEN": TOKEN}
    command = [sys.executable, "-m", "codemode_tui", "serve", "--config", str(config)]
    command += ["--transport", "http", "--port", str(port), *options]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for_http(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.asynccontextmanager
async def client_session(url: str) -> AsyncIterator[ClientSession]:
    """One MCP client with the bearer token; leaving it ends the session (the SDK sends ``DELETE``)."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=90) as client,
        streamable_http_client(url, http_client=client) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def run(session: ClientSession, code: str) -> dict[str, Any]:
    answer = await session.call_tool("execute_code", {"code": code})
    assert not answer.is_error, answer.content
    return json.loads(answer.content[0].text)


async def test_ending_a_session_gives_its_sandbox_back_at_once(config_file: Path, isolated_home: Path) -> None:  # noqa: F811
    """With room for one sandbox and no idle reaping in sight, only the end of A's session lets B run."""
    with serving(config_file, isolated_home, "--max-sessions", "1", "--session-idle-timeout", "600") as url:
        async with client_session(url) as second:
            async with client_session(url) as first:
                assert (await run(first, "secret = 'first'\nsecret"))["value"] == "first"
                refused = await session_error(second, "1 + 1")
                assert "session" in refused.lower() and "1" in refused  # the cap holds while A lives
            # A's client has exited: its DELETE closed A's sandbox, so B gets one now, and a fresh one.
            assert (await run(second, "1 + 1"))["value"] == 2
            fresh = await run(second, "secret")
            assert fresh["success"] is False and fresh["error"]["type"] == "NameError", fresh


async def test_sessions_get_kernels_of_their_own_on_an_existing_jupyter_server(
    config_file: Path,  # noqa: F811
    isolated_home: Path,
    jupyter: JupyterServer,  # noqa: F811
) -> None:
    """``--sandbox jupyter --jupyter-url``: each HTTP session starts its own kernel there, and ending it stops it."""
    before = set(await kernels(jupyter))
    url_with_token = f"{jupyter.url}/?token={jupyter.token}"
    with serving(config_file, isolated_home, "--sandbox", "jupyter", "--jupyter-url", url_with_token) as url:
        async with client_session(url) as first, client_session(url) as second:
            code = "from generated.servers.demo import calculate\nsecret = await calculate(a={n}, b=1)\nsecret"
            assert (await run(first, code.format(n=1)))["value"] == 2.0
            assert (await run(second, code.format(n=2)))["value"] == 3.0
            ours = set(await kernels(jupyter)) - before
            assert len(ours) == 2, "one kernel per session on the Jupyter Server"
            assert (await run(first, "secret"))["value"] == 2.0  # kept within the session
            assert (await run(second, "secret"))["value"] == 3.0  # never the other's
            answers = [await run(session, "import os; os.getpid()") for session in (first, second)]
            assert len({answer["value"] for answer in answers}) == 2
        # Both clients sent DELETE: their kernels are shut down on the server.
        assert set(await kernels(jupyter)) == before
