"""The "Sign in to <CRM>" bar of the screen-pop pane, connected to the CRM's sign-in.

At start the keyring is asked (on the CRM's task lane) whether a sign-in is stored; when
none is, the pane shows the bar. The button runs the CRM's browser sign-in on the same
lane (the system browser opens; the answer comes back to the loopback listener), then
hides the bar and runs the outbox, whose call logs waited for it. Everything blocking
runs on the lane; only the result comes back here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Slot

from app.threads import Lane, TaskRunner
from app.ui.notes import ScreenPopPane

log = logging.getLogger(__name__)


class CrmSignInWiring(QObject):
    """Shows the sign-in bar when needed and carries out its button."""

    def __init__(self, pane: ScreenPopPane, tasks: TaskRunner, lane: Lane, *,
                 signed_in: Callable[[], bool], sign_in: Callable[[], object], text: str,
                 button: str, after: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pane = pane
        self._tasks = tasks
        self._lane = lane
        self._sign_in = sign_in
        self._text, self._button = text, button
        self._after = after
        self._busy = False
        pane.sign_in_requested.connect(self._start)
        tasks.run(lane, signed_in, succeeded=self._checked,
                  failed=lambda error: self._checked(False))

    @Slot()
    def needed(self) -> None:
        """The CRM refused our sign-in even after a silent refresh: show the bar again."""
        if not self._busy:
            self._checked(False)

    def _checked(self, signed_in: bool) -> None:
        self._pane.show_sign_in("" if signed_in else self._text, self._button)

    @Slot()
    def _start(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._pane.show_sign_in(QCoreApplication.translate(
            "CrmWiring", "Finish the sign-in in your web browser…"), self._button)
        self._tasks.run(self._lane, self._sign_in, succeeded=self._done,
                        failed=self._failed)

    def _done(self, _session: object) -> None:
        self._busy = False
        log.info("crm signed in from the app")
        self._pane.show_sign_in("", self._button)
        self._after()

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self._pane.show_sign_in(str(error) or self._text, self._button)


__all__ = ["CrmSignInWiring"]
