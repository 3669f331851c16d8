"""Running Python that composes MCP tools, inside a sandbox.

:class:`CodeModeExecutor` runs code in a sandbox (a local IPython kernel by
default, a kernel on a Jupyter Server by URL, or in-process ``eval``), with
generated bindings whose calls cross back to the host through one
:class:`~.bridge.ToolBridge`: the single place for the call cap, the per-call
timeout, the trace and the audit log.

Rules for the next change here:

- Runs report, they never raise for what the code does: every outcome is a
  :class:`RunResult` (``run_result.py``), and front ends run code only through
  ``Workspace.run``, which records the history.
- A sandbox is a :class:`~.sandbox.Sandbox` (``kernel_sandbox``, ``eval_sandbox``);
  kernels share one protocol core (``kernel_protocol``) over two transports
  (ZMQ for a local kernel, the websocket for a Jupyter Server).
- Whatever the sandbox sends is bounded before it reaches the host: output,
  values and errors are capped in the kernel (``kernel_bootstrap``), messages
  by the channel, frames and peers by the bridge.  A new path for data needs
  its bound and a test that sends too much.
- Code that runs inside the sandbox (``client_runtime``, ``kernel_bootstrap``,
  ``codegen/*_runtime.py``) uses the standard library only and imports nothing
  heavy at import time: it is paid on every kernel start.
- State changes are pushed (``add_state_listener``), never polled.
- What may happen to a call is decided in one place: the run's gates
  (``call_gate``: the tool policy, a replay, a dry run), which the bridge asks
  before any server is contacted.  A new kind of interception is a gate, not a
  branch in a front end; whatever a gate decides is written on the call's trace
  record.  Every call is recorded (``recording``) from the bridge's one
  encoding of its answer, within the run's budget.
"""

from .bridge import CallRejected, ToolBridge
from .config import DEFAULT_ENV_ALLOWLIST, CodeModeConfig, SandboxKind, SandboxState, sandbox_environment
from .errors import ExecutorClosed, KernelChannelError, KernelDied, SandboxStartError
from .executor import CodeModeExecutor
from .run_result import RunError, RunResult, ToolCallRecord

__all__ = [
    "DEFAULT_ENV_ALLOWLIST",
    "CallRejected",
    "CodeModeConfig",
    "CodeModeExecutor",
    "ExecutorClosed",
    "KernelChannelError",
    "KernelDied",
    "RunError",
    "RunResult",
    "SandboxKind",
    "SandboxStartError",
    "SandboxState",
    "ToolBridge",
    "ToolCallRecord",
    "sandbox_environment",
]
