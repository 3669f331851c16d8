"""Ranked tool search: the index behind ``registry.search_tools`` and the discovery meta-tools."""

from __future__ import annotations

from .index import RankingSettings, SearchIndex
from .results import SearchHit, SearchResult
from .tokenize import STOP_WORDS, split_words, stem, terms

__all__ = ["STOP_WORDS", "RankingSettings", "SearchHit", "SearchIndex", "SearchResult", "split_words", "stem", "terms"]
