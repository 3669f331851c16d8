"""Two processes changing the same user files at once lose nothing.

Each test starts two real Python processes that wait for a common start time and
then hammer the same servers file, snippet folder or history file, the way the
playground and a CLI (or two CLIs) do when a user works in both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from codemode_tui.config import load_servers, save_servers
from codemode_tui.snippets import RunHistory, SnippetStore
from tests.conftest import demo_stdio_config

ROOT = Path(__file__).resolve().parent.parent


def run_pair(script: str, tmp_path: Path, *extra: str) -> list[str]:
    """Run ``script`` in two processes (argv: tag, start time, extra...) and return their stdouts."""
    body = tmp_path / "worker.py"
    body.write_text(textwrap.dedent(script))
    start = f"{time.time() + 1.5:.3f}"  # both imports finish before the common start
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(body), tag, start, *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out)
    return outputs


WAIT = """
import sys, time
tag, start = sys.argv[1], float(sys.argv[2])
"""


def test_two_processes_adding_servers_keep_all_of_them(tmp_path: Path) -> None:
    config = tmp_path / "servers.json"
    save_servers(config, [demo_stdio_config()])
    script = (
        WAIT
        + """
from pathlib import Path
from codemode_tui.config import MCPServerConfig
from codemode_tui.workspace import Workspace
workspace = Workspace(Path(sys.argv[3]), persist=True)
time.sleep(max(0.0, start - time.time()))
for i in range(20):
    workspace.add_server(MCPServerConfig(name=f"{tag}{i}", command="true"))
workspace.remove_server("demo") if tag == "a" else None
"""
    )
    run_pair(script, tmp_path, str(config))
    names = set(load_servers(config))
    assert names == {f"{tag}{i}" for tag in "ab" for i in range(20)}


def test_a_change_applies_to_the_file_as_it_is_now(tmp_path: Path) -> None:
    """A workspace opened earlier never writes back its stale copy of the file."""
    from codemode_tui.config import MCPServerConfig
    from codemode_tui.workspace import Workspace

    config = tmp_path / "servers.json"
    save_servers(config, [demo_stdio_config()])
    early = Workspace(config, persist=True)
    late = Workspace(config, persist=True)
    late.add_server(MCPServerConfig(name="later", command="true"))
    late.set_enabled("demo", False)
    early.add_server(MCPServerConfig(name="earlier", command="true"))
    saved = load_servers(config)
    assert set(saved) == {"demo", "later", "earlier"}
    assert saved["demo"].enabled is False
    early.remove_server("demo")
    assert set(load_servers(config)) == {"later", "earlier"}


def test_two_processes_saving_snippets_never_overwrite_each_other(tmp_path: Path) -> None:
    folder = tmp_path / "snippets"
    script = (
        WAIT
        + """
from pathlib import Path
from codemode_tui.snippets import Snippet, SnippetError, SnippetStore
store = SnippetStore(Path(sys.argv[3]))
time.sleep(max(0.0, start - time.time()))
for i in range(20):
    try:
        store.save(Snippet(name=f"shared-{i}", code=f"print({tag!r})"), overwrite=False)
    except SnippetError:
        continue
    print(f"shared-{i}")
"""
    )
    won_a, won_b = (set(out.split()) for out in run_pair(script, tmp_path, str(folder)))
    # Every name was claimed by exactly one process, and its file holds that process's code.
    assert won_a | won_b == {f"shared-{i}" for i in range(20)}
    assert not won_a & won_b
    store = SnippetStore(folder)
    for name in won_a:
        assert store.get(name).code.strip() == "print('a')"


def test_two_processes_appending_history_keep_every_run(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    script = (
        WAIT
        + """
from pathlib import Path
from codemode_tui.snippets import RunHistory, RunRecord
history = RunHistory(Path(sys.argv[3]), limit=30)
time.sleep(max(0.0, start - time.time()))
for i in range(100):
    history.add(RunRecord(code=f"{tag}{i}", status="ok", duration=0.0, output="x" * 3000))
"""
    )
    run_pair(script, tmp_path, str(path))
    # Every run of both processes is there once (the two may not overlap in time on a
    # loaded machine, so which one wrote last is not assumed), each process's in order.
    codes = [r.code for r in RunHistory(path, limit=500).list()]
    assert sorted(codes) == sorted(f"{tag}{i}" for tag in "ab" for i in range(100))
    assert codes[0] in {"a99", "b99"}
    # The list is cut to the newest ``limit`` runs.
    assert [r.code for r in RunHistory(path, limit=30).list()] == codes[:30]
    for tag in "ab":
        mine = [int(c[1:]) for c in reversed(codes) if c[0] == tag]
        assert mine == sorted(mine)
    lines = [line for f in tmp_path.glob("history*.jsonl") for line in f.read_text().splitlines()]
    for line in lines:
        json.loads(line)  # no line torn by two writers
