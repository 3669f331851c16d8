"""A private Jupyter Server on loopback, started and owned by one executor.

This is code-sandboxes' ``jupyter-server`` variant's own command line, run by
us instead of by ``JupyterServerSandbox`` because its launcher cannot be told
what we need here (code-sandboxes 1.10.0):

* it passes the whole host environment to the server, and so to the kernel:
  every secret of the host would be one ``os.environ`` away from user code.
  We start the server with the sandbox's allow-listed environment only;
* it refuses to run as root (CI containers are root) unless
  ``ServerApp.allow_root`` is set, and offers no way to set it short of
  changing the process environment or the user's ``~/.jupyter``;
* a failed start leaves the server process and its temporary folder behind;
* ``stop()`` waits for a graceful shutdown (about 10 s).  :meth:`stop` here
  kills the process group and returns at once.

Everything the server and kernel write (config, runtime files, IPython
profile, temporary files) stays in one private folder the executor removes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .errors import SandboxStartError

OUTPUT_LINES = 50

#: Runs the server with a watchdog: when the host goes away without cleaning up (a crash, a
#: killed test run, a loop closed with the warm-up pending), the server's stdin pipe reaches
#: EOF and the watchdog removes the executor's folder (``CODEMODE_ORPHAN_DIR``, if set) and
#: kills the server's process group.  Its kernels notice their parent is gone and exit too
#: (ipykernel polls its parent).  Portable, no ``preexec_fn`` needed.
WATCHDOG = """
import os, runpy, shutil, signal, sys, threading
_folder = os.environ.pop("CODEMODE_ORPHAN_DIR", None)
def _watch():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except BaseException:
        pass
    try:
        if _folder:
            shutil.rmtree(_folder, ignore_errors=True)
        os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(1)
threading.Thread(target=_watch, name="codemode-watchdog", daemon=True).start()
sys.argv = ["jupyter-server", *sys.argv[1:]]
runpy.run_module("jupyter_server", run_name="__main__", alter_sys=True)
"""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalJupyterServer:
    """``python -m jupyter_server`` in its own process group, confined to ``root``."""

    def __init__(
        self, root: Path, env: dict[str, str], *, host: str = "127.0.0.1", orphan_dir: Path | None = None
    ) -> None:
        self.root = root
        self.host = host
        self.token = secrets.token_hex(24)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.output: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES)
        self._env = env
        self.orphan_dir = orphan_dir
        """A folder the server's watchdog removes if this process dies without stopping the server."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _prepare(self) -> dict[str, str]:
        dirs = {
            "JUPYTER_CONFIG_DIR": self.root / "jupyter" / "config",
            "JUPYTER_DATA_DIR": self.root / "jupyter" / "data",
            "JUPYTER_RUNTIME_DIR": self.root / "jupyter" / "runtime",
            "IPYTHONDIR": self.root / "ipython",
            "TMPDIR": self.root / "tmp",
        }
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        # Our own "python3" kernel spec, first on the search path: this interpreter, whatever PATH says.
        spec = dirs["JUPYTER_DATA_DIR"] / "kernels" / "python3"
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3 (codemode sandbox)",
                    "language": "python",
                    "metadata": {"debugger": False},
                }
            ),
            encoding="utf-8",
        )
        (self.root / "work").mkdir(exist_ok=True)
        env = dict(self._env)
        env.update({name: str(path) for name, path in dirs.items()})
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        if self.orphan_dir is not None:
            env["CODEMODE_ORPHAN_DIR"] = str(self.orphan_dir)
        return env

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-c",
            WATCHDOG,
            "--no-browser",
            f"--ServerApp.ip={self.host}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root / 'work'}",
            # CI containers run as root; the server is private (loopback, random token) either way.
            "--ServerApp.allow_root=True",
            "--ServerApp.terminals_enabled=False",
            # Output is capped by the executor (with a visible marker); the server's own IOPub rate
            # limit would instead drop output silently, depending on how fast the machine prints.
            "--ZMQChannelsWebsocketConnection.limit_rate=False",
            # Kernel sockets stay TCP on loopback (signed with the key in the private runtime folder):
            # Unix-socket paths under a long temporary folder exceed the OS's 107-character limit.
            # A kernel that ignores shutdown is killed after half a second, not five.
            "--KernelManager.shutdown_wait_time=0.5",
        ]

    async def start(self, timeout: float) -> None:
        """Start the server and wait until it answers; on failure leave nothing behind."""
        env = self._prepare()
        self.port = _free_port(self.host)
        try:
            self.process = subprocess.Popen(
                self.command(),
                env=env,
                cwd=self.root,
                stdin=subprocess.PIPE,  # the watchdog's lifeline: closed when this process ends
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise SandboxStartError(f"cannot start the Jupyter Server ({sys.executable}): {exc}") from None
        threading.Thread(target=self._drain, name=f"jupyter-server-{self.port}", daemon=True).start()
        try:
            await self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    def _drain(self) -> None:
        stream = self.process.stderr if self.process else None
        if stream is None:
            return
        with contextlib.suppress(Exception):
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self.output.append(line)

    def said(self) -> str:
        return "\n".join(self.output)

    async def _wait(self, timeout: float) -> None:
        client = AsyncHTTPClient(force_instance=True)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    said = self.said()
                    raise SandboxStartError(
                        f"the Jupyter Server exited with code {self.process.returncode} before it was ready"
                        + (f":\n{said}" if said else "; is jupyter_server installed for this Python?")
                    )
                try:
                    await client.fetch(
                        f"{self.url}/api/status",
                        headers={"Authorization": f"token {self.token}"},
                        connect_timeout=1,
                        request_timeout=2,
                    )
                    return
                except (OSError, HTTPClientError):
                    pass
                if time.monotonic() > deadline:
                    said = self.said()
                    raise SandboxStartError(
                        f"the Jupyter Server did not answer within {timeout:g} s" + (f":\n{said}" if said else "")
                    )
                await asyncio.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill the server's process group at once (kernels have their own, see the sandbox)."""
        process, self.process = self.process, None
        if process is None:
            return
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1.0)
        for pipe in (process.stdin, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
