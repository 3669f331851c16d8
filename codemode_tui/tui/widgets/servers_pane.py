"""The servers pane: the server table and every server action (add, edit, delete, toggle, ...).

It owns its concern: it turns ``ServerList.ActionRequested`` (or the palette's
``server(...)`` through :meth:`ServersPane.request`) into dialogs and
workspace calls, connects servers in workers of their own group, and says
once when a server fails.  The workspace comes down from the main screen by
``data_bind``; dispatch over the typed :data:`ServerAction` ends with
``assert_never``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, assert_never

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from ..messages import RegistryChanged
from ..screens.confirm import ConfirmScreen
from ..screens.server_log import ServerLogScreen
from ..ui_types import ServerAction
from .server_list import ServerList

if TYPE_CHECKING:
    from pathlib import Path

    from ...config import MCPServerConfig
    from ...executor.policy import ToolPolicy
    from ...registry import ServerInfo
    from ...workspace import Workspace
    from ..screens.import_servers import ImportRequest


class ServersPane(Vertical):
    """The configured servers with their status; its keys manage them."""

    workspace: reactive[Workspace | None] = reactive(None, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._failed_seen: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield ServerList(id="servers")

    @property
    def server_list(self) -> ServerList:
        return self.query_one(ServerList)

    def on_mount(self) -> None:
        if self.workspace is None:
            self.server_list.border_subtitle = "loading…"

    def show(self, servers: list[ServerInfo]) -> None:
        """Show the servers' state and tell the user, once, about each new failure."""
        self.server_list.show(servers)
        for info in servers:
            if info.status == "failed" and info.error and self._failed_seen.get(info.name) != info.error:
                self._failed_seen[info.name] = info.error
                self.notify(
                    f"{info.name}: {info.error}\n\nPress l on the server for its log.",
                    title="Server failed",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
            elif info.status != "failed":
                self._failed_seen.pop(info.name, None)

    def failure_noticed(self, server: str) -> bool:
        """Whether the failure of ``server`` has been announced."""
        return server in self._failed_seen

    # -- connecting ----------------------------------------------------------------

    def connect_all(self, *, reconnect: bool = False) -> None:
        if self.workspace is None:
            return
        for config in self.workspace.servers.values():
            if config.enabled:
                self.connect_server(config.name, reconnect=reconnect)

    def connect_server(self, name: str, *, reconnect: bool = False) -> None:
        """Connect (or reconnect) one server in a worker of its own group."""
        self.run_worker(
            # Created when it runs: no stray coroutine on early exit (Textual's stubs want a bare callable).
            partial(self._connect, name, reconnect),  # type: ignore[arg-type]
            group=f"server:{name}",
            exclusive=True,
            exit_on_error=False,
            name=f"connect {name}",
        )

    async def _connect(self, name: str, reconnect: bool) -> None:
        workspace = self.workspace
        if workspace is None or name not in workspace.registry.server_names:
            return
        try:
            if reconnect:
                await workspace.registry.reconnect(name)
            else:
                await workspace.registry.discover_server(name)
        except Exception:
            pass  # the registry keeps the failure in the server's status
        self.post_message(RegistryChanged(name))

    # -- actions ---------------------------------------------------------------------

    @on(ServerList.ActionRequested)
    def _action_requested(self, message: ServerList.ActionRequested) -> None:
        message.stop()
        self.request(message.action, message.server)

    def request(self, action: ServerAction, server: str | None = None) -> None:
        """Add, edit, delete, toggle, reconnect, show the log of, or import servers."""
        workspace = self.workspace
        if workspace is None:
            self.notify("The engine is still loading; try again in a moment.", severity="warning")
            return
        from ..screens.server_form import ServerFormScreen

        if server is None:
            server = self.server_list.highlighted_server
        names = list(workspace.servers)
        if action == "add":
            self.app.push_screen(ServerFormScreen(existing=names), partial(self._server_saved, None))
            return
        if action == "import":
            from ..screens.import_servers import ImportServersScreen  # reads client files: the engine's config

            self.app.push_screen(ImportServersScreen(), self._import_chosen)
            return
        if server is None or server not in workspace.servers:
            self.notify("No server highlighted: add one with a, or import a file with i.", severity="warning")
            return
        config = workspace.servers[server]
        if action == "edit":
            self.app.push_screen(ServerFormScreen(config, existing=names), partial(self._server_saved, server))
        elif action == "delete":
            self.app.push_screen(
                ConfirmScreen(f"Delete the server {server!r}?", "Its session is closed and the change is saved."),
                partial(self._delete_confirmed, server),
            )
        elif action == "toggle":
            self._toggle_server(server, not config.enabled)
        elif action == "reconnect":
            if not config.enabled:
                self.notify(f"{server} is disabled; press space to enable it.", severity="warning", markup=False)
                return
            self.connect_server(server, reconnect=True)
        elif action == "log":
            registry = workspace.registry
            info = next(i for i in registry.list_servers() if i.name == server)
            self.app.push_screen(
                ServerLogScreen(info, config.summary(), registry.stderr(server)),
                partial(self._log_closed, server),
            )
        elif action == "policy":
            self._edit_policy(workspace, server)
        else:
            assert_never(action)

    def _edit_policy(self, workspace: Workspace, server: str) -> None:
        from ..screens.policy import PolicyScreen

        if workspace.policy is None:
            self.notify("No tool policy is in force in this session: every call runs.", severity="warning")
            return
        policy, path = workspace.policy, workspace.policy_path
        tools = workspace.registry.list_tools(server)

        def closed(changed: bool | None) -> None:
            if changed and path is not None:
                self._save_policy(policy, path)

        self.app.push_screen(PolicyScreen(server, tools, policy), closed)

    @work(group="policy-save", thread=True, exit_on_error=False)
    def _save_policy(self, policy: ToolPolicy, path: Path) -> None:
        try:
            policy.save(path)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"The policy holds for this session but was not saved: {exc}", severity="error"
            )

    def _log_closed(self, server: str, result: str | None) -> None:
        if result == "reconnect":
            self.request("reconnect", server)

    def _server_saved(self, original: str | None, config: MCPServerConfig | None) -> None:
        workspace = self.workspace
        if config is None or workspace is None:
            return
        from ...config import ConfigError

        try:
            if original is not None and original != config.name:
                workspace.remove_server(original)
            workspace.add_server(config, replace=original == config.name)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not saved", severity="error", markup=False)
            return
        verb = "added" if original is None else "saved"
        self.notify(f"Server {config.name} {verb}.", markup=False)
        if config.enabled:
            self.connect_server(config.name)

    def _delete_confirmed(self, server: str, confirmed: bool | None) -> None:
        workspace = self.workspace
        if not confirmed or workspace is None:
            return
        from ...config import ConfigError

        try:
            workspace.remove_server(server)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not deleted", severity="error", markup=False)
            return
        self.notify(f"Server {server} deleted.", markup=False)

    def _toggle_server(self, server: str, enabled: bool) -> None:
        assert self.workspace is not None
        from ...config import ConfigError

        try:
            self.workspace.set_enabled(server, enabled)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not changed", severity="error", markup=False)
            return
        if enabled:
            self.connect_server(server)

    def _import_chosen(self, request: ImportRequest | None) -> None:
        if request is not None:
            self._import_servers(request)

    @work(group="import", exclusive=True, exit_on_error=False, thread=True)
    def _import_servers(self, request: ImportRequest) -> None:
        from ...config import ConfigError, load_servers

        try:
            incoming = load_servers(request.path)
        except ConfigError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Import failed", severity="error", markup=False)
            return
        self.app.call_from_thread(self._merge_imported, incoming, request.replace)

    def _merge_imported(self, incoming: dict[str, MCPServerConfig], replace: bool) -> None:
        workspace = self.workspace
        assert workspace is not None
        from ...config import ConfigError

        try:
            report = workspace.import_servers(incoming, replace=replace)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Import failed", severity="error", markup=False)
            return
        lines = [f"added: {', '.join(report.added) or 'none'}"]
        if report.replaced:
            lines.append(f"replaced: {', '.join(report.replaced)}")
        if report.conflicts:
            lines.append(f"kept (names exist; tick Replace to overwrite): {', '.join(report.conflicts)}")
        self.notify("\n".join(lines), title="Servers imported", markup=False)
        for name in report.added + report.replaced:
            if workspace.servers[name].enabled:
                self.connect_server(name)
