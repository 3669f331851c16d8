"""The playground app: settings, themes, the keymap, the engine load and the main screen.

The App keeps what outlives any screen: the saved settings and themes, the
keymap, the file writer, and the :class:`~codemode_tui.workspace.Workspace`
once loaded.  Everything the user works with lives on :class:`MainScreen`, the
default screen, and the panes it composes; dialogs are pushed on top of it.

The engine (the MCP SDK, the code generator, the executor) takes longer to
import than the whole UI, so this module imports none of it: the first frame
is painted, then a worker builds the Workspace and hands it to the main screen.

The App also holds what the person attached to the engine provides for every
run, theirs and agents': the tool policy (loaded from ``--policy`` or
``policy.json`` in the config folder) and the approver that answers its
``ask`` with a dialog, one at a time (``approvals.py``).  With ``--serve`` it
serves the meta-tools over streamable HTTP on loopback, in the app's own event
loop (``serving.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Iterable
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme

from .. import paths
from .approvals import ApprovalDesk
from .keys import DEFAULT_THEME, PALETTE, help_sections
from .messages import ServeChanged, WorkspaceLoaded
from .screens.help import HelpSection
from .screens.main import MainScreen
from .serving import serve_agents
from .state import LatestWriter, LoadedState, load_state
from .themes import ThemeCatalog, load_themes

if TYPE_CHECKING:  # the engine is imported by a worker after the first frame
    from ..executor.policy import Approval, ApprovalRequest
    from ..workspace import Workspace
    from .screens.serve_info import ServeInfo
    from .screens.snippets import SnippetsScreen


class WorkspaceLoading(RuntimeError, AttributeError):
    """``app.workspace`` before the engine has loaded (an AttributeError too: ``getattr(app, "workspace", None)``)."""


class PlaygroundApp(App[None]):
    """Explore MCP servers, preview bindings and run Code Mode snippets."""

    TITLE = "codemode-tui"
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).parent / "app.tcss",
        Path(__file__).parent / "completion.tcss",  # the editor's popup and hint, on the screen's overlay
        # The dialogs' styles (their screens name the same file): parsed once at start, not when an
        # approval dialog first opens while a run waits on it.
        Path(__file__).parent / "screens" / "dialogs.tcss",
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (declared by App)
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, show=False, tooltip="Quit the playground"),
        # The main screen's stop key (same id: remapped with it), also under a dialog, where the screen's
        # own bindings do not reach.
        Binding(
            "ctrl+c",
            "stop_under_dialog",
            "Stop",
            id="cancel-run",
            priority=True,
            show=False,
            tooltip="Stop the running code while a dialog is open",
        ),
    ]

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        config_path: Path | None = None,
        connect: bool = True,
        cursor_blink: bool = True,
        warm_sandbox: bool = True,
        serve: bool = False,
        serve_port: int | None = None,
        policy_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.serve_on_start = serve
        self.serve_port = serve_port
        self.policy_file = policy_path
        self.serve_info: ServeInfo | None = None
        """Where ``--serve`` listens, once it does."""
        self._stop_serving: asyncio.Event | None = None
        self.approvals = ApprovalDesk(self)
        self._workspace: Workspace | None = workspace  # built by a worker after the first frame when not given
        self.config_path = config_path
        self.connect_on_start = connect
        self.warm_sandbox_on_start = warm_sandbox
        self.cursor_blink = cursor_blink
        # Start-up reads happen here, before the first frame; later writes go to worker threads.
        self.saved: LoadedState = load_state()
        self.theme_catalog: ThemeCatalog = load_themes()
        self.writer = LatestWriter()
        self.main_screen: MainScreen | None = None
        for item in self.theme_catalog.themes:
            self.register_theme(item.theme)
        wanted = self.saved.settings.theme or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        if self.saved.settings.keymap:
            self.set_keymap(self.saved.settings.keymap)

    def get_default_screen(self) -> MainScreen:
        self.main_screen = MainScreen()
        return self.main_screen

    @property
    def hub(self) -> MainScreen:
        """The main screen, whatever dialog is on top of it."""
        if self.main_screen is None:
            raise RuntimeError("the main screen is not up yet")
        return self.main_screen

    @property
    def workspace(self) -> Workspace:
        """The engine façade; only there once loaded (see :attr:`engine_ready`)."""
        if self._workspace is None:
            raise WorkspaceLoading("the workspace is still loading")
        return self._workspace

    @property
    def engine_ready(self) -> bool:
        return self._workspace is not None

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self._workspace is not None:
            self._attach_workspace()
        else:
            self._report_start_problems()
            self.call_after_refresh(self._load_workspace)  # after the first frame is on screen

    @work(group="engine", exclusive=True, exit_on_error=False, thread=True)
    def _load_workspace(self) -> None:
        """Import the engine and read the servers file off the UI thread."""
        try:
            from ..workspace import Workspace

            workspace = Workspace(self.config_path)
            # Every saved server's tools from the last discovery: listed at once, while the servers connect.
            workspace.load_cached_tools()
            importlib.import_module("codemode_tui.codegen.preview")  # warm: the first preview must not wait
            importlib.import_module("codemode_tui.tui.screens.approval")  # nor the first approval
        except Exception as exc:  # shown to the user: the UI stays up to say why
            self.post_message(WorkspaceLoaded(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(WorkspaceLoaded(workspace))

    @on(WorkspaceLoaded)
    def _workspace_loaded(self, message: WorkspaceLoaded) -> None:
        hub = self.main_screen
        if hub is None or not hub.ui_alive:
            return
        if message.workspace is None:
            hub.engine_failed(message.error)
            return
        self._workspace = message.workspace
        self._attach_workspace(reported=True)

    def _attach_workspace(self, *, reported: bool = False) -> None:
        """Hand the loaded workspace to the main screen and report its problems."""
        workspace = self.workspace
        # Servers-file saves run on a worker thread, each applied to the file as it is then.
        workspace.run_save = partial(self.run_worker, thread=True, group="disk", exit_on_error=False, name="save")
        workspace.on_save_error = lambda exc: self.call_from_thread(
            self.notify, str(exc), title="Servers file not saved", severity="error", markup=False
        )
        self._apply_policy(workspace)
        if self.hub.is_mounted:  # else the main screen takes it when it mounts
            self.hub.workspace = workspace
        self._report_start_problems(skip_files=reported)
        if self.serve_on_start and self._stop_serving is None:
            self._stop_serving = asyncio.Event()
            self._serve(workspace, self._stop_serving)

    # -- the tool policy and approvals -----------------------------------------------------

    def _apply_policy(self, workspace: Workspace) -> None:
        """Every run's calls pass the policy; "ask" is this app's dialog (a workspace given one keeps it)."""
        from ..executor.policy import PolicyError, ToolPolicy

        if workspace.policy is None:
            path = self.policy_file or paths.config_dir() / "policy.json"
            try:
                workspace.policy = ToolPolicy.load(path)
                workspace.policy_path = path  # "always allow" is saved there
            except PolicyError as exc:  # the defaults hold, and the broken file is not overwritten
                workspace.policy = ToolPolicy()
                self.notify(
                    f"{exc}\nThe default policy applies: read-only tools run, destructive ones ask.",
                    title="Policy file not used",
                    severity="warning",
                    timeout=15,
                    markup=False,
                )
        if workspace.approver is None:
            workspace.approver = self.approve

    async def approve(self, request: ApprovalRequest) -> Approval:
        """Ask the person about ``request`` in a dialog (queued: one at a time, in the order asked)."""
        return await self.approvals.approve(request)

    @property
    def approvals_waiting(self) -> int:
        """Calls waiting for a person's answer."""
        return self.approvals.waiting

    # -- serving agents (--serve) ------------------------------------------------------------

    @work(group="serve", exclusive=True, exit_on_error=False)
    async def _serve(self, workspace: Workspace, stop: asyncio.Event) -> None:
        """Serve the meta-tools over streamable HTTP on loopback until the app closes."""

        def started(info: ServeInfo) -> None:
            self.serve_info = info

        await serve_agents(workspace, port=self.serve_port, stop=stop, started=started, changed=self.post_message)

    @on(ServeChanged)
    def _serve_changed(self, message: ServeChanged) -> None:
        hub = self.main_screen
        if hub is not None and hub.ui_alive:
            hub.serve_changed(message)
        if message.error is not None:
            self.notify(message.error, title="Not serving agents", severity="error", timeout=15, markup=False)

    async def stop_serving(self) -> None:
        """Stop the HTTP server (the app is closing)."""
        if self._stop_serving is not None:
            self._stop_serving.set()
            for worker in self.workers:
                if worker.group == "serve":
                    with contextlib.suppress(Exception):
                        await worker.wait()

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

    def quiet_cursors(self, screen: Screen[Any]) -> None:
        """Steady cursors when asked (snapshots must not depend on the blink phase)."""
        if not self.cursor_blink:
            for widget in screen.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().push_screen(screen, *args, **kwargs)
        if not self.cursor_blink and isinstance(screen, Screen):
            self.call_after_refresh(self.quiet_cursors, screen)
        return result

    async def on_unmount(self) -> None:
        await self.stop_serving()
        if self.main_screen is not None:
            self.main_screen.detach()
        workspace = self._workspace
        if workspace is not None:
            await workspace.close()

    def on_snippets_screen_store_changed(self, message: SnippetsScreen.StoreChanged) -> None:
        # Posted by the snippets browser, a dialog over the main screen (not imported before the first frame).
        if self.main_screen is not None:
            self.main_screen.snippet_store_changed(message)

    # -- user files --------------------------------------------------------------------

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
        """Write the theme and the hidden panes to the settings file (unless it could not be read)."""
        if not self.saved.settings_writable:
            return
        settings = self.saved.settings
        settings.theme = self.theme
        if self.main_screen is not None:
            settings.hidden_panes = sorted(self.main_screen.hidden)
        self.write_file(paths.settings_file(), settings.to_json())

    # -- themes, help and the command palette ------------------------------------------------

    def _theme_changed(self, theme: Theme) -> None:
        hub = self.main_screen
        if hub is None or not hub.ui_alive:
            return
        hub.theme_changed()
        if theme.name != self.saved.settings.theme:
            self.save_settings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_under_dialog":
            hub = self.main_screen
            asking = self.approvals.asking_session()
            return hub is not None and self.screen is not hub and (hub.running or asking is not None)
        return True

    def action_stop_under_dialog(self) -> None:
        session = self.approvals.asking_session()
        if session is not None and self._workspace is not None:
            self._workspace.interrupt_session(session)
        elif self.main_screen is not None:
            self.main_screen.action_cancel_run()

    def action_set_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name

    def help_sections(self) -> list[HelpSection]:
        """Every binding of the main screen, its panes and its dialogs, with ids."""
        return help_sections(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.main_screen is None or screen is not self.main_screen:
            return  # the main screen's commands, not over a dialog (one dialog at a time)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, partial(self.main_screen.run_action, action))


def run_app(
    config_path: Path | None = None,
    *,
    serve: bool = False,
    port: int | None = None,
    policy: Path | None = None,
) -> int:
    """Open the playground (the ``codemode-tui`` command with no sub-command).

    ``serve`` also serves the meta-tools over streamable HTTP on loopback (``port``, else a free
    one) so agents can be watched while they work; ``policy`` is the tool policy file (else
    ``policy.json`` in the config folder).
    """
    app = PlaygroundApp(config_path=config_path, serve=serve, serve_port=port, policy_path=policy)
    app.run()
    return app.return_code or 0
