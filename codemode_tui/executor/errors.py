"""Failures around a run (never the code's own exceptions, which are data in a RunResult)."""

from __future__ import annotations


class SandboxStartError(RuntimeError):
    """The sandbox could not be started; the message says why and what to do."""


class KernelChannelError(RuntimeError):
    """The Jupyter Server could not be reached or refused a request."""


class KernelDied(RuntimeError):
    """The kernel process went away (exit, crash, out of memory) or was restarted under a run."""


class ExecutorClosed(RuntimeError):
    """The executor was cleaned up; create a new one."""
