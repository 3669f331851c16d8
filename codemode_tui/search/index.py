"""``SearchIndex``: ranked search over tool definitions (BM25F).

Each tool is split into fields: its name (split into words), title,
description, parameter names, parameter text (descriptions and enum values)
and server name.  A term's frequency in each field is normalised by that field's length,
weighted by the field's importance and summed (BM25F), then saturated and
multiplied by the term's rarity (IDF).  So ``read`` in a tool's name counts
more than ``read`` in a long description, and ``git`` (in every git tool)
counts less than ``stash``.

Query words are matched leniently, each more weakly than an exact match:

* by stem (``files`` finds ``file``), and by prefix for the word being typed
  (the last one, when no space follows it: ``rea``);
* by edit distance one on tool-name words (``reed_file`` finds ``read_file``);
* through a small table of everyday synonyms (``ls``, ``folder``, ``repo``).

Each query word counts once per tool (its best way of matching), tools that
match more of the query's words are preferred, and a query that is a tool's
exact (or qualified) name puts that tool first.  Stop words match nothing on
their own: ``"a"`` finds no tool.

The index keeps per-field term counts so a server's tools can be replaced
without re-reading the others (:meth:`SearchIndex.update_server`); attached to
a registry it re-reads a server lazily, on the first search after that server
changed.  Search runs on every key press in the playground, so the query path
allocates little: a dictionary of matching tools and nothing per term.
"""

from __future__ import annotations

import gc
import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .results import SearchHit, SearchResult
from .synonyms import SYNONYMS
from .tokenize import STOP_WORDS, sorted_vocabulary, split_words, stem, terms_of

if TYPE_CHECKING:
    from ..tool_types import ToolDefinition, ToolSource

NAME, TITLE, DESCRIPTION, PARAMS, PARAM_TEXT, SERVER = range(6)
FIELD_NAMES = ("name", "title", "description", "params", "param_text", "server")
_N_FIELDS = len(FIELD_NAMES)


@dataclass(frozen=True)
class RankingSettings:
    """Knobs of the ranking; the defaults are what the quality test holds to.

    Field weights say how much one occurrence in that field is worth; ``b``
    is BM25's length normalisation per field (0: none, 1: full) and ``k1`` its
    saturation.  The ``*_weight`` values scale the lenient ways of matching
    relative to an exact word.
    """

    name_weight: float = 3.0
    title_weight: float = 2.0
    description_weight: float = 1.0
    params_weight: float = 0.6
    param_text_weight: float = 0.25
    server_weight: float = 1.0
    name_b: float = 0.3
    title_b: float = 0.3
    description_b: float = 0.75
    params_b: float = 0.5
    param_text_b: float = 0.75
    server_b: float = 0.0
    k1: float = 1.2
    prefix_weight: float = 0.75
    fuzzy_weight: float = 0.7
    synonym_weight: float = 0.6
    max_prefix_expansions: int = 16
    name_cover_bonus: float = 0.3

    @property
    def weights(self) -> tuple[float, ...]:
        return (
            self.name_weight,
            self.title_weight,
            self.description_weight,
            self.params_weight,
            self.param_text_weight,
            self.server_weight,
        )

    @property
    def bs(self) -> tuple[float, ...]:
        return (self.name_b, self.title_b, self.description_b, self.params_b, self.param_text_b, self.server_b)


_MAX_SCHEMA_DEPTH = 6
_EXACT_BONUS = 1000.0
# A term weight (saturated BM25F tf) that counts as plainly matching a query word: about one
# mention in a description of average length.  Weaker matches cover the word only in part.
_CLEAR_MATCH = 0.4


def _schema_text(schema: Any, names: list[str], text: list[str], depth: int = 0) -> None:
    """Parameter names (into ``names``), their descriptions and enum values (into ``text``), nested ones included.

    Kept apart because a parameter's name says what a tool works on, while its
    description is mostly examples and caveats ("e.g. 'Asia/Tokyo'").
    """
    if depth > _MAX_SCHEMA_DEPTH or not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            names.append(str(key))
            _schema_text(sub, names, text, depth + 1)
    description = schema.get("description")
    if isinstance(description, str) and depth > 0:
        text.append(description)
    enum = schema.get("enum")
    if isinstance(enum, list):
        text.extend(str(value) for value in enum if isinstance(value, (str, int, float)))
    for key in ("items", "additionalProperties"):
        _schema_text(schema.get(key), names, text, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        variants = schema.get(key)
        if isinstance(variants, list):
            for variant in variants:
                _schema_text(variant, names, text, depth + 1)
    defs = schema.get("$defs") or schema.get("definitions")
    if isinstance(defs, dict) and depth == 0:
        for sub in defs.values():
            _schema_text(sub, names, text, depth + 1)


class _Doc:
    """One indexed tool: its terms per field, kept so it can be re-weighed or removed without re-reading it."""

    __slots__ = (
        "exact_keys",
        "fields",
        "lengths",
        "name_stems",
        "name_words",
        "qualified_name",
        "server",
        "terms",
        "tool",
    )

    def __init__(self, tool: ToolDefinition) -> None:
        self.tool = tool
        self.server = tool.server
        fields: list[list[str]] = [[] for _ in range(_N_FIELDS)]
        fields[NAME] = split_words(tool.name)
        fields[TITLE] = split_words(tool.title or "")
        fields[DESCRIPTION] = split_words(tool.description or "")
        param_names: list[str] = []
        param_text: list[str] = []
        _schema_text(tool.input_schema, param_names, param_text)
        fields[PARAMS] = split_words(" ".join(param_names)) if param_names else []
        fields[PARAM_TEXT] = split_words(" ".join(param_text)) if param_text else []
        fields[SERVER] = split_words(tool.server)
        self.fields = tuple(terms_of(field_words) if field_words else () for field_words in fields)
        self.lengths = tuple(len(field_terms) for field_terms in self.fields)
        self.terms: tuple[str, ...] = ()  # set when posted
        self.name_words = frozenset(w for w in fields[NAME] if w not in STOP_WORDS and len(w) >= 3)
        self.name_stems = frozenset(stem(w) for w in fields[NAME] if w not in STOP_WORDS)
        self.qualified_name = tool.qualified_name
        keys = {tool.name, tool.python_name, tool.qualified_name, f"{tool.server}.{tool.name}"}
        keys.add(f"{tool.server_module}.{tool.python_name}")
        self.exact_keys = frozenset(key.lower() for key in keys)


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most one (substitution, insertion, deletion, swap)."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if i == la:
        return True
    if la == lb:
        return a[i + 1 :] == b[i + 1 :] or (
            i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
        )
    return a[i:] == b[i + 1 :]


@lru_cache(maxsize=1)
def _stemmed_synonyms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The synonym table on stems; words sharing a stem ("change", "changes") pool their alternatives."""
    table: dict[str, list[tuple[str, ...]]] = {}
    for word, alternatives in SYNONYMS.items():
        key = stem(word)
        pooled = table.setdefault(key, [])
        for alternative in alternatives:
            phrase = tuple(terms_of(split_words(alternative)))
            if phrase and phrase != (key,) and phrase not in pooled:
                pooled.append(phrase)
    return {key: tuple(phrases) for key, phrases in table.items() if phrases}


def _deletes(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


class SearchIndex:
    """Ranked search over tool definitions; see the module docstring for how it ranks.

    Not thread-safe: use it from the thread that owns the registry (the event
    loop).  A search takes a few milliseconds even on ten thousand tools, so
    there is no need to move it to a worker.
    """

    def __init__(self, tools: Iterable[ToolDefinition] = (), *, settings: RankingSettings | None = None) -> None:
        self.settings = settings or RankingSettings()
        self._weights = self.settings.weights
        self._bs = self.settings.bs
        self._docs: dict[int, _Doc] = {}
        self._next_id = 0
        self._by_server: dict[str, list[int]] = {}
        self._postings: dict[str, dict[int, float]] = {}
        self._exact: dict[str, list[int]] = {}
        self._name_word_counts: Counter[str] = Counter()
        self._field_totals = [0] * _N_FIELDS
        self._weighed_avgs: tuple[float, ...] = (1.0,) * _N_FIELDS
        self._name_deletes: dict[str, list[str]] | None = None
        # Tools whose name has a term, for the "whole name in the query" bonus.
        self._name_postings: dict[str, set[int]] = {}
        # Per term, on first use since the last change: doc -> complex(idf * weight, how clearly it matches).
        # Carrying both numbers in one complex keeps the per-posting work of a query to one add.
        self._scaled: dict[str, dict[int, complex]] = {}
        self._synonyms = _stemmed_synonyms()
        self._registry: ToolSource | None = None
        self._server_signature: dict[str, tuple[int, ...]] = {}
        self._dirty: set[str] = set()
        self.rebuild(tools)

    # -- building ----------------------------------------------------------------

    def rebuild(self, tools: Iterable[ToolDefinition]) -> None:
        """Replace everything in the index with ``tools``."""
        # Indexing allocates many small containers that all stay alive; the collector's passes over them
        # would find nothing to free and cost more than the indexing itself on a large catalog.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._rebuild(tools)
        finally:
            if collecting:
                gc.enable()

    def _rebuild(self, tools: Iterable[ToolDefinition]) -> None:
        self._docs.clear()
        self._by_server.clear()
        self._postings.clear()
        self._exact.clear()
        self._name_word_counts.clear()
        self._name_postings.clear()
        self._scaled.clear()
        self._field_totals = [0] * _N_FIELDS
        self._server_signature.clear()
        docs = [self._add_doc(tool) for tool in tools]
        self._weighed_avgs = self._averages()
        for doc_id in docs:
            self._post(doc_id)
        self._name_deletes = None

    def update_server(self, server: str, tools: Iterable[ToolDefinition]) -> None:
        """Replace one server's tools (the others are left as they are)."""
        self.remove_server(server)
        added = [self._add_doc(tool) for tool in tools]
        if self._stale():
            self._reweigh()
        else:
            for doc_id in added:
                self._post(doc_id)

    def remove_server(self, server: str) -> None:
        """Drop one server's tools from the index."""
        self._server_signature.pop(server, None)
        for doc_id in self._by_server.pop(server, []):
            self._remove_doc(doc_id)

    def _add_doc(self, tool: ToolDefinition) -> int:
        doc = _Doc(tool)
        doc_id = self._next_id
        self._next_id += 1
        self._docs[doc_id] = doc
        self._scaled.clear()
        for term in doc.name_stems:
            self._name_postings.setdefault(term, set()).add(doc_id)
        self._by_server.setdefault(doc.server, []).append(doc_id)
        for i, length in enumerate(doc.lengths):
            self._field_totals[i] += length
        known = len(self._name_word_counts)
        self._name_word_counts.update(doc.name_words)
        if len(self._name_word_counts) != known:
            self._name_deletes = None
        for key in doc.exact_keys:
            self._exact.setdefault(key, []).append(doc_id)
        return doc_id

    def _remove_doc(self, doc_id: int) -> None:
        doc = self._docs.pop(doc_id)
        self._scaled.clear()
        for term in doc.name_stems:
            holders = self._name_postings[term]
            holders.discard(doc_id)
            if not holders:
                del self._name_postings[term]
        for i, length in enumerate(doc.lengths):
            self._field_totals[i] -= length
        for term in doc.terms:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(doc_id, None)
                if not posting:
                    del self._postings[term]
        for word in doc.name_words:
            if self._name_word_counts[word] <= 1:
                del self._name_word_counts[word]
                self._name_deletes = None
            else:
                self._name_word_counts[word] -= 1
        for key in doc.exact_keys:
            ids = self._exact[key]
            ids.remove(doc_id)
            if not ids:
                del self._exact[key]

    def _averages(self) -> tuple[float, ...]:
        n = len(self._docs) or 1
        return tuple(max(total / n, 1.0) for total in self._field_totals)

    def _stale(self) -> bool:
        """True when field lengths drifted enough that stored weights mislead (> 20%)."""
        current = self._averages()
        return any(abs(c - w) > 0.2 * w for c, w in zip(current, self._weighed_avgs, strict=True))

    def _reweigh(self) -> None:
        self._postings.clear()
        self._scaled.clear()
        self._weighed_avgs = self._averages()
        for doc_id in self._docs:
            self._post(doc_id)

    def _post(self, doc_id: int) -> None:
        """Store the saturated BM25F weight of each of a tool's terms."""
        doc = self._docs[doc_id]
        weights, bs, avgs, k1 = self._weights, self._bs, self._weighed_avgs, self.settings.k1
        tfs: dict[str, float] = {}
        get = tfs.get
        for f, field_terms in enumerate(doc.fields):
            if field_terms:
                # BM25F: each occurrence counts the field's weight, normalised by the field's length.
                norm = weights[f] / (1.0 - bs[f] + bs[f] * doc.lengths[f] / avgs[f])
                for term in field_terms:
                    tfs[term] = get(term, 0.0) + norm
        doc.terms = tuple(tfs)
        postings = self._postings
        for term, tf in tfs.items():
            posting = postings.get(term)
            if posting is None:
                posting = postings[term] = {}
            posting[doc_id] = tf / (k1 + tf)

    # -- keeping up with a registry --------------------------------------------------

    def attach(self, registry: ToolSource) -> None:
        """Index ``registry``'s tools and follow its changes (re-read lazily, per server)."""
        self.detach()
        self._registry = registry
        registry.add_listener(self._on_registry_change)
        self.rebuild(registry.list_tools())
        for server in registry.server_names:
            self._server_signature[server] = tuple(id(tool) for tool in registry.list_tools(server))

    def detach(self) -> None:
        if self._registry is not None:
            self._registry.remove_listener(self._on_registry_change)
            self._registry = None
        self._dirty.clear()

    def _on_registry_change(self, server: str) -> None:
        self._dirty.add(server)

    def sync(self) -> None:
        """Bring the servers that changed since the last search up to date (cheap when none did)."""
        registry = self._registry
        if registry is None or not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        known = set(registry.server_names)
        for server in dirty:
            if server not in known:
                self.remove_server(server)
                continue
            tools = registry.list_tools(server)
            signature = tuple(id(tool) for tool in tools)
            if self._server_signature.get(server) != signature:
                self.update_server(server, tools)
                self._server_signature[server] = signature

    # -- searching ----------------------------------------------------------------

    def __len__(self) -> int:
        self.sync()
        return len(self._docs)

    @property
    def servers(self) -> list[str]:
        self.sync()
        return [server for server, ids in self._by_server.items() if ids]

    def tools(self, server: str | None = None) -> list[ToolDefinition]:
        """The indexed tools, in indexing order."""
        self.sync()
        if server is not None:
            return [self._docs[i].tool for i in self._by_server.get(server, [])]
        return [doc.tool for doc in self._docs.values()]

    def _idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        n = len(self._docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _completions(self, word: str) -> list[str]:
        """Indexed words that start with ``word`` (the shortest first, at most a few dozen)."""
        words = sorted_vocabulary()
        start = bisect_left(words, word)
        end = bisect_left(words, word + "\uffff", start)
        found = words[start:end]
        cap = self.settings.max_prefix_expansions
        if len(found) > cap:
            found = heapq.nsmallest(cap, found, key=len)
        return found

    def _near_names(self, word: str) -> list[str]:
        """Tool-name words one edit away from ``word`` (typo tolerance)."""
        deletes = self._name_deletes
        if deletes is None:
            deletes = self._name_deletes = {}
            for name_word in self._name_word_counts:
                for variant in {name_word, *_deletes(name_word)}:
                    deletes.setdefault(variant, []).append(name_word)
        candidates: set[str] = set()
        for variant in (word, *_deletes(word)):
            candidates.update(deletes.get(variant, ()))
        return [c for c in candidates if c != word and _within_one_edit(word, c)]

    def _alternatives(self, word: str, typing: bool) -> list[tuple[tuple[str, ...], float]]:
        """The ways one query word can match: (terms, weight) pairs, the exact stem first."""
        postings = self._postings
        settings = self.settings
        term = stem(word)
        alts: list[tuple[tuple[str, ...], float]] = []
        seen: set[str] = set()
        if term in postings:
            alts.append(((term,), 1.0))
            seen.add(term)
        if len(word) >= 2 and (typing or term not in postings):
            for completion in self._completions(word):
                completed = stem(completion)
                if completed not in seen and completed in postings:
                    seen.add(completed)
                    alts.append(((completed,), settings.prefix_weight * (0.5 + 0.5 * len(word) / len(completion))))
        if len(word) >= 4 and word not in self._name_word_counts:
            for near in self._near_names(word):
                near_term = stem(near)
                if near_term not in seen and near_term in postings:
                    seen.add(near_term)
                    alts.append(((near_term,), settings.fuzzy_weight))
        for phrase in self._synonyms.get(term, ()):
            present = tuple(t for t in phrase if t in postings and t not in seen)
            if present:
                alts.append((present, settings.synonym_weight / len(phrase)))
        return alts

    def search(
        self, query: str, *, server: str | None = None, limit: int | None = 10, match_all: bool = False
    ) -> SearchResult:
        """The tools best matching ``query``, best first, at most ``limit`` (``None``: all).

        ``server`` keeps one server's tools; ``match_all`` keeps only tools
        that match every word of the query (a keyword filter).
        """
        self.sync()
        text = query.strip()
        if not text or not self._docs:
            return SearchResult(query=query, hits=(), total=0)
        exact_ids = self._exact.get(text.lower(), ())
        words: list[str] = []
        for word in split_words(text):
            if word not in STOP_WORDS and word not in words:
                words.append(word)
        typing = query[-1:].isalnum()  # no space or punctuation after it: the last word may still be typed
        scaled = self._scaled_posting
        acc: dict[int, complex] = {}  # doc -> complex(score, coverage of the query's words)
        counts: dict[int, int] | None = {} if match_all else None
        query_stems: list[str] = []
        for position, word in enumerate(words):
            alts = self._alternatives(word, typing and position == len(words) - 1)
            if not alts:
                continue
            if alts[0][1] == 1.0:
                query_stems.append(alts[0][0][0])
            if len(alts) == 1 and len(alts[0][0]) == 1:
                group = scaled(alts[0][0][0])
                weight = alts[0][1]
                if weight != 1.0:
                    group = {doc_id: weight * value for doc_id, value in group.items()}
                elif not acc:
                    group = dict(group)  # acc will be updated in place: never hand out the cache
            else:
                group = self._best_of(alts)
            if not acc:
                acc = group
            else:
                get = acc.get
                for doc_id, value in group.items():
                    acc[doc_id] = get(doc_id, 0j) + value
            if counts is not None:
                for doc_id in group:
                    counts[doc_id] = counts.get(doc_id, 0) + 1
        n_words = len(words) or 1
        docs = self._docs
        bonus = 1.0 + self.settings.name_cover_bonus
        # A tool whose whole name is in the query ("git status") gets a bonus.
        if query_stems and bonus != 1.0:
            name_hits: dict[int, int] = {}
            for term in query_stems:
                for doc_id in self._name_postings.get(term, ()):
                    name_hits[doc_id] = name_hits.get(doc_id, 0) + 1
            for doc_id, count in name_hits.items():
                current = acc.get(doc_id)
                if current is not None and count == len(docs[doc_id].name_stems):
                    acc[doc_id] = complex(current.real * bonus, current.imag)
        # Tools covering more of the query's words first: (0.3 + 0.7 * share of words covered) ** 2.
        # Final scores replace the complex pairs in place: no second structure the size of the matches.
        share = 0.7 / n_words
        final: dict[int, float]
        if server is None and counts is None:
            final = acc  # type: ignore[assignment]
            for doc_id, value in acc.items():
                final[doc_id] = (0.3 + share * value.imag) ** 2 * value.real
        else:
            final = {
                d: (0.3 + share * v.imag) ** 2 * v.real
                for d, v in acc.items()
                if (server is None or docs[d].server == server) and (counts is None or counts[d] >= n_words)
            }
        exact_set = {i for i in exact_ids if server is None or docs[i].server == server}
        for doc_id in exact_set:
            final[doc_id] = final.get(doc_id, 0.0) + _EXACT_BONUS
        total = len(final)
        if limit is not None and limit < total:
            top = heapq.nlargest(limit, final.items(), key=itemgetter(1))
            # Ties at the cut are kept whole so the order below never depends on insertion order.
            cut = top[-1][1] if top else 0.0
            if top and top[-1][1] == cut:
                top = [item for item in final.items() if item[1] >= cut]
        else:
            top = list(final.items())
        top.sort(key=lambda item: (-item[1], docs[item[0]].qualified_name))
        if limit is not None:
            del top[limit:]
        ranked = tuple(SearchHit(docs[i].tool, score, exact=i in exact_set) for i, score in top)
        return SearchResult(query=query, hits=ranked, total=total)

    def _scaled_posting(self, term: str) -> dict[int, complex]:
        """``doc -> complex(idf * term weight, clear-match credit)`` for ``term``, cached until the index changes."""
        cached = self._scaled.get(term)
        if cached is None:
            idf = self._idf(term)
            inv = 1.0 / _CLEAR_MATCH
            cached = self._scaled[term] = {
                d: complex(idf * sat, sat * inv if sat < _CLEAR_MATCH else 1.0)
                for d, sat in self._postings[term].items()
            }
        return cached

    def _best_of(self, alts: list[tuple[tuple[str, ...], float]]) -> dict[int, complex]:
        """Per tool, the best way one query word matches it (exact, prefix, typo or synonym)."""
        best: dict[int, complex] = {}
        get = best.get
        for terms, weight in alts:
            if len(terms) == 1:
                candidates = self._scaled_posting(terms[0])
            else:  # a phrase synonym ("pull request"): its words add up, coverage capped at one word
                candidates = {}
                for term in terms:
                    for doc_id, value in self._scaled_posting(term).items():
                        candidates[doc_id] = candidates.get(doc_id, 0j) + value
                candidates = {d: complex(v.real, min(v.imag, 1.0)) for d, v in candidates.items()}
            if not best:  # the first way of matching seeds the table in one C-level pass
                best = {doc_id: weight * value for doc_id, value in candidates.items()}
                get = best.get
                continue
            for doc_id, value in candidates.items():
                scaled = weight * value
                current = get(doc_id)
                if current is None or scaled.real > current.real:
                    best[doc_id] = scaled
        return best
