"""Every command of the main screen, once: its key, footer label, palette entry and help line.

``COMMANDS`` is the one source: the main screen's ``BINDINGS`` (so the
footer and the keymap ids), the command palette and the F1 help screen are
all built from it, so a key, a label or an action cannot drift between them.
The order is the footer's and the help's (Help first); commands without a key
are offered by the palette only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

from .screens.help import HelpEntry, HelpSection

if TYPE_CHECKING:
    from textual.app import App

DEFAULT_THEME = "codemode-dark"
LIGHT_THEME = "codemode-light"


@dataclass(frozen=True)
class Command:
    """One action of the main screen: how the palette names it and, if it has one, its key."""

    action: str
    title: str
    help: str
    key: str | None = None
    id: str | None = None
    label: str = ""
    tooltip: str = ""
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        assert self.key is not None
        return Binding(
            self.key,
            self.action,
            self.label or self.title,
            id=self.id,
            show=self.show,
            priority=self.priority,
            tooltip=self.tooltip or self.help,
        )


COMMANDS: list[Command] = [
    Command("help", "Help", "Every key binding", "f1", "help", "Help"),
    Command(
        "run",
        "Run",
        "Run the whole editor buffer in the sandbox",
        "f5,ctrl+r",
        "run",
        "Run",
        "Run the editor buffer in the sandbox",
    ),
    Command(
        "run_selection",
        "Run selection",
        "Run only the selected code",
        "f6",
        "run-selection",
        "Run sel.",
        "Run the selected code",
        show=False,
        priority=True,  # TextArea's F6 is "select line" (alt+l in the editor); running the selection matters more
    ),
    Command(
        "cancel_run",
        "Stop the run",
        "Interrupt the running code",
        "ctrl+c",
        "cancel-run",
        "Stop",
        "Stop the running code",
        priority=True,  # only while a run is live (check_action): otherwise ctrl+c copies
    ),
    Command(
        "run_with_parameters",
        "Run with parameters",
        "Ask for the parameters of the editor's snippet, then run it",
        "shift+f5",
        "run-with-parameters",
        "Run with params",
        "Ask for the snippet's parameters, then run",
        show=False,
    ),
    Command(
        "dry_run",
        "Dry run",
        "Run the buffer with every call that is not read-only held back, then show the effect plan",
        "shift+f6",
        "dry-run",
        "Dry run",
        "Hold back every write; show the effect plan first",
        show=False,
    ),
    Command(
        "replay_edited",
        "Replay with recorded reads",
        "Run the buffer (an edit of a run reopened from the history) with that run's recorded reads; "
        "writes go live, asking the policy",
        "shift+f8",
        "replay-edited",
        "Replay edit",
        "The edited run, reads from its recording",
        show=False,
    ),
    Command(
        "problems",
        "Problems",
        "Every finding of the type check in the buffer; Enter goes to it",
        "alt+p",
        "problems",
        "Problems",
        "The type check's findings; Enter goes to one",
        show=False,
    ),
    Command(
        "save_snippet",
        "Save snippet",
        "Save the editor buffer as a snippet (the form opens for a new one)",
        "ctrl+s",
        "save-snippet",
        "Save",
        "Save the buffer as a snippet",
    ),
    Command(
        "save_snippet_as",
        "Save snippet as",
        "Save the editor buffer under a new name, description and parameters",
        "f12",
        "save-snippet-as",
        "Save as",
        "Save as a new snippet",
        show=False,
    ),
    Command(
        "snippets",
        "Snippets",
        "Browse saved snippets: open, run, rename, delete, export as a skill, import",
        "ctrl+o",
        "snippets",
        "Snippets",
        "Browse, run and export saved snippets",
    ),
    Command(
        "history",
        "Run history",
        "Past runs, newest first; reopen one's code in the editor",
        "ctrl+g",
        "history",
        "History",
        "Past runs; reopen one's code",
    ),
    Command(
        "focus_servers",
        "Focus servers",
        "Move to the servers pane",
        "f2",
        "focus-servers",
        "Servers",
        "Go to the servers pane",
        show=False,
    ),
    Command(
        "focus_search",
        "Focus search",
        "Move to the tool search box",
        "f3",
        "focus-search",
        "Search",
        "Go to the tool search",
        show=False,
    ),
    Command(
        "focus_editor",
        "Focus editor",
        "Move to the code editor",
        "f4",
        "focus-editor",
        "Editor",
        "Go to the editor",
        show=False,
    ),
    Command(
        "toggle_pane('sidebar')",
        "Toggle sidebar",
        "Show or hide the servers and tools",
        "ctrl+b",
        "toggle-sidebar",
        "Sidebar",
        "Show or hide servers and tools",
        show=False,
    ),
    Command(
        "toggle_pane('preview')",
        "Toggle preview",
        "Show or hide the preview tabs",
        "f8",
        "toggle-preview",
        "Preview",
        "Show or hide the preview",
        show=False,
    ),
    Command(
        "toggle_pane('output')",
        "Toggle output",
        "Show or hide the output tabs",
        "f9",
        "toggle-output",
        "Output",
        "Show or hide the output",
        show=False,
    ),
    Command(
        "maximize_pane",
        "Maximise pane",
        "Fill the screen with the focused pane (again to restore)",
        "f10",
        "maximize",
        "Maximise",
        "Maximise the focused pane, or restore",
        show=False,
    ),
    Command(
        "clear_output",
        "Clear output",
        "Empty the output, result, error and trace tabs",
        "ctrl+l",
        "clear-output",
        "Clear output",
        "Clear output, result, error, trace",
        show=False,
    ),
    Command(
        "context_budget",
        "Context budget",
        "Tokens every tool definition takes in context versus Code Mode's meta-tools",
        "f7",
        "context-budget",
        "Budget",
        "Tokens of all tool definitions vs Code Mode",
        show=False,
        priority=True,  # TextArea's F7 is "select all" (ctrl+a in the editor)
    ),
    Command(
        "toggle_agents",
        "Agents",
        "Show or hide the Agents view: connected sessions and their runs, live",
        "ctrl+t",
        "toggle-agents",
        "Agents",
        "Agents connected to --serve, and their runs",
        show=False,
    ),
    Command(
        "serve_info",
        "Serve info",
        "Where agents connect (--serve): the URL, the token and client config snippets to copy",
        "ctrl+n",
        "serve-info",
        "Serve info",
        "URL, token and client config for agents",
        show=False,
    ),
    # The palette only:
    Command(
        "detach_session",
        "Detach from agent session",
        "The editor's runs go back to the playground's own sandbox",
    ),
    Command(
        "import_skill", "Import skill", "Open an agent skill folder (SKILL.md + scripts/) in the editor as a snippet"
    ),
    Command("reset_sandbox", "Restart sandbox", "A fresh sandbox: variables from earlier runs are dropped"),
    Command("insert_example", "Insert example call", "Insert the highlighted tool's example call at the cursor"),
    Command("copy('example call')", "Copy example call", "Copy the highlighted tool's import line and example call"),
    Command("copy('binding')", "Copy binding", "Copy the highlighted tool's generated binding source"),
    Command("copy('schema')", "Copy schema", "Copy the highlighted tool's JSON Schema"),
    Command("server('add')", "Add server", "Add an MCP server (stdio, HTTP or SSE)"),
    Command("server('edit')", "Edit server", "Edit the highlighted server"),
    Command("server('delete')", "Delete server", "Delete the highlighted server (asks first)"),
    Command("server('toggle')", "Enable or disable server", "Toggle the highlighted server"),
    Command("server('reconnect')", "Reconnect server", "Restart the highlighted server's session"),
    Command("server('log')", "Server log", "Status, failure reason and stderr of the highlighted server"),
    Command("server('import')", "Import servers", "Merge servers from an mcpServers JSON file"),
    Command("server('policy')", "Server tool policy", "Which tools of the highlighted server run, ask or are refused"),
    Command("reconnect_all", "Reconnect all servers", "Connect every enabled server again"),
    Command("focus_tools", "Focus tools", "Move to the tool list"),
    Command("app.set_theme('codemode-light')", "Light theme", f"Switch to {LIGHT_THEME}"),
    Command("app.set_theme('codemode-dark')", "Dark theme", f"Switch to {DEFAULT_THEME}"),
]

#: The main screen's bindings, in footer order.
MAIN_BINDINGS: list[BindingType] = [command.binding() for command in COMMANDS if command.key]

#: What the command palette offers: (title, help, action on the main screen).
PALETTE: list[tuple[str, str, str]] = [(command.title, command.help, command.action) for command in COMMANDS]


def key_display(app: App[Any], binding: Binding) -> str:
    """The keys of ``binding`` as the user sees them, as remapped in settings if they were."""
    keys = app._keymap.get(binding.id, binding.key) if binding.id else binding.key
    return " ".join(app.get_key_display(Binding(key.strip(), binding.action)) for key in keys.split(","))


def first_key(app: App[Any], binding_id: str) -> str:
    """The first key of a main-screen binding spelled out ("ctrl+c"), as remapped if it was."""
    default = next((c.key for c in COMMANDS if c.id == binding_id), "") or ""
    return app._keymap.get(binding_id, default).split(",")[0].strip()


def _entries(app: App[Any], bindings: Iterable[BindingType]) -> list[HelpEntry]:
    return [
        HelpEntry(key_display(app, binding), binding.description or binding.action, binding.id or "")
        for binding in bindings
        if isinstance(binding, Binding)
    ]


def help_sections(app: App[Any]) -> list[HelpSection]:
    """Every binding of the main screen, its panes and its dialogs, with ids."""
    # These import the engine's snippets and pydantic: not before the first frame.
    from .screens.approval import ApprovalScreen
    from .screens.confirm import ConfirmScreen
    from .screens.context_budget import ContextBudgetScreen
    from .screens.effect_plan import EffectPlanScreen
    from .screens.help import HelpScreen
    from .screens.history import HistoryScreen
    from .screens.import_servers import ImportServersScreen
    from .screens.policy import PolicyScreen
    from .screens.problems import ProblemsScreen
    from .screens.prompt import PromptScreen
    from .screens.run_diff import RunDiffScreen
    from .screens.run_params import RunParamsScreen
    from .screens.serve_info import ServeInfoScreen
    from .screens.server_form import ServerFormScreen
    from .screens.server_log import ServerLogScreen
    from .screens.snippet_form import SnippetFormScreen
    from .screens.snippets import SnippetsScreen
    from .screens.trace_call import TraceCallScreen
    from .widgets.agent_trace import AgentTrace
    from .widgets.agents_pane import AgentsPane
    from .widgets.code_editor import CodeEditor
    from .widgets.history_list import HistoryList
    from .widgets.preview_pane import PreviewPane
    from .widgets.server_list import ServerList
    from .widgets.snippet_list import SnippetList
    from .widgets.tool_list import ToolList
    from .widgets.tool_search import ToolSearch
    from .widgets.trace_table import TraceTable

    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Command palette (every action)")
    main_ids = {binding.id for binding in MAIN_BINDINGS if isinstance(binding, Binding)}
    app_only = [b for b in type(app).BINDINGS if isinstance(b, Binding) and b.id not in main_ids]
    editor = _entries(app, CodeEditor.BINDINGS) + [HelpEntry(keys, what) for keys, what in CodeEditor.HELP_EXTRA]
    return [
        HelpSection("Everywhere", _entries(app, [*MAIN_BINDINGS, *app_only, palette])),
        HelpSection("Servers pane", _entries(app, ServerList.BINDINGS)),
        HelpSection("Tool search and list", _entries(app, [*ToolSearch.BINDINGS, *ToolList.BINDINGS])),
        HelpSection("Preview", _entries(app, PreviewPane.BINDINGS)),
        HelpSection("Editor", editor),
        HelpSection("Trace", _entries(app, TraceTable.BINDINGS)),
        HelpSection("Agents view", _entries(app, [*AgentsPane.BINDINGS, *AgentTrace.BINDINGS])),
        HelpSection("Approve a tool call", _entries(app, ApprovalScreen.BINDINGS)),
        HelpSection("Serve info", _entries(app, ServeInfoScreen.BINDINGS)),
        HelpSection("Snippets browser", _entries(app, [*SnippetList.BINDINGS, *SnippetsScreen.BINDINGS])),
        HelpSection("Save snippet", _entries(app, SnippetFormScreen.BINDINGS)),
        HelpSection("Parameter values", _entries(app, RunParamsScreen.BINDINGS)),
        HelpSection("Run history", _entries(app, [*HistoryList.BINDINGS, *HistoryScreen.BINDINGS])),
        HelpSection("Effect plan", _entries(app, EffectPlanScreen.BINDINGS)),
        HelpSection("Compare runs", _entries(app, RunDiffScreen.BINDINGS)),
        HelpSection("Problems", _entries(app, ProblemsScreen.BINDINGS)),
        HelpSection("Tool policy", _entries(app, PolicyScreen.BINDINGS)),
        HelpSection("Rename, export, import", _entries(app, PromptScreen.BINDINGS)),
        HelpSection("Server form", _entries(app, ServerFormScreen.BINDINGS)),
        HelpSection("Server log", _entries(app, ServerLogScreen.BINDINGS)),
        HelpSection("Import servers", _entries(app, ImportServersScreen.BINDINGS)),
        HelpSection("Confirmation", _entries(app, ConfirmScreen.BINDINGS)),
        HelpSection("Tool call", _entries(app, TraceCallScreen.BINDINGS)),
        HelpSection("Context budget", _entries(app, ContextBudgetScreen.BINDINGS)),
        HelpSection("This help", _entries(app, HelpScreen.BINDINGS)),
    ]
