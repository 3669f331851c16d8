"""Run history: the cost of an append, and of listing the newest runs, as the file grows.

Goal (issue "Hardening"): appending does not get slower as the history grows
(it used to re-read the whole file on every append: 1.5 s at 166 MB).  The
table shows the mean append and list times with a 1 MB and a 150 MB live file
(rotation cap raised above both so the append path itself is measured), and
their ratio to the 1 MB row; a ratio near 1 is the goal.

Run:  python tests/bench/bench_history.py [--sizes 1 150] [--appends 300]
Prints a table; exits non-zero when the largest size's append is more than 3x the smallest's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codemode_tui.snippets import RunHistory, RunRecord


def fill(path: Path, megabytes: int) -> None:
    record = RunRecord(code="print('old run')\n" * 5, status="ok", duration=0.1, output="o" * 1900)
    line = json.dumps(asdict(record)) + "\n"
    block = line * (1024 * 1024 // len(line) + 1)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(megabytes):
            handle.write(block)


def measure(megabytes: int, appends: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        fill(path, megabytes)
        history = RunHistory(path, max_bytes=4 * 1024**3)
        times = []
        for i in range(appends):
            record = RunRecord(code=f"print({i})", status="ok", duration=0.0, output="x" * 1000)
            start = time.perf_counter()
            history.add(record)
            times.append(time.perf_counter() - start)
        lists = []
        for _ in range(5):
            start = time.perf_counter()
            history.list()
            lists.append(time.perf_counter() - start)
        return statistics.mean(times), statistics.quantiles(times, n=100)[98], statistics.median(lists)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 150], help="history sizes in MB")
    parser.add_argument("--appends", type=int, default=300)
    args = parser.parse_args()
    rows = [(size, *measure(size, args.appends)) for size in args.sizes]
    base_append, base_list = rows[0][1], rows[0][3]
    print(f"{'history':>9} {'append mean':>12} {'append p99':>11} {'ratio':>6} {'list 500':>9} {'ratio':>6}")
    for size, mean, p99, listed in rows:
        print(
            f"{size:>6} MB {mean * 1e3:>9.3f} ms {p99 * 1e3:>8.3f} ms {mean / base_append:>6.2f}"
            f" {listed * 1e3:>6.1f} ms {listed / base_list:>6.2f}"
        )
    return 0 if rows[-1][1] <= 3 * base_append else 1


if __name__ == "__main__":
    sys.exit(main())
