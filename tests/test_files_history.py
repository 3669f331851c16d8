"""Run history: where a run came from, appends from several processes, and growth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from codemode_tui.executor.run_result import RunResult
from codemode_tui.snippets import RunHistory, RunRecord

ROOT = Path(__file__).resolve().parent.parent


def test_add_run_records_source_and_session(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.jsonl")
    history.add_run("print(1)", RunResult(run_id="r1", stdout="1\n"), source="serve", session="s-42")
    history.add_run("print(2)", RunResult(run_id="r2"), snippet="two")
    newest, oldest = history.list()
    assert (oldest.source, oldest.session) == ("serve", "s-42")
    assert (newest.source, newest.session, newest.snippet) == ("playground", None, "two")


def _bytes_read() -> int:
    """Bytes this process has read through read syscalls so far (Linux ``/proc/self/io``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


needs_proc_io = pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")


def _big_history(path: Path, megabytes: int) -> None:
    line = json.dumps(asdict(RunRecord(code="print('old')", status="ok", duration=0.1, output="o" * 1900))) + "\n"
    block = line * (1024 * 1024 // len(line) + 1)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(megabytes):
            handle.write(block)


@needs_proc_io
def test_appending_and_reading_the_newest_runs_do_not_read_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    _big_history(path, 24)
    history = RunHistory(path, limit=10, max_bytes=64 * 1024 * 1024)
    before = _bytes_read()
    for i in range(5):
        history.add(RunRecord(code=f"print({i})", status="ok", duration=0.0))
    appended = _bytes_read() - before
    assert appended < 64 * 1024, f"5 appends read {appended:,} bytes of a 24 MB history"
    before = _bytes_read()
    newest = history.list()
    listed = _bytes_read() - before
    assert [r.code for r in newest[:5]] == [f"print({i})" for i in reversed(range(5))] and len(newest) == 10
    assert listed < 1024 * 1024, f"listing 10 runs read {listed:,} bytes"


def test_the_live_file_rotates_at_its_cap_and_the_newest_runs_span_both_files(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = RunHistory(path, limit=30, max_bytes=20_000)
    for i in range(110):
        history.add(RunRecord(code=f"print({i})", status="ok", duration=0.0, output="x" * 500))
    rotated = history.rotated_path
    assert rotated == tmp_path / "history.1.jsonl" and rotated.exists()
    assert path.stat().st_size <= 20_000 and rotated.stat().st_size <= 21_000
    live, old = (len(p.read_text().splitlines()) for p in (path, rotated))
    assert live < 30 <= live + old  # the newest 30 are partly in the rotated file
    codes = [r.code for r in history.list()]
    assert codes == [f"print({i})" for i in reversed(range(80, 110))]  # newest first, across the rotation
    everything = RunHistory(path, limit=10_000).list()
    assert len(everything) == live + old < 110  # what is older than the rotated file is gone: the disk stays bounded
    assert everything[0].code == "print(109)"


def test_two_processes_appending_across_a_rotation_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    worker = tmp_path / "worker.py"
    worker.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from codemode_tui.snippets import RunHistory, RunRecord
            tag, start = sys.argv[1], float(sys.argv[2])
            history = RunHistory(Path(sys.argv[3]), max_bytes=300_000)
            time.sleep(max(0.0, start - time.time()))
            for i in range(100):
                history.add(RunRecord(code=f"{tag}{i}", status="ok", duration=0.0, output="x" * 2000))
            """
        )
    )
    start = f"{time.time() + 1.5:.3f}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, str(worker), tag, start, str(path)], env=env, stderr=subprocess.PIPE)
        for tag in "ab"
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    history = RunHistory(path, limit=1000)
    assert history.rotated_path.exists()  # one rotation happened (about 450 kB written, cap 300 kB)
    codes = [r.code for r in history.list()]
    assert sorted(codes) == sorted(f"{tag}{i}" for tag in "ab" for i in range(100))
    for tag in "ab":
        mine = [int(c[1:]) for c in reversed(codes) if c[0] == tag]
        assert mine == sorted(mine)
