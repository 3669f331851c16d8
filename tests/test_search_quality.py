"""Search quality on real catalogs: labelled queries, recall@5 and MRR, against a naive baseline.

The catalogs in ``tests/catalogs/`` are ``tools/list`` answers recorded from
real servers (``tests/record_catalog.py``).  ``tests/search_queries.json``
holds natural-language queries, each with the tools a user asking it wants.
The naive baseline is the ranking many Code Mode implementations ship:
count the query words found as substrings of name + description.

Run with ``-s`` to see the side-by-side table and every query that misses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from codemode_tui.registry import ToolDefinition
from codemode_tui.search import SearchIndex

TESTS = Path(__file__).parent
CATALOGS = TESTS / "catalogs"
QUERIES = TESTS / "search_queries.json"

RECALL_AT_5 = 0.95
MRR = 0.85


def load_catalogs() -> list[ToolDefinition]:
    tools: list[ToolDefinition] = []
    for path in sorted(CATALOGS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        server = data.get("server", path.stem)
        tools.extend(ToolDefinition.from_dict(server, entry) for entry in data["tools"])
    return tools


def load_queries() -> list[dict[str, object]]:
    return json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]


def naive_rank(query: str, tools: Sequence[ToolDefinition]) -> list[str]:
    """Words of the query contained as substrings in name + description, counted; no other signal."""
    words = query.lower().split()
    scored = []
    for tool in tools:
        text = f"{tool.name} {tool.description}".lower()
        count = sum(1 for word in words if word in text)
        if count:
            scored.append((count, tool.qualified_name))
    scored.sort(key=lambda item: -item[0])  # stable: ties keep catalog order, as the original does
    return [name for _, name in scored]


def evaluate(rank: Callable[[str], list[str]], queries: list[dict[str, object]]) -> tuple[float, float, list[str]]:
    """Mean recall@5 (share of a query's relevant tools in its top 5) and MRR, plus the misses."""
    recall_sum = rr_sum = 0.0
    misses: list[str] = []
    for item in queries:
        query, relevant = str(item["query"]), set(item["relevant"])  # type: ignore[arg-type]
        ranked = rank(query)
        recall = len(relevant & set(ranked[:5])) / len(relevant)
        first = next((i for i, name in enumerate(ranked, 1) if name in relevant), None)
        rr = 1 / first if first else 0.0
        recall_sum += recall
        rr_sum += rr
        if recall < 1 or rr < 1:
            misses.append(f"  {query!r}: recall@5 {recall:.2f}, first relevant at {first}; top 5 {ranked[:5]}")
    return recall_sum / len(queries), rr_sum / len(queries), misses


@pytest.fixture(scope="module")
def tools() -> list[ToolDefinition]:
    return load_catalogs()


def test_the_labelled_set_is_big_enough_and_points_at_real_tools(tools: list[ToolDefinition]) -> None:
    queries = load_queries()
    names = {tool.qualified_name for tool in tools}
    assert len(queries) >= 40
    assert len(tools) >= 50
    assert len({tool.server for tool in tools}) >= 4
    for item in queries:
        unknown = set(item["relevant"]) - names  # type: ignore[arg-type]
        assert not unknown, f"{item['query']!r} is labelled with tools no catalog has: {unknown}"
    assert len({str(item["query"]).lower() for item in queries}) == len(queries), "duplicate queries"


def test_ranking_meets_the_quality_bar_and_beats_the_naive_baseline(tools: list[ToolDefinition]) -> None:
    queries = load_queries()
    index = SearchIndex(tools)
    recall, mrr, misses = evaluate(lambda q: index.search(q, limit=10).names, queries)
    naive_recall, naive_mrr, _ = evaluate(lambda q: naive_rank(q, tools), queries)

    servers = len({tool.server for tool in tools})
    print(f"\n{len(queries)} queries over {len(tools)} tools from {servers} servers")
    print(f"{'ranking':<28}{'recall@5':>10}{'MRR':>8}")
    print(f"{'SearchIndex (BM25F)':<28}{recall:>10.3f}{mrr:>8.3f}")
    print(f"{'naive substring count':<28}{naive_recall:>10.3f}{naive_mrr:>8.3f}")
    if misses:
        print("queries not answered perfectly:", *misses, sep="\n")

    assert recall >= RECALL_AT_5, f"recall@5 {recall:.3f} < {RECALL_AT_5}"
    assert mrr >= MRR, f"MRR {mrr:.3f} < {MRR}"
    assert recall > naive_recall and mrr > naive_mrr


def test_naive_baseline_shows_the_failures_the_issue_describes(tools: list[ToolDefinition]) -> None:
    """The baseline really is the naive one: "a" matches almost everything, "ls" nothing."""
    assert len(naive_rank("a", tools)) > 0.8 * len(tools)
    assert "filesystem__list_directory" not in naive_rank("ls", tools)[:5]
    index = SearchIndex(tools)
    assert index.search("a").total == 0
    assert "filesystem__list_directory" in index.search("ls", limit=5).names
