"""``Workspace``: the one façade between front ends and the engine.

The playground, the command line and the MCP server mode all drive the engine
through a workspace, so none of them re-implements the wiring: it loads the
saved servers (creating a first configuration with the demo server), owns the
``ToolRegistry``, and saves every change atomically.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from . import paths
from .config import (
    ConfigError,
    ImportReport,
    MCPServerConfig,
    dump_servers,
    load_servers,
    merge_servers,
    save_servers,
)
from .executor import CodeModeConfig, CodeModeExecutor
from .meta_tools import MetaTools
from .registry import DiscoveryOutcome, ToolRegistry
from .search import SearchIndex
from .snippets import RunHistory, SnippetStore

DEMO_SERVER_NAME = "demo"


def demo_server_config() -> MCPServerConfig:
    """The bundled demo server, started with the interpreter running us."""
    return MCPServerConfig(name=DEMO_SERVER_NAME, command=sys.executable, args=["-m", "codemode_tui", "demo-server"])


class Workspace:
    """A session's settings, servers and engine parts.

    ``config_path`` given: that ``mcpServers`` file is used as is and never
    rewritten unless ``persist`` is true.  Otherwise the saved configuration
    in the config folder is used, created with the demo server on first start.
    """

    def __init__(self, config_path: Path | None = None, *, persist: bool | None = None) -> None:
        self.config_path = Path(config_path) if config_path else paths.servers_file()
        self.persist = persist if persist is not None else config_path is None
        self.servers: dict[str, MCPServerConfig] = {}
        self.load_error: ConfigError | None = None
        self.registry = ToolRegistry()
        # Ranked search over the registry's tools (kept current by a registry listener) and the
        # discovery meta-tools every front end answers with.
        self.index: SearchIndex = self.registry.search_index
        self.meta = MetaTools(self.registry, index=self.index)
        # Where saves of the servers file go.  ``None`` writes at once; a front end
        # that must never block (the playground) sets a function that writes the
        # text atomically on a worker thread.
        self.write_text: Callable[[Path, str], None] | None = None
        # How code runs (sandbox, limits); read when the executor is first created.
        self.executor_config = CodeModeConfig()
        self._executor: CodeModeExecutor | None = None
        # Saved snippets (skills) and the run history, in the data folder.
        self.snippets = SnippetStore()
        self.history = RunHistory()
        self._load()

    # -- configuration ----------------------------------------------------------

    def _load(self) -> None:
        if not self.config_path.exists() and self.persist:
            self.servers = {DEMO_SERVER_NAME: demo_server_config()}
            save_servers(self.config_path, self.servers.values())
        else:
            try:
                self.servers = load_servers(self.config_path)
            except ConfigError as exc:
                # Kept, never overwritten: saving is refused until the file is fixed.
                self.load_error = exc
                self.servers = {}
        for config in self.servers.values():
            self.registry.add_server(config)

    def _save(self) -> None:
        if self.load_error is not None:
            raise ConfigError(
                "the servers file has an error and is not overwritten; fix it first",
                file=self.load_error.file,
            )
        if self.persist:
            if self.write_text is not None:
                self.write_text(self.config_path, dump_servers(self.servers.values()))
            else:
                save_servers(self.config_path, self.servers.values())

    def add_server(self, config: MCPServerConfig, *, replace: bool = False) -> None:
        """Add (or with ``replace``, update) a server and save the configuration."""
        if config.name in self.servers and not replace:
            raise ConfigError(f"a server named {config.name!r} already exists; pick another name", server=config.name)
        if self.load_error is not None:
            self._save()  # raises: do not diverge from a file we cannot write
        self.registry.add_server(config, replace=replace)
        self.servers[config.name] = config
        self._save()

    def remove_server(self, name: str) -> None:
        """Remove a server and save the configuration."""
        if name not in self.servers:
            raise ConfigError(f"no server named {name!r}", server=name)
        if self.load_error is not None:
            self._save()
        self.registry.remove_server(name)
        del self.servers[name]
        self._save()

    def set_enabled(self, name: str, enabled: bool) -> MCPServerConfig:
        """Enable or disable a server (saved); the caller reconnects or closes it."""
        config = self.servers[name].model_copy(update={"enabled": enabled})
        self.add_server(config, replace=True)
        return config

    def import_servers(self, source: Path | Mapping[str, MCPServerConfig], *, replace: bool = False) -> ImportReport:
        """Merge servers from an ``mcpServers`` file; name clashes are reported, not overwritten."""
        incoming = load_servers(Path(source)) if isinstance(source, (str, Path)) else dict(source)
        merged, report = merge_servers(self.servers, incoming, replace=replace)
        if self.load_error is not None:
            self._save()
        for name in report.added + report.replaced:
            self.registry.add_server(merged[name], replace=name in report.replaced)
        self.servers = merged
        self._save()
        return report

    def export_servers(self, path: Path) -> None:
        """Write the servers as an ``mcpServers`` file another client can read."""
        save_servers(path, self.servers.values())

    # -- engine -----------------------------------------------------------------

    async def start(self) -> dict[str, DiscoveryOutcome]:
        """Connect to every enabled server and discover its tools (concurrently)."""
        return await self.registry.discover_all()

    @property
    def executor(self) -> CodeModeExecutor:
        """The sandboxed executor, created on first use (its sandbox starts on first run or warm-up)."""
        if self._executor is None:
            self._executor = CodeModeExecutor(self.registry, config=self.executor_config)
        return self._executor

    def warm_executor(self) -> asyncio.Task[None]:
        """Start the sandbox in the background (about 2 s for a local kernel), e.g. while the UI opens."""
        return self.executor.warm()

    async def ensure_executor(self, *, sandbox: str | None = None) -> CodeModeExecutor:
        """The executor with its sandbox started; ``sandbox`` picks the kind before first use."""
        if sandbox is not None and self._executor is None:
            self.executor_config = dataclasses.replace(self.executor_config, sandbox=sandbox)  # type: ignore[arg-type]
        executor = self.executor
        await executor.setup()
        return executor

    async def close(self) -> None:
        """Close every session and engine part; safe to call twice."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await executor.cleanup()
        await self.registry.close()

    async def __aenter__(self) -> Workspace:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
