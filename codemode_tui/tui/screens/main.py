"""The main screen: the hub that wires the panes to the engine and to each other.

The App keeps settings, themes, the keymap and the engine load; this screen
holds what the playground is doing now (the workspace, the highlighted tool,
the live run, the sandbox state, the editor's snippet) as reactives, passes the
workspace down to the panes that own a concern (``ToolsPane``, ``ServersPane``)
with ``data_bind``, and handles the messages they post.  Its bindings, the
palette and the help come from :mod:`..keys`.  Being a screen of its own, it
reaches its widgets with ``self.query_one`` whatever dialog is on top.

The output pane runs code (through ``Workspace.run``, source ``playground``,
which records the history) and shows what it produced; this screen checks that
a run may start and keeps the run state for the bindings and the status bar.
The sandbox state is pushed by the executor's state listener, registered when
the executor is first used (a run, the warm-up or a restart).

The Agents view (``AgentsPane``, toggled over the editor and the output)
hears every run of the workspace through a run listener, whose events arrive
here as :class:`AgentEvent` messages.  "Attach to this session" sends the
editor's next runs to that agent session's sandbox (its variables), until
detached; such a run is shown in the output pane like any other.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, assert_never, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive, var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, TextArea

from ..codegen_preview import binding_preview
from ..formatting import format_started, safe
from ..keys import MAIN_BINDINGS, first_key, help_sections
from ..messages import (
    AgentEvent,
    RegistryChanged,
    RunFinished,
    RunToolCall,
    SandboxStateChanged,
    ServeChanged,
)
from ..state import buffer_file
from ..ui_types import PANES, Pane, SandboxState, ServerAction
from ..widgets.agents_pane import AgentRun, AgentsPane
from ..widgets.code_editor import CodeEditor
from ..widgets.output_pane import OutputPane
from ..widgets.preview_pane import PreviewPane
from ..widgets.servers_pane import ServersPane
from ..widgets.status_bar import StatusBar
from ..widgets.tool_list import ToolList
from ..widgets.tool_search import ToolSearch
from ..widgets.tools_pane import ToolsPane
from ..widgets.trace_table import TraceTable
from .context_budget import ContextBudgetScreen
from .help import HelpScreen
from .trace_call import TraceCallScreen

if TYPE_CHECKING:
    from ...registry import ToolDefinition
    from ...snippets import RunRecord, Snippet
    from ...workspace import Workspace
    from ..app import PlaygroundApp
    from .snippets import SnippetRequest, SnippetsScreen

# Not while a dialog is open: they open a dialog of their own, or are priority keys a dialog may want.
DIALOG_ACTIONS = frozenset(
    {
        "run",
        "run_selection",
        "context_budget",
        "save_snippet",
        "save_snippet_as",
        "snippets",
        "history",
        "run_with_parameters",
        "import_skill",
        "serve_info",
    }
)
BUFFER_SAVE_DELAY = 0.5
#: Seconds of quiet typing before the editor's code is type-checked against the bindings: a pause
#: between words, not between keys (a warm check takes about 10 ms, so the underline shows about
#: a quarter of a second after the last key; tests/bench/bench_editor.py measures it).
CHECK_DELAY = 0.22
#: Seconds a highlighted tool waits before the preview shows it: short for moving through the list,
#: longer while the search box has focus, so that the preview (whose new content lays out the
#: whole screen) waits for a pause in the typing instead of landing between two keys.
PREVIEW_DELAY = 0.08
PREVIEW_TYPING_DELAY = 0.3


class MainScreen(Screen[None]):
    """Servers and tools on the left, editor and preview in the middle, output below."""

    BINDINGS: ClassVar[list[BindingType]] = MAIN_BINDINGS

    # State, not drawing: the panes bound to it repaint themselves (a plain reactive on the
    # screen would repaint the whole screen on every change, e.g. each highlighted tool).
    workspace: reactive[Workspace | None] = var(None, init=False)
    selected_tool: reactive[ToolDefinition | None] = var(None, init=False)
    running: reactive[bool] = var(False, init=False)
    sandbox_state: reactive[SandboxState] = var("not started", init=False)

    def __init__(self) -> None:
        super().__init__()
        # The snippet the editor buffer belongs to (opened, saved or imported) and whether the store has it.
        self.current_snippet: Snippet | None = None
        self.snippet_in_store = False
        self.runs_recorded = 0
        self.run_started: float | None = None
        self._refresh_pending = False
        self._frozen = False
        self._stop_watching: Callable[[], None] | None = None
        self._buffer_timer: Timer | None = None
        self._check_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._elapsed_timer: Timer | None = None
        self._stop_agents: Callable[[], None] | None = None
        self.attached: str | None = None
        """The agent session the editor's runs go to (``None``: the playground's own sandbox)."""
        saved = self.playground.saved
        self._last_saved_buffer = saved.buffer
        self._buffer_text = saved.buffer
        self.hidden: set[Pane] = {pane for pane in PANES if pane in saved.settings.hidden_panes}

    @property
    def playground(self) -> PlaygroundApp:
        return cast("PlaygroundApp", self.app)

    # -- layout -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield ServersPane(id="servers-pane").data_bind(MainScreen.workspace)
                yield ToolsPane(id="tools-pane").data_bind(MainScreen.workspace)
            with Vertical(id="workbench"):
                with Horizontal(id="top"):
                    editor = CodeEditor.code_editor(self.playground.saved.buffer, language="python", id="editor")
                    editor.border_title = "Editor"
                    yield editor
                    yield PreviewPane(id="preview")
                yield OutputPane(id="output")
                yield AgentsPane(id="agents")
        yield StatusBar(id="status").data_bind(sandbox=MainScreen.sandbox_state, running=MainScreen.running)
        yield Footer(id="footer")

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#editor", CodeEditor)

    @property
    def output(self) -> OutputPane:
        return self.query_one(OutputPane)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def tools(self) -> ToolsPane:
        return self.query_one(ToolsPane)

    @property
    def servers(self) -> ServersPane:
        return self.query_one(ServersPane)

    @property
    def agents(self) -> AgentsPane:
        return self.query_one(AgentsPane)

    @property
    def ui_alive(self) -> bool:
        """False once the screen is going away (shutting down): late messages are dropped."""
        return self.is_attached and not self._closing

    def _engine_or_say(self) -> Workspace | None:
        """The workspace when loaded; else tell the user to wait (actions call this first)."""
        if self.workspace is None:
            self.notify("The engine is still loading; try again in a moment.", severity="warning")
        return self.workspace

    def on_mount(self) -> None:
        app = self.playground
        self.editor.apply_theme(app.theme_variables, app.theme_catalog.syntax_for(app.theme))
        for pane in self.hidden:
            self.add_class(f"-hide-{pane}")
        app.quiet_cursors(self)
        self.tools.search.focus()
        if app.engine_ready:
            self.workspace = app.workspace
        else:
            self.status.message = "loading the engine…"

    def detach(self) -> None:
        """Stop listening to the engine and write the last edit (the app is going away)."""
        workspace = self.workspace
        if workspace is not None:
            workspace.registry.remove_listener(self.registry_listener)
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None
        if self._stop_agents is not None:
            self._stop_agents()
            self._stop_agents = None
        self.flush_buffer()

    def engine_failed(self, error: str | None) -> None:
        self.status.message = "the engine did not load"
        self.notify(f"The engine did not load: {error}", title="Start-up", severity="error", markup=False)

    def watch_workspace(self, workspace: Workspace | None) -> None:
        """Wire the loaded workspace to the panes and connect."""
        if workspace is None:
            return
        self.status.message = ""
        workspace.registry.add_listener(self.registry_listener)
        # Called on the event loop (never blocks): each event becomes a message for the Agents view.
        self._stop_agents = workspace.add_run_listener(lambda event: self.post_message(AgentEvent(event)))
        self.agents.sessions_seen(workspace.agent_sessions)
        self._refresh_registry_views()
        if self.playground.connect_on_start:
            self.call_later(self.servers.connect_all)  # once the panes have the workspace (bound after this)

    def theme_changed(self) -> None:
        app = self.playground
        self.editor.apply_theme(app.theme_variables, app.theme_catalog.syntax_for(app.theme))

    # -- registry → views --------------------------------------------------------

    def registry_listener(self, server: str) -> None:
        # Called by the engine, possibly from another thread: only post a message.
        self.post_message(RegistryChanged(server))

    @on(RegistryChanged)
    def _registry_changed(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_after_refresh(self._refresh_registry_views)
        self._schedule_check()  # the bindings changed: so may the code's problems

    def _refresh_registry_views(self) -> None:
        self._refresh_pending = False
        if not self.ui_alive or self.workspace is None:
            return
        servers = self.workspace.registry.list_servers()
        self.servers.show(servers)
        self.tools.set_servers([info.name for info in servers])
        connected = sum(1 for info in servers if info.status == "connected")
        self.status.servers = f"servers {connected}/{len(servers)}"
        self.tools.refresh_tools()
        if not any(info.status == "connecting" for info in servers):
            self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        """Once no server is connecting: index the tools now, not on the next key press.

        Then freeze what start-up allocated (the engine, thousands of tool
        definitions, the index) so the collector's full passes over it do not
        pause typing; rediscovery later still frees what it replaces.
        """
        if not self.ui_alive or self.workspace is None:
            return
        self.workspace.index.sync()
        if not self._frozen:
            self._frozen = True
            gc.freeze()
            if self.playground.warm_sandbox_on_start:
                self.warm_sandbox()

    # -- tools and the preview ----------------------------------------------------------

    @on(ToolsPane.ToolChosen)
    def _tool_chosen(self, message: ToolsPane.ToolChosen) -> None:
        if message.tool is not self.selected_tool:
            self.selected_tool = message.tool
        elif self._preview_timer is not None and isinstance(self.focused, ToolSearch):
            self._schedule_preview()  # a key press that kept the best hit while one is pending: wait on

    def watch_selected_tool(self) -> None:
        self._schedule_preview()

    def _schedule_preview(self) -> None:
        """Show the selected tool in the preview once the user stops for a moment.

        While the user types, every key press (not only one that changes the
        best hit) puts the preview off: its redraw lays out the whole screen,
        which takes longer than a frame, so the list redraws alone and the
        preview catches up after.
        """
        if self._preview_timer is not None:
            self._preview_timer.stop()
        typing = isinstance(self.focused, ToolSearch)
        self._preview_timer = self.set_timer(PREVIEW_TYPING_DELAY if typing else PREVIEW_DELAY, self._update_preview)

    def _update_preview(self) -> None:
        self._preview_timer = None
        if not self.ui_alive:
            return
        preview = self.query_one(PreviewPane)
        if preview.tool is not self.selected_tool:
            preview.show_tool(self.selected_tool)

    @on(ToolList.InsertRequested)
    def _insert_requested(self, message: ToolList.InsertRequested) -> None:
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

    def action_insert_example(self) -> None:
        self.insert_example(self.selected_tool)

    def action_copy_preview(self) -> None:
        found = self.query_one(PreviewPane).copy_text()
        if not found or not found[0]:
            self.notify("Nothing to copy: highlight a tool first.", severity="warning")
            return
        text, what = found
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the {what}.", markup=False)

    def action_copy(self, what: str) -> None:
        tool = self.selected_tool
        if tool is None:
            self.notify("Highlight a tool first.", severity="warning")
            return
        if what == "schema":
            from ..formatting import pretty_json

            text = pretty_json({"input": tool.input_schema, "output": tool.output_schema})
        else:
            preview = binding_preview(tool)
            if not preview.available:
                self.notify(preview.reason, severity="warning", markup=False)
                return
            text = preview.binding if what == "binding" else preview.example
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the {what}.", markup=False)

    # -- servers -------------------------------------------------------------------

    def action_server(self, action: ServerAction, server: str | None = None) -> None:
        self.servers.request(action, server)

    def action_reconnect_all(self) -> None:
        if self._engine_or_say():
            self.servers.connect_all(reconnect=True)

    # -- running code -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return self.running or self._agent_run_to_stop() is not None
        if action in DIALOG_ACTIONS and self.app.screen is not self:
            return False  # one dialog at a time (the palette and the footer under a dialog say so too)
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

    def stop_key(self) -> str:
        """The stop key spelled out ("ctrl+c"), as remapped in settings if it was."""
        return first_key(self.app, "cancel-run")

    def start_run(
        self,
        code: str,
        what: str,
        *,
        values: dict[str, Any] | None = None,
        snippet: str | None = None,
        replay: str | None = None,
    ) -> None:
        """Run ``code`` in the sandbox; output, calls and the result arrive as messages.

        ``values`` are a snippet's parameters, set in the sandbox before ``code``
        runs; ``snippet`` names the snippet in the run history.  ``replay``: the
        history id of a recorded run whose recording answers every call (no
        server is contacted), in the playground's own sandbox.
        """
        workspace = self._engine_or_say()
        if workspace is None:
            return
        if self.running:
            self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
            return
        if replay is not None:
            self.output.replay(replay)  # posts RunStarted: the run state is set there
            return
        if not code.strip():
            self.notify("The editor is empty: insert a tool call from the tool list (Enter).", severity="warning")
            return
        if values:
            shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
            what += f" ({shown if len(shown) <= 80 else shown[:79] + '…'})"
        self._begin_run(workspace)
        errors = sum(1 for d in self.editor.diagnostics if d.severity == "error")
        if errors and self.editor.text == self._buffer_text:
            self.notify(
                f"Running despite {errors} type error{'s' if errors != 1 else ''} (underlined in the editor).",
                severity="warning",
            )
        session = self.attached
        label = f"▶ running {what}"
        if session is not None:
            label += f" in agent session {self._session_label(session)}"
        self.output.run(workspace, code, label, values=values or {}, snippet=snippet, session=session)

    def _begin_run(self, workspace: Workspace) -> None:
        """The run state of a run starting: bindings, the elapsed timer, the stop hint, the sandbox watch."""
        self.running = True
        self.run_started = time.monotonic()
        status = self.status
        status.tool_calls, status.elapsed = 0, 0.0
        status.stop_hint = f"{self.stop_key()} stops"
        self._elapsed_timer = self.set_interval(0.1, self._tick)
        self._watch_sandbox(workspace)
        self.refresh_bindings()

    @on(OutputPane.RunStarted)
    def _pane_run_started(self, message: OutputPane.RunStarted) -> None:
        """A run the output pane started itself (a replay, a dry run, a run for real) is live."""
        workspace = self.workspace
        if workspace is not None and not self.running:
            self._begin_run(workspace)

    def action_dry_run(self) -> None:
        """Run the buffer with every call that is not read-only held back, then show the effect plan."""
        if self._engine_or_say() is None:
            return
        if self.running:
            self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
            return
        self.output.dry_run(self.editor.text)

    def action_replay_edited(self) -> None:
        """Replay the buffer (an edit of a run reopened from the history) with that run's recorded reads."""
        if self._engine_or_say() is None:
            return
        if self.running:
            self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
            return
        self.output.replay_edited(self.editor.text)

    def action_problems(self) -> None:
        """List every finding of the type check; Enter moves the cursor to the chosen one."""
        from .problems import ProblemsScreen

        editor = self.editor

        def chosen(diagnostic: Any) -> None:
            if diagnostic is not None:
                editor.move_cursor((diagnostic.line - 1, max(0, diagnostic.column - 1)))
                editor.focus()

        self.app.push_screen(ProblemsScreen(list(editor.diagnostics)), chosen)

    def action_cancel_run(self) -> None:
        """Interrupt the live run (the sandbox restarts if the code ignores the interrupt).

        In the Agents view, the highlighted agent run, the same way.
        """
        workspace = self.workspace
        if workspace is None:
            return
        agent_run = self._agent_run_to_stop()
        if agent_run is not None and (not self.running or self._focus_in_agents()):
            self.stop_agent_run(agent_run)
            return
        if not self.running:
            return
        self.output.stop(workspace)

    def _focus_in_agents(self) -> bool:
        focused = self.focused
        return focused is not None and any(node is self.agents for node in focused.ancestors_with_self)

    def _agent_run_to_stop(self) -> AgentRun | None:
        """The agent run ctrl+c stops: the Agents view is shown and its highlighted run is live."""
        if not self.has_class("-show-agents") or not self.is_mounted:
            return None
        run = self.agents.current_run()
        return run if run is not None and run.result is None else None

    def stop_agent_run(self, run: AgentRun) -> None:
        workspace = self.workspace
        if workspace is None or run.result is not None:
            return
        if workspace.interrupt_session(run.session):
            self.agents.log_widget.note("■ interrupt sent")
            self.notify(f"Stopping run {run.number} of the agent session.", markup=False)
        else:
            self.notify("That run is not running any more.", severity="warning")

    def _tick(self) -> None:
        if self.running and self.run_started is not None and self.ui_alive:
            self.status.elapsed = time.monotonic() - self.run_started

    def _watch_sandbox(self, workspace: Workspace) -> None:
        """Follow the executor's state (it pushes every change); created on first use, so not before."""
        if self._stop_watching is None:
            executor = workspace.executor
            self._stop_watching = executor.add_state_listener(
                lambda state: self.post_message(SandboxStateChanged(state))  # maybe off the UI thread
            )
            self.sandbox_state = executor.state

    def warm_sandbox(self) -> None:
        """Start the sandbox in the background so the first run does not wait for it."""
        if self.workspace is not None:
            self._watch_sandbox(self.workspace)
            self._warm()

    @work(group="sandbox", exclusive=True, exit_on_error=False)
    async def _warm(self) -> None:
        assert self.workspace is not None
        try:
            await self.workspace.warm_executor()
        except Exception as exc:  # reported here; the next run tries again and says why
            self.post_message(SandboxStateChanged("failed", f"{type(exc).__name__}: {exc}"))
            return

    def action_reset_sandbox(self) -> None:
        workspace = self._engine_or_say()
        if workspace is None:
            return
        if self.running:
            self.notify(f"Stop the run first ({self.stop_key()}).", severity="warning")
            return
        self._watch_sandbox(workspace)
        self._reset_sandbox()

    @work(group="sandbox", exclusive=True, exit_on_error=False)
    async def _reset_sandbox(self) -> None:
        assert self.workspace is not None
        try:
            await self.workspace.executor.restart()
        except Exception as exc:
            self.post_message(SandboxStateChanged("failed", f"{type(exc).__name__}: {exc}"))

    @on(SandboxStateChanged)
    def _sandbox_changed(self, message: SandboxStateChanged) -> None:
        if not self.ui_alive:
            return
        self.sandbox_state = message.state
        if message.detail is not None:  # a start or restart that failed, with the reason
            self.notify(
                f"The sandbox did not start: {message.detail}",
                title="Sandbox",
                severity="error",
                markup=False,
                timeout=15,
            )

    @on(RunToolCall)
    def _run_tool_call(self) -> None:
        # Shown by the output pane first (it handles the message on the way up).
        if self.ui_alive:
            self.status.tool_calls = len(self.output.trace.records)

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        # The output pane has shown the result; the history has it (Workspace.run, or the failure path).
        self.runs_recorded += 1
        if not self.ui_alive:
            return
        self.running = False
        if self._elapsed_timer is not None:
            self._elapsed_timer.stop()
            self._elapsed_timer = None
        result = message.result
        if result is not None:
            self.status.tool_calls = len(result.trace)
            self.status.elapsed = result.duration
            if result.error is not None and result.error.type == "NameError":
                self._parameter_tip(result.error.message)
        self.refresh_bindings()

    def _parameter_tip(self, message: str) -> None:
        """A NameError on a parameter of the editor's snippet: say how to give it a value."""
        snippet = self.current_snippet
        if snippet is None:
            return
        for param in snippet.parameters:
            if f"'{param.name}'" in message:
                keys = first_key(self.app, "run-with-parameters")
                self.output.log_widget.note(
                    f"tip: {param.name} is a parameter of {snippet.name}; {keys} asks for its value"
                )
                return

    def action_clear_output(self) -> None:
        if self.running:
            self.notify(f"Stop the run first ({self.stop_key()}).", severity="warning")
            return
        self.output.clear()
        self.status.elapsed = None
        self.status.tool_calls = 0

    @on(TraceTable.CallSelected)
    def _trace_selected(self, message: TraceTable.CallSelected) -> None:
        self.app.push_screen(TraceCallScreen(message.record))

    # -- snippets and history ----------------------------------------------------------

    def _update_editor_title(self) -> None:
        snippet = self.current_snippet
        if snippet is None:
            self.editor.border_title = "Editor"
            return
        changed = " •" if self._buffer_text != snippet.code or not self.snippet_in_store else ""
        self.editor.border_title = f"Editor · {snippet.name}{changed}"

    def open_in_editor(self, code: str, snippet: Snippet | None = None, *, in_store: bool = False) -> None:
        """Replace the buffer with ``code`` as one undoable edit (ctrl+z brings the old buffer back).

        Raw control characters are dropped: an agent's code (or an imported
        snippet) could otherwise drive the terminal from inside the editor.
        """
        editor = self.editor
        editor.replace(safe(code), (0, 0), editor.document.end)
        editor.move_cursor((0, 0))
        editor.scroll_home(animate=False)
        self._buffer_text = editor.text
        self.current_snippet = snippet
        self.snippet_in_store = in_store and snippet is not None
        self._update_editor_title()
        editor.focus()

    def action_save_snippet(self) -> None:
        """Save the buffer into its snippet; the form opens when it has none yet."""
        workspace = self._engine_or_say()
        if workspace is None:
            return
        snippet = self.current_snippet
        if snippet is None or not self.snippet_in_store:
            self._open_save_form(workspace)
            return
        if not self.editor.text.strip():
            self.notify("The editor is empty: nothing to save.", severity="warning")
            return
        self._save_snippet(workspace, dataclasses.replace(snippet, code=self.editor.text))

    def action_save_snippet_as(self) -> None:
        workspace = self._engine_or_say()
        if workspace is not None:
            self._open_save_form(workspace)

    def _open_save_form(self, workspace: Workspace) -> None:
        from ...snippets import free_names
        from .snippet_form import SnippetFormScreen

        code = self.editor.text
        if not code.strip():
            self.notify("The editor is empty: nothing to save.", severity="warning")
            return
        snippet = self.current_snippet
        declared = {param.name for param in snippet.parameters} if snippet else set()
        store = workspace.snippets
        tools = workspace.registry.list_tools()

        def save(new: Snippet, overwrite: bool) -> Snippet:  # runs on the form's worker thread
            return store.save(new, overwrite=overwrite, tools=tools)

        self.app.push_screen(
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
    def _save_snippet(self, workspace: Workspace, snippet: Snippet) -> None:
        tools = workspace.registry.list_tools()
        try:
            saved = workspace.snippets.save(snippet, overwrite=True, tools=tools)
        except (ValueError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Snippet not saved", severity="error", markup=False)
            return
        self.app.call_from_thread(self._snippet_saved, saved)

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
        workspace = self._engine_or_say()
        if workspace is None:
            return
        from .snippets import SnippetsScreen

        self.app.push_screen(
            SnippetsScreen(workspace.snippets, servers=workspace.servers, tools=workspace.registry.list_tools()),
            self._snippet_requested,
        )

    def action_import_skill(self) -> None:
        if not self._engine_or_say():
            return
        from .snippets import SnippetRequest, ask_import

        self.app.push_screen(
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

    def snippet_store_changed(self, message: SnippetsScreen.StoreChanged) -> None:
        """A snippet was renamed or deleted in the browser: follow it if it is the editor's."""
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
            self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
            return
        code = snippet.code if code is None else code
        what = what or f"snippet {snippet.name}"
        if not snippet.parameters:
            self.start_run(code, what, snippet=snippet.name)
            return
        from .run_params import RunParamsScreen

        self.app.push_screen(
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
        workspace = self._engine_or_say()
        if workspace is None:
            return
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen(workspace.history, workspace=workspace), self._history_closed)

    def _history_closed(self, record: RunRecord | None) -> None:
        if record is None:
            return
        self.open_in_editor(record.code)
        self.notify(
            f"Reopened the run of {format_started(record.started)} (ctrl+z brings back the previous buffer).",
            markup=False,
        )

    # -- agents: the Agents view, serving, approvals, attaching -------------------------------

    @on(AgentEvent)
    def _agent_event(self, message: AgentEvent) -> None:
        from ...run_events import SessionChanged

        if not self.ui_alive or self.workspace is None:
            return
        event = message.event
        if isinstance(event, SessionChanged):
            self.agents.sessions_seen(self.workspace.agent_sessions)
            if event.closed and event.session == self.attached:
                self.detach_session(reason="its client went away")
        else:
            self.agents.handle(event)
        self._show_serving()

    def serve_changed(self, message: ServeChanged) -> None:
        """``--serve`` started (or failed): the status bar and the Agents view say where."""
        if message.url is None:
            self.status.serving = "not serving"
            self.agents.serving = f"Not serving agents: {message.error}"
        else:
            info = self.playground.serve_info
            self.agents.serving = f"Waiting for agents at {message.url} ({first_key(self.app, 'serve-info')}: token)"
            if info is not None:
                self.status.serving = f"serving :{info.port}"
        self.agents.sessions_seen(self.workspace.agent_sessions if self.workspace else [])
        self._show_serving()

    def _show_serving(self) -> None:
        info = self.playground.serve_info
        if info is None:
            return
        count = self.agents.live_agents()
        self.status.serving = f"serving :{info.port}, {count} agent{'s' if count != 1 else ''}"

    def approval_done(self, request: Any) -> None:
        self.agents.approval_done(request)

    def action_toggle_agents(self) -> None:
        if self.has_class("-show-agents"):
            self.remove_class("-show-agents")
            if self._focus_in_agents():
                self.editor.focus()
        else:
            self.add_class("-show-agents")
            self.agents.session_list.focus()
        self.refresh_bindings()

    def action_serve_info(self) -> None:
        from .serve_info import ServeInfoScreen

        info = self.playground.serve_info
        if info is None:
            how = "Start the playground with --serve" if not self.playground.serve_on_start else "Still starting"
            self.notify(f"Not serving agents. {how}.", severity="warning")
            return
        self.app.push_screen(ServeInfoScreen(info, agents=self.agents.live_agents()))

    @on(AgentsPane.ActionRequested)
    def _agent_action(self, message: AgentsPane.ActionRequested) -> None:
        run, session = message.run, message.session
        match message.action:
            case "stop":
                if run is None or run.result is not None:
                    self.notify("The highlighted run is not running.", severity="warning")
                else:
                    self.stop_agent_run(run)
            case "open":
                if run is None:
                    self.notify("Highlight a run first.", severity="warning")
                    return
                self.open_in_editor(run.code)
                self._hide_agents()
                self.notify(f"Opened run {run.number} of the agent session (ctrl+z brings back the buffer).")
            case "attach":
                if session is not None:
                    self.attach_session(session)
            case "rerun":
                if run is None:
                    self.notify("Highlight a run first.", severity="warning")
                    return
                self.rerun_agent_run(run)
            case "replay":
                if run is None or run.history_id is None:
                    self.notify("Highlight a finished run first: a run is replayed from its recording.")
                    return
                if self.running:
                    self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
                    return
                self.start_run(run.code, f"run {run.number} of agent session", replay=run.history_id)
                self._hide_agents()
            case _:
                assert_never(message.action)

    def _hide_agents(self) -> None:
        if self.has_class("-show-agents"):
            self.action_toggle_agents()

    def _session_label(self, session: str) -> str:
        view = self.agents.views.get(session)
        if view is None:
            return session[:8]
        return f"{view.number}" + (f" ({view.client})" if view.client else "")

    def attach_session(self, session: str) -> None:
        """The editor's next runs go to ``session``'s sandbox, with the variables its runs defined."""
        view = self.agents.views.get(session)
        if view is not None and view.closed:
            self.notify("That session has ended: its sandbox is gone.", severity="warning")
            return
        if self.running:
            self.notify(f"Stop the run first ({self.stop_key()}).", severity="warning")
            return
        self.attached = session
        self.status.attached = f"attached to agent {self._session_label(session)}"
        self._hide_agents()
        self.notify(
            f"The editor's runs now go to agent session {self._session_label(session)}'s sandbox; "
            "'Detach from agent session' (palette) ends it.",
            markup=False,
        )

    def detach_session(self, *, reason: str = "") -> None:
        if self.attached is None:
            return
        self.attached = None
        self.status.attached = ""
        self.notify("Detached: the editor's runs go to the playground's sandbox" + (f" ({reason})." if reason else "."))

    def action_detach_session(self) -> None:
        if self.attached is None:
            self.notify("The editor is not attached to an agent session.", severity="warning")
            return
        if self.running:
            self.notify(f"Stop the run first ({self.stop_key()}).", severity="warning")
            return
        self.detach_session()

    def rerun_agent_run(self, run: AgentRun) -> None:
        """Run an agent run's code again, in its session's sandbox while it lives (else the playground's)."""
        view = self.agents.views.get(run.session or "")
        live = view is not None and not view.closed
        if self.running:
            self.notify(f"A run is already going; {self.stop_key()} stops it.", severity="warning")
            return
        before = self.attached
        self.attached = run.session if live else before
        try:
            self.start_run(run.code, f"run {run.number} of agent session {self._session_label(run.session or '')}")
        finally:
            self.attached = before
        self._hide_agents()

    # -- editor buffer -------------------------------------------------------------------

    @on(TextArea.Changed, "#editor")
    def _editor_changed(self) -> None:
        self._buffer_text = self.editor.text
        if self.current_snippet is not None:
            self._update_editor_title()
        if self._buffer_timer is not None:
            self._buffer_timer.stop()
        self._buffer_timer = self.set_timer(BUFFER_SAVE_DELAY, self._save_buffer)
        self._schedule_check()

    # -- type check as you type ----------------------------------------------------------

    def _schedule_check(self) -> None:
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY, self._check_buffer)

    def _check_buffer(self) -> None:
        """Type-check the buffer against the bindings in a worker (a newer check replaces an older one)."""
        from ...check.diagnostic import uses_bindings  # the engine loads after the first frame

        text = self.editor.text
        workspace = self.workspace
        # Only code that uses the bindings is checked, and only once some exist: while servers
        # connect, every import would be an "unresolved module".
        if workspace is None or not uses_bindings(text) or not workspace.registry.list_tools():
            if self.editor.diagnostics:
                self._show_diagnostics([])
            return
        self._run_check(workspace, text)

    @work(group="check", exclusive=True, exit_on_error=False)
    async def _run_check(self, workspace: Workspace, text: str) -> None:
        try:
            found = await workspace.check(text)  # names earlier runs defined are known
        except Exception as exc:  # no checker here, or it failed: the editor keeps working unchecked
            self.status.message = f"type check unavailable: {exc}"
            return
        if self.editor.text == text:  # the buffer moved on: a newer check is on its way
            self._show_diagnostics(found)

    def _show_diagnostics(self, found: list[Any]) -> None:
        self.editor.show_diagnostics(found)
        errors = sum(1 for d in found if d.severity == "error")
        self.status.problems = (errors, len(found) - errors)
        self._show_diagnostic_at_cursor()

    @on(TextArea.SelectionChanged, "#editor")
    def _show_diagnostic_at_cursor(self) -> None:
        """The message of the finding on the cursor's line, under the editor."""
        here = self.editor.diagnostics_at(self.editor.cursor_location[0])
        self.editor.border_subtitle = f"{here[0].severity}: {here[0].message}" if here else ""

    def _save_buffer(self) -> None:
        text = self._buffer_text
        if text == self._last_saved_buffer:
            return
        self._last_saved_buffer = text
        self.playground.write_file(buffer_file(), text)

    def flush_buffer(self) -> None:
        """Write the last edit now (on this thread): the app is going away."""
        text = self._buffer_text
        if text != self._last_saved_buffer:
            writer = self.playground.writer
            writer.write(buffer_file(), text, writer.ticket())

    # -- panes and focus ---------------------------------------------------------------

    def action_toggle_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        name = cast("Pane", pane)
        if name in self.hidden:
            self.hidden.discard(name)
            self.remove_class(f"-hide-{name}")
            if name == "preview":
                self.add_class("-show-preview")
        else:
            if name == "preview" and self.has_class("-narrow") and not self.has_class("-show-preview"):
                self.add_class("-show-preview")  # hidden by the narrow layout: show it instead
                return
            self.hidden.add(name)
            self.add_class(f"-hide-{name}")
            self.remove_class("-show-preview")
            focused = self.focused
            owner = _pane_of(focused) if focused is not None else None
            if owner is not None and owner.id == name:
                self.editor.focus()
        self.playground.save_settings()

    def action_maximize_pane(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is not None:
            pane = _pane_of(focused)
            if pane is not None and pane.allow_maximize:
                self.maximize(pane, container=False)
            else:
                self.maximize(focused, container=False)

    def action_focus_servers(self) -> None:
        self._show_and_focus("sidebar", self.servers.server_list)

    def action_focus_search(self) -> None:
        self._show_and_focus("sidebar", self.tools.search)

    def action_focus_tools(self) -> None:
        self._show_and_focus("sidebar", self.tools.tool_list)

    def action_focus_editor(self) -> None:
        self.editor.focus()

    def _show_and_focus(self, pane: Pane, widget: Widget) -> None:
        if pane in self.hidden:
            self.action_toggle_pane(pane)
        widget.focus()

    # -- context budget and help -----------------------------------------------------

    def action_context_budget(self) -> None:
        workspace = self._engine_or_say()
        if workspace is not None:
            self._compute_context_cost(workspace)

    @work(group="budget", exclusive=True, exit_on_error=False, thread=True)
    def _compute_context_cost(self, workspace: Workspace) -> None:
        cost = workspace.meta.context_cost()
        self.app.call_from_thread(self.app.push_screen, ContextBudgetScreen(cost))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(help_sections(self.app)))


def _pane_of(widget: Widget) -> Widget | None:
    for node in widget.ancestors_with_self:
        if isinstance(node, Widget) and node.id in ("sidebar", "editor", "preview", "output", "agents"):
            return node
    return None
