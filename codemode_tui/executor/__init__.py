"""Running Python that composes MCP tools, inside a sandbox.

:class:`CodeModeExecutor` runs code in a sandbox (a local Jupyter kernel by
default, a kernel on a Jupyter Server by URL, or in-process ``eval``), with
generated bindings whose calls cross back to the host through one
:class:`~.bridge.ToolBridge`: the single place for the call cap, the per-call
timeout, the trace and the audit log.
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
