"""The import dialog: asks for VS Code inputs (masked when secret), imports and shows the report."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.app import App
from textual.widgets import Button, Checkbox, Input, Static

from codemode_tui import paths
from codemode_tui.tui.screens.import_servers import ImportRequest, ImportServersScreen
from codemode_tui.workspace import Workspace

from .helpers import wait_until

SAMPLES = Path(__file__).parent.parent / "client_configs"


class Host(App[None]):
    """A bare app that opens the dialog on a workspace, as the playground does."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.result: list[ImportRequest | None] = []

    def on_mount(self) -> None:
        self.push_screen(ImportServersScreen(importer=self.run_import), self.result.append)

    def run_import(self, request: ImportRequest) -> object:
        return self.workspace.import_servers(
            request.path, replace=request.replace, inputs=request.inputs, save_inputs=request.save_inputs
        )


def dialog_text(app: App[None]) -> str:
    return str(app.screen.query_one("#import-error", Static).render())


async def test_missing_inputs_are_asked_for_masked_and_the_report_is_shown(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    workspace = Workspace()
    app = Host(workspace)
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#import-path", Input).value = str(samples / "vscode" / ".vscode" / "mcp.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.query("#import-input-0"), "the input prompt")
        field = app.screen.query_one("#import-input-0", Input)
        assert field.password  # "password": true in the file
        assert "perplexity-key" in str(app.screen.query_one(".import-input-label", Static).render())
        assert "Perplexity" not in workspace.servers  # nothing imported before the values are given
        await pilot.press("enter")  # empty: refused, by name
        assert "give a value for perplexity-key" in dialog_text(app)
        field.value = "pplx-123"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Perplexity" in workspace.servers, "the import")
        text = dialog_text(app)
        assert "added:" in text and "Perplexity" in text and "notes-demo" in text
        assert "notes-demo reads CODEMODE_PYTHON" in text
        assert str(app.screen.query_one("#import", Button).label) == "Close"
        await pilot.press("enter")
        await pilot.pause()
    assert app.result and app.result[0] is not None and app.result[0].report is not None
    assert app.result[0].inputs == {"perplexity-key": "pplx-123"}
    assert "pplx-123" not in paths.servers_file().read_text()  # kept for the session only
    assert workspace.servers["Perplexity"].resolved({}).env["PERPLEXITY_API_KEY"] == "pplx-123"


async def test_saving_input_values_is_the_users_choice(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    workspace = Workspace()
    app = Host(workspace)
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#import-path", Input).value = str(samples / "vscode" / ".vscode" / "mcp.json")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.query("#import-input-0"), "the input prompt")
        app.screen.query_one("#import-input-0", Input).value = "pplx-123"
        app.screen.query_one("#import-save-inputs", Checkbox).value = True
        app.screen.query_one("#import", Button).press()
        await wait_until(pilot, lambda: "Perplexity" in workspace.servers, "the import")
    assert '"PERPLEXITY_API_KEY": "pplx-123"' in paths.servers_file().read_text()


async def test_bad_entries_are_reported_by_name_in_the_dialog(tmp_path: Path) -> None:
    source = tmp_path / "mcp.json"
    source.write_text('{"servers": {"ok": {"command": "x"}, "broken": {"type": "stdio"}, "demo": {"command": "y"}}}')
    workspace = Workspace()
    app = Host(workspace)
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#import-path", Input).value = str(source)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "ok" in workspace.servers, "the import")
        await pilot.pause()
        text = dialog_text(app)
        assert "added: ok" in text
        assert "not imported: broken: a stdio server needs a 'command'" in text
        assert "kept" in text and "demo" in text
        await pilot.press("escape")  # closing by escape still hands back what was done
        await pilot.pause()
    assert app.result[0] is not None and app.result[0].report is not None
    assert app.result[0].report.added == ["ok"]


async def test_an_unreadable_file_is_reported_in_place(tmp_path: Path) -> None:
    source = tmp_path / "mcp.json"
    source.write_text('{"mcpServers": {"a": {"command": "x"},, }')
    app = Host(Workspace())
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#import-path", Input).value = str(source)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "not valid JSON" in dialog_text(app), "the error")
        assert isinstance(app.screen, ImportServersScreen)  # still open, the path kept
        assert app.screen.query_one("#import-path", Input).value == str(source)
