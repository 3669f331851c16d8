"""The snippets browser: search saved snippets, open, run, rename, delete, export or import one.

The screen owns its list: it reads the store, renames, deletes and exports in
worker threads (all disk work) and refreshes itself.  What changes the editor
or starts a run (open, run, import) goes back to the main screen as the dismiss result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ...snippets import Snippet, SnippetStore, export_skill, import_skill
from ..widgets.code_view import CodeView
from ..widgets.snippet_list import SnippetList
from .confirm import ConfirmScreen
from .prompt import PromptScreen

if TYPE_CHECKING:
    from ...config import MCPServerConfig
    from ...registry import ToolDefinition

DEFAULT_EXPORT_FOLDER = "skills"
EMPTY_HINT = "No snippets yet. Write code in the editor and press ctrl+s to save it, or i to import a skill folder."


@dataclass
class SnippetRequest:
    """What the browser asks the App to do when it closes: ``open`` or ``run`` ``snippet``."""

    action: str
    snippet: Snippet | None
    imported: bool = False


def matches(snippet: Snippet, query: str) -> bool:
    """Every word of ``query`` in the name, description, tools or code (as ``SnippetStore.search``)."""
    text = f"{snippet.name} {snippet.description} {' '.join(snippet.tools)} {snippet.code}".lower()
    return all(word in text for word in query.lower().split())


def _import(folder: str, _option: bool) -> Snippet:
    return import_skill(Path(folder).expanduser())


def ask_import() -> PromptScreen[Snippet]:
    """The dialog that reads a skill folder back as an (unsaved) snippet."""
    return PromptScreen(
        "Import a skill folder",
        "A folder with SKILL.md and scripts/ (as exported here, or from another tool). "
        "It opens in the editor; ctrl+s saves it as a snippet.",
        _import,
        placeholder="path/to/skill-folder",
        action="Import",
    )


def describe(snippet: Snippet) -> Content:
    """The browser's detail header: description, parameters, tools and servers."""
    parts: list[Content] = [
        Content.styled(snippet.name, "bold $text-primary"),
        Content("\n"),
        Content(snippet.description) if snippet.description else Content.styled("(no description)", "$text-muted"),
        Content("\n\n"),
        Content.styled("parameters ", "$text-muted"),
    ]
    if snippet.parameters:
        shown = []
        for param in snippet.parameters:
            text = f"{param.name}: {param.type}"
            if param.has_default:
                text += f" = {param.default!r}"
            shown.append(text)
        parts.append(Content(", ".join(shown)))
    else:
        parts.append(Content.styled("none", "$text-muted"))
    parts += [
        Content("\n"),
        Content.styled("tools      ", "$text-muted"),
        Content(", ".join(snippet.tools)) if snippet.tools else Content.styled("none", "$text-muted"),
        Content("\n"),
        Content.styled("servers    ", "$text-muted"),
        Content(", ".join(snippet.servers)) if snippet.servers else Content.styled("none", "$text-muted"),
    ]
    return Content.assemble(*parts)


class SnippetsScreen(ModalScreen[SnippetRequest | None]):
    """Browse the snippet store; escape closes."""

    class StoreChanged(Message):
        """A snippet was renamed (``new`` is the renamed snippet) or deleted (``new`` is ``None``).

        It bubbles to the App, which hands it to the main screen: the editor's snippet may follow.
        """

        def __init__(self, old: str, new: Snippet | None) -> None:
            super().__init__()
            self.old = old
            self.new = new

    CSS_PATH = Path(__file__).parent / "snippets.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="snippets-close"),
        Binding(
            "f5,ctrl+r",
            "run",
            "Run",
            id="snippet-run",
            priority=True,  # from the search box too, and never the editor's code behind the dialog
            tooltip="Run the highlighted snippet (asks for its parameters)",
        ),
        Binding("down", "focus_list", "Results", id="snippets-to-list", show=False),
    ]

    def __init__(
        self,
        store: SnippetStore,
        *,
        servers: Mapping[str, MCPServerConfig],
        tools: list[ToolDefinition],
        export_folder: str = DEFAULT_EXPORT_FOLDER,
    ) -> None:
        super().__init__()
        self.store = store
        self.servers = dict(servers)
        self.tools = tools
        self.export_folder = export_folder
        self.all: list[Snippet] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="snippets-dialog"):
            yield Static(Content("Snippets · esc closes"), id="snippets-title")
            yield Input(placeholder="Search snippets (name, description, tools, code)…", id="snippets-search")
            with Horizontal(id="snippets-body"):
                yield SnippetList(id="snippets-list")
                with VerticalScroll(id="snippet-details"):
                    yield Static(Content.styled("Loading…", "$text-muted"), id="snippet-meta")
                    yield CodeView("", id="snippet-code")
            with Horizontal(id="snippets-buttons"):
                for label, action in (
                    ("Open ⏎", "open"),
                    ("Run F5", "run"),
                    ("Rename n", "rename"),
                    ("Delete d", "delete"),
                    ("Export x", "export"),
                    ("Import i", "import"),
                ):
                    yield Button(label, id=f"snippets-{action}", compact=True, classes="snippets-button")

    def on_mount(self) -> None:
        self.query_one("#snippets-search", Input).focus()
        self.reload()

    @property
    def snippet_list(self) -> SnippetList:
        return self.query_one(SnippetList)

    # -- loading and searching -------------------------------------------------------

    @work(group="snippets-load", exclusive=True, exit_on_error=False, thread=True)
    def reload(self, keep: str | None = None) -> None:
        snippets = self.store.list()
        problems = dict(self.store.problems)
        self.app.call_from_thread(self._loaded, snippets, problems, keep)

    def _loaded(self, snippets: list[Snippet], problems: dict[Path, str], keep: str | None) -> None:
        self.all = snippets
        self.loaded = True
        if problems:
            self.app.notify(
                "These snippet files could not be read; they are kept on disk and skipped:\n"
                + "\n".join(problems.values()),
                title="Snippet files skipped",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self._filter(keep)

    def _filter(self, keep: str | None = None) -> None:
        query = self.query_one("#snippets-search", Input).value
        shown = [s for s in self.all if matches(s, query)]
        current = self.snippet_list.highlighted_snippet
        self.snippet_list.show(shown, keep or (current.name if current else None))
        total = len(self.all)
        title = self.query_one("#snippets-title", Static)
        count = f"{len(shown)} of {total}" if query.strip() else f"{total}"
        title.update(
            Content.assemble(
                Content("Snippets "),
                Content.styled(f"({count})", "$text-muted"),
                Content.styled(" · esc closes", "$text-muted"),
            )
        )

    @on(Input.Changed, "#snippets-search")
    def _search_changed(self) -> None:
        if self.loaded:
            self._filter()

    @on(Input.Submitted, "#snippets-search")
    def _search_submitted(self) -> None:
        """Enter in the search box opens the best match, as in a command palette."""
        if self.snippet_list.highlighted_snippet is not None:
            self.request("open", self.snippet_list.highlighted_snippet)
        else:
            self.action_focus_list()

    def action_run(self) -> None:
        self.request("run", self.snippet_list.highlighted_snippet)

    def action_focus_list(self) -> None:
        self.snippet_list.focus()

    @on(SnippetList.Highlighted)
    def _highlighted(self, message: SnippetList.Highlighted) -> None:
        meta = self.query_one("#snippet-meta", Static)
        code = self.query_one("#snippet-code", CodeView)
        snippet = message.snippet
        if snippet is None:
            empty = EMPTY_HINT if not self.all else "No snippet matches the search."
            meta.update(Content.styled(empty, "$text-muted"))
            code.show_message("")
            return
        meta.update(describe(snippet))
        code.show(snippet.code.rstrip("\n"), "python")

    # -- actions ----------------------------------------------------------------------

    @on(Button.Pressed, ".snippets-button")
    def _button(self, event: Button.Pressed) -> None:
        action = (event.button.id or "").removeprefix("snippets-")
        self.request(action, self.snippet_list.highlighted_snippet)

    @on(SnippetList.ActionRequested)
    def _requested(self, message: SnippetList.ActionRequested) -> None:
        self.request(message.action, message.snippet)

    def request(self, action: str, snippet: Snippet | None) -> None:
        """Do ``action`` on ``snippet`` (import and search need none)."""
        if action == "search":
            self.query_one("#snippets-search", Input).focus()
            return
        if action == "import":
            self._ask_import()
            return
        if snippet is None:
            self.app.notify("No snippet highlighted.", severity="warning")
            return
        if action in ("open", "run"):
            self.dismiss(SnippetRequest(action, snippet))
        elif action == "rename":
            self.app.push_screen(
                PromptScreen(
                    f"Rename {snippet.name}",
                    "The new name: lowercase a-z, 0-9 and single hyphens (it is also the skill's name).",
                    partial(self._rename, snippet.name),
                    value=snippet.name,
                    action="Rename",
                ),
                partial(self._renamed, snippet.name),
            )
        elif action == "delete":
            self.app.push_screen(
                ConfirmScreen(f"Delete the snippet {snippet.name!r}?", "Its file is removed from the snippets folder."),
                partial(self._delete_confirmed, snippet.name),
            )
        elif action == "export":
            self.app.push_screen(
                PromptScreen(
                    f"Export {snippet.name} as an agent skill",
                    f"The folder to write {snippet.name}/ into (SKILL.md, scripts/, references/). "
                    "A relative path starts in the current folder.",
                    partial(self._export, snippet),
                    value=self.export_folder,
                    action="Export",
                    option="Replace an existing skill folder of that name",
                ),
                self._exported,
            )

    def _rename(self, old: str, new: str, _option: bool) -> Snippet:
        return self.store.rename(old, new)

    def _renamed(self, old: str, renamed: Snippet | None) -> None:
        if renamed is None:
            return
        self.app.notify(f"Renamed {old} to {renamed.name}.", markup=False)
        self.post_message(self.StoreChanged(old, renamed))
        self.reload(renamed.name)

    def _delete_confirmed(self, name: str, confirmed: bool | None) -> None:
        if confirmed:
            self._delete(name)

    @work(group="snippets-change", exit_on_error=False, thread=True)
    def _delete(self, name: str) -> None:
        try:
            self.store.delete(name)
        except (ValueError, OSError) as exc:
            self.app.call_from_thread(self.app.notify, str(exc), title="Not deleted", severity="error", markup=False)
            return
        self.app.call_from_thread(self._deleted, name)

    def _deleted(self, name: str) -> None:
        self.app.notify(f"Deleted the snippet {name}.", markup=False)
        self.post_message(self.StoreChanged(name, None))
        self.reload()

    def _export(self, snippet: Snippet, folder: str, replace: bool) -> Path:
        out = Path(folder).expanduser()
        return export_skill(snippet, out, servers=self.servers, tools=self.tools, overwrite=replace).resolve()

    def _exported(self, path: Path | None) -> None:
        if path is None:
            return
        self.app.notify(
            f"Wrote {path}\n(SKILL.md, scripts/, references/)", title="Skill exported", timeout=15, markup=False
        )

    def _ask_import(self) -> None:
        self.app.push_screen(ask_import(), self._imported)

    def _imported(self, snippet: Snippet | None) -> None:
        if snippet is not None:
            self.dismiss(SnippetRequest("open", snippet, imported=True))

    def action_close(self) -> None:
        self.dismiss(None)
