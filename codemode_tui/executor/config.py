"""``CodeModeConfig``: which sandbox runs the code, and the limits it runs under.

Every limit here is enforced by the executor or its tool-call bridge, not
left to the sandbox's good will: the run timeout interrupts and, if needed,
restarts the kernel; the output cap cuts output inside the kernel and again
on the host; the call cap and per-call timeout live in the bridge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .recording import DEFAULT_RECORDING_BYTES

SandboxKind = Literal["local", "jupyter", "eval"]

CheckMode = Literal["warn", "block", "off"]
"""What a run does with the type check: run and report, refuse to run on an error, or skip it."""
CHECK_MODES: tuple[CheckMode, ...] = ("warn", "block", "off")

SandboxState = Literal["not started", "starting", "ready", "running", "restarting", "failed", "closed"]
"""Where an executor's sandbox is, as pushed to :meth:`CodeModeExecutor.add_state_listener` callbacks.

``"failed"``: the last start (or restart) did not succeed; the next run tries
again.  ``"closed"``: ``cleanup()`` was called; the executor cannot run any more."""

#: Default address-space limit (MB) of a sandbox process.  2 GB holds a kernel
#: with the usual scientific stack and its threads' arenas, and stops a runaway
#: allocation long before it can swap a laptop to a halt.
DEFAULT_MEMORY_LIMIT_MB = 2048

#: Host variables a sandbox process gets by default: enough for Python, locale,
#: time zone and subprocesses to work, nothing that usually holds a secret.
DEFAULT_ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "SYSTEMROOT",  # Windows cannot start Python without it
)


@dataclass
class CodeModeConfig:
    """How and where :class:`~codemode_tui.executor.CodeModeExecutor` runs code."""

    sandbox: SandboxKind = "local"
    """``"local"`` (default): a Jupyter kernel in its own process, behind a Jupyter
    Server the executor starts and owns.  ``"jupyter"``: a kernel on an existing
    Jupyter Server at :attr:`jupyter_url` (possibly another machine).  ``"eval"``:
    in this process, fast, and NOT isolated: the code can read and change
    everything the host can."""

    jupyter_url: str | None = None
    """Base URL of an existing Jupyter Server (``sandbox="jupyter"``); a
    ``?token=`` in it is used as the token."""

    jupyter_token: str | None = None
    """Token of the server at :attr:`jupyter_url`."""

    timeout: float = 30.0
    """Seconds a run may take (``execute(timeout=...)`` overrides it per run)."""

    interrupt_grace: float = 1.0
    """Seconds between interrupting a run that timed out and restarting the kernel."""

    tool_timeout: float = 60.0
    """Seconds one tool call may take before it fails with a ``ToolError``."""

    max_tool_calls: int = 1000
    """Tool calls allowed per run; the next one raises ``ToolError`` in the code."""

    max_output_bytes: int = 1_000_000
    """Bytes of stdout plus stderr kept per run; the rest is dropped behind a marker."""

    max_value_bytes: int = 1_000_000
    """Bytes kept of each other thing a run sends back: the last expression's value
    (its repr and its JSON), each display item, an error message, a traceback.
    The rest is cut inside the sandbox, before it crosses the wire, behind a
    marker saying how much was dropped.  The default stays far below Jupyter's
    10 MiB message limit even with every part at its cap."""

    env_allowlist: tuple[str, ...] = ()
    """Names of further host environment variables the sandbox process receives
    (on top of :data:`DEFAULT_ENV_ALLOWLIST`).  Nothing else of the host's
    environment reaches it."""

    env: Mapping[str, str] = field(default_factory=dict)
    """Variables set in the sandbox process, whatever the host has."""

    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB
    """Address-space limit of the kernel process (``RLIMIT_AS``, soft and hard,
    so the code it limits cannot lift it), so runaway allocation raises
    ``MemoryError`` in the code instead of exhausting the machine.  ``None``:
    no limit.  The eval sandbox runs in the host process and cannot be limited."""

    working_dir: Path | None = None
    """Current folder of a local kernel; default: a private temporary folder."""

    bridge_host: str = "127.0.0.1"
    """Where the tool-call bridge listens.  Keep loopback for local kernels; a
    remote kernel needs an address it can reach."""

    bridge_port: int = 0
    """Port of the bridge; 0 picks a free one."""

    bridge_advertise_host: str | None = None
    """The address the sandbox connects to, when it differs from :attr:`bridge_host`
    (e.g. the bridge listens on ``0.0.0.0`` and the kernel reaches this machine
    by name)."""

    startup_timeout: float = 60.0
    """Seconds the Jupyter Server and kernel may take to start."""

    check: CheckMode = "warn"
    """The type check before a run of code that uses the bindings (see :mod:`.run_check`):
    ``warn`` runs and returns the diagnostics, ``block`` does not run code with an
    error (no tool is called), ``off`` skips it.  ``execute(check=...)`` overrides it."""

    max_recording_bytes: int = DEFAULT_RECORDING_BYTES
    """Bytes of tool results a run keeps in its recording, for replay (see
    :mod:`.recording`); a result past it is not kept and the call says so."""

    audit_path: Path | None = None
    """Append one JSON line per tool call (run, tool, arguments, outcome) to this file."""

    def __post_init__(self) -> None:
        if self.sandbox not in ("local", "jupyter", "eval"):
            raise ValueError(f"unknown sandbox {self.sandbox!r}; choose 'local', 'jupyter' or 'eval'")
        if self.sandbox == "jupyter" and not self.jupyter_url:
            raise ValueError("sandbox='jupyter' needs jupyter_url (the Jupyter Server's base URL)")
        for name in ("timeout", "interrupt_grace", "tool_timeout", "startup_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.check not in CHECK_MODES:
            raise ValueError(f"unknown check {self.check!r}; choose 'warn', 'block' or 'off'")
        if self.max_tool_calls < 0 or self.max_output_bytes < 0 or self.max_recording_bytes < 0:
            raise ValueError("max_tool_calls, max_output_bytes and max_recording_bytes cannot be negative")
        if self.max_value_bytes < 1000:
            raise ValueError("max_value_bytes must be at least 1000 (room for a value and its marker)")

    @property
    def isolated(self) -> bool:
        """Whether code runs in a separate process (``False`` only for eval)."""
        return self.sandbox != "eval"


def sandbox_environment(config: CodeModeConfig, host_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a sandbox process starts with: an allow-list, never the whole host's."""
    source = os.environ if host_env is None else host_env
    names = (*DEFAULT_ENV_ALLOWLIST, *config.env_allowlist)
    env = {name: source[name] for name in names if name in source}
    env.update({str(key): str(value) for key, value in config.env.items()})
    return env
