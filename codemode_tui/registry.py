"""``ToolRegistry``: the servers, their live connections and their tools.

Discovery runs concurrently: a slow or broken server neither delays nor breaks
the others, and each one's outcome (tools or error) is reported separately.
Every tool gets a qualified name ``server__tool`` and a sanitized Python name;
rediscovery replaces a server's tools and a ``tools/list_changed`` notification
triggers it.  Those notifications are coalesced: while one rediscovery of a
server runs, any number of further notifications queue exactly one more, so a
server announcing 2,000 changes in a burst costs a couple of ``tools/list``
requests, not 2,000.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import mcp_types as types
from mcp.shared.exceptions import MCPError

from .config import MCPServerConfig
from .connection import ConnectionFailed, ServerConnection
from .names import NameConflict, assign_identifiers, qualified_name, sanitize_identifier
from .results import ToolError, UnknownToolError, unwrap_result
from .search import SearchIndex, SearchResult
from .tool_types import DiscoveryOutcome, ServerInfo, ToolDefinition

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

Listener = Callable[[str], None]

#: Rediscovery waits until a server has been quiet this many seconds after ``tools/list_changed``...
LIST_CHANGED_QUIET = 0.1
#: ...but never longer than this, so a server that never stops announcing is still followed.
LIST_CHANGED_MAX_DELAY = 2.0


class ToolRegistry:
    """The servers a session talks to and every tool they offer."""

    def __init__(
        self, servers: Iterable[MCPServerConfig] = (), *, in_process: Mapping[str, MCPServer] | None = None
    ) -> None:
        # Servers served in this process, by name: a server of that name connects to the
        # object over the SDK's in-memory transport instead of starting its command or URL
        # (an application embedding its own MCPServer; tests that are not about transports).
        self.in_process: dict[str, MCPServer] = dict(in_process or {})
        self._connections: dict[str, ServerConnection] = {}
        self._tools: dict[str, dict[str, ToolDefinition]] = {}
        self._listeners: list[Listener] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._refresh_pending: set[str] = set()
        self._last_change: dict[str, float] = {}
        self.conflicts: dict[str, list[NameConflict]] = {}
        self._search_index: SearchIndex | None = None
        for server in servers:
            self.add_server(server)

    # -- change notification ---------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(server_name)`` whenever a server's status or tools change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, server: str) -> None:
        for listener in list(self._listeners):
            listener(server)

    # -- servers ---------------------------------------------------------------

    def add_server(self, config: MCPServerConfig, *, replace: bool = False) -> None:
        """Register a server (not connected until discovery)."""
        if config.name in self._connections:
            if not replace:
                raise ValueError(f"a server named {config.name!r} already exists")
            self.remove_server(config.name)
        module = sanitize_identifier(config.name, fallback="server")
        for other in self._connections.values():
            if sanitize_identifier(other.name, fallback="server") == module:
                raise ValueError(
                    f"server names {config.name!r} and {other.name!r} both become the module "
                    f"{module!r}; rename one of them"
                )
        self._connections[config.name] = ServerConnection(
            config,
            on_status=lambda conn: self._notify(conn.name),
            on_tools_changed=self._tools_changed,
            server=self.in_process.get(config.name),
        )
        self._tools[config.name] = {}
        self._notify(config.name)

    def serve_in_process(self, name: str, server: MCPServer) -> None:
        """Serve the server called ``name`` from ``server``, in this process, from its next connection on."""
        self.in_process[name] = server
        if name in self._connections:  # read when it next connects; an open session keeps its transport
            self._connections[name].in_process = server

    def remove_server(self, name: str) -> None:
        """Forget a server and its tools; its connection closes in the background."""
        conn = self._connections.pop(self._require_server(name).name)
        self._tools.pop(name, None)
        self.conflicts.pop(name, None)
        if conn.is_open:
            self._spawn(conn.close())
        self._notify(name)

    def _require_server(self, name: str) -> ServerConnection:
        try:
            return self._connections[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._connections), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no server named {name!r}{hint}") from None

    def server_config(self, name: str) -> MCPServerConfig:
        return self._require_server(name).config

    def is_deferred(self, name: str) -> bool:
        """Whether a server's tools load on demand (``"deferLoading": true`` in its config).

        Deferred tools stay callable and searchable but are left out of name
        listings and the context budget unless asked for, as with Anthropic's
        Tool Search: a large server costs nothing until a search finds it.
        """
        return bool(getattr(self._require_server(name).config, "defer_loading", False))

    @property
    def server_names(self) -> list[str]:
        return list(self._connections)

    def connection(self, name: str) -> ServerConnection:
        """The live connection of a server (for its stderr, info and status)."""
        return self._require_server(name)

    def stderr(self, name: str) -> list[str]:
        """The last lines a stdio server wrote to stderr."""
        return list(self._require_server(name).stderr)

    def list_servers(self) -> list[ServerInfo]:
        return [
            ServerInfo(
                name=conn.name,
                transport=conn.config.transport or "stdio",
                status=conn.status,
                tool_count=len(self._tools.get(conn.name, {})),
                error=conn.error,
                enabled=conn.config.enabled,
            )
            for conn in self._connections.values()
        ]

    # -- discovery -------------------------------------------------------------

    async def discover_all(self, servers: Iterable[str] | None = None) -> dict[str, DiscoveryOutcome]:
        """Connect to every enabled server (or those of ``servers``) and list its tools, concurrently."""
        wanted = None if servers is None else set(servers)
        names = [
            name
            for name, conn in self._connections.items()
            if conn.config.enabled and (wanted is None or name in wanted)
        ]
        outcomes = await asyncio.gather(*(self._discover_outcome(name) for name in names))
        return {outcome.server: outcome for outcome in outcomes}

    async def _discover_outcome(self, name: str) -> DiscoveryOutcome:
        try:
            return DiscoveryOutcome(name, tools=await self.discover_server(name))
        except Exception as exc:  # any per-server failure is that server's outcome, never the others'
            return DiscoveryOutcome(name, error=str(exc) or type(exc).__name__)

    async def discover_server(self, name: str) -> list[ToolDefinition]:
        """Connect if needed and (re)load one server's tools, replacing the old ones."""
        conn = self._require_server(name)
        if not conn.config.enabled:
            raise ConnectionFailed(f"server {name!r} is disabled; enable it to connect")
        if not conn.connected:
            await conn.connect()
        try:
            listed = await conn.list_tools()
            tools = [ToolDefinition.from_mcp(name, tool) for tool in listed]
        except Exception as exc:
            if conn.status == "connected":
                conn._set("failed", str(exc) or type(exc).__name__)
            raise
        if self._connections.get(name) is not conn:  # removed while we were listing
            return []
        self._set_tools(name, tools)
        self._notify(name)
        return list(self._tools[name].values())

    def _set_tools(self, server: str, tools: list[ToolDefinition]) -> None:
        assigned, conflicts = assign_identifiers(tool.name for tool in tools)
        deferred = self.is_deferred(server)
        for tool in tools:
            tool.python_name = assigned[tool.name]
            tool.defer_loading = deferred
        self.conflicts[server] = conflicts
        self._tools[server] = {tool.qualified_name: tool for tool in tools}

    def load_tools(self, server: str, tools: Iterable[ToolDefinition]) -> None:
        """Install tools for a server without connecting (saved catalogs, tests)."""
        self._require_server(server)
        self._set_tools(server, list(tools))
        self._notify(server)

    async def reconnect(self, name: str) -> list[ToolDefinition]:
        """Close and reopen a server's session, then rediscover its tools."""
        conn = self._require_server(name)
        await conn.close()
        return await self.discover_server(name)

    async def _tools_changed(self, conn: ServerConnection) -> None:
        """Rediscover after ``tools/list_changed``: one refresh in flight, at most one pending."""
        name = conn.name
        loop = asyncio.get_running_loop()
        self._last_change[name] = loop.time()
        running = self._refreshing.get(name)
        if running is not None and not running.done():
            self._refresh_pending.add(name)
            return

        async def refresh() -> None:
            try:
                while True:
                    first = loop.time()
                    while True:  # let the rest of a burst arrive
                        quiet_at = self._last_change.get(name, first) + LIST_CHANGED_QUIET
                        wait = min(quiet_at, first + LIST_CHANGED_MAX_DELAY) - loop.time()
                        if wait <= 0:
                            break
                        await asyncio.sleep(wait)
                    self._refresh_pending.discard(name)
                    if self._connections.get(name) is not conn:
                        return
                    try:
                        await self.discover_server(name)
                    except Exception:
                        pass  # the server's status already says why
                    if name not in self._refresh_pending:
                        return
            finally:
                if self._refreshing.get(name) is task:
                    del self._refreshing[name]

        task = asyncio.ensure_future(refresh())
        self._refreshing[name] = task
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- tools -----------------------------------------------------------------

    @property
    def search_index(self) -> SearchIndex:
        """The ranked index over this registry's tools, created on first use and kept current.

        It listens to the registry and re-reads a changed server on the next
        search, so adding, removing or rediscovering a server needs no call.
        """
        if self._search_index is None:
            self._search_index = SearchIndex()
            self._search_index.attach(self)
        return self._search_index

    async def search_tools(
        self, query: str, server: str | None = None, limit: int = 10, *, include_deferred: bool = True
    ) -> SearchResult:
        """The tools best matching ``query``, ranked (BM25F over names, descriptions and parameters).

        ``server`` keeps one server's tools (an unknown name raises
        ``KeyError`` with the closest names).  Deferred servers' tools are
        found, since search is how they are meant to be found;
        ``include_deferred=False`` leaves them out.  Async so callers written
        for MCP Codemode's ``search_tools`` work unchanged; the search itself
        is in memory and does not touch the servers.
        """
        if server is not None:
            self._require_server(server)
        if include_deferred:
            return self.search_index.search(query, server=server, limit=limit)
        every = self.search_index.search(query, server=server, limit=None)
        hits = tuple(hit for hit in every.hits if not hit.tool.defer_loading)
        return SearchResult(query=every.query, hits=hits[: max(limit, 0)], total=len(hits))

    def list_tools(
        self, server: str | None = None, limit: int | None = None, include_deferred: bool = True
    ) -> list[ToolDefinition]:
        """Tools in registry order: of one ``server``, at most ``limit``.

        Deferred servers' tools are included by default, because bindings,
        search and calls need every tool; ``include_deferred=False`` gives
        what belongs in a model's context.
        """
        if server is not None:
            tools = list(self._tools.get(self._require_server(server).name, {}).values())
        else:
            tools = [tool for group in self._tools.values() for tool in group.values()]
        if not include_deferred:
            tools = [tool for tool in tools if not tool.defer_loading]
        return tools if limit is None else tools[: max(limit, 0)]

    def list_tool_names(
        self,
        server: str | None = None,
        keywords: str | Iterable[str] | None = None,
        *,
        match: Literal["all", "any"] = "all",
        limit: int | None = None,
        include_deferred: bool = False,
    ) -> list[str]:
        """Qualified tool names, in registry order, or best first when filtered by ``keywords``.

        ``match="all"`` keeps tools matching every keyword, ``"any"`` those
        matching at least one.  Deferred servers' tools are left out unless
        ``include_deferred`` (search still finds them).
        """
        if server is not None:
            self._require_server(server)
        words = [keywords] if isinstance(keywords, str) else list(keywords or [])
        query = " ".join(word.strip() for word in words if word and word.strip())
        if not query:
            tools = self.list_tools(server, include_deferred=include_deferred)
        else:
            if match not in ("all", "any"):
                raise ValueError(f"match must be 'all' or 'any', not {match!r}")
            found = self.search_index.search(query, server=server, limit=None, match_all=match == "all")
            tools = [tool for tool in found.tools if include_deferred or not tool.defer_loading]
        names = [tool.qualified_name for tool in tools]
        return names if limit is None else names[: max(limit, 0)]

    def get_tool(self, name: str) -> ToolDefinition | None:
        """A tool by qualified name (``server__tool``), ``server.tool``, or unique bare name."""
        for tools in self._tools.values():
            if name in tools:
                return tools[name]
        if "." in name:
            server, _, tool = name.partition(".")
            candidate = self._tools.get(server, {}).get(qualified_name(server, tool))
            if candidate is not None:
                return candidate
        bare = [tool for tool in self.list_tools() if name in (tool.name, tool.python_name)]
        return bare[0] if len(bare) == 1 else None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The qualified names closest to ``name``: the "did you mean" list."""
        names = [tool.qualified_name for tool in self.list_tools()]
        by_bare = {tool.name: tool.qualified_name for tool in self.list_tools()}
        close = difflib.get_close_matches(name, names, n=n, cutoff=0.5)
        for bare in difflib.get_close_matches(name.rpartition("__")[2], list(by_bare), n=n, cutoff=0.5):
            if by_bare[bare] not in close:
                close.append(by_bare[bare])
        return close[:n]

    def require_tool(self, name: str) -> ToolDefinition:
        tool = self.get_tool(name)
        if tool is None:
            raise UnknownToolError(name, self.suggest(name))
        return tool

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Call a tool by name and return its unwrapped result (raises :class:`ToolError`)."""
        tool = self.require_tool(name)
        result = await self.call_tool_raw(tool, arguments, timeout=timeout)
        return unwrap_result(result, server=tool.server, tool=tool.name, output_schema=tool.output_schema)

    async def call_tool_raw(
        self, tool: ToolDefinition, arguments: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> types.CallToolResult:
        """Call a tool and return the raw ``CallToolResult`` (for inspectors)."""
        conn = self._require_server(tool.server)
        try:
            return await conn.call_tool(tool.name, dict(arguments or {}), timeout=timeout)
        except ConnectionFailed as exc:
            raise ToolError(str(exc), server=tool.server, tool=tool.name) from None
        except TimeoutError as exc:
            raise ToolError(str(exc), server=tool.server, tool=tool.name) from None
        except MCPError as exc:
            raise ToolError(exc.error.message, server=tool.server, tool=tool.name) from None

    # -- lifecycle -------------------------------------------------------------

    async def close(self) -> None:
        """Close every session, in reverse order of creation, without raising."""
        for task in list(self._refreshing.values()):
            task.cancel()  # a pending rediscovery of a closing server has nothing left to do
        for conn in reversed(list(self._connections.values())):
            await conn.close()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def __aenter__(self) -> ToolRegistry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
