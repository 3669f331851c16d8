"""Turning names from servers into safe Python identifiers.

Tool and server names are untrusted input.  They become module and function
names in generated bindings, so they are reduced to ``[a-z0-9_]`` identifiers
that are neither keywords nor dunder names.  Two tools that reduce to the same
identifier are a reported conflict with distinct, stable names, never a silent
overwrite.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

QUALIFIED_SEPARATOR = "__"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_IDENT = re.compile(r"[^0-9a-zA-Z_]+")
_MAX_LENGTH = 80
# Names that would shadow what a generated module itself needs (the builtins its annotations use included:
# a tool named ``str`` must not turn every ``str`` annotation of its module into the function).
_RESERVED = frozenset(
    {"annotations", "typing", "client", "call_tool", "any", "none", "self", "cls"}
    | {"str", "int", "float", "bool", "dict", "list", "object"}
)


def sanitize_identifier(name: str, *, fallback: str = "tool") -> str:
    """A lowercase snake_case identifier for ``name``.

    ``get-file`` -> ``get_file``; ``readFile`` -> ``read_file``; ``a.b`` ->
    ``a_b``; ``class`` -> ``class_``; ``1st`` -> ``_1st``; ``__import__`` ->
    ``import_``.  Always returns a valid, non-keyword identifier.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = _CAMEL_BOUNDARY.sub("_", text)
    text = _NON_IDENT.sub("_", text).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"_{text}"
    text = text[:_MAX_LENGTH].rstrip("_") or fallback
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text in _RESERVED:
        text = f"{text}_"
    return text


def qualified_name(server: str, tool: str) -> str:
    """The registry-wide name of a tool: ``server__tool``."""
    return f"{server}{QUALIFIED_SEPARATOR}{tool}"


@dataclass(frozen=True)
class NameConflict:
    """Several original names that reduce to one Python identifier."""

    identifier: str
    originals: tuple[str, ...]
    assigned: tuple[str, ...]

    def describe(self) -> str:
        pairs = ", ".join(f"{o!r} -> {a}" for o, a in zip(self.originals, self.assigned, strict=True))
        return f"names collide on {self.identifier!r}: {pairs}"


def assign_identifiers(names: Iterable[str], *, fallback: str = "tool") -> tuple[dict[str, str], list[NameConflict]]:
    """Map each original name to a distinct identifier; report collisions.

    Stable: the name whose sanitized form equals itself keeps the plain
    identifier; otherwise the first in sorted order does.  The others get
    ``_2``, ``_3``... in sorted order of their original names, so the same set of
    names always gives the same result whatever order a server lists them in.
    """
    groups: dict[str, list[str]] = {}
    for original in names:
        groups.setdefault(sanitize_identifier(original, fallback=fallback), []).append(original)
    taken = set(groups)
    result: dict[str, str] = {}
    conflicts: list[NameConflict] = []
    for ident, originals in sorted(groups.items()):
        ordered = sorted(set(originals), key=lambda o: (o != ident, o))
        assigned = [ident]
        result[ordered[0]] = ident
        counter = 2
        for other in ordered[1:]:
            while f"{ident}_{counter}" in taken:
                counter += 1
            candidate = f"{ident}_{counter}"
            taken.add(candidate)
            result[other] = candidate
            assigned.append(candidate)
        if len(ordered) > 1:
            conflicts.append(NameConflict(ident, tuple(ordered), tuple(assigned)))
    return result, conflicts
