"""Search speed on a large synthetic catalog: index build, query latency, per-query memory.

Goals (issue "Progressive tool discovery"): with 10,000 tools, build the index
in under 1 s; query p50 under 5 ms and p99 under 20 ms.  The playground runs a
search on every key press, so the queries include every prefix of typed
phrases as well as whole natural-language questions, typos and exact names.

The synthetic vocabulary is small (a few hundred words), so most words occur
in thousands of tools and a typical query matches half the catalog: harder
than a real catalog of the same size, whose vocabulary is far larger.

Run:  python tests/bench/bench_search.py [--tools 10000] [--queries 3000]
Prints a table; exits non-zero when a goal is missed (so CI can run it).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codemode_tui.registry import ToolDefinition
from codemode_tui.search import SearchIndex

VERBS = (
    "get list create update delete search read write move copy sync export import archive restore validate send "
    "fetch merge close open assign approve reject publish schedule cancel start stop restart deploy rollback scale "
    "tag label comment upload download rename share invite remove add find count summarize convert"
).split()
NOUNS = (
    "file directory issue ticket user account invoice order payment customer message channel event calendar meeting "
    "document page database table row column query report dashboard metric alert incident deployment pod container "
    "image volume bucket object key secret token repository branch commit review label milestone project task note "
    "contact lead opportunity campaign email template webhook subscription plan product price coupon refund shipment "
    "warehouse inventory vendor employee team role permission group policy rule firewall network subnet instance "
    "snapshot backup cluster node service endpoint log trace span workflow job pipeline build artifact release "
    "environment variable setting preference notification comment thread reaction attachment folder space board card"
).split()
QUALIFIERS = "by_id batch all recent archived details status history summary settings members".split()
ADJECTIVES = (
    "new existing specific multiple recent archived public private shared remote local pending active failed "
    "scheduled detailed raw compressed encrypted"
).split()
PARAM_NAMES = (
    "id name path query limit page cursor owner repo project_id user_id email title body content format since "
    "until status sort order region tags labels timeout dry_run force recursive"
).split()
FILLER = "the a of for in with from to and or by when that this which as on".split()


def sentence(rng: random.Random, words: int) -> str:
    pool = NOUNS + ADJECTIVES + VERBS + FILLER * 3
    return " ".join(rng.choice(pool) for _ in range(words)).capitalize() + "."


def synthetic_tools(count: int, servers: int = 100, seed: int = 7) -> list[ToolDefinition]:
    """``count`` tools over ``servers`` servers, with realistic names, descriptions and parameters."""
    rng = random.Random(seed)
    tools: list[ToolDefinition] = []
    per_server = max(1, count // servers)
    for s in range(servers):
        server = f"{rng.choice(NOUNS)}-{rng.choice(['api', 'hub', 'cloud', 'ops', 'db', 'mcp'])}-{s}"
        seen: set[str] = set()
        for _ in range(per_server if s < servers - 1 else count - per_server * (servers - 1)):
            verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
            style = rng.random()
            qualifier = rng.choice(QUALIFIERS) if rng.random() < 0.4 else ""
            if style < 0.6:
                name = f"{verb}_{noun}" + (f"_{qualifier}" if qualifier else "")
            elif style < 0.85:
                name = verb + noun.capitalize() + "".join(p.capitalize() for p in qualifier.split("_"))
            else:
                name = f"{verb}-{noun}" + (f"-{qualifier.replace('_', '-')}" if qualifier else "")
            base, n = name, 2
            while name in seen:
                name, n = f"{base}{n}", n + 1
            seen.add(name)
            adjective = rng.choice(ADJECTIVES)
            description = f"{verb.capitalize()} {adjective} {noun}s. " + " ".join(
                sentence(rng, rng.randint(6, 18)) for _ in range(rng.randint(1, 3))
            )
            properties = {}
            for param in rng.sample(PARAM_NAMES, rng.randint(1, 5)):
                prop: dict[str, object] = {"type": "string", "description": sentence(rng, rng.randint(4, 12))}
                if rng.random() < 0.1:
                    prop["enum"] = rng.sample(ADJECTIVES, 3)
                properties[param] = prop
            schema = {"type": "object", "properties": properties, "required": list(properties)[:1]}
            tools.append(ToolDefinition(name=name, server=server, description=description, input_schema=schema))
    return tools


def queries(tools: list[ToolDefinition], count: int, seed: int = 11) -> list[str]:
    """A mix like a session's: typed prefixes, whole questions, typos and exact names."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        kind = rng.random()
        if kind < 0.45:  # search-as-you-type: every prefix of a short phrase
            phrase = f"{rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s"
            out.extend(phrase[:i] for i in range(1, len(phrase) + 1))
        elif kind < 0.75:
            out.append(f"how do I {rng.choice(VERBS)} the {rng.choice(NOUNS)} for a {rng.choice(NOUNS)}")
        elif kind < 0.9:
            word = list(rng.choice(NOUNS) + "_" + rng.choice(NOUNS))
            i = rng.randrange(len(word))
            word[i] = rng.choice("aeiourst")
            out.append(rng.choice(VERBS) + "_" + "".join(word))
        else:
            tool = rng.choice(tools)
            out.append(rng.choice([tool.name, tool.qualified_name]))
    return out[:count]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args(argv)

    tools = synthetic_tools(args.tools)
    builds: list[float] = []
    for _ in range(3):  # the median of three, so one hiccup of a shared machine does not decide
        gc.collect()
        start = time.perf_counter()
        index = SearchIndex(tools)
        builds.append(time.perf_counter() - start)
    build = statistics.median(builds)

    server = tools[0].server
    server_tools = [t for t in tools if t.server == server]
    start = time.perf_counter()
    index.update_server(server, server_tools)
    update = time.perf_counter() - start

    batch = queries(tools, args.queries)
    for query in batch[:200]:  # warm the stem cache and sorted word list, as a running session would have
        index.search(query, limit=args.limit)
    latencies: list[float] = []
    totals: list[int] = []
    for query in batch:
        start = time.perf_counter()
        result = index.search(query, limit=args.limit)
        latencies.append((time.perf_counter() - start) * 1000)
        totals.append(result.total)

    tracemalloc.start()
    peaks: list[int] = []
    for query in batch[:300]:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        index.search(query, limit=args.limit)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()

    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    rows = [
        ("tools indexed", f"{len(index):,}", "", ""),
        ("index build (median of 3)", f"{build * 1000:.0f} ms", "< 1000 ms", "ok" if build < 1.0 else "MISSED"),
        ("re-index one server", f"{update * 1000:.1f} ms ({len(server_tools)} tools)", "", ""),
        ("queries run", f"{len(latencies):,}", "", ""),
        ("query p50", f"{p50:.2f} ms", "< 5 ms", "ok" if p50 < 5 else "MISSED"),
        ("query p90", f"{percentile(latencies, 0.90):.2f} ms", "", ""),
        ("query p99", f"{p99:.2f} ms", "< 20 ms", "ok" if p99 < 20 else "MISSED"),
        ("query max", f"{max(latencies):.2f} ms", "", ""),
        ("mean matching tools", f"{statistics.mean(totals):,.0f}", "", ""),
        ("per-query peak alloc p50", f"{percentile(peaks, 0.5) / 1024:.0f} KiB", "", ""),
        ("per-query peak alloc max", f"{max(peaks) / 1024:.0f} KiB", "", ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("measure", "value", "goal", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0 if build < 1.0 and p50 < 5 and p99 < 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
