"""``codemode-tui`` commands run inside the test process, answered like ``subprocess.run``.

A command line in a subprocess costs about 2 s of CPU before it does anything
(Python importing the MCP SDK) and as much again for the demo server it starts.
Tests about what a command prints, writes and exits with run it here instead:
the same ``cli.main`` a shell reaches, with stdin, stdout and stderr swapped
for buffers and the demo server served in-process over the SDK's in-memory
transport. The tests about a real process (the installed entry point, what
reaches a terminal, a kernel started by a command) keep using subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import traceback
from collections.abc import Iterator, Sequence

import pytest

from codemode_tui import cli
from codemode_tui.demo_server import build_server
from codemode_tui.workspace import Workspace


@contextlib.contextmanager
def _demo_in_process() -> Iterator[None]:
    """Every workspace a command opens serves its ``demo`` server from this process."""
    opened = cli._workspace

    def workspace(args: object) -> Workspace:
        found = opened(args)  # type: ignore[arg-type]
        found.registry.serve_in_process("demo", build_server())
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_workspace", workspace)
        yield


def run_cli(
    args: Sequence[str], *, stdin: str | None = None, demo_in_process: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``codemode-tui *args`` here; an uncaught exception is exit code 1 with its traceback on stderr."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    demo = _demo_in_process() if demo_in_process else contextlib.nullcontext()
    try:
        with demo, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["codemode-tui", *args], code, out.getvalue(), err.getvalue())
