"""Transfer, consultation, recording and call quality connected: call cards ⇄ PhoneSession.

`CallFeaturesWiring` takes the call panel's intents (transfer, consult, complete, cancel,
swap) to the PhoneSession and shows what came of a request that could not even start on
the card that asked. It builds nothing and decides nothing: the transfer rules are
PhoneSession's. The composition root hands it finished objects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Slot

from app.config import Settings
from app.core.contactcenter import parse_colleagues
from app.core.phone import DialOutcome, PhoneSession
from app.ui.call_panel import CallPanel

log = logging.getLogger(__name__)


def transfer_targets(settings: Settings) -> list[tuple[str, str]]:
    """The colleagues (`contactcenter.colleagues`) and queue numbers
    (`contactcenter.queue_numbers`) Transfer… and Consult… offer, as (name, target)."""
    cc = settings.contactcenter
    targets = parse_colleagues(cc.colleagues)
    for entry in cc.queue_numbers:
        name, sep, number = entry.rpartition("=")
        if sep and name.strip() and number.strip():
            targets.append((name.strip(), number.strip()))
    return targets


class CallFeaturesWiring(QObject):
    def __init__(self, panel: CallPanel, session: PhoneSession, *,
                 targets: Sequence[tuple[str, str]] = (),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.session = session
        panel.set_transfer_targets(list(targets))
        panel.transfer_requested.connect(self.transfer)
        panel.consult_requested.connect(self.consult)
        panel.complete_transfer_requested.connect(session.complete_transfer)
        panel.cancel_consultation_requested.connect(session.cancel_consultation)
        panel.swap_requested.connect(session.swap)

    # -- intents -------------------------------------------------------------------------

    @Slot(int, str)
    def transfer(self, handle: int, target: str) -> None:
        self._show(handle, self.session.transfer(handle, target))

    @Slot(int, str)
    def consult(self, handle: int, target: str) -> None:
        self._show(handle, self.session.consult(handle, target))

    def _show(self, handle: int, outcome: DialOutcome) -> None:
        if outcome.ok:
            self.panel.transfer_started(handle)
        else:
            self.panel.show_transfer_error(handle, outcome.error)


__all__ = ["CallFeaturesWiring", "transfer_targets"]
