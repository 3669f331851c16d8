"""The discovery meta-tools: how an agent (or a person) finds the few tools a task needs.

Loading every tool definition into a model's context costs thousands of
tokens and buries the right tool among hundreds.  Progressive discovery
replaces that with a handful of small questions: which servers are there,
which tool names, which tools match a need, and what exactly does this one
take.  :class:`MetaTools` answers them with plain JSON-ready dicts, so the
playground, the command line and the MCP server mode all give the same
answers from one implementation.

Errors a caller can act on are raised, not returned: an unknown tool raises
:class:`~codemode_tui.results.UnknownToolError` (with the closest names as
``suggestions``), an unknown server :class:`UnknownServerError`.  A front end
that answers in JSON turns either into ``{"error", "suggestions"}`` with
:meth:`MetaTools.error_dict`; the MCP server mode lets it become an
``isError`` result.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .registry import ToolRegistry
from .results import ToolError, UnknownToolError
from .search import SearchIndex
from .tool_types import ToolDefinition

# Characters per token for the context-cost estimate: a common rule of thumb for English and JSON.
CHARS_PER_TOKEN = 4
_DESCRIPTION_CHARS = 160

# The meta-tools as an MCP client lists them: what a model holds in context instead of every tool.
META_TOOL_DEFINITIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "list_servers",
        "description": "List the connected MCP servers: name, status, tool count, transport and any error.",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "list_tool_names",
        "description": "List tool names (server__tool), optionally of one server or only those matching keywords.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "server": {"type": "string", "description": "Only this server's tools."},
                "keywords": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Only tools matching every keyword.",
                },
                "limit": {"type": "integer", "default": 100, "minimum": 1},
            },
        },
    },
    {
        "name": "search_tools",
        "description": "Find tools for a task, ranked best first: name, server, one-line description and score.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What you want to do, in plain words."},
                "server": {"type": "string", "description": "Only this server's tools."},
                "limit": {"type": "integer", "default": 10, "minimum": 1},
                "include_schemas": {"type": "boolean", "default": False, "description": "Add input schemas."},
            },
            "required": ["query"],
        },
    },
    {
        "name": "get_tool_details",
        "description": "A tool's full definition (input and output schema, annotations), its Python signature "
        "and the line that imports it.",
        "inputSchema": {
            "type": "object",
            "properties": {"tool_name": {"type": "string", "description": "server__tool, or a unique tool name."}},
            "required": ["tool_name"],
        },
    },
)


class UnknownServerError(LookupError):
    """No server of that name; carries the closest names for a "did you mean"."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        self.message = f"no server named {name!r}" + (
            f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class AmbiguousToolError(UnknownToolError):
    """A bare tool name that several servers offer: the qualified names to choose from."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        ToolError.__init__(
            self, f"{name!r} is offered by several servers; use one of {', '.join(candidates)}", tool=name
        )
        self.suggestions = candidates


def one_line(text: str, limit: int = _DESCRIPTION_CHARS) -> str:
    """The first line (or sentence) of a description, shortened with an ellipsis."""
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), "")
    if len(line) > limit:
        cut = line.rfind(" ", 0, limit - 1)
        line = line[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"
    return line


def estimate_tokens(characters: int) -> int:
    """Characters / 4, rounded up: an estimate, never a tokenizer's count."""
    return math.ceil(characters / CHARS_PER_TOKEN)


def tool_listing(tool: ToolDefinition) -> dict[str, Any]:
    """A tool as a ``tools/list`` answer carries it into a model's context (qualified name)."""
    listing: dict[str, Any] = {"name": tool.qualified_name}
    if tool.title:
        listing["title"] = tool.title
    listing["description"] = tool.description
    listing["inputSchema"] = tool.input_schema
    if tool.output_schema is not None:
        listing["outputSchema"] = tool.output_schema
    if tool.annotations:
        listing["annotations"] = tool.annotations
    return listing


def _json_chars(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


class MetaTools:
    """The discovery meta-tools over a registry; every answer is a JSON-ready dict."""

    def __init__(self, registry: ToolRegistry, index: SearchIndex | None = None) -> None:
        self.registry = registry
        self.index = index if index is not None else registry.search_index

    # -- helpers ------------------------------------------------------------------

    def _check_server(self, server: str | None) -> None:
        if server is not None and server not in self.registry.server_names:
            close = difflib.get_close_matches(server, self.registry.server_names, n=3, cutoff=0.5)
            raise UnknownServerError(server, close)

    @staticmethod
    def _check_limit(limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")

    @staticmethod
    def definitions() -> list[dict[str, Any]]:
        """The meta-tools as MCP tool definitions (name, description, inputSchema)."""
        return json.loads(json.dumps(META_TOOL_DEFINITIONS))

    @staticmethod
    def error_dict(error: Exception) -> dict[str, Any]:
        """An error from a meta-tool as JSON: ``{"error": message, "suggestions": [...]}``."""
        message = error.message if isinstance(error, (ToolError, UnknownServerError)) else str(error)
        return {"error": message, "suggestions": list(getattr(error, "suggestions", []) or [])}

    # -- the meta-tools -------------------------------------------------------------

    def list_servers(self) -> dict[str, Any]:
        """Every server with its status, tool count, transport and error (``None`` when healthy)."""
        servers = [info.to_dict() for info in self.registry.list_servers()]
        return {
            "servers": servers,
            "total": len(servers),
            "tools": sum(server["tool_count"] for server in servers),
        }

    def list_tool_names(
        self, server: str | None = None, keywords: str | Iterable[str] | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """Qualified tool names, in registry order; with ``keywords``, only tools matching every one, best first."""
        self._check_server(server)
        self._check_limit(limit)
        words = [keywords] if isinstance(keywords, str) else list(keywords or [])
        query = " ".join(word.strip() for word in words if word and word.strip())
        if query:
            result = self.index.search(query, server=server, limit=limit, match_all=True)
            names, total = result.names, result.total
        else:
            every = [tool.qualified_name for tool in self.registry.list_tools(server)]
            names, total = every[:limit], len(every)
        return {"names": names, "returned": len(names), "total": total, "truncated": total > len(names)}

    def search_tools(
        self, query: str, server: str | None = None, limit: int = 10, include_schemas: bool = False
    ) -> dict[str, Any]:
        """Ranked, compact hits for ``query``: qualified name, server, one-line description, score."""
        self._check_server(server)
        self._check_limit(limit)
        result = self.index.search(query, server=server, limit=limit)
        hits: list[dict[str, Any]] = []
        for hit in result.hits:
            tool = hit.tool
            entry: dict[str, Any] = {
                "name": tool.qualified_name,
                "server": tool.server,
                "tool": tool.name,
                "description": one_line(tool.description or tool.title or ""),
                "score": round(hit.score, 3),
            }
            if include_schemas:
                entry["inputSchema"] = tool.input_schema
                if tool.output_schema is not None:
                    entry["outputSchema"] = tool.output_schema
            hits.append(entry)
        return {
            "query": query,
            "hits": hits,
            "returned": len(hits),
            "total": result.total,
            "truncated": result.truncated,
        }

    def resolve(self, tool_name: str) -> ToolDefinition:
        """The tool called ``tool_name`` (qualified, ``server.tool`` or unique bare name), or a helpful error."""
        name = tool_name.strip()
        tool = self.registry.get_tool(name)
        if tool is not None:
            return tool
        same = [t.qualified_name for t in self.registry.list_tools() if name in (t.name, t.python_name)]
        if len(same) > 1:
            raise AmbiguousToolError(name, same)
        suggestions = self.registry.suggest(name, n=3)
        for candidate in self.index.search(name, limit=5).names:
            if candidate not in suggestions and len(suggestions) < 5:
                suggestions.append(candidate)
        raise UnknownToolError(name, suggestions)

    def get_tool_details(self, tool_name: str) -> dict[str, Any]:
        """A tool's full definition plus its binding's signature, import line and an example call."""
        from .codegen import example_call, import_line, signature  # codegen is heavier; only details need it

        tool = self.resolve(tool_name)
        details = tool.to_dict()
        details["signature"] = signature(tool)
        details["importLine"] = import_line(tool)
        details["exampleCall"] = example_call(tool)
        return details

    def context_cost(self, extra_meta_tools: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """Estimated tokens of every tool definition in context versus the meta-tools alone.

        An estimate (characters of the compact JSON definitions / 4), labelled
        as such in the answer.  ``extra_meta_tools`` adds definitions a front
        end exposes beside the discovery tools (e.g. a code-execution tool).
        """
        per_server: list[dict[str, Any]] = []
        all_chars = 0
        for info in self.registry.list_servers():
            tools = self.registry.list_tools(info.name)
            chars = sum(_json_chars(tool_listing(tool)) for tool in tools)
            all_chars += chars
            per_server.append({"server": info.name, "tools": len(tools), "estimated_tokens": estimate_tokens(chars)})
        meta_chars = sum(_json_chars(d) for d in META_TOOL_DEFINITIONS) + sum(_json_chars(d) for d in extra_meta_tools)
        all_tokens, meta_tokens = estimate_tokens(all_chars), estimate_tokens(meta_chars)
        return {
            "estimate": True,
            "method": f"characters / {CHARS_PER_TOKEN} of the compact JSON tool definitions",
            "tools": sum(server["tools"] for server in per_server),
            "servers": len(per_server),
            "all_tools": {"characters": all_chars, "estimated_tokens": all_tokens},
            "meta_tools": {
                "names": [d["name"] for d in META_TOOL_DEFINITIONS] + [str(d.get("name")) for d in extra_meta_tools],
                "characters": meta_chars,
                "estimated_tokens": meta_tokens,
            },
            "estimated_tokens_saved": all_tokens - meta_tokens,
            "per_server": per_server,
            "note": "Estimated tokens (characters / 4); a model's tokenizer will count differently.",
        }
