"""The local kernel holds up: nothing for another user to read, nothing a run sends or does breaks it.

Each test drives a real executor (a real ipykernel under its nanny, the demo
server over stdio) the way a hostile agent or a careless user would: huge
cells, values and errors; ``kill -9`` of the kernel mid-run and between runs;
detached children; lifting the memory limit; and another local user reading
the process table, the environment and the executor's files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from codemode_tui import CodeModeConfig, CodeModeExecutor, ToolRegistry
from codemode_tui.executor import RunResult
from codemode_tui.executor.bindings import Bindings
from codemode_tui.executor.config import DEFAULT_MEMORY_LIMIT_MB
from codemode_tui.executor.kernel_sandbox import KernelSandbox
from codemode_tui.executor.output import OutputCollector
from codemode_tui.tool_types import ToolDefinition
from tests.conftest import demo_stdio_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOBODY = 65534


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    home = tmp_path_factory.mktemp("recovery-demo-home")
    async with ToolRegistry([demo_stdio_config(env={"CODEMODE_TUI_HOME": str(home)})]) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        yield reg


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(registry: ToolRegistry) -> AsyncIterator[CodeModeExecutor]:
    executor = CodeModeExecutor(registry, CodeModeConfig(timeout=60))
    await executor.setup()
    yield executor
    await executor.cleanup()


def ok(result: RunResult) -> RunResult:
    assert result.success, f"{result.error}\n{result.error.traceback if result.error else ''}"
    return result


def sandbox_of(executor: CodeModeExecutor) -> KernelSandbox:
    sandbox = executor._sandbox
    assert isinstance(sandbox, KernelSandbox)
    return sandbox


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def three_runs_work(executor: CodeModeExecutor) -> None:
    for n in range(3):
        assert ok(await executor.execute(f"{n} + 40")).value == n + 40
    tool = "from generated.servers.demo import calculate\nawait calculate(a=2, b=3)"
    assert ok(await executor.execute(tool)).value == 5.0


# -- other users -----------------------------------------------------------------------

AS_ANOTHER_USER = r"""
import json, os, socket, sys
found = {"cmdline": [], "environ": [], "files": {}, "sockets": {}}
for name in os.listdir("/proc"):
    if name.isdigit():
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{name}/{part}", "rb") as handle:
                    found[part].append(handle.read().decode("utf-8", "replace"))
            except OSError:
                pass
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as handle:
            found["files"][path] = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        found["files"][path] = f"refused: {exc.strerror}"
    if path.endswith(("-1", "-2", "-4", ".sock")):
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            found["sockets"][path] = "connected"
        except OSError as exc:
            found["sockets"][path] = f"refused: {exc.strerror}"
        finally:
            sock.close()
os.write(1, json.dumps(found).encode())
"""


def as_nobody(*args: str) -> dict:
    """Run :data:`AS_ANOTHER_USER` as uid/gid 65534 in a forked child (Python itself is not readable to nobody)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.dup2(write, 1)
            import sys

            sys.argv = ["probe", *args]
            exec(compile(AS_ANOTHER_USER, "probe", "exec"), {"__name__": "__main__"})
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to become another user")
async def test_another_local_user_finds_no_secret(executor: CodeModeExecutor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = sandbox_of(executor)
    ok(await executor.execute("1"))
    os.kill(int(sandbox.kernel_info["pid"]), signal.SIGKILL)  # a crash and a restart write their logs too
    await asyncio.sleep(0.3)
    ok(await executor.execute("2"))
    sandbox = sandbox_of(executor)
    assert sandbox.kernel is not None
    secrets = {"kernel HMAC key": sandbox.kernel.connection["key"], "bridge token": executor.bridge.token}
    assert all(len(value) >= 16 for value in secrets.values())
    folder = sandbox.kernel.folder
    paths = [str(sandbox.kernel.connection_file), *(f"{folder}/k-{n}" for n in (1, 2, 4))]
    paths.append(str(executor.bridge.client_settings()["path"]))
    seen = as_nobody(*paths)
    table = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "ps", "-eww", "-o", "args"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(sandbox.kernel.connection_file) in table, "ps does show the kernel (by its connection file's path)"
    everything = "\n".join([table, *seen["cmdline"], *seen["environ"], *seen["files"].values(), caplog.text])
    for what, secret in secrets.items():
        assert secret not in everything, f"the {what} is readable by another user or in a log"
    assert all(text.startswith("refused") for text in seen["files"].values()), seen["files"]
    assert all(text.startswith("refused") for text in seen["sockets"].values()), seen["sockets"]


# -- oversized ---------------------------------------------------------------------------


async def test_an_11_mib_cell_and_20_mb_of_code_run(executor: CodeModeExecutor) -> None:
    cell = f"blob = {'x' * (11 << 20)!r}\nlen(blob)"
    assert ok(await executor.execute(cell)).value == 11 << 20
    piece = "y" * 100_000
    script = "\n".join(f"part{n} = {piece!r}" for n in range(200))  # a script with 20 MB of embedded data
    assert len(script) > 20_000_000
    assert ok(await executor.execute(script + "\nlen(part199) * 200")).value == 20_000_000
    await three_runs_work(executor)


HUGE = {
    "value": "'v' * (120 << 20)",
    "exception": "raise ValueError('e' * (120 << 20))",
    "display": "display('d' * (120 << 20))",
}


@pytest.mark.parametrize("what", list(HUGE))
async def test_a_120_mb_value_error_or_display_is_survived(executor: CodeModeExecutor, what: str) -> None:
    result = await executor.execute(HUGE[what])
    if result.error is not None and result.error.type == "KernelDied":
        # Too big for the wire: said so, and the next runs get a fresh kernel.
        assert "larger than" in result.error.message and result.kernel_restarted
    elif what == "exception":
        assert result.error is not None and result.error.type == "ValueError"
        assert len(result.error.message) < 50_000_000
    else:
        assert result.success
    await three_runs_work(executor)


RAW_300_MB = """
kernel = get_ipython().kernel
content = {"name": "stdout", "text": "x" * (300 << 20)}
kernel.session.send(kernel.iopub_socket, "stream", content, parent=kernel.get_parent(), ident=b"stream.stdout")
'sent'
"""


async def test_a_message_over_the_wire_limit_fails_the_run_clearly_and_the_kernel_is_replaced(
    executor: CodeModeExecutor,
) -> None:
    # Past every cap in the kernel: a raw 300 MB message on iopub, as buggy or hostile code could send.
    result = await executor.execute(RAW_300_MB)
    assert result.error is not None and result.error.type == "KernelDied"
    assert "larger than the 64 MiB limit" in result.error.message and result.kernel_restarted
    await three_runs_work(executor)


async def test_bindings_for_10000_tools_load(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer", "description": "first"}, "b": {"type": "string"}},
        "required": ["a"],
    }
    tools = [
        ToolDefinition(name=f"tool_{n}", server=f"s{n % 10}", description=f"Tool number {n}.", input_schema=schema)
        for n in range(10_000)
    ]
    bindings = Bindings(tmp_path / "bindings")
    await asyncio.to_thread(bindings.refresh, tools)
    payload = await asyncio.to_thread(bindings.payload)
    assert sum(len(text) for text in payload.files.values()) > 10 << 20, "more than a websocket message holds"
    # Writing 10,000 bindings takes the kernel seconds alone, and much longer while other test workers load
    # both cores: the set-up budget is generous here so that only a real failure to load fails the test.
    sandbox = KernelSandbox(CodeModeConfig(startup_timeout=300), tmp_path / "session")
    (tmp_path / "session").mkdir(mode=0o700)
    try:
        await sandbox.start(payload, None)
        output = OutputCollector(10_000)
        code = "import generated.servers.s7 as m\n"
        code += "(callable(m.tool_9997), len([n for n in dir(m) if n.startswith('tool_')]))"
        outcome = await sandbox.run(code, "bindings-run", output)
        assert outcome.error is None, outcome.error
        assert outcome.value == [True, 1000]
    finally:
        await sandbox.stop()


# -- death ------------------------------------------------------------------------------


async def test_a_kernel_killed_between_runs_is_replaced(executor: CodeModeExecutor) -> None:
    pid = ok(await executor.execute("import os\nkept = 1\nos.getpid()")).value
    os.kill(pid, signal.SIGKILL)
    after = ok(await executor.execute("import os\n(os.getpid(), 'kept' in dir())"))
    assert after.value[0] != pid and after.value[1] is False
    assert after.kernel_restarted and "kernel restarted, state lost" in after.notes
    await three_runs_work(executor)


async def test_a_kernel_killed_mid_run_fails_the_run_clearly(executor: CodeModeExecutor) -> None:
    pid = ok(await executor.execute("import os\nos.getpid()")).value
    running = asyncio.ensure_future(executor.execute("import time\ntime.sleep(30)"))
    await asyncio.sleep(1.0)
    os.kill(pid, signal.SIGKILL)
    died = await asyncio.wait_for(running, 10)
    assert died.error is not None and died.error.type == "KernelDied"
    assert "killed" in died.error.message and died.kernel_restarted
    await three_runs_work(executor)


@pytest.mark.parametrize("how", ["reset", "restart"])
async def test_reset_and_restart_recover_a_killed_kernel(executor: CodeModeExecutor, how: str) -> None:
    pid = ok(await executor.execute("import os\nkept = 1\nos.getpid()")).value
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    await getattr(executor, how)()
    after = ok(await executor.execute("import os\n(os.getpid(), 'kept' in dir())"))
    assert after.value[0] != pid and after.value[1] is False
    await three_runs_work(executor)


# -- processes and limits -----------------------------------------------------------------

DETACH = """
import os, subprocess
detached = subprocess.Popen(["sleep", "600"], start_new_session=True).pid
read, write = os.pipe()
middle = os.fork()
if middle == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        os.close(write)
        os.execvp("sleep", ["sleep", "600"])
    os._exit(0)
os.waitpid(middle, 0)
os.close(write)
(detached, int(os.read(read, 64)))
"""


async def test_detached_children_do_not_survive_cleanup(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry)
    try:
        detached, double_forked = ok(await executor.execute(DETACH)).value
        assert alive(detached) and alive(double_forked)
        kernel_session = os.getsid(int(sandbox_of(executor).kernel_info["pid"]))
        assert kernel_session not in (os.getsid(detached), os.getsid(double_forked)), "both left its session"
    finally:
        await executor.cleanup()
    for _ in range(30):
        if not alive(detached) and not alive(double_forked):
            break
        await asyncio.sleep(0.1)
    assert not alive(detached) and not alive(double_forked)


async def test_the_memory_limit_cannot_be_lifted_from_inside(executor: CodeModeExecutor) -> None:
    code = """
import resource
limits = resource.getrlimit(resource.RLIMIT_AS)
try:
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    lifted = True
except (ValueError, OSError):
    lifted = False
try:
    resource.setrlimit(resource.RLIMIT_AS, (limits[0], limits[1] * 2))
    raised_hard = True
except (ValueError, OSError):
    raised_hard = False
(limits, lifted, raised_hard, resource.getrlimit(resource.RLIMIT_AS))
"""
    wanted = DEFAULT_MEMORY_LIMIT_MB << 20
    assert ok(await executor.execute(code)).value == [[wanted, wanted], False, False, [wanted, wanted]]
    hog = await executor.execute("hog = bytearray(3 * 1024 ** 3)")
    assert hog.error is not None and hog.error.type == "MemoryError"
    await three_runs_work(executor)


async def test_a_forced_restart_swaps_in_the_spare_kernel(registry: ToolRegistry) -> None:
    executor = CodeModeExecutor(registry, CodeModeConfig(timeout=30))
    try:
        await executor.setup()
        sandbox = sandbox_of(executor)
        assert sandbox._spare is not None
        spare_kernel, _ = await sandbox._spare  # started in the background after the first kernel
        assert (
            spare_kernel.kernel_pid is not None and spare_kernel.kernel_pid != sandbox_of(executor).kernel_info["pid"]
        )
        stuck = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
        result = await executor.execute(stuck, timeout=1)
        assert result.timed_out and result.kernel_restarted
        code = "import os, resource\n"
        code += "(os.getpid(), resource.getrlimit(resource.RLIMIT_AS), os.environ.get('CODEMODE_TUI_HOME'))"
        after = ok(await executor.execute(code))
        limit = DEFAULT_MEMORY_LIMIT_MB << 20
        assert after.value == [spare_kernel.kernel_pid, [limit, limit], None], "the spare, with the same limits"
        await three_runs_work(executor)
        assert sandbox._spare is not None, "and a new spare is on its way"
    finally:
        await executor.cleanup()
    assert not alive(spare_kernel.kernel_pid)
