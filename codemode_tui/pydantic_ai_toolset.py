"""``CodemodeToolset``: the Code Mode meta-tools as a Pydantic AI toolset.

Needs the optional extra: ``pip install "codemode-tui[pydantic-ai]"``.
The agent sees five small tools (discovery plus ``execute_code``) instead of
every tool definition of every server; the code it writes runs in the same
sandbox, with the same bridge and limits, as the playground's::

    from pydantic_ai import Agent
    from codemode_tui import ToolRegistry
    from codemode_tui.pydantic_ai_toolset import CodemodeToolset

    toolset = CodemodeToolset(registry)
    agent = Agent("openai:gpt-5", toolsets=[toolset])
    async with toolset:                      # starts (and finally stops) the sandbox
        result = await agent.run("Add a note called 'groceries' and list my notes")
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import ModelRetry
from pydantic_ai.toolsets import FunctionToolset

from .executor import CodeModeConfig, CodeModeExecutor
from .meta_tools import MetaTools
from .registry import ToolRegistry
from .server_mode import INSTRUCTIONS, compact_run
from .workspace import Workspace


class CodemodeToolset(FunctionToolset[Any]):
    """Discovery meta-tools and ``execute_code`` over a ``ToolRegistry`` (or a ``Workspace``).

    Runs go through :meth:`Workspace.run` like every other front end's, so
    they land in the run history (source ``toolset``).  Given a registry, the
    toolset makes a workspace around it and owns its sandbox: created on first
    use with ``config``, closed by ``close()`` or ``async with``.  Pass an
    ``executor`` (or a workspace) to share a sandbox with other front ends;
    then closing the toolset leaves it running.
    """

    def __init__(
        self,
        registry: ToolRegistry | Workspace,
        *,
        executor: CodeModeExecutor | None = None,
        config: CodeModeConfig | None = None,
        id: str | None = "codemode",
    ) -> None:
        super().__init__(id=id, instructions=INSTRUCTIONS)
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
        for function in (
            self.list_servers,
            self.list_tool_names,
            self.search_tools,
            self.get_tool_details,
            self.execute_code,
        ):
            self.add_function(function)

    async def close(self) -> None:
        """Stop the sandbox if this toolset started it (the servers stay connected)."""
        if self._owns_executor:
            await self.workspace.close_sandboxes()

    async def __aexit__(self, *args: Any) -> bool | None:
        await self.close()
        return await super().__aexit__(*args)

    # -- the tools (their docstrings are what the model reads) ----------------------

    def list_servers(self) -> dict[str, Any]:
        """List the MCP servers behind Code Mode: name, status, tool count, transport and error."""
        return self.meta.list_servers()

    def list_tool_names(
        self, server: str | None = None, keywords: list[str] | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """List tool names (server__tool), optionally of one server or matching every keyword.

        Args:
            server: Only this server's tools.
            keywords: Only tools matching every keyword.
            limit: At most this many names.
        """
        try:
            return self.meta.list_tool_names(server=server, keywords=keywords, limit=limit)
        except (LookupError, ValueError) as exc:
            raise ModelRetry(str(exc)) from None

    def search_tools(self, query: str, server: str | None = None, limit: int = 10) -> dict[str, Any]:
        """Find the tools for a task, best first, with a one-line description and a score.

        Args:
            query: What you want to do, in plain words.
            server: Only this server's tools.
            limit: At most this many hits.
        """
        try:
            return self.meta.search_tools(query, server=server, limit=limit)
        except (LookupError, ValueError) as exc:
            raise ModelRetry(str(exc)) from None

    def get_tool_details(self, tool_name: str) -> dict[str, Any]:
        """A tool's definition, its Python signature, the line that imports it and an example call.

        Args:
            tool_name: server__tool, or a unique tool name.
        """
        try:
            return self.meta.get_tool_details(tool_name)
        except LookupError as exc:
            raise ModelRetry(str(exc)) from None

    async def execute_code(self, code: str, timeout: float | None = None) -> dict[str, Any]:
        """Run Python that composes the tools; returns stdout, the last expression's value, the error and a trace.

        Args:
            code: Python with top-level await; tools come from `from generated.servers.<server> import <tool>`.
            timeout: Stop the run after this many seconds.
        """
        return compact_run(await self.workspace.run(code, timeout=timeout, source="toolset"))
