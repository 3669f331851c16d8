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
from codemode_tui.workspace import Workspace
from tests.conftest import in_process_demos


@contextlib.contextmanager
def _demo_in_process() -> Iterator[None]:
    """Every workspace a command opens serves its demo servers from this process (``in_process_demos``)."""
    opened = cli._workspace

    def workspace(args: object) -> Workspace:
        found = opened(args)  # type: ignore[arg-type]
        registry = found.registry
        configs = [registry.server_config(name) for name in registry.server_names]
        for name, server in in_process_demos(*configs).items():
            registry.serve_in_process(name, server)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_workspace", workspace)
        yield


def run_cli(args: Sequence[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``codemode-tui *args`` here; an uncaught exception is exit code 1 with its traceback on stderr."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with _demo_in_process(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
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
