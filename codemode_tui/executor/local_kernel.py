"""A local ipykernel launched directly and spoken to over ZMQ: no Jupyter Server in between.

``sandbox="local"`` used to start a private Jupyter Server and reach its
kernel over a websocket.  Talking to the kernel directly is safer and faster:

* **no secret on a command line or in a log.**  The kernel's HMAC key lives
  only in a 0600 connection file inside the executor's 0700 private folder;
  the command line names the file, never the key.  The kernel's sockets are
  Unix sockets (ZMQ ``ipc``) in the same folder, so another local user can
  neither connect to them nor read the file (TCP on loopback, still signed
  with that key, only when the folder's path is too long for a Unix socket);
* **no websocket message limit** (Jupyter Server's is 10 MiB) and no "server
  died" failure mode: the executor owns the kernel process itself;
* **a faster start** (no Jupyter Server to import, no HTTP round trips) and
  **faster runs** (one ZMQ round trip, no websocket framing).

Every kernel runs under a small *nanny* process (:data:`NANNY`), started in a
new session with the sandbox's allow-listed environment.  The nanny

* marks itself a *child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``), so a
  process the sandbox code detaches (``setsid``, a double fork) is re-parented
  to the nanny instead of to init, and is killed with the rest of the tree;
* kills every descendant and exits when the kernel exits (a crash, ``os._exit``,
  the memory limit), which is how the host learns that the kernel died;
* watches its stdin, a pipe from the host: when the host goes away without
  cleaning up (crash, ``SIGKILL``) the pipe reaches EOF and the nanny kills
  the tree and removes the executor's folder.  :meth:`KernelProcess.stop`
  writes ``stop`` (kill the tree, keep the folder: the executor may start
  another kernel in it) and closes that pipe, then makes sure.

The kernel sets its address-space limit (``RLIMIT_AS``, soft and hard, so the
code cannot lift it) before it imports anything.

:class:`ZmqKernelChannel` is the host's side of the wire: the protocol core of
:class:`~.kernel_protocol.KernelProtocol` (shared with the websocket channel for
kernels on a remote Jupyter Server) over ZMQ, with every host socket bounded by
``ZMQ_MAXMSGSIZE`` so that nothing a kernel sends can grow the host without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

from .errors import KernelChannelError, KernelDied, SandboxStartError
from .kernel_protocol import KernelProtocol, message_header

#: Longest path of a Unix socket the OS accepts (``sun_path`` is 108 bytes on Linux, 104 on macOS).
_IPC_PATH_LIMIT = 100
_DELIM = b"<IDS|MSG>"

#: The nanny (see the module docstring); ``python -c NANNY <connection file> <kernel code>``.
NANNY = r"""
import ctypes, os, shutil, signal, subprocess, sys, threading, time
folder = os.environ.pop("CODEMODE_ORPHAN_DIR", None)
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except Exception:
    pass

def tree():
    found = set()
    if not os.path.isdir("/proc"):
        return found
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != b"Z":
                parents.setdefault(int(fields[1]), []).append(int(name))
    todo = [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found

lock = threading.Lock()

def end(code):
    with lock:
        for _ in range(100):
            pids = tree()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)
        if folder and code is None:
            shutil.rmtree(folder, ignore_errors=True)
        os._exit(1 if code is None else code)

def watch():
    orderly = False
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            orderly = orderly or b"stop" in data
    except BaseException:
        pass
    end(0 if orderly else None)

env = dict(os.environ, JPY_PARENT_PID=str(os.getpid()))
kernel = subprocess.Popen(
    [sys.executable, "-c", sys.argv[2], "-f", sys.argv[1]],
    env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
sys.stdout.write(f"{kernel.pid}\n")
sys.stdout.flush()
threading.Thread(target=watch, daemon=True).start()
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        end(0)
    except InterruptedError:
        continue
    if pid == kernel.pid:
        end(os.waitstatus_to_exitcode(status) & 0xFF if hasattr(os, "waitstatus_to_exitcode") else 1)
"""

#: The kernel's main: the memory limit first (soft and hard), then ipykernel (with a fast cell-name hash).
KERNEL_MAIN = r"""
import os, sys
limit = os.environ.pop("CODEMODE_MEMORY_LIMIT_MB", "")
if limit:
    import resource
    wanted = int(limit) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (wanted, wanted))
# ipykernel names each cell by a pure-Python murmur2 hash of its text (for a debugger front end this
# sandbox never has): 0.6 s per MB of code.  zlib's CRC-32 names cells as well, at C speed.
import zlib
import ipykernel.compiler
ipykernel.compiler.murmur2_x86 = lambda data, seed: zlib.crc32(data.encode("utf-8", "surrogatepass"), seed)
sys.argv = ["ipykernel", *sys.argv[1:], "--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"]
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def _connection(folder: Path, name: str) -> dict[str, Any]:
    """Where the kernel listens: Unix sockets in ``folder`` when the path fits, else loopback TCP."""
    base = folder / name
    if hasattr(os, "fork") and len(os.fsencode(f"{base}-5")) <= _IPC_PATH_LIMIT:
        transport, ip, ports = "ipc", str(base), list(range(1, 6))
    else:
        import socket

        transport, ip, ports = "tcp", "127.0.0.1", []
        holders = []
        for _ in range(5):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            holders.append(sock)
            ports.append(int(sock.getsockname()[1]))
        for sock in holders:
            sock.close()
    return {
        "transport": transport,
        "ip": ip,
        "shell_port": ports[0],
        "iopub_port": ports[1],
        "stdin_port": ports[2],
        "control_port": ports[3],
        "hb_port": ports[4],
        "key": secrets.token_hex(32),
        "signature_scheme": "hmac-sha256",
        "kernel_name": "python3",
    }


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by this user only (never widened, never an existing file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class KernelProcess:
    """One nanny + ipykernel pair, confined to a private folder (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        env: dict[str, str],
        *,
        cwd: Path,
        memory_limit_mb: int | None = None,
        orphan_dir: Path | None = None,
    ) -> None:
        self.folder = folder
        self.cwd = cwd
        self.connection_file = folder / "kernel.json"
        self.connection: dict[str, Any] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.kernel_pid: int | None = None
        self.exit_code: int | None = None
        self._env = env
        self._memory_limit_mb = memory_limit_mb
        self.orphan_dir = orphan_dir
        self._exited: list[Callable[[int], None]] = []
        # start() runs on a worker thread; a stop() from another thread while the nanny is being
        # spawned (a spare kernel dropped by a cleanup) must not miss it and leave it running.
        self._lock = threading.Lock()
        self._stopped = False

    def _prepare(self) -> dict[str, str]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        dirs = {
            "JUPYTER_CONFIG_DIR": self.folder / "jupyter" / "config",
            "JUPYTER_DATA_DIR": self.folder / "jupyter" / "data",
            "JUPYTER_RUNTIME_DIR": self.folder / "jupyter" / "runtime",
            "IPYTHONDIR": self.folder / "ipython",
            "TMPDIR": self.folder / "tmp",
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.connection = _connection(self.folder, "k")
        _write_private(self.connection_file, json.dumps(self.connection))
        env = dict(self._env)
        env.update({name: str(path) for name, path in dirs.items()})
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self._memory_limit_mb:
            env["CODEMODE_MEMORY_LIMIT_MB"] = str(int(self._memory_limit_mb))
        if self.orphan_dir is not None:
            env["CODEMODE_ORPHAN_DIR"] = str(self.orphan_dir)
        return env

    def start(self) -> None:
        """Launch the nanny and its kernel (returns at once; the kernel answers when it is ready)."""
        with self._lock:
            if self._stopped:
                raise SandboxStartError("the kernel was stopped before it started")
            env = self._prepare()
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", NANNY, str(self.connection_file), KERNEL_MAIN],
                    env=env,
                    cwd=self.cwd,
                    stdin=subprocess.PIPE,  # the nanny's lifeline: closed when this process ends
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                raise SandboxStartError(f"cannot start a kernel with {sys.executable}: {exc}") from None
        threading.Thread(target=self._watch, name=f"codemode-kernel-{self.process.pid}", daemon=True).start()

    def _watch(self) -> None:
        process = self.process
        if process is None or process.stdout is None:
            return
        with contextlib.suppress(Exception):
            line = process.stdout.readline().strip()
            if line.isdigit():
                self.kernel_pid = int(line)
        code = process.wait()
        self.exit_code = code
        for callback in list(self._exited):
            with contextlib.suppress(Exception):
                callback(code)

    def on_exit(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(exit code)`` (from a thread) when the kernel (its nanny) has exited."""
        self._exited.append(callback)
        if self.exit_code is not None:
            callback(self.exit_code)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.exit_code is None and self.process.poll() is None

    def interrupt(self) -> None:
        """SIGINT to the kernel (the bootstrap turns it into a cancelled cell for awaiting code)."""
        if self.kernel_pid is not None and self.alive:
            with contextlib.suppress(OSError):
                os.kill(self.kernel_pid, signal.SIGINT)

    def stop(self, wait: float = 1.0) -> None:
        """Kill the kernel and everything it started; remove the connection file.  Blocks up to ``wait`` s.

        A stop while :meth:`start` is spawning the nanny waits for it, then kills it; after a
        stop, :meth:`start` refuses.
        """
        with self._lock:
            self._stopped = True
            process, self.process = self.process, None
        if process is not None:
            if process.stdin is not None:  # the nanny kills its whole tree on EOF ("stop": keep the folder)
                with contextlib.suppress(OSError):
                    process.stdin.write(b"stop\n")
                    process.stdin.flush()
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
            # Whatever is still there (a nanny the code killed or stopped): its process group.
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
            if process.stdout is not None:
                with contextlib.suppress(OSError):
                    process.stdout.close()
        if self.kernel_pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.kernel_pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.connection_file.unlink()


class ZmqKernelChannel(KernelProtocol):
    """Messages to and from one :class:`KernelProcess` over ZMQ (see the module docstring).

    The protocol (routing, requests, readiness) is :class:`~.kernel_protocol.KernelProtocol`'s;
    this class is the wire: signed multipart messages on three sockets, each
    bounded by ``ZMQ_MAXMSGSIZE``.  A message over that size makes ZMQ drop
    the connection to the kernel (and the message with it): a socket monitor
    notices the disconnect, and the channel is *lost* with a reason that says
    so, so the run fails clearly and the sandbox starts a new kernel.
    """

    def __init__(self, kernel: KernelProcess, *, max_message_bytes: int) -> None:
        super().__init__()
        self.kernel = kernel
        self._key = str(kernel.connection["key"]).encode()
        self.max_message_bytes = max_message_bytes
        self._context = zmq.asyncio.Context()
        self._sockets: dict[str, zmq.asyncio.Socket] = {}
        self._monitors: list[zmq.asyncio.Socket] = []
        self._readers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def _url(self, port_name: str) -> str:
        info = self.kernel.connection
        if info["transport"] == "ipc":
            return f"ipc://{info['ip']}-{info[port_name]}"
        return f"tcp://{info['ip']}:{info[port_name]}"

    async def connect(self, timeout: float = 30.0) -> None:
        self._loop = asyncio.get_running_loop()
        for name, kind in (("shell", zmq.DEALER), ("control", zmq.DEALER), ("iopub", zmq.SUB)):
            sock = self._context.socket(kind)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
            if kind == zmq.DEALER:
                sock.setsockopt(zmq.IDENTITY, f"{self.session}-{name}".encode())
            else:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            monitor = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            self._monitors.append(monitor)
            sock.connect(self._url(f"{name}_port"))
            self._sockets[name] = sock
            self._readers.append(self._loop.create_task(self._read(name)))
            self._readers.append(self._loop.create_task(self._watch_connection(name, monitor)))
        self.kernel.on_exit(self._exited_threadsafe)

    def _exited_threadsafe(self, code: int) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._exited, code)

    def _exited(self, code: int) -> None:
        if self.expect_restart:
            return
        self._lose(f"the kernel process died (exit code {code}: it exited, crashed, was killed or ran out of memory)")

    async def _watch_connection(self, name: str, monitor: zmq.asyncio.Socket) -> None:
        """Turn a dropped connection into a lost channel (the kernel died, or sent an oversized message)."""
        from zmq.utils.monitor import parse_monitor_message

        try:
            while not self.closed:
                event = parse_monitor_message(await monitor.recv_multipart())
                if event["event"] != zmq.EVENT_DISCONNECTED:
                    continue
                # Messages may have been lost: no request completes until the reason is known.  A dying
                # kernel drops its sockets too, so its exit gets a moment to be that reason.
                settling = self._settling = asyncio.Event()
                try:
                    await asyncio.sleep(0.2)
                    if self.kernel.alive:
                        limit = self.max_message_bytes / (1 << 20)
                        self._lose(
                            f"the kernel sent a message larger than the {limit:g} MiB limit on its {name} "
                            "connection (a huge value, error or output), so the connection was dropped"
                        )
                    elif self.kernel.exit_code is not None:
                        self._exited(self.kernel.exit_code)
                    else:
                        self._lose("the connection to the kernel was dropped")
                finally:
                    self._settling = None
                    settling.set()
        except asyncio.CancelledError:
            raise
        except zmq.ZMQError:
            pass

    def _sign(self, parts: list[bytes]) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(part)
        return mac.hexdigest().encode()

    async def _read(self, name: str) -> None:
        sock = self._sockets[name]
        try:
            while not self.closed:
                frames = await sock.recv_multipart(copy=True)
                try:
                    split = frames.index(_DELIM)
                except ValueError:
                    continue
                signature, parts = frames[split + 1], frames[split + 2 : split + 6]
                if len(parts) < 4 or not hmac.compare_digest(signature, self._sign(parts)):
                    continue  # not from our kernel: ignore it
                try:
                    header, parent, _, content = (json.loads(part) for part in parts)
                except ValueError:
                    continue
                self._route(name, {"header": header, "parent_header": parent, "content": content})
        except asyncio.CancelledError:
            raise
        except zmq.ZMQError:
            pass

    async def _send(self, channel: str, msg_type: str, content: dict[str, Any], msg_id: str) -> None:
        parts = [json.dumps(message_header(msg_type, msg_id, self.session)).encode(), b"{}", b"{}"]
        parts.append(json.dumps(content).encode())
        try:
            await self._sockets[channel].send_multipart([_DELIM, self._sign(parts), *parts])
        except (zmq.ZMQError, KeyError) as exc:
            raise KernelDied(f"cannot send to the kernel: {exc}") from None

    def _check_alive(self) -> None:
        super()._check_alive()
        if not self.kernel.alive:
            raise KernelChannelError(f"the kernel exited during its start (exit code {self.kernel.exit_code})")

    async def interrupt(self) -> None:
        """SIGINT to the kernel process."""
        self.kernel.interrupt()

    async def close(self) -> None:
        await super().close()
        for reader in self._readers:
            reader.cancel()
        for reader in self._readers:
            with contextlib.suppress(BaseException):
                await reader
        self._readers.clear()
        for sock in [*self._sockets.values(), *self._monitors]:
            with contextlib.suppress(Exception):
                sock.close(linger=0)
        self._sockets.clear()
        self._monitors.clear()
        with contextlib.suppress(Exception):
            self._context.term()
