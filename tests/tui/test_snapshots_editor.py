"""SVG snapshots of the editor that knows the tools: a finding marked in the gutter and underlined,
the completion popup with a tool's parameters, and the signature hint above the cursor.

The finding is the bindings' own check (a missing required parameter), whose
message is ours, so the snapshot does not depend on the type checker's wording.
Refresh after an intended change with
``pytest tests/tui/test_snapshots_editor.py --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from codemode_tui.tui.widgets.code_editor import CodeEditor
from tests.conftest import demo_stdio_config

from .helpers import app_with, connected, wait_until

CODE = 'from generated.servers.demo import add_note\n\nnote = await add_note()\nprint(note["id"])\n'


def test_completion_popup_signature_and_gutter_mark(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(demo_stdio_config(), tmp_path=tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: connected(app), "the demo server")
        await pilot.press("f4")
        editor = app.screen.query_one("#editor", CodeEditor)
        await wait_until(pilot, lambda: app.focused is editor, "the editor's focus")
        editor.text = CODE
        editor.move_cursor((2, len("note = await add_note(")))
        await wait_until(pilot, lambda: any(d.line == 3 for d in editor.diagnostics), "the finding on line 3")
        await pilot.press("ctrl+space")
        popup = editor.completion_popup
        await wait_until(pilot, lambda: popup is not None and popup.is_open, "the completion popup")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
