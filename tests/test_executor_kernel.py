"""What only the local kernel sandbox does: a separate process, a minimal environment,
crashes and unstoppable code survived by a restart, and a clean exit.

This suite runs as root on CI (and here): the kernel must start anyway.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry, Workspace
from codemode_tui.executor import RunResult, SandboxStartError
from codemode_tui.executor import client_runtime as runtime
from codemode_tui.executor.config import sandbox_environment
from codemode_tui.executor.kernel_sandbox import KernelSandbox
from tests.conftest import demo_stdio_config, sandbox_processes

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "CODEMODE_TEST_HOST_SECRET"
ALLOWED = "CODEMODE_TEST_ALLOWED"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def host_secret() -> Iterator[None]:
    """A secret in the host's environment (and one allow-listed variable) while the sandbox starts."""
    patch = pytest.MonkeyPatch()
    patch.setenv(SECRET, "hunter2")
    patch.setenv(ALLOWED, "shared on purpose")
    yield
    patch.undo()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    home = tmp_path_factory.mktemp("kernel-demo-home")
    async with ToolRegistry([demo_stdio_config(env={"CODEMODE_TUI_HOME": str(home)})]) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        yield reg


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(registry: ToolRegistry, host_secret: None) -> AsyncIterator[CodeModeExecutor]:
    config = CodeModeConfig(
        timeout=30, env_allowlist=(ALLOWED,), env={"CODEMODE_SET_BY_CONFIG": "yes"}, memory_limit_mb=4096
    )
    executor = CodeModeExecutor(registry, config)
    await executor.setup()
    yield executor
    await executor.cleanup()


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}"
    return result


def kernel_pid(executor: CodeModeExecutor) -> int:
    sandbox = executor._sandbox
    assert isinstance(sandbox, KernelSandbox)
    return int(sandbox.kernel_info["pid"])


async def test_code_runs_in_another_process(executor: CodeModeExecutor) -> None:
    pid = ok(await executor.execute("import os\nos.getpid()")).value
    assert pid != os.getpid() and pid == kernel_pid(executor)


async def test_the_kernel_skips_per_cell_work_for_front_ends_and_keeps_every_output(
    executor: CodeModeExecutor,
) -> None:
    # kernel_bootstrap.quicken: no empty flush round trips, no reply sleep, no throw-away
    # debug records, only the two mime types the host reads; output still all arrives, in order.
    code = """
import logging, os, sys, threading
ip = get_ipython()
print("first")
sys.stderr.write("to stderr\\n")
os.write(1, b"from the fd\\n")
thread = threading.Thread(target=print, args=("from a thread",))
thread.start(); thread.join()
sys.stdout.flush(); sys.stdout.flush()  # nothing pending the second time: returns at once
print("last")
(sorted(ip.display_formatter.active_types), ip.kernel._execute_sleep, ip.kernel.log.isEnabledFor(logging.DEBUG),
 type(sys.stdout).flush.__name__)
"""
    result = ok(await executor.execute(code))
    assert result.value == [
        ["application/x-codemode-value+json", "text/plain"],
        0.0,
        False,
        "quick_flush",
    ]
    stdout = result.stdout
    assert stdout.index("first") < stdout.index("from a thread") < stdout.index("last")
    assert "from the fd" in stdout and "to stderr" in result.stderr
    html = ok(await executor.execute("from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>'))\n7"))
    assert html.value == 7 and "IPython.core.display.HTML object" in html.stdout


async def test_the_sandbox_gets_no_host_secrets(executor: CodeModeExecutor) -> None:
    assert os.environ[SECRET] == "hunter2"  # the host has it...
    code = f"""
import os
environ_file = open("/proc/self/environ", "rb").read().decode(errors="replace")
(os.environ.get({SECRET!r}), {SECRET!r} in environ_file, os.environ.get({ALLOWED!r}),
 os.environ.get("CODEMODE_SET_BY_CONFIG"), os.environ.get("CODEMODE_TUI_HOME"))
"""
    value = ok(await executor.execute(code)).value
    assert value == [None, False, "shared on purpose", "yes", None]  # ...the kernel does not


async def test_the_local_bridge_is_a_private_socket_that_wants_the_token(executor: CodeModeExecutor) -> None:
    settings = executor.bridge.client_settings()
    path = Path(settings["path"])
    assert executor.session_dir is not None and path.parent == executor.session_dir
    assert path.stat().st_mode & 0o777 == 0o600
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(runtime.encode_frame({"hello": "guessed", "v": 1}))
    writer.write(runtime.encode_frame({"i": 1, "t": "demo__add_note", "a": {"title": "x"}, "r": None}))
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)  # the bridge answers once, then closes
    writer.close()
    assert b"refused: wrong or missing token" in answer and b'"i"' not in answer


async def test_the_environment_is_an_allow_list() -> None:
    host = {"PATH": "/bin", "HOME": "/home/u", "AWS_SECRET_ACCESS_KEY": "x", "OPENAI_API_KEY": "y", "EXTRA": "z"}
    config = CodeModeConfig(env_allowlist=("EXTRA",), env={"FORCED": "1"})
    assert sandbox_environment(config, host) == {"PATH": "/bin", "HOME": "/home/u", "EXTRA": "z", "FORCED": "1"}


async def test_a_crashing_kernel_is_reported_and_replaced(executor: CodeModeExecutor) -> None:
    ok(await executor.execute("before_crash = True"))
    old_pid = kernel_pid(executor)
    result = await executor.execute("import os\nos._exit(3)")
    assert result.error is not None and result.error.type == "KernelDied"
    assert result.kernel_restarted and "kernel restarted, state lost" in result.notes
    after = ok(await executor.execute("import os\n(os.getpid(), 'before_crash' in dir())"))
    assert after.value[0] != old_pid and after.value[1] is False
    tool = ok(await executor.execute("from generated.servers.demo import calculate\nawait calculate(a=2, b=2)"))
    assert tool.value == 4.0


async def test_code_that_ignores_interrupts_gets_the_kernel_restarted(executor: CodeModeExecutor) -> None:
    ok(await executor.execute("doomed = 'lost on restart'"))
    code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    started = time.monotonic()
    result = await executor.execute(code, timeout=1)
    assert time.monotonic() - started < 1 + 2, "control came back within the timeout plus two seconds"
    assert result.timed_out and result.kernel_restarted
    assert "kernel restarted, state lost" in result.notes and result.error is not None
    assert result.error.type == "TimeoutError" and "restarted" in result.error.message
    after = await executor.execute("doomed")
    assert after.error is not None and after.error.type == "NameError"
    code = "from generated.servers.demo import calculate\nawait calculate(a=1, b=2)"
    assert ok(await executor.execute(code)).value == 3


async def test_a_memory_limit_turns_runaway_allocation_into_an_error(executor: CodeModeExecutor) -> None:
    result = await executor.execute("hog = bytearray(8 * 1024 ** 3)")
    assert result.error is not None and result.error.type == "MemoryError"
    assert ok(await executor.execute("1 + 1")).value == 2


async def test_cleanup_is_quick_and_leaves_no_process_or_folder(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry)
    await executor.setup()
    sandbox = executor._sandbox
    assert isinstance(sandbox, KernelSandbox) and sandbox.kernel is not None and sandbox.kernel.process is not None
    server_pid = sandbox.kernel.process.pid  # the nanny
    kernel = kernel_pid(executor)
    bindings = Path(sandbox.kernel_info["bindings"])
    session = executor.session_dir
    assert session is not None and bindings.is_dir() and alive(server_pid) and alive(kernel)
    assert {server_pid, kernel} <= sandbox_processes(str(session))
    code = "import subprocess\nchild = subprocess.Popen(['sleep', '600'])\nchild.pid"
    child = ok(await executor.execute(code)).value
    assert alive(child)
    started = time.monotonic()
    await executor.cleanup()
    assert time.monotonic() - started < 2, "cleanup() returned within two seconds"
    for _ in range(20):
        if not alive(child):
            break
        await asyncio.sleep(0.1)
    assert not alive(server_pid) and not alive(kernel) and not alive(child)
    assert sandbox_processes(str(session)) == set()
    assert not session.exists() and not bindings.exists()
    late = await executor.execute("1")
    assert late.error is not None and late.error.type == "SandboxError"
    await executor.cleanup()  # twice is fine


async def test_cleanup_right_after_setup_stops_the_spare_kernel_being_spawned(
    registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # setup() starts the spare kernel in the background, on a worker thread; a cleanup while that
    # thread was still spawning the nanny found no process, stopped nothing, and the spare's nanny
    # and kernel kept running.  A loaded machine gives the spawn tens of milliseconds; a slowed
    # spawn here (a real nanny and kernel, 0.5 s before Popen returns) makes that window certain.
    class SlowPopen(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            super().__init__(args, *rest, **kwargs)
            if any("kernel-2" in str(arg) for arg in args):  # the spare (the first kernel is kernel-1)
                time.sleep(0.5)

    monkeypatch.setattr(subprocess, "Popen", SlowPopen)
    executor = CodeModeExecutor(registry)
    await executor.setup()
    session = executor.session_dir
    await asyncio.sleep(0.2)  # the spare's thread is inside Popen now
    await executor.cleanup()
    # What cleanup() stops is gone when it returns (a leaked spare died only seconds later, on its own).
    assert sandbox_processes(str(session)) == set(), "the spare kernel outlived cleanup()"


async def test_warming_starts_the_kernel_in_the_background(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry)
    try:
        warming = executor.warm()
        assert not executor.ready
        assert executor.warm() is warming  # one start, however often asked
        await asyncio.sleep(0)  # the caller's loop stays free while the kernel starts
        result = ok(await executor.execute("6 * 7"))  # waits for the warm-up, does not start another
        assert result.value == 42 and warming.done() and executor.ready
        assert executor.startup_seconds is not None
    finally:
        await executor.cleanup()


async def test_cleanup_during_warm_up_leaves_nothing_behind(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry)
    executor.warm()
    waiting_run = asyncio.ensure_future(executor.execute("1"))
    session = None
    for _ in range(200):  # until the kernel process exists
        await asyncio.sleep(0.02)
        session = executor.session_dir
        if session is not None and sandbox_processes(str(session)):
            break
    assert session is not None and sandbox_processes(str(session)), "the warm-up had started a kernel"
    await executor.cleanup()
    result = await asyncio.wait_for(waiting_run, 5)  # a run waiting for the start reports, never raises
    assert result.error is not None and result.error.type == "SandboxError" and "cleaned up" in result.error.message
    for _ in range(30):
        if not sandbox_processes(str(session)):
            break
        await asyncio.sleep(0.1)
    assert sandbox_processes(str(session)) == set()
    assert not session.exists()


ABANDON = """
import asyncio, os, signal, sys
from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry

async def main():
    local = CodeModeExecutor(ToolRegistry())
    in_process = CodeModeExecutor(ToolRegistry(), CodeModeConfig(sandbox="eval"))
    await local.setup()
    await in_process.setup()
    print(local.session_dir, in_process.session_dir, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())  # ends without cleanup()
"""


@pytest.mark.parametrize("ending", ["exit", "kill"])
async def test_a_host_that_never_cleans_up_leaves_nothing_behind(ending: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ABANDON, ending, stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[1]
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    local, in_process = (Path(part) for part in out.decode().split())
    for _ in range(50):  # the watchdog needs a moment after a SIGKILL
        if not local.exists() and not sandbox_processes(str(local)):
            break
        await asyncio.sleep(0.1)
    assert sandbox_processes(str(local)) == set() and not local.exists()
    if ending == "exit":  # a killed host cannot remove an eval sandbox's folder: it has no other process
        assert not in_process.exists()


async def test_a_sandbox_that_cannot_start_says_why(registry: ToolRegistry) -> None:
    config = CodeModeConfig(sandbox="jupyter", jupyter_url="http://127.0.0.1:9/", startup_timeout=3)
    executor = CodeModeExecutor(registry, config)
    result = await executor.execute("1")
    assert result.error is not None and result.error.type == "SandboxError"
    assert "cannot reach the Jupyter Server at http://127.0.0.1:9" in result.error.message
    with pytest.raises(SandboxStartError):
        await executor.setup()
    await executor.cleanup()


async def test_the_workspace_creates_warms_and_closes_its_executor(tmp_path: Path) -> None:
    servers = tmp_path / "servers.json"
    servers.write_text('{"mcpServers": {}}', encoding="utf-8")
    workspace = Workspace(servers)
    workspace.executor_config = CodeModeConfig(sandbox="eval")
    executor = workspace.executor
    assert workspace.executor is executor and executor.sandbox_kind == "eval"
    await workspace.warm_executor()
    assert executor.ready
    assert ok(await executor.execute("'hello'")).value == "hello"
    await workspace.close()
    assert (await executor.execute("1")).error is not None
