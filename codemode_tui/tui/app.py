"""The playground app: servers and tools on the left, editor and preview in the middle, output below.

The App owns the :class:`~codemode_tui.workspace.Workspace` and all state;
widgets display what the App tells them and post messages to ask for things.
Everything that talks to a server, the sandbox or the disk runs in a worker
with its own group, so the UI never waits on any of them.

The engine (the MCP SDK, the code generator, the executor) takes longer to
import than the whole UI, so this module imports none of it: the first frame
is painted, then a worker builds the Workspace and the panes fill in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Select, TextArea

from .. import paths
from .codegen_preview import binding_preview
from .formatting import format_duration, format_started
from .messages import (
    HistoryRecorded,
    InsertExampleRequested,
    RegistryChanged,
    RunFinished,
    RunOutput,
    RunToolCall,
    SandboxStateChanged,
    SearchFinished,
    ServerActionRequested,
    SnippetStoreChanged,
    ToolChosen,
    ToolRow,
    TraceCallSelected,
    WorkspaceLoaded,
)
from .screens.confirm import ConfirmScreen
from .screens.context_budget import ContextBudgetScreen
from .screens.help import HelpEntry, HelpScreen, HelpSection
from .screens.import_servers import ImportRequest, ImportServersScreen
from .screens.server_log import ServerLogScreen
from .screens.trace_call import TraceCallScreen
from .state import LatestWriter, LoadedState, buffer_file, load_state
from .themes import ThemeCatalog, load_themes
from .widgets.code_editor import CodeEditor
from .widgets.output_pane import OutputPane
from .widgets.preview_pane import PreviewPane
from .widgets.server_filter import ServerFilter
from .widgets.server_list import ServerList
from .widgets.status_bar import StatusBar
from .widgets.tool_list import MAX_ROWS, ToolList
from .widgets.tool_search import ToolSearch
from .widgets.trace_table import TraceTable

if TYPE_CHECKING:  # the engine is imported by a worker after the first frame
    from ..config import MCPServerConfig
    from ..registry import ServerInfo, ToolDefinition
    from ..snippets import RunRecord, Snippet
    from ..workspace import Workspace
    from .screens.snippets import SnippetRequest

DEFAULT_THEME = "codemode-dark"
LIGHT_THEME = "codemode-light"
PANES = ("sidebar", "preview", "output")
# Actions that open a dialog of their own: not while another dialog is open.
MAIN_SCREEN_ONLY = (
    "run",
    "save_snippet",
    "save_snippet_as",
    "snippets",
    "history",
    "run_with_parameters",
    "import_skill",
)
BUFFER_SAVE_DELAY = 0.5
PREVIEW_DELAY = 0.08

# Every action the command palette offers: (title, help, action).
PALETTE: list[tuple[str, str, str]] = [
    ("Run", "Run the whole editor buffer in the sandbox", "run"),
    ("Run selection", "Run only the selected code", "run_selection"),
    ("Stop the run", "Interrupt the running code", "cancel_run"),
    ("Run with parameters", "Ask for the parameters of the editor's snippet, then run it", "run_with_parameters"),
    ("Save snippet", "Save the editor buffer as a snippet (the form opens for a new one)", "save_snippet"),
    ("Save snippet as", "Save the editor buffer under a new name, description and parameters", "save_snippet_as"),
    ("Snippets", "Browse saved snippets: open, run, rename, delete, export as a skill, import", "snippets"),
    ("Run history", "Past runs, newest first; reopen one's code in the editor", "history"),
    ("Import skill", "Open an agent skill folder (SKILL.md + scripts/) in the editor as a snippet", "import_skill"),
    ("Clear output", "Empty the output, result, error and trace tabs", "clear_output"),
    ("Restart sandbox", "A fresh sandbox: variables from earlier runs are dropped", "reset_sandbox"),
    ("Insert example call", "Insert the highlighted tool's example call at the cursor", "insert_example"),
    ("Copy example call", "Copy the highlighted tool's import line and example call", "copy('example call')"),
    ("Copy binding", "Copy the highlighted tool's generated binding source", "copy('binding')"),
    ("Copy schema", "Copy the highlighted tool's JSON Schema", "copy('schema')"),
    ("Add server", "Add an MCP server (stdio, HTTP or SSE)", "server('add')"),
    ("Edit server", "Edit the highlighted server", "server('edit')"),
    ("Delete server", "Delete the highlighted server (asks first)", "server('delete')"),
    ("Enable or disable server", "Toggle the highlighted server", "server('toggle')"),
    ("Reconnect server", "Restart the highlighted server's session", "server('reconnect')"),
    ("Server log", "Status, failure reason and stderr of the highlighted server", "server('log')"),
    ("Import servers", "Merge servers from an mcpServers JSON file", "server('import')"),
    ("Reconnect all servers", "Connect every enabled server again", "reconnect_all"),
    ("Focus servers", "Move to the servers pane", "focus_servers"),
    ("Focus search", "Move to the tool search box", "focus_search"),
    ("Focus tools", "Move to the tool list", "focus_tools"),
    ("Focus editor", "Move to the code editor", "focus_editor"),
    ("Toggle sidebar", "Show or hide the servers and tools", "toggle_pane('sidebar')"),
    ("Toggle preview", "Show or hide the preview tabs", "toggle_pane('preview')"),
    ("Toggle output", "Show or hide the output tabs", "toggle_pane('output')"),
    ("Maximise pane", "Fill the screen with the focused pane (again to restore)", "maximize_pane"),
    ("Light theme", "Switch to codemode-light", f"set_theme('{LIGHT_THEME}')"),
    ("Dark theme", "Switch to codemode-dark", f"set_theme('{DEFAULT_THEME}')"),
    ("Context budget", "Tokens every tool definition takes in context versus Code Mode's meta-tools", "context_budget"),
    ("Help", "Every key binding", "help"),
]


class PlaygroundApp(App[None]):
    """Explore MCP servers, preview bindings and run Code Mode snippets."""

    TITLE = "codemode-tui"
    CSS_PATH = Path(__file__).parent / "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (declared by App)
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="help", tooltip="Every key binding"),
        Binding("f5,ctrl+r", "run", "Run", id="run", tooltip="Run the editor buffer in the sandbox"),
        Binding(
            "f6",
            "run_selection",
            "Run sel.",
            id="run-selection",
            show=False,
            priority=True,  # the editor binds F6 to "select line"; running the selection matters more here
            tooltip="Run the selected code",
        ),
        Binding("ctrl+c", "cancel_run", "Stop", id="cancel-run", priority=True, tooltip="Stop the running code"),
        Binding(
            "shift+f5",
            "run_with_parameters",
            "Run with params",
            id="run-with-parameters",
            show=False,
            tooltip="Ask for the snippet's parameters, then run",
        ),
        Binding("ctrl+s", "save_snippet", "Save", id="save-snippet", tooltip="Save the buffer as a snippet"),
        Binding("f12", "save_snippet_as", "Save as", id="save-snippet-as", show=False, tooltip="Save as a new snippet"),
        Binding("ctrl+o", "snippets", "Snippets", id="snippets", tooltip="Browse, run and export saved snippets"),
        Binding("ctrl+g", "history", "History", id="history", tooltip="Past runs; reopen one's code"),
        Binding("f2", "focus_servers", "Servers", id="focus-servers", show=False, tooltip="Go to the servers pane"),
        Binding("f3", "focus_search", "Search", id="focus-search", show=False, tooltip="Go to the tool search"),
        Binding("f4", "focus_editor", "Editor", id="focus-editor", show=False, tooltip="Go to the editor"),
        Binding(
            "ctrl+b",
            "toggle_pane('sidebar')",
            "Sidebar",
            id="toggle-sidebar",
            show=False,
            tooltip="Show or hide servers and tools",
        ),
        Binding(
            "f8",
            "toggle_pane('preview')",
            "Preview",
            id="toggle-preview",
            show=False,
            tooltip="Show or hide the preview",
        ),
        Binding(
            "f9", "toggle_pane('output')", "Output", id="toggle-output", show=False, tooltip="Show or hide the output"
        ),
        Binding(
            "f10",
            "maximize_pane",
            "Maximise",
            id="maximize",
            show=False,
            tooltip="Maximise the focused pane, or restore",
        ),
        Binding(
            "ctrl+l",
            "clear_output",
            "Clear output",
            id="clear-output",
            show=False,
            tooltip="Clear output, result, error, trace",
        ),
        Binding(
            "f7",
            "context_budget",
            "Budget",
            id="context-budget",
            show=False,
            priority=True,  # the editor binds F7 to "select all" (ctrl+a does that too)
            tooltip="Tokens of all tool definitions vs Code Mode",
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, show=False, tooltip="Quit the playground"),
    ]

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        config_path: Path | None = None,
        connect: bool = True,
        cursor_blink: bool = True,
        warm_sandbox: bool = True,
    ) -> None:
        super().__init__()
        self._workspace: Workspace | None = workspace  # built by a worker after the first frame when not given
        self.config_path = config_path
        self.connect_on_start = connect
        self.warm_sandbox_on_start = warm_sandbox
        self.cursor_blink = cursor_blink
        # Start-up reads happen here, before the first frame; later writes go to worker threads.
        self.saved: LoadedState = load_state()
        self.theme_catalog: ThemeCatalog = load_themes()
        self.writer = LatestWriter()
        self.selected_tool: ToolDefinition | None = None
        self.running = False
        self.run_started: float | None = None
        self.tool_calls = 0
        self.sandbox_state = "not started"
        # The snippet the editor buffer belongs to (opened, saved or imported) and whether the store has it.
        self.current_snippet: Snippet | None = None
        self.snippet_in_store = False
        self._run_code = ""
        self._run_snippet: str | None = None
        self._history_lock = threading.Lock()
        self.runs_recorded = 0
        self._refresh_pending = False
        self._frozen = False
        self._shown_query: tuple[str, str | None] | None = None
        self._sandbox_seen = False
        self._sandbox_ready_once = False
        self._main: Screen[Any] | None = None
        self._failed_seen: dict[str, str] = {}
        self._buffer_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._elapsed_timer: Timer | None = None
        self._last_saved_buffer = self.saved.buffer
        self._buffer_text = self.saved.buffer
        self._hidden: set[str] = {pane for pane in self.saved.settings.hidden_panes if pane in PANES}
        for item in self.theme_catalog.themes:
            self.register_theme(item.theme)
        wanted = self.saved.settings.theme or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        if self.saved.settings.keymap:
            self.set_keymap(self.saved.settings.keymap)

    # -- layout -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield ServerList(id="servers")
                with Vertical(id="tools-pane") as tools_pane:
                    tools_pane.border_title = "Tools"
                    yield ToolSearch(id="search")
                    yield ServerFilter(id="server-filter")
                    yield ToolList(id="tools")
            with Vertical(id="workbench"):
                with Horizontal(id="top"):
                    editor = CodeEditor.code_editor(self.saved.buffer, language="python", id="editor")
                    editor.border_title = "Editor"
                    yield editor
                    yield PreviewPane(id="preview")
                yield OutputPane(id="output")
        yield StatusBar(id="status")
        yield Footer(id="footer")

    @property
    def workspace(self) -> Workspace:
        """The engine façade; only there once loaded (see :attr:`engine_ready`)."""
        if self._workspace is None:
            raise RuntimeError("the workspace is still loading")
        return self._workspace

    @property
    def engine_ready(self) -> bool:
        return self._workspace is not None

    def _engine_or_say(self) -> bool:
        """True when the engine is loaded; else tell the user to wait (actions call this first)."""
        if self._workspace is None:
            self.notify("The engine is still loading; try again in a moment.", severity="warning")
            return False
        return True

    @property
    def main(self) -> Screen[Any]:
        """The main screen: the App's widgets live there, whatever modal is on top."""
        return self._main if self._main is not None else self.screen

    @property
    def ui_alive(self) -> bool:
        """False once the main screen is gone (shutting down): late messages are dropped."""
        return self._main is not None and self._main.is_attached and not self._main._closing

    @property
    def editor(self) -> CodeEditor:
        return self.main.query_one("#editor", CodeEditor)

    @property
    def output(self) -> OutputPane:
        return self.main.query_one(OutputPane)

    @property
    def status(self) -> StatusBar:
        return self.main.query_one(StatusBar)

    @property
    def tool_list(self) -> ToolList:
        return self.main.query_one(ToolList)

    @property
    def server_list(self) -> ServerList:
        return self.main.query_one(ServerList)

    def on_mount(self) -> None:
        self._main = self.screen
        self.editor.apply_theme(self.theme_variables, self.theme_catalog.syntax_for(self.theme))
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._quiet_cursors(self.main)
        for pane in self._hidden:
            self.screen.add_class(f"-hide-{pane}")
        self.main.query_one(ToolSearch).focus()
        if self._workspace is not None:
            self._attach_workspace()
        else:
            self._report_start_problems()
            self.status.message = "loading the engine…"
            self.server_list.border_subtitle = "loading…"
            self.main.query_one("#tools-pane").border_subtitle = "loading…"
            self.call_after_refresh(self._load_workspace)  # after the first frame is on screen

    @work(group="engine", exclusive=True, exit_on_error=False, thread=True)
    def _load_workspace(self) -> None:
        """Import the engine and read the servers file off the UI thread."""
        try:
            from ..workspace import Workspace

            workspace = Workspace(self.config_path)
            importlib.import_module("codemode_tui.codegen.preview")  # warm: the first preview must not wait
        except Exception as exc:  # shown to the user: the UI stays up to say why
            self.post_message(WorkspaceLoaded(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(WorkspaceLoaded(workspace))

    @on(WorkspaceLoaded)
    def _workspace_loaded(self, message: WorkspaceLoaded) -> None:
        if not self.ui_alive:
            return
        if message.workspace is None:
            self.status.message = "the engine did not load"
            self.notify(f"The engine did not load: {message.error}", title="Start-up", severity="error", markup=False)
            return
        self._workspace = message.workspace
        self.status.message = ""
        self._attach_workspace(reported=True)

    def _attach_workspace(self, *, reported: bool = False) -> None:
        """Wire the loaded workspace to the panes, report its problems, and connect."""
        workspace = self.workspace
        # Servers-file saves run on a worker thread, each applied to the file as it is then.
        workspace.run_save = partial(self.run_worker, thread=True, group="disk", exit_on_error=False, name="save")
        workspace.on_save_error = lambda exc: self.call_from_thread(
            self.notify, str(exc), title="Servers file not saved", severity="error", markup=False
        )
        workspace.registry.add_listener(self._registry_listener)
        self._refresh_registry_views()
        self._report_start_problems(skip_files=reported)
        if self.connect_on_start:
            self.connect_all()

    def _report_start_problems(self, *, skip_files: bool = False) -> None:
        """One notice for every start-up file that did not load (themes, settings, servers)."""
        problems = [] if skip_files else list(self.saved.errors)
        if self.theme_catalog.errors and not skip_files:
            problems.append("These theme files were skipped:\n" + "\n".join(self.theme_catalog.errors))
        load_error = self._workspace.load_error if self._workspace is not None else None
        if load_error is not None:
            problems.append(f"The servers file could not be read and will not be overwritten:\n{load_error}")
        if problems:
            self.notify("\n\n".join(problems), title="Check your files", severity="warning", timeout=15, markup=False)

    def _quiet_cursors(self, screen: Screen[Any]) -> None:
        """Steady cursors when asked (snapshots must not depend on the blink phase)."""
        if not self.cursor_blink:
            for widget in screen.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().push_screen(screen, *args, **kwargs)
        if not self.cursor_blink and isinstance(screen, Screen):
            self.call_after_refresh(self._quiet_cursors, screen)
        return result

    async def on_unmount(self) -> None:
        text = self._buffer_text
        if text != self._last_saved_buffer:  # the last edit, written now: the app is going away
            self.writer.write(buffer_file(), text, self.writer.ticket())
        workspace = self._workspace
        if workspace is not None:
            workspace.registry.remove_listener(self._registry_listener)
            await workspace.close()

    # -- registry → views --------------------------------------------------------

    def _registry_listener(self, server: str) -> None:
        # Called by the engine, possibly from another thread: only post a message.
        self.post_message(RegistryChanged(server))

    @on(RegistryChanged)
    def _registry_changed(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_after_refresh(self._refresh_registry_views)

    def _refresh_registry_views(self) -> None:
        self._refresh_pending = False
        if not self.ui_alive:
            return
        servers = self.workspace.registry.list_servers()
        self.server_list.show(servers)
        self.main.query_one(ServerFilter).set_servers([info.name for info in servers])
        connected = sum(1 for info in servers if info.status == "connected")
        self.status.servers = f"servers {connected}/{len(servers)}"
        self._report_failures(servers)
        self.refresh_tools()
        if not any(info.status == "connecting" for info in servers):
            self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        """Once no server is connecting: index the tools now, not on the next key press.

        Then freeze what start-up allocated (the engine, thousands of tool
        definitions, the index) so the collector's full passes over it do not
        pause typing; rediscovery later still frees what it replaces.
        """
        if not self.ui_alive:
            return
        self.workspace.index.sync()
        if not self._frozen:
            self._frozen = True
            gc.freeze()
            if self.warm_sandbox_on_start:
                self.warm_sandbox()

    def _report_failures(self, servers: list[ServerInfo]) -> None:
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

    # -- tools and search ----------------------------------------------------------

    def refresh_tools(self) -> None:
        if self._workspace is None:
            return  # the list fills in when the engine has loaded
        query = self.main.query_one(ToolSearch).value
        server = self.main.query_one(ServerFilter).server
        self.search_tools(query, server)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def search_tools(self, query: str, server: str | None) -> None:
        registry = self.workspace.registry
        if server is not None and server not in registry.server_names:
            server = None
        query = query.strip()
        if query:
            result = await registry.search_tools(query, server=server, limit=MAX_ROWS)
            rows = [ToolRow(hit.tool, hit.score) for hit in result.hits]
            self.post_message(SearchFinished(query, server, rows, result.total))
            return
        tools = registry.list_tools(server)
        rows = [ToolRow(tool) for tool in sorted(tools, key=lambda t: (t.server, t.name))]
        self.post_message(SearchFinished(query, server, rows, len(rows)))

    @on(SearchFinished)
    def _search_finished(self, message: SearchFinished) -> None:
        if not self.ui_alive:
            return
        shown = (message.query, message.server)
        self.tool_list.show(
            message.rows, message.total, searching=bool(message.query), keep_highlight=shown == self._shown_query
        )
        self._shown_query = shown
        self.main.query_one("#tools-pane").border_subtitle = self.tool_list.summary

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.refresh_tools()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.action_focus_tools()

    @on(Select.Changed, "#server-filter")
    def _filter_changed(self) -> None:
        self.refresh_tools()

    @on(ToolChosen)
    def _tool_chosen(self, message: ToolChosen) -> None:
        if not self.ui_alive:
            return
        if message.tool is self.selected_tool:
            return
        self.selected_tool = message.tool
        # Debounced: while the user types, the list redraws alone and the preview catches up after.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._update_preview)

    def _update_preview(self) -> None:
        if not self.ui_alive:
            return
        preview = self.main.query_one(PreviewPane)
        if preview.tool is not self.selected_tool:
            preview.show_tool(self.selected_tool)

    @on(InsertExampleRequested)
    def _insert_requested(self, message: InsertExampleRequested) -> None:
        self.insert_example(message.tool)

    def insert_example(self, tool: ToolDefinition | None) -> None:
        if tool is None:
            self.notify("Highlight a tool in the tool list first.", severity="warning")
            return
        preview = binding_preview(tool)
        if not preview.available:
            self.notify(preview.reason, severity="warning", markup=False)
            return
        self.editor.insert_snippet(preview.example)
        self.editor.focus()

    # -- servers -------------------------------------------------------------------

    def connect_all(self) -> None:
        for config in self.workspace.servers.values():
            if config.enabled:
                self.connect_server(config.name)

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
        registry = self.workspace.registry
        if name not in registry.server_names:
            return
        try:
            if reconnect:
                await registry.reconnect(name)
            else:
                await registry.discover_server(name)
        except Exception:
            pass
        self.post_message(RegistryChanged(name))

    @on(ServerActionRequested)
    def _server_action(self, message: ServerActionRequested) -> None:
        self.action_server(message.action, message.server)

    def action_server(self, action: str, server: str | None = None) -> None:
        """Add, edit, delete, toggle, reconnect, show the log of, or import servers."""
        if not self._engine_or_say():
            return
        from .screens.server_form import ServerFormScreen

        if server is None:
            server = self.server_list.highlighted_server
        names = list(self.workspace.servers)
        if action == "add":
            self.push_screen(ServerFormScreen(existing=names), partial(self._server_saved, None))
            return
        if action == "import":
            self.push_screen(ImportServersScreen(), self._import_chosen)
            return
        if server is None or server not in self.workspace.servers:
            self.notify("No server highlighted: add one with a, or import a file with i.", severity="warning")
            return
        config = self.workspace.servers[server]
        if action == "edit":
            self.push_screen(ServerFormScreen(config, existing=names), partial(self._server_saved, server))
        elif action == "delete":
            self.push_screen(
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
            registry = self.workspace.registry
            info = next(i for i in registry.list_servers() if i.name == server)
            self.push_screen(
                ServerLogScreen(info, config.summary(), registry.stderr(server)),
                partial(self._log_closed, server),
            )

    def _log_closed(self, server: str, result: str | None) -> None:
        if result == "reconnect":
            self.action_server("reconnect", server)

    def _server_saved(self, original: str | None, config: MCPServerConfig | None) -> None:
        if config is None:
            return
        from ..config import ConfigError

        try:
            if original is not None and original != config.name:
                self.workspace.remove_server(original)
            self.workspace.add_server(config, replace=original == config.name)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not saved", severity="error", markup=False)
            return
        verb = "added" if original is None else "saved"
        self.notify(f"Server {config.name} {verb}.", markup=False)
        if config.enabled:
            self.connect_server(config.name)

    def _delete_confirmed(self, server: str, confirmed: bool | None) -> None:
        if not confirmed:
            return
        from ..config import ConfigError

        try:
            self.workspace.remove_server(server)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not deleted", severity="error", markup=False)
            return
        self.notify(f"Server {server} deleted.", markup=False)

    def _toggle_server(self, server: str, enabled: bool) -> None:
        from ..config import ConfigError

        try:
            self.workspace.set_enabled(server, enabled)
        except (ConfigError, ValueError) as exc:
            self.notify(str(exc), title="Server not changed", severity="error", markup=False)
            return
        if enabled:
            self.connect_server(server)

    def _import_chosen(self, request: ImportRequest | None) -> None:
        if request is not None:
            self.import_servers(request)

    @work(group="import", exclusive=True, exit_on_error=False, thread=True)
    def import_servers(self, request: ImportRequest) -> None:
        from ..config import ConfigError, load_servers

        try:
            incoming = load_servers(request.path)
        except ConfigError as exc:
            self.call_from_thread(self.notify, str(exc), title="Import failed", severity="error", markup=False)
            return
        self.call_from_thread(self._merge_imported, incoming, request.replace)

    def _merge_imported(self, incoming: dict[str, MCPServerConfig], replace: bool) -> None:
        from ..config import ConfigError

        try:
            report = self.workspace.import_servers(incoming, replace=replace)
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
            if self.workspace.servers[name].enabled:
                self.connect_server(name)

    def action_reconnect_all(self) -> None:
        if not self._engine_or_say():
            return
        for config in self.workspace.servers.values():
            if config.enabled:
                self.connect_server(config.name, reconnect=True)

    # -- running code -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return self.running
        dialog_open = self._main is not None and self.screen is not self._main
        if action in ("run_selection", "context_budget") and dialog_open:
            return False  # priority keys: not while a dialog is open
        if action in MAIN_SCREEN_ONLY and dialog_open:
            return False  # one dialog at a time
        if action in ("run", "run_selection"):
            return True if not self.running else None  # shown dimmed while a run is live
        return True

    def action_run(self) -> None:
        self.start_run(self.editor.text, "the whole buffer")

    def action_run_selection(self) -> None:
        selected = self.editor.selected_text
        if not selected.strip():
            self.notify("Select some code first (shift+arrows), or press F5 to run everything.", severity="warning")
            return
        self.start_run(selected, "the selection")

    def start_run(
        self, code: str, what: str, *, values: dict[str, Any] | None = None, snippet: str | None = None
    ) -> None:
        """Run ``code`` in the sandbox; output, calls and the result arrive as messages.

        ``values`` are a snippet's parameters, set in the sandbox before ``code``
        runs; ``snippet`` names the snippet in the run history.
        """
        if not self._engine_or_say():
            return
        if self.running:
            self.notify(f"A run is already going; {self._stop_key()} stops it.", severity="warning")
            return
        if not code.strip():
            self.notify("The editor is empty: insert a tool call from the tool list (Enter).", severity="warning")
            return
        self.running = True
        self.run_started = time.monotonic()
        self.tool_calls = 0
        self._run_code, self._run_snippet = code, snippet
        if values:
            shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
            what += f" ({shown if len(shown) <= 80 else shown[:79] + '…'})"
        self.output.start_run(f"▶ running {what}")
        status = self.status
        status.running, status.tool_calls, status.elapsed = True, 0, 0.0
        status.stop_hint = f"{self._stop_key()} stops"
        self._elapsed_timer = self.set_interval(0.1, self._tick)
        self._sandbox_seen = True
        self._poll_sandbox()
        self.refresh_bindings()
        self.run_code(code, values or {})

    @work(group="run", exclusive=True, exit_on_error=False)
    async def run_code(self, code: str, values: dict[str, Any] | None = None) -> None:
        executor = self.workspace.executor

        def on_output(stream: str, text: str) -> None:
            self.post_message(RunOutput(stream, text))

        def on_tool_call(record: Any) -> None:
            self.post_message(RunToolCall(record))

        try:
            from ..snippets.model import SnippetError
            from ..snippets.runner import run_with_values

            try:
                result = await run_with_values(
                    executor, code, values or {}, on_output=on_output, on_tool_call=on_tool_call
                )
            except SnippetError as exc:
                self.post_message(RunFinished(None, str(exc)))
                return
        except asyncio.CancelledError:
            self.post_message(RunFinished(None, "stopped before the sandbox was ready"))
            raise
        except Exception as exc:  # execute() reports what the code does; this is the sandbox itself failing
            self.post_message(RunFinished(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(RunFinished(result))

    def action_cancel_run(self) -> None:
        """Interrupt the live run (the sandbox restarts if the code ignores the interrupt)."""
        if not self.running:
            return
        if self.workspace.executor.interrupt():
            self.output.log_widget.note("■ interrupt sent")
            return
        for worker in self.workers:  # still waiting for the sandbox to start
            if worker.group == "run":
                worker.cancel()

    def _stop_key(self) -> str:
        """The stop key spelled out ("ctrl+c"), as remapped in settings if it was."""
        keys = self._keymap.get("cancel-run", "ctrl+c")
        return keys.split(",")[0].strip()

    def _tick(self) -> None:
        if self.running and self.run_started is not None and self.ui_alive:
            self.status.elapsed = time.monotonic() - self.run_started
            self._poll_sandbox()

    def _poll_sandbox(self) -> None:
        """Read the sandbox state from the executor (starting, ready, running, restarting)."""
        if not self.ui_alive or not self._sandbox_seen or self._workspace is None:
            return  # the executor is created on first use: not before a run or a warm-up
        executor = self.workspace.executor
        if executor.running:
            state = "running"
        elif executor.ready:
            state = "ready"
            self._sandbox_ready_once = True
        elif self._sandbox_ready_once:
            state = "restarting"
        else:
            state = "starting"
        if state != self.sandbox_state:
            self._set_sandbox(state)
        if state in ("starting", "restarting") and not self.running:
            self.set_timer(0.25, self._poll_sandbox)

    def warm_sandbox(self) -> None:
        """Start the sandbox in the background so the first run does not wait for it."""
        self._sandbox_seen = True
        self._poll_sandbox()
        self._warm()

    @work(group="sandbox", exclusive=True, exit_on_error=False)
    async def _warm(self) -> None:
        try:
            await self.workspace.warm_executor()
        except Exception as exc:  # reported here; the next run tries again and says why
            self.post_message(SandboxStateChanged("failed", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SandboxStateChanged("ready"))

    def _set_sandbox(self, state: str) -> None:
        self.sandbox_state = state
        self.status.sandbox = state

    @on(SandboxStateChanged)
    def _sandbox_changed(self, message: SandboxStateChanged) -> None:
        if not self.ui_alive:
            return
        if message.state == "failed":
            self._set_sandbox("failed")
            self.notify(
                f"The sandbox did not start: {message.detail}",
                title="Sandbox",
                severity="error",
                markup=False,
                timeout=15,
            )
            return
        self._poll_sandbox()

    @on(RunOutput)
    def _run_output(self, message: RunOutput) -> None:
        if not self.ui_alive:
            return
        self.output.log_widget.append(message.stream, message.text)

    @on(RunToolCall)
    def _run_tool_call(self, message: RunToolCall) -> None:
        if not self.ui_alive:
            return
        self.output.trace.add_record(message.record)
        self.tool_calls = len(self.output.trace.records)
        self.status.tool_calls = self.tool_calls
        self.output.count_calls()

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        if not self.ui_alive:
            return
        self.running = False
        if self._elapsed_timer is not None:
            self._elapsed_timer.stop()
            self._elapsed_timer = None
        status, output, log = self.status, self.output, self.output.log_widget
        status.running = False
        log.flush()
        result = message.result
        if result is None:
            log.note(f"✖ {message.error}")
            output.show_error(message.error)
            output.show_value(None, None)
            output.activate("tab-error")
        else:
            for record in result.trace:
                output.trace.add_record(record)
            output.count_calls()
            status.tool_calls = self.tool_calls = len(result.trace)
            status.elapsed = result.duration
            error = result.error
            if error is not None:
                output.show_error(f"{error.type}: {error.message}\n\n{error.traceback}".rstrip())
            else:
                output.show_error(None)
            output.show_value(result.value, result.value_repr)
            summary = f"{'✖ ' + error.type if error else '■ done'} in {format_duration(result.duration)}"
            calls = len(result.trace)
            log.note(
                f"{summary} · {calls} tool call{'s' if calls != 1 else ''}"
                + (f" · {', '.join(result.notes)}" if result.notes else "")
            )
            if error is not None:
                output.activate("tab-error")
            elif result.value_repr is not None:
                output.activate("tab-result")
            if result.kernel_restarted:
                self.notify(
                    "The sandbox was restarted: variables from earlier runs are gone.",
                    title="Sandbox restarted",
                    severity="warning",
                )
            if error is not None and error.type == "NameError":
                self._parameter_tip(error.message)
        elapsed = time.monotonic() - self.run_started if self.run_started is not None else 0.0
        self._record_run(self._run_code, result, self._run_snippet, message.error, elapsed)
        self._poll_sandbox()
        self.refresh_bindings()

    def _parameter_tip(self, message: str) -> None:
        """A NameError on a parameter of the editor's snippet: say how to give it a value."""
        snippet = self.current_snippet
        if snippet is None:
            return
        for param in snippet.parameters:
            if f"'{param.name}'" in message:
                keys = self._keys_for_id("run-with-parameters", "shift+f5")
                self.output.log_widget.note(
                    f"tip: {param.name} is a parameter of {snippet.name}; {keys} asks for its value"
                )
                return

    def _keys_for_id(self, binding_id: str, default: str) -> str:
        return self._keymap.get(binding_id, default).split(",")[0].strip()

    @work(group="history", exit_on_error=False, thread=True)
    def _record_run(self, code: str, result: Any, snippet: str | None, error: str | None, elapsed: float) -> None:
        """Keep the run in the history (the last 500); never fails the run itself."""
        from ..snippets import RunRecord

        history = self.workspace.history
        with self._history_lock:
            try:
                if result is not None:
                    record = history.add_run(code, result, snippet=snippet)
                else:
                    stopped = error is not None and error.startswith("stopped")
                    record = RunRecord(
                        code=code,
                        status="cancelled" if stopped else "error",
                        duration=elapsed,
                        error=error,
                        snippet=snippet,
                    )
                    history.add(record)
            except OSError as exc:
                self.post_message(HistoryRecorded(None, str(exc)))
                return
        self.post_message(HistoryRecorded(record.id))

    @on(HistoryRecorded)
    def _history_recorded(self, message: HistoryRecorded) -> None:
        self.runs_recorded += 1
        if message.error and self.ui_alive:
            self.notify(f"The run was not kept in the history: {message.error}", severity="warning", markup=False)

    # -- snippets and history ----------------------------------------------------------

    def _update_editor_title(self) -> None:
        snippet = self.current_snippet
        if snippet is None:
            self.editor.border_title = "Editor"
            return
        changed = " •" if self._buffer_text != snippet.code or not self.snippet_in_store else ""
        self.editor.border_title = f"Editor · {snippet.name}{changed}"

    def open_in_editor(self, code: str, snippet: Snippet | None = None, *, in_store: bool = False) -> None:
        """Replace the buffer with ``code`` as one undoable edit (ctrl+z brings the old buffer back)."""
        editor = self.editor
        editor.replace(code, (0, 0), editor.document.end)
        editor.move_cursor((0, 0))
        editor.scroll_home(animate=False)
        self._buffer_text = editor.text
        self.current_snippet = snippet
        self.snippet_in_store = in_store and snippet is not None
        self._update_editor_title()
        editor.focus()

    def action_save_snippet(self) -> None:
        """Save the buffer into its snippet; the form opens when it has none yet."""
        if not self._engine_or_say():
            return
        snippet = self.current_snippet
        if snippet is None or not self.snippet_in_store:
            self._open_save_form()
            return
        if not self.editor.text.strip():
            self.notify("The editor is empty: nothing to save.", severity="warning")
            return
        self._save_snippet(dataclasses.replace(snippet, code=self.editor.text), self.workspace.registry.list_tools())

    def action_save_snippet_as(self) -> None:
        if self._engine_or_say():
            self._open_save_form()

    def _open_save_form(self) -> None:
        from ..snippets import free_names
        from .screens.snippet_form import SnippetFormScreen

        code = self.editor.text
        if not code.strip():
            self.notify("The editor is empty: nothing to save.", severity="warning")
            return
        snippet = self.current_snippet
        declared = {param.name for param in snippet.parameters} if snippet else set()
        store = self.workspace.snippets
        tools = self.workspace.registry.list_tools()

        def save(new: Snippet, overwrite: bool) -> Snippet:  # runs on the form's worker thread
            return store.save(new, overwrite=overwrite, tools=tools)

        self.push_screen(
            SnippetFormScreen(
                code,
                save,
                snippet=snippet,
                overwrite_name=snippet.name if snippet is not None and self.snippet_in_store else None,
                candidates=free_names(code) - declared,
            ),
            self._snippet_saved,
        )

    @work(group="snippet-save", exclusive=True, exit_on_error=False, thread=True)
    def _save_snippet(self, snippet: Snippet, tools: list[ToolDefinition]) -> None:
        try:
            saved = self.workspace.snippets.save(snippet, overwrite=True, tools=tools)
        except (ValueError, OSError) as exc:
            self.call_from_thread(self.notify, str(exc), title="Snippet not saved", severity="error", markup=False)
            return
        self.call_from_thread(self._snippet_saved, saved)

    def _snippet_saved(self, saved: Snippet | None) -> None:
        if saved is None or not self.ui_alive:
            return
        self.current_snippet = saved
        self.snippet_in_store = True
        self._update_editor_title()
        count = len(saved.parameters)
        params = f" with {count} parameter{'s' if count != 1 else ''}" if count else ""
        self.notify(f"Saved the snippet {saved.name}{params}.", markup=False)

    def action_snippets(self) -> None:
        if not self._engine_or_say():
            return
        from .screens.snippets import SnippetsScreen

        workspace = self.workspace
        self.push_screen(
            SnippetsScreen(workspace.snippets, servers=workspace.servers, tools=workspace.registry.list_tools()),
            self._snippet_requested,
        )

    def action_import_skill(self) -> None:
        if not self._engine_or_say():
            return
        from .screens.snippets import SnippetRequest, ask_import

        self.push_screen(
            ask_import(), lambda snippet: self._snippet_requested(SnippetRequest("open", snippet, imported=True))
        )

    def _snippet_requested(self, request: SnippetRequest | None) -> None:
        if request is None or request.snippet is None:
            return
        snippet = request.snippet
        if request.action == "run":
            self.run_snippet(snippet)
            return
        self.open_in_editor(snippet.code, snippet, in_store=not request.imported)
        if request.imported:
            self.notify(
                f"Imported the skill {snippet.name} into the editor; ctrl+s saves it as a snippet.", markup=False
            )
        else:
            self.notify(f"Opened {snippet.name} (ctrl+z brings back the previous buffer).", markup=False)

    @on(SnippetStoreChanged)
    def _snippet_store_changed(self, message: SnippetStoreChanged) -> None:
        snippet = self.current_snippet
        if snippet is None or snippet.name != message.old:
            return
        if message.new is None:
            self.snippet_in_store = False  # deleted: ctrl+s asks for a name again
        else:
            self.current_snippet = message.new
        self._update_editor_title()

    def run_snippet(self, snippet: Snippet, code: str | None = None, what: str | None = None) -> None:
        """Run ``code`` (default: the snippet's own) after asking for the snippet's parameters, if any."""
        if self.running:
            self.notify(f"A run is already going; {self._stop_key()} stops it.", severity="warning")
            return
        code = snippet.code if code is None else code
        what = what or f"snippet {snippet.name}"
        if not snippet.parameters:
            self.start_run(code, what, snippet=snippet.name)
            return
        from .screens.run_params import RunParamsScreen

        self.push_screen(
            RunParamsScreen(f"Run {snippet.name}", snippet.parameters, snippet.description),
            partial(self._parameters_given, snippet, code, what),
        )

    def _parameters_given(self, snippet: Snippet, code: str, what: str, given: dict[str, Any] | None) -> None:
        if given is None:
            return
        try:
            values = snippet.bind(given)
        except ValueError as exc:
            self.notify(str(exc), title="Not run", severity="error", markup=False)
            return
        self.start_run(code, what, values=values, snippet=snippet.name)

    def action_run_with_parameters(self) -> None:
        """Run the editor buffer with values for its snippet's parameters."""
        if not self._engine_or_say():
            return
        snippet = self.current_snippet
        if snippet is None or not snippet.parameters:
            self.notify(
                "The editor's code has no parameters: save it as a snippet with parameters first (ctrl+s).",
                severity="warning",
            )
            return
        self.run_snippet(snippet, self.editor.text, f"{snippet.name} from the editor")

    def action_history(self) -> None:
        if not self._engine_or_say():
            return
        from .screens.history import HistoryScreen

        self.push_screen(HistoryScreen(self.workspace.history), self._history_closed)

    def _history_closed(self, record: RunRecord | None) -> None:
        if record is None:
            return
        self.open_in_editor(record.code)
        self.notify(
            f"Reopened the run of {format_started(record.started)} (ctrl+z brings back the previous buffer).",
            markup=False,
        )

    @on(TraceCallSelected)
    def _trace_selected(self, message: TraceCallSelected) -> None:
        self.push_screen(TraceCallScreen(message.record))

    def action_clear_output(self) -> None:
        if self.running:
            self.notify(f"Stop the run first ({self._stop_key()}).", severity="warning")
            return
        self.output.clear()
        self.status.elapsed = None
        self.status.tool_calls = 0

    def action_reset_sandbox(self) -> None:
        if not self._engine_or_say():
            return
        if self.running:
            self.notify(f"Stop the run first ({self._stop_key()}).", severity="warning")
            return
        self._sandbox_seen = True
        self.reset_sandbox()

    @work(group="sandbox", exclusive=True, exit_on_error=False)
    async def reset_sandbox(self) -> None:
        self.post_message(SandboxStateChanged("restarting"))
        try:
            await self.workspace.executor.restart()
        except Exception as exc:
            self.post_message(SandboxStateChanged("failed", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SandboxStateChanged("ready"))

    # -- editor buffer -------------------------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _editor_changed(self) -> None:
        self._buffer_text = self.editor.text
        if self.current_snippet is not None:
            self._update_editor_title()
        if self._buffer_timer is not None:
            self._buffer_timer.stop()
        self._buffer_timer = self.set_timer(BUFFER_SAVE_DELAY, self._save_buffer)

    def _save_buffer(self) -> None:
        text = self._buffer_text
        if text == self._last_saved_buffer:
            return
        self._last_saved_buffer = text
        self.write_file(buffer_file(), text)

    def write_file(self, path: Path, text: str) -> None:
        """Write a user file atomically on a worker thread; the newest content wins."""
        ticket = self.writer.ticket()
        self.run_worker(
            partial(self._write, path, text, ticket),
            thread=True,
            group="disk",
            exit_on_error=False,
            name=f"write {path.name}",
        )

    def _write(self, path: Path, text: str, ticket: int) -> None:
        try:
            self.writer.write(path, text, ticket)
        except OSError as exc:
            self.call_from_thread(self.notify, f"Could not save {path.name}: {exc}", severity="error", markup=False)

    def save_settings(self) -> None:
        if not self.saved.settings_writable:
            return
        settings = self.saved.settings
        settings.theme = self.theme
        settings.hidden_panes = sorted(self._hidden)
        self.write_file(paths.settings_file(), settings.to_json())

    # -- themes, panes, focus ---------------------------------------------------------------

    def _theme_changed(self, theme: Theme) -> None:
        if not self.ui_alive:
            return
        self.editor.apply_theme(self.theme_variables, self.theme_catalog.syntax_for(theme.name))
        if theme.name != self.saved.settings.theme:
            self.save_settings()

    def action_set_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name

    def action_toggle_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        if pane in self._hidden:
            self._hidden.discard(pane)
            self.screen.remove_class(f"-hide-{pane}")
            if pane == "preview":
                self.screen.add_class("-show-preview")
        else:
            narrow_preview = (
                pane == "preview" and self.screen.has_class("-narrow") and not self.screen.has_class("-show-preview")
            )
            if narrow_preview:  # hidden by the narrow layout: show it instead
                self.screen.add_class("-show-preview")
                return
            self._hidden.add(pane)
            self.screen.add_class(f"-hide-{pane}")
            self.screen.remove_class("-show-preview")
            focused = self.focused
            owner = _pane_of(focused) if focused is not None else None
            if owner is not None and owner.id == pane:
                self.editor.focus()
        self.save_settings()

    def action_maximize_pane(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        if focused is not None:
            pane = _pane_of(focused)
            if pane is not None and pane.allow_maximize:
                screen.maximize(pane, container=False)
            else:
                screen.maximize(focused, container=False)

    def action_focus_servers(self) -> None:
        self._show_and_focus("sidebar", self.server_list)

    def action_focus_search(self) -> None:
        self._show_and_focus("sidebar", self.main.query_one(ToolSearch))

    def action_focus_tools(self) -> None:
        self._show_and_focus("sidebar", self.tool_list)

    def action_focus_editor(self) -> None:
        self.editor.focus()

    def _show_and_focus(self, pane: str, widget: Widget) -> None:
        if pane in self._hidden:
            self.action_toggle_pane(pane)
        widget.focus()

    def action_insert_example(self) -> None:
        self.insert_example(self.selected_tool)

    def action_copy_preview(self) -> None:
        found = self.main.query_one(PreviewPane).copy_text()
        if not found or not found[0]:
            self.notify("Nothing to copy: highlight a tool first.", severity="warning")
            return
        text, what = found
        self.copy_to_clipboard(text)
        self.notify(f"Copied the {what}.", markup=False)

    def action_copy(self, what: str) -> None:
        tool = self.selected_tool
        if tool is None:
            self.notify("Highlight a tool first.", severity="warning")
            return
        if what == "schema":
            from .formatting import pretty_json

            text = pretty_json({"input": tool.input_schema, "output": tool.output_schema})
        else:
            preview = binding_preview(tool)
            if not preview.available:
                self.notify(preview.reason, severity="warning", markup=False)
                return
            text = preview.binding if what == "binding" else preview.example
        self.copy_to_clipboard(text)
        self.notify(f"Copied the {what}.", markup=False)

    # -- context budget -------------------------------------------------------------

    def action_context_budget(self) -> None:
        if self._engine_or_say():
            self.compute_context_cost()

    @work(group="budget", exclusive=True, exit_on_error=False, thread=True)
    def compute_context_cost(self) -> None:
        cost = self.workspace.meta.context_cost()
        self.call_from_thread(self.push_screen, ContextBudgetScreen(cost))

    # -- help and command palette ----------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_sections()))

    def _keys_for(self, binding: Binding) -> str:
        keys = self._keymap.get(binding.id, binding.key) if binding.id else binding.key
        shown = []
        for key in keys.split(","):
            shown.append(self.get_key_display(Binding(key.strip(), binding.action)))
        return " ".join(shown)

    def help_sections(self) -> list[HelpSection]:
        """Every binding of the app, its panes and its dialogs, with ids."""

        def entries(bindings: Iterable[BindingType]) -> list[HelpEntry]:
            out = []
            for binding in bindings:
                if isinstance(binding, Binding):
                    out.append(
                        HelpEntry(self._keys_for(binding), binding.description or binding.action, binding.id or "")
                    )
            return out

        # These import the engine's snippets and pydantic: not before the first frame.
        from .screens.history import HistoryScreen
        from .screens.prompt import PromptScreen
        from .screens.run_params import RunParamsScreen
        from .screens.server_form import ServerFormScreen
        from .screens.snippet_form import SnippetFormScreen
        from .screens.snippets import SnippetsScreen
        from .widgets.history_list import HistoryList
        from .widgets.snippet_list import SnippetList

        palette = Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Command palette (every action)")
        editor_keys = [
            Binding("ctrl+z", "undo", "Undo"),
            Binding("ctrl+y", "redo", "Redo"),
            Binding("ctrl+c", "copy", "Copy selection (when no run is live)"),
            Binding("ctrl+x", "cut", "Cut"),
            Binding("ctrl+v", "paste", "Paste"),
            Binding("shift+arrows", "select", "Select text"),
            Binding("tab", "indent", "Indent"),
        ]
        return [
            HelpSection("Everywhere", entries([*self.BINDINGS, palette])),
            HelpSection("Servers pane", entries(ServerList.BINDINGS)),
            HelpSection("Tool search and list", entries([*ToolSearch.BINDINGS, *ToolList.BINDINGS])),
            HelpSection("Preview", entries(PreviewPane.BINDINGS)),
            HelpSection("Editor", entries(editor_keys)),
            HelpSection("Trace", entries(TraceTable.BINDINGS)),
            HelpSection("Snippets browser", entries([*SnippetList.BINDINGS, *SnippetsScreen.BINDINGS])),
            HelpSection("Save snippet", entries(SnippetFormScreen.BINDINGS)),
            HelpSection("Parameter values", entries(RunParamsScreen.BINDINGS)),
            HelpSection("Run history", entries([*HistoryList.BINDINGS, *HistoryScreen.BINDINGS])),
            HelpSection("Rename, export, import", entries(PromptScreen.BINDINGS)),
            HelpSection("Server form", entries(ServerFormScreen.BINDINGS)),
            HelpSection("Server log", entries(ServerLogScreen.BINDINGS)),
            HelpSection("Import servers", entries(ImportServersScreen.BINDINGS)),
            HelpSection("Confirmation", entries(ConfirmScreen.BINDINGS)),
            HelpSection("Tool call", entries(TraceCallScreen.BINDINGS)),
            HelpSection("Context budget", entries(ContextBudgetScreen.BINDINGS)),
            HelpSection("This help", entries(HelpScreen.BINDINGS)),
        ]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, partial(self.run_action, action))


def _pane_of(widget: Widget) -> Widget | None:
    for node in widget.ancestors_with_self:
        if isinstance(node, Widget) and node.id in ("sidebar", "editor", "preview", "output"):
            return node
    return None


def run_app(config_path: Path | None = None) -> int:
    """Open the playground (the ``codemode-tui`` command with no sub-command)."""
    app = PlaygroundApp(config_path=config_path)
    app.run()
    return app.return_code or 0
