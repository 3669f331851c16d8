"""Turning tool names, descriptions and queries into comparable terms.

Tool names come in every convention (``readFile``, ``read_file``,
``read-file``, ``fs.read``, ``HTTPServer``), and queries are written in plain
words ("read a file").  Both sides are reduced the same way so that they meet:
split on case changes, separators and digits, lowercase, drop stop words, and
strip common English suffixes with a deliberately light stemmer (``files``,
``filed`` and ``filing`` all become ``fil``).  The stemmer only has to be
consistent, not linguistically right: stems never leave the index.

Stemming is memoised per word because the same few thousand words recur
across every tool, and search-as-you-type tokenizes a query on each key press.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Words carry no signal about which tool is wanted: "show me all the files".
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me might
    more most must my myself no nor of off on once only or other our ours ourselves out over own please
    same shall she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up us very via was we were what when where which while who
    whom why will with would you your yours yourself yourselves want wants need needs let lets using use
    """.split()
)

# Words: runs of letters (split at lower->upper and ACRONYM->Word boundaries) or of digits.
_WORD = re.compile(r"[a-z]+|[A-Z](?:[a-z]+|[A-Z]*(?![a-z]))|[0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_UNICODE_WORD = re.compile(r"[^\W\d_]+|\d+")
_VOWELS = frozenset("aeiouy")


def split_words(text: str) -> list[str]:
    """Lowercased words of ``text``, split at camelCase, snake_case, kebab-case, dots and digits.

    ``getHTTPResponse2`` -> ``["get", "http", "response", "2"]``; ``git_log`` ->
    ``["git", "log"]``; ``überprüfe_Datei`` -> ``["überprüfe", "datei"]``.
    """
    if text.isascii():
        return " ".join(_WORD.findall(text)).lower().split()
    return [word.lower() for word in _UNICODE_WORD.findall(_CAMEL_BOUNDARY.sub(" ", text))]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, consistent English stem: plurals, ``-ing``, ``-ed``, ``-ly`` and a final ``e``.

    ``directories`` -> ``directory``; ``creating``/``created``/``create`` ->
    ``creat``; ``running`` -> ``run``.  Words of three letters or fewer, and
    digits, are returned unchanged so that ``ls``, ``id`` or ``git`` survive.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ches") or w.endswith("shes") or w.endswith("xes"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and _VOWELS.intersection(w[: -len(suffix)]):
            w = w[: -len(suffix)]
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # running -> run, stopped -> stop
            break
    else:
        if w.endswith("ly") and len(w) >= 6:
            w = w[:-2]
    if w.endswith("e") and len(w) >= 4 and not w.endswith("ee"):
        w = w[:-1]
    return w


class _TermTable(dict[str, str]):
    """word -> its term (stem), or ``""`` for a stop word; filled on first sight of each word."""

    def __missing__(self, word: str) -> str:
        term = "" if word in STOP_WORDS else stem(word)
        if len(self) < 200_000:  # bounded: a pathological catalog must not grow it forever
            self[word] = term
        return term


_TERMS = _TermTable()
_sorted_vocabulary: list[str] = []


def sorted_vocabulary() -> list[str]:
    """Every word met so far in indexed text (stop words excluded), sorted: the pool for prefix completion.

    Shared by all indexes: a completion is only used when its stem is in the
    index asking, so words from elsewhere do no harm.  Re-sorted only after
    new words arrived.
    """
    global _sorted_vocabulary
    if len(_sorted_vocabulary) != len(_TERMS):
        _sorted_vocabulary = sorted(_TERMS)
    return _sorted_vocabulary


def terms_of(words: list[str]) -> list[str]:
    """Terms of already split words: stop words dropped, the rest stemmed.

    Runs as ``filter``/``map`` over a dictionary so the whole loop stays in C:
    indexing ten thousand tools maps over half a million words.
    """
    return list(filter(None, map(_TERMS.__getitem__, words)))


def terms(text: str) -> list[str]:
    """The indexed terms of ``text``: words minus stop words, stemmed."""
    return terms_of(split_words(text))


def is_stop_word(word: str) -> bool:
    return word in STOP_WORDS
