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
from typing import Any, Literal

from .registry import ToolRegistry
from .results import ToolError, UnknownToolError
from .search import SearchIndex
from .tool_types import ToolDefinition

# Characters per token for the context-cost estimate: a common rule of thumb for English and JSON.
CHARS_PER_TOKEN = 4
_DESCRIPTION_CHARS = 160

#: The rules for code that calls tools.  Clients often drop a server's instructions, so the
#: execute_code description carries them itself: a model that only reads tool descriptions still
#: knows how to import, await and catch.
CODE_RULES = (
    "Import a tool with `from generated.servers.<server> import <tool>` (get_tool_details gives the exact line) "
    "and call it with `await <tool>(param=value)` or `await <tool>({...})`. A tool returns the server's "
    "structured value: a dict when it declares an output schema, else its text (parsed when the text is JSON). "
    "Top-level await works; run independent calls in parallel with `asyncio.gather(...)`. A failing tool raises "
    "ToolError (`from generated.client import ToolError`) where it is awaited, so try/except works. Variables "
    "persist between runs. Saved skills run from code too: `from generated.skills import run_skill`, then "
    "`await run_skill(name, {params})` returns the skill's last value."
)

#: What an execute_code answer holds, and what to do when it is cut.
ANSWER_RULES = (
    "Returns stdout, stderr, the last expression's value, the error and a trace of tool calls; a part too long "
    "for the answer is cut with a marker saying how much was dropped, so print summaries and return small values. "
    "Code that imports tools is type-checked against them first: `diagnostics` lists wrong or missing parameters "
    "and results used as the wrong type (check='block' runs nothing when there is an error). A call the tool "
    "policy refuses raises ToolError('denied by policy: ...'). dry_run=true calls only read-only tools and "
    "returns the others, not made, as `effects`."
)

# The meta-tools as an MCP client lists them from ``serve``: what a model holds in context instead
# of every tool.  ``serve`` and the Pydantic AI toolset take their descriptions from here, so the
# context-budget figure counts exactly what they list.
META_TOOL_DEFINITIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "list_servers",
        "description": "List the MCP servers behind Code Mode: name, status, tool count, transport and any error.",
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
                    "description": "Only tools matching these keywords.",
                },
                "match": {"enum": ["all", "any"], "default": "all", "description": "Match every keyword, or any."},
                "limit": {"type": "integer", "default": 100, "minimum": 1},
                "include_deferred": {"type": "boolean", "default": False, "description": "Add deferred servers."},
            },
        },
    },
    {
        "name": "search_tools",
        "description": "Find tools for a task, best first: a `tools` list of {name (server__tool), server, tool, "
        "description, score}; include_schemas adds each input schema.",
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
        "description": "A tool's definition: its parameters (required or with their defaults), schemas, Python "
        "signature, the line that imports it and an example call.",
        "inputSchema": {
            "type": "object",
            "properties": {"tool_name": {"type": "string", "description": "server__tool, or a unique tool name."}},
            "required": ["tool_name"],
        },
    },
    {
        "name": "execute_code",
        "description": "Run Python in a sandbox where every tool is an async function. "
        + CODE_RULES
        + " "
        + ANSWER_RULES,
        "inputSchema": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Python code; top-level await; tools from generated.servers.*",
                },
                "timeout": {"type": "number", "description": "Stop the run after this many seconds."},
                "check": {
                    "type": "string",
                    "enum": ["warn", "block", "off"],
                    "description": "Type check first: warn (run, report), block (no run on errors), off.",
                },
                "dry_run": {
                    "type": "boolean",
                    "description": "Call only read-only tools; hold back the rest and return them as the effect plan.",
                },
            },
            "required": ["code"],
        },
    },
    {
        "name": "list_skills",
        "description": "List saved skills (reusable code): name, description, parameters and the tools they call.",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "run_skill",
        "description": "Run a saved skill with values for its parameters; answers like execute_code.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The skill's name."},
                "arguments": {"type": "object", "description": "Values of its parameters."},
                "timeout": {"type": "number", "description": "Stop the run after this many seconds."},
            },
            "required": ["name"],
        },
    },
    {
        "name": "save_skill",
        "description": "Save code as a reusable skill (replaces a skill of the same name); its parameters "
        "become variables of the code.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "lowercase-with-hyphens, 1 to 64 characters."},
                "code": {"type": "string", "description": "The Python code."},
                "description": {"type": "string", "description": "One line saying what it does."},
                "parameters": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": 'Parameters: [{"name", "type" (str|int|float|bool|list|dict|json), "default"?}].',
                },
            },
            "required": ["name", "code", "description"],
        },
    },
)

#: ``call_tool``, listed only when direct calls are allowed (``serve --allow-direct-calls``).
CALL_TOOL_DEFINITION: dict[str, Any] = {
    "name": "call_tool",
    "description": "Call one tool directly, without code; returns its result as execute_code would see it.",
    "inputSchema": {
        "type": "object",
        "properties": {
            "tool_name": {"type": "string", "description": "server__tool."},
            "arguments": {"type": "object", "description": "The tool's arguments."},
        },
        "required": ["tool_name"],
    },
}


def meta_description(name: str) -> str:
    """The description ``serve`` and the toolset give the meta-tool ``name``."""
    for definition in (*META_TOOL_DEFINITIONS, CALL_TOOL_DEFINITION):
        if definition["name"] == name:
            return str(definition["description"])
    raise KeyError(name)


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


class SearchAnswer(dict[str, Any]):
    """A ``search_tools`` answer: a plain dict (``"tools"``, ``"total"``...) that still answers ``["hits"]``.

    ``hits`` was the list's name before it took MCP Codemode's ``tools``;
    the old key is read-only and never serialised.
    """

    def __missing__(self, key: str) -> Any:
        if key == "hits":
            return self["tools"]
        raise KeyError(key)


def parameters(tool: ToolDefinition) -> list[dict[str, Any]]:
    """The tool's parameters as a model needs them: name, type, required, default, description.

    ``python`` is the keyword to pass when it differs from the schema's key
    (a key that is not an identifier, or a Python keyword).
    """
    from .codegen.binding import build_bindings

    bindings, _ = build_bindings([tool])
    described: list[dict[str, Any]] = []
    for param in bindings[0].params:
        entry: dict[str, Any] = {"name": param.key, "type": param.type.text, "required": param.required}
        if param.kwarg != param.key:
            entry["python"] = param.kwarg
        if param.has_default:
            entry["default"] = param.default
        if param.description:
            entry["description"] = one_line(param.description)
        described.append(entry)
    return described


def call_signature(tool: ToolDefinition) -> str:
    """How to call the tool, as Python (see :func:`codemode_tui.codegen.preview.call_signature`)."""
    from .codegen.preview import call_signature as render

    return render(tool)


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
        self,
        server: str | None = None,
        keywords: str | Iterable[str] | None = None,
        limit: int = 100,
        match: Literal["all", "any"] = "all",
        include_deferred: bool = False,
    ) -> dict[str, Any]:
        """Qualified tool names, in registry order; with ``keywords``, matching all (or ``"any"``), best first.

        Tools of deferred servers are left out unless ``include_deferred``.
        """
        self._check_server(server)
        self._check_limit(limit)
        every = self.registry.list_tool_names(server, keywords, match=match, include_deferred=include_deferred)
        names = every[:limit]
        return {"names": names, "returned": len(names), "total": len(every), "truncated": len(every) > len(names)}

    def search_tools(
        self, query: str, server: str | None = None, limit: int = 10, include_schemas: bool = False
    ) -> dict[str, Any]:
        """Ranked, compact hits for ``query``: ``{"tools": [{name, server, tool, description, score}], ...}``.

        The shape of MCP Codemode's ``search_tools`` (``result["tools"]``),
        with one-line descriptions to keep a model's context small.  Deferred
        servers' tools are found too (marked ``deferred``).
        """
        self._check_server(server)
        self._check_limit(limit)
        result = self.index.search(query, server=server, limit=limit)
        tools = [
            hit.to_dict(
                description=one_line(hit.tool.description or hit.tool.title or ""), include_schemas=include_schemas
            )
            for hit in result.hits
        ]
        return SearchAnswer(
            query=query, tools=tools, returned=len(tools), total=result.total, truncated=result.truncated
        )

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
        from .codegen import example_call, import_line  # codegen is heavier; only details need it

        tool = self.resolve(tool_name)
        details = tool.to_dict()
        details["parameters"] = parameters(tool)
        details["signature"] = call_signature(tool)
        details["importLine"] = import_line(tool)
        details["exampleCall"] = example_call(tool)
        return details

    def context_cost(
        self, extra_meta_tools: Sequence[Mapping[str, Any]] = (), *, include_deferred: bool = False
    ) -> dict[str, Any]:
        """Estimated tokens of every tool definition in context versus the meta-tools alone.

        An estimate (characters of the compact JSON definitions / 4), labelled
        as such in the answer.  The meta-tools are every one ``serve`` lists
        (discovery, ``execute_code`` and the skill tools); ``extra_meta_tools``
        adds definitions a front end exposes beside them (e.g. ``call_tool``).
        Deferred servers cost nothing up front, so they are left out unless
        ``include_deferred``.
        """
        per_server: list[dict[str, Any]] = []
        all_chars = 0
        for info in self.registry.list_servers():
            deferred = self.registry.is_deferred(info.name)
            if deferred and not include_deferred:
                per_server.append({"server": info.name, "tools": 0, "estimated_tokens": 0, "deferred": True})
                continue
            tools = self.registry.list_tools(info.name)
            chars = sum(_json_chars(tool_listing(tool)) for tool in tools)
            all_chars += chars
            entry = {"server": info.name, "tools": len(tools), "estimated_tokens": estimate_tokens(chars)}
            if deferred:
                entry["deferred"] = True
            per_server.append(entry)
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
