"""``CodemodeToolset``: the Code Mode meta-tools as a Pydantic AI toolset.

Needs the optional extra: ``pip install "codemode-tui[pydantic-ai]"``.
The agent sees a handful of small tools (discovery, ``execute_code`` and the
skill tools, as ``serve`` offers them) instead of every tool definition of
every server; the code it writes runs in the same sandbox, with the same
bridge and limits, as the playground's::

    from pydantic_ai import Agent
    from codemode_tui import CodemodeToolset, ToolRegistry

    toolset = CodemodeToolset(registry)
    agent = Agent("openai:gpt-5", toolsets=[toolset])
    async with toolset:                      # the sandbox lives until the block ends
        await agent.run("Add a note called 'groceries'")
        await agent.run("Now list my notes")  # same sandbox: turn 1's variables are still there

The sandbox belongs to the toolset, not to one ``agent.run``: an agent run
neither starts nor stops it (runs see the toolset through a thin per-run
view), so a conversation keeps its variables and pays for one kernel start.
It stops when the outermost ``async with toolset`` (or ``async with agent``)
ends, or on ``close()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_ai import RunContext
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, WrapperToolset

from .executor import CodeModeConfig, CodeModeExecutor
from .meta_tools import MetaTools, meta_description
from .registry import ToolRegistry
from .results import ToolError
from .server_mode import DEFAULT_ANSWER_CHARS, compact_run, instructions, save_skill_to, skills_listing
from .snippets import SnippetError
from .workspace import Workspace

#: ``(query, hits) -> hits``: reorders (or filters) ``search_tools`` hits before the model sees them.
ToolReranker = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class _RunView(WrapperToolset[Any]):
    """The toolset as one agent run sees it: entering and leaving a run leave the sandbox alone."""

    async def for_run(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        return self

    async def __aenter__(self) -> _RunView:
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        return None


class CodemodeToolset(FunctionToolset[Any]):
    """Discovery meta-tools, ``execute_code`` and skills over a ``ToolRegistry`` (or a ``Workspace``).

    Runs go through :meth:`Workspace.run` like every other front end's, so
    they land in the run history (source ``toolset``).  Given a registry, the
    toolset makes a workspace around it and owns its sandbox: created on the
    first ``execute_code``, kept across agent runs, closed by ``close()`` or
    the end of ``async with``.  Pass an ``executor`` (or a workspace) to share
    a sandbox with other front ends; then closing the toolset leaves it running.

    Errors a model can fix (an unknown tool or server name, a bad skill
    argument) come back as ``{"error", "suggestions"}`` answers, not retries,
    so a few wrong guesses never exhaust the agent's retry limit.
    """

    def __init__(
        self,
        registry: ToolRegistry | Workspace,
        *,
        executor: CodeModeExecutor | None = None,
        config: CodeModeConfig | None = None,
        id: str | None = "codemode",
        allow_direct_tool_calls: bool = False,
        tool_reranker: ToolReranker | None = None,
        max_answer_chars: int = DEFAULT_ANSWER_CHARS,
    ) -> None:
        super().__init__(id=id, instructions=instructions(direct_calls=allow_direct_tool_calls))
        if isinstance(registry, Workspace):
            self.workspace = registry
            self._owns_executor = False
        else:
            self.workspace = Workspace(registry=registry)
            self._owns_executor = executor is None
        if config is not None:
            self.workspace.executor_config = config
        if executor is not None:
            self.workspace.adopt_executor(executor)
        self.registry = self.workspace.registry
        self.meta = MetaTools(self.registry)
        self.tool_reranker = tool_reranker
        self.max_answer_chars = max_answer_chars
        self._entered = 0
        functions: list[Callable[..., Any]] = [
            self.list_servers,
            self.list_tool_names,
            self.search_tools,
            self.get_tool_details,
            self.execute_code,
            self.list_skills,
            self.run_skill,
            self.save_skill,
        ]
        if allow_direct_tool_calls:
            functions.append(self.direct_call_tool)
        for function in functions:
            name = "call_tool" if function == self.direct_call_tool else function.__name__
            self.add_function(function, name=name, description=meta_description(name))

    # -- lifetime -------------------------------------------------------------------

    async def for_run(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        """Each agent run uses a view that does not start or stop the sandbox."""
        return _RunView(self)

    async def __aenter__(self) -> CodemodeToolset:
        self._entered += 1
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        self._entered = max(0, self._entered - 1)
        if self._entered == 0:
            await self.close()
        return None

    async def close(self) -> None:
        """Stop the sandbox if this toolset started it (the servers stay connected)."""
        if self._owns_executor:
            await self.workspace.close_sandboxes()

    # -- the tools (descriptions come from meta_tools, shared with ``serve``) --------------

    def list_servers(self) -> dict[str, Any]:
        return self.meta.list_servers()

    def list_tool_names(
        self,
        server: str | None = None,
        keywords: list[str] | None = None,
        limit: int = 100,
        match: str = "all",
        include_deferred: bool = False,
    ) -> dict[str, Any]:
        """
        Args:
            server: Only this server's tools.
            keywords: Only tools matching these keywords.
            limit: At most this many names.
            match: "all" keeps tools matching every keyword, "any" those matching one.
            include_deferred: Add the tools of deferred servers.
        """
        try:
            return self.meta.list_tool_names(
                server=server,
                keywords=keywords,
                limit=limit,
                match="any" if match == "any" else "all",
                include_deferred=include_deferred,
            )
        except (LookupError, ValueError) as exc:
            return MetaTools.error_dict(exc)

    def search_tools(
        self, query: str, server: str | None = None, limit: int = 10, include_schemas: bool = False
    ) -> dict[str, Any]:
        """
        Args:
            query: What you want to do, in plain words.
            server: Only this server's tools.
            limit: At most this many hits.
            include_schemas: Add each tool's input schema.
        """
        try:
            answer = self.meta.search_tools(query, server=server, limit=limit, include_schemas=include_schemas)
        except (LookupError, ValueError) as exc:
            return MetaTools.error_dict(exc)
        if self.tool_reranker is not None:
            answer["tools"] = list(self.tool_reranker(query, list(answer["tools"])))[:limit]
            answer["returned"] = len(answer["tools"])
        return answer

    def get_tool_details(self, tool_name: str) -> dict[str, Any]:
        """
        Args:
            tool_name: server__tool, or a unique tool name.
        """
        try:
            return self.meta.get_tool_details(tool_name)
        except LookupError as exc:
            return MetaTools.error_dict(exc)

    async def execute_code(
        self,
        code: str,
        timeout: float | None = None,
        check: Literal["warn", "block", "off"] = "warn",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """
        Args:
            code: Python with top-level await; tools come from `from generated.servers.<server> import <tool>`.
            timeout: Stop the run after this many seconds.
            check: Type-check against the tools first: warn (run, list diagnostics), block (no run on errors), off.
            dry_run: Call only read-only tools; the others get placeholder answers and are listed in 'effects'.
        """
        result = await self.workspace.run(code, timeout=timeout, source="toolset", check=check, dry_run=dry_run)
        return compact_run(result, self.max_answer_chars)

    def list_skills(self) -> dict[str, Any]:
        return skills_listing(self.workspace)

    async def run_skill(
        self, name: str, arguments: dict[str, Any] | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """
        Args:
            name: The skill's name.
            arguments: Values of its parameters.
            timeout: Stop the run after this many seconds.
        """
        try:
            result = await self.workspace.run_skill(name, arguments or {}, timeout=timeout, source="toolset")
        except SnippetError as exc:
            return MetaTools.error_dict(exc)
        return compact_run(result, self.max_answer_chars)

    def save_skill(
        self, name: str, code: str, description: str, parameters: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """
        Args:
            name: lowercase-with-hyphens, 1 to 64 characters.
            code: The Python code (its parameters are variables in it).
            description: One line saying what it does.
            parameters: [{"name", "type" (str|int|float|bool|list|dict|json), "default"?}].
        """
        try:
            return save_skill_to(self.workspace, name, code, description, parameters)
        except (SnippetError, KeyError) as exc:
            return MetaTools.error_dict(exc)

    async def direct_call_tool(self, tool_name: str, arguments: dict[str, Any] | None = None) -> Any:
        """``call_tool`` as the model sees it (the toolset's own ``call_tool`` dispatches every tool).

        Args:
            tool_name: server__tool.
            arguments: The tool's arguments.
        """
        try:
            tool = self.meta.resolve(tool_name)
            return await self.registry.call_tool(tool.qualified_name, arguments or {})
        except (ToolError, LookupError) as exc:
            return MetaTools.error_dict(exc)
