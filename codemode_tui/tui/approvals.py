"""Approvals: the policy's ``ask`` answered by a person, in a dialog, one call at a time.

Every run's tool calls pass the workspace's policy (``executor/policy.py``);
a call it says to ask about waits on :meth:`ApprovalDesk.approve` while its
run's timeout is paused.  Calls asked at once queue behind one dialog, in the
order asked, and the dialog says how many wait behind it.  A dialog closed
without an answer is a denial, so a call never goes on by accident.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..executor.policy import Approval, ApprovalRequest
    from .app import PlaygroundApp


class ApprovalDesk:
    """Where ``ask`` decisions are made for one app: a queue of dialogs over whatever screen is up."""

    def __init__(self, app: PlaygroundApp) -> None:
        self.app = app
        self.waiting = 0
        """Calls waiting for an answer (one dialog shows at a time)."""
        self._turn = asyncio.Lock()

    async def approve(self, request: ApprovalRequest) -> Approval:
        """Ask the person about ``request``; the run waits on this ``await`` meanwhile.

        Called from the bridge; if that is another loop, the dialog still opens on the app's.
        """
        loop = self.app._loop
        if loop is not None and asyncio.get_running_loop() is not loop:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._ask(request), loop))
        return await self._ask(request)

    async def _ask(self, request: ApprovalRequest) -> Approval:
        from ..executor.policy import Approval
        from .screens.approval import ApprovalScreen

        app = self.app
        self.waiting += 1
        self._tell_waiting()
        try:
            async with self._turn:
                future: asyncio.Future[Approval | None] = asyncio.get_running_loop().create_future()
                screen = ApprovalScreen(request, waiting=self.waiting - 1)

                def answered(approval: Approval | None) -> None:
                    if not future.done():
                        future.set_result(approval)

                await app.push_screen(screen, answered)
                try:
                    approval = await future
                except asyncio.CancelledError:  # the run was stopped while the dialog was up
                    if screen.is_current:
                        screen.dismiss(None)
                    raise
        finally:
            self.waiting -= 1
            self._tell_waiting()
            hub = app.main_screen
            if hub is not None and hub.ui_alive:
                hub.approval_done(request)
        return approval if approval is not None else Approval("deny", by="the playground", note="dialog closed")

    def _tell_waiting(self) -> None:
        """The dialog on screen says how many calls wait behind it."""
        from .screens.approval import ApprovalScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, ApprovalScreen):
                screen.set_waiting(max(0, self.waiting - 1))

    def asking_session(self) -> str | None:
        """The agent session whose call the dialog on top asks about (ctrl+c stops that session's run)."""
        from .screens.approval import ApprovalScreen

        screen = self.app.screen
        return screen.request.session if isinstance(screen, ApprovalScreen) else None
