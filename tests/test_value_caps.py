"""Caps on what a run sends back besides its output, and a memory limit the code cannot lift.

The last expression's value, an error's message and traceback, and display
data are cut inside the sandbox, before they cross the wire, with a marker
saying how much was dropped: a 120 MB value or exception message arrives as
about ``max_value_bytes`` and the next runs work.  Both sandboxes (the local
kernel and eval); the memory limit on a kernel reached by URL, the path where
only the kernel's own set-up can apply it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import pytest
import pytest_asyncio

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry
from codemode_tui.executor import RunResult
from codemode_tui.executor.config import sandbox_environment
from tests.conftest import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMIT = 1_000_000  # the default max_value_bytes
BIG = 120_000_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry() -> AsyncIterator[ToolRegistry]:
    async with ToolRegistry() as reg:
        yield reg


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["local", "eval"])
async def executor(request: pytest.FixtureRequest, registry: ToolRegistry) -> AsyncIterator[CodeModeExecutor]:
    config = CodeModeConfig(sandbox=request.param, timeout=60, max_output_bytes=5_000_000)
    executor = CodeModeExecutor(registry, config)
    await executor.setup()
    yield executor
    await executor.cleanup()


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback[-2000:] if result.error else ''}"
    return result


def dropped(text: str) -> int:
    """Bytes the marker in ``text`` says were dropped."""
    found = re.search(r"\[codemode: truncated [a-z ]+ at [\d,]+ bytes; ([\d,]+) of [\d,]+ bytes dropped\]", text)
    assert found, text[-300:]
    return int(found.group(1).replace(",", ""))


async def three_runs_work(executor: CodeModeExecutor) -> None:
    for n in range(3):
        assert ok(await executor.execute(f"{n} + 1")).value == n + 1


async def test_a_120_mb_value_arrives_capped_with_a_marker(executor: CodeModeExecutor) -> None:
    result = ok(await executor.execute(f"'x' * {BIG}"))
    assert result.value_repr is not None and len(result.value_repr) < LIMIT + 200
    assert dropped(result.value_repr) >= BIG - LIMIT
    assert result.value == result.value_repr, "too big for the JSON form: the capped repr stands in"
    assert "value or error truncated" in result.notes
    await three_runs_work(executor)


async def test_a_120_mb_exception_message_arrives_capped(executor: CodeModeExecutor) -> None:
    result = await executor.execute(f"raise ValueError('y' * {BIG})")
    assert result.error is not None and result.error.type == "ValueError"
    assert len(result.error.message) < LIMIT + 200 and dropped(result.error.message) >= BIG - LIMIT
    assert BIG // 1000 < len(result.error.traceback) < 2 * LIMIT + 400 and "raise ValueError" in result.error.traceback
    assert "Unexpected exception formatting" not in result.stdout + result.stderr
    await three_runs_work(executor)


async def test_a_small_value_and_error_are_untouched(executor: CodeModeExecutor) -> None:
    value = ok(await executor.execute("'z' * 1000"))
    assert value.value == "z" * 1000 and not [note for note in value.notes if "truncated" in note]
    error = await executor.execute("raise KeyError('missing')")
    assert error.error is not None and error.error.message == "'missing'"


async def test_display_data_is_capped_in_the_kernel(executor: CodeModeExecutor) -> None:
    if executor.sandbox_kind == "eval":
        pytest.skip("eval has no display(): its output is stdout, capped by max_output_bytes")
    code = (
        "from IPython.display import display\n"
        "display({'text/plain': 'd' * 3_000_000, 'text/html': '<b>' * 1_000_000}, raw=True)\n"
        "display('e' * 3_000_000)"
    )
    result = ok(await executor.execute(code))
    assert 2 * LIMIT - 1000 < len(result.stdout) < 2 * LIMIT + 1000, "each display item cut to the value cap"
    assert "text/html (3,000,000 bytes) dropped" in result.stdout
    assert result.stdout.count("[codemode: truncated") == 3 and dropped(result.stdout) > 1_900_000
    await three_runs_work(executor)


@pytest.mark.parametrize("sandbox", ["eval", "local"])
async def test_the_value_cap_is_configurable(registry: ToolRegistry, sandbox: str) -> None:
    config = CodeModeConfig(sandbox=sandbox, max_value_bytes=10_000)  # type: ignore[arg-type]
    async with CodeModeExecutor(registry, config) as executor:
        result = ok(await executor.execute("'v' * 100_000"))
        assert len(result.value_repr or "") < 10_200 and dropped(result.value_repr or "") > 0
        error = await executor.execute("raise RuntimeError('w' * 50_000)")
        assert error.error is not None and len(error.error.message) < 10_200
    with pytest.raises(ValueError, match="max_value_bytes"):
        CodeModeConfig(max_value_bytes=10)


@pytest.fixture
def jupyter_server(tmp_path: Path) -> Iterator[str]:
    """A Jupyter Server of our own in its own process group; yields its URL with the token."""
    token, port = secrets.token_hex(16), free_port()
    env = {**sandbox_environment(CodeModeConfig()), "JUPYTER_TOKEN": token, "JUPYTER_PLATFORM_DIRS": "1"}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1"]
    command += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={tmp_path}"]
    command += ["--ServerApp.allow_root=True"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "the Jupyter Server did not start"
            try:
                httpx2.get(f"{url}/api/status", headers={"Authorization": f"token {token}"}, timeout=2)
                break
            except httpx2.HTTPError:
                time.sleep(0.1)
        yield f"{url}/?token={token}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


async def test_a_kernel_by_url_cannot_lift_its_memory_limit(registry: ToolRegistry, jupyter_server: str) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url=jupyter_server, memory_limit_mb=3000, timeout=30)
    async with CodeModeExecutor(registry, config) as executor:
        code = (
            "import resource\nlimits = resource.getrlimit(resource.RLIMIT_AS)\n"
            "try:\n    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
            "    lifted = True\nexcept (ValueError, OSError):\n    lifted = False\n"
            "[list(limits), lifted, list(resource.getrlimit(resource.RLIMIT_AS))]"
        )
        wanted = 3000 * 1024 * 1024
        assert ok(await executor.execute(code)).value == [[wanted, wanted], False, [wanted, wanted]]
