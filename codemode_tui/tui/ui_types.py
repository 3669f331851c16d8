"""The playground's small closed sets of states, as ``Literal`` types.

A leaf module (no Textual, no engine) so widgets, screens and messages share
one spelling; dispatch over these ends with ``typing.assert_never``, so a new
state or action that nothing handles is a type error, not a silent no-op.
"""

from __future__ import annotations

from typing import Literal, get_args

#: What the status bar says about the sandbox: the executor's states (``executor.config.SandboxState``,
#: spelled here too so the first frame imports no engine; a test checks that the two agree).
SandboxState = Literal["not started", "starting", "ready", "running", "restarting", "failed", "closed"]

#: How a run ended: finished, the code raised, stopped by the user, or the sandbox itself failed.
RunStatus = Literal["ok", "error", "cancelled", "failed"]

#: What the servers pane (or the palette) can ask for.
ServerAction = Literal["add", "edit", "delete", "toggle", "reconnect", "log", "import", "policy"]
SERVER_ACTIONS: tuple[ServerAction, ...] = get_args(ServerAction)

#: The panes that can be hidden and shown.
Pane = Literal["sidebar", "preview", "output"]
PANES: tuple[Pane, ...] = get_args(Pane)
