"""What a search returns: ranked tools with their scores.

A :class:`SearchResult` is a small immutable value so that front ends can keep
the last one while the next query runs, and compare or cache them freely.

It reads two ways: as objects (``result.tools`` are tool definitions,
``result.hits`` carry scores) and as the dict MCP Codemode's ``search_tools``
returned (``result["tools"]`` is a list of dicts with ``name`` and
``description``), so code written for either runs unchanged.
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

    def to_dict(self, *, description: str | None = None, include_schemas: bool = False) -> dict[str, Any]:
        """The hit as JSON: qualified ``name``, ``server``, ``tool``, ``description``, ``score``.

        ``description`` replaces the tool's own (a front end may shorten it);
        ``include_schemas`` adds ``inputSchema`` (and ``outputSchema``, ``inputExamples``).
        """
        tool = self.tool
        entry: dict[str, Any] = {
            "name": tool.qualified_name,
            "server": tool.server,
            "tool": tool.name,
            "description": tool.description if description is None else description,
            "score": round(self.score, 3),
        }
        if tool.defer_loading:
            entry["deferred"] = True
        if include_schemas:
            entry["inputSchema"] = tool.input_schema
            if tool.output_schema is not None:
                entry["outputSchema"] = tool.output_schema
            if tool.input_examples:
                entry["inputExamples"] = tool.input_examples
        return entry


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

    def __getitem__(self, key: str | int) -> Any:
        """``result["tools"]`` (and ``"query"``, ``"total"``...) as in :meth:`to_dict`; ``result[0]`` is a hit."""
        if isinstance(key, int):
            return self.hits[key]
        data = self.to_dict()
        if key not in data:
            raise KeyError(f"{key!r}; a search result has {', '.join(data)}")
        return data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style ``get`` over :meth:`to_dict`'s keys."""
        return self.to_dict().get(key, default)

    def keys(self) -> list[str]:
        return list(self.to_dict())

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __bool__(self) -> bool:
        return bool(self.hits)

    def to_dict(self, *, include_schemas: bool = False) -> dict[str, Any]:
        """The shape MCP Codemode's ``search_tools`` returned: ``{"query", "tools": [...], "total", ...}``."""
        return {
            "query": self.query,
            "tools": [hit.to_dict(include_schemas=include_schemas) for hit in self.hits],
            "returned": len(self.hits),
            "total": self.total,
            "truncated": self.truncated,
        }
