"""What a search returns: ranked tools with their scores.

A :class:`SearchResult` is a small immutable value so that front ends can keep
the last one while the next query runs, and compare or cache them freely.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tool_types import ToolDefinition


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked tool.

    ``score`` is comparable within one result only (higher is better); an
    exact name match is always above every other hit.  ``exact`` says the
    query was the tool's name.
    """

    tool: ToolDefinition
    score: float
    exact: bool = False

    @property
    def qualified_name(self) -> str:
        return self.tool.qualified_name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.tool.qualified_name, "server": self.tool.server, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best ``hits`` for ``query`` (at most the limit asked), out of ``total`` matching tools."""

    query: str
    hits: tuple[SearchHit, ...]
    total: int

    @property
    def truncated(self) -> bool:
        """True when more tools matched than were returned."""
        return self.total > len(self.hits)

    @property
    def tools(self) -> list[ToolDefinition]:
        return [hit.tool for hit in self.hits]

    @property
    def names(self) -> list[str]:
        """Qualified names, best first."""
        return [hit.tool.qualified_name for hit in self.hits]

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __bool__(self) -> bool:
        return bool(self.hits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "hits": [hit.to_dict() for hit in self.hits],
            "returned": len(self.hits),
            "total": self.total,
            "truncated": self.truncated,
        }
