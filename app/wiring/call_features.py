"""Transfer, consultation, recording and call quality connected: call cards ⇄ PhoneSession.

`CallFeaturesWiring` takes the call panel's intents (transfer, consult, complete, transfer
to the consultation, cancel, swap; record, pause, stop) to the PhoneSession and the
`Recordings` rules, shows what came of a request that could not even start on the card
that asked (a transfer to the consultation: on the caller's card), plays a recording
picked in the history, runs the retention clean-up at start and daily on the database
lane, and logs each finished call's recording and quality figures. It builds nothing
and decides nothing: the rules are PhoneSession's and app.core.recording's. The
composition root hands it finished objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from app.config import Settings
from app.core.calls import CallRecord
from app.core.contactcenter import parse_colleagues
from app.core.phone import DialOutcome, PhoneSession
from app.core.recording import Recordings
from app.logs import call_event
from app.threads import Lane, TaskRunner
from app.ui.call_panel import CallPanel
from app.ui.history_view import HistoryView
from app.ui.recording_player import RecordingPlayer

log = logging.getLogger(__name__)

RETENTION_INTERVAL_MS = 24 * 3600 * 1000


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
                 recordings: Recordings | None = None,
                 history_view: HistoryView | None = None,
                 player: RecordingPlayer | None = None,
                 prune: Callable[[], list[Path]] | None = None,
                 tasks: TaskRunner | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.session = session
        self.recordings = recordings
        self._prune = prune
        self._tasks = tasks
        panel.set_transfer_targets(list(targets))
        panel.transfer_requested.connect(self.transfer)
        panel.consult_requested.connect(self.consult)
        panel.complete_transfer_requested.connect(session.complete_transfer)
        panel.transfer_to_consultation_requested.connect(self.transfer_to_consultation)
        panel.cancel_consultation_requested.connect(session.cancel_consultation)
        panel.swap_requested.connect(session.swap)
        session.subscribe(on_call_ended=self._call_ended)
        if recordings is not None:
            session.subscribe(on_transition=recordings.on_transition)
            panel.record_requested.connect(self.record)
            panel.recording_pause_requested.connect(recordings.pause)
            panel.recording_stop_requested.connect(recordings.stop)
        if history_view is not None and player is not None:
            history_view.set_player(player)
            history_view.play_requested.connect(player.play)
        self._retention = QTimer(self)
        self._retention.setInterval(RETENTION_INTERVAL_MS)
        self._retention.timeout.connect(self.prune_now)
        if prune is not None:
            self._retention.start()
            self.prune_now()  # at start, then daily

    # -- intents -------------------------------------------------------------------------

    @Slot(int, str)
    def transfer(self, handle: int, target: str) -> None:
        self._show(handle, self.session.transfer(handle, target))

    @Slot(int, str)
    def consult(self, handle: int, target: str) -> None:
        self._show(handle, self.session.consult(handle, target))

    @Slot(int)
    def transfer_to_consultation(self, consultation: int) -> None:
        call = self.session.get(consultation)
        customer = call.consultation_for if call is not None else None
        outcome = self.session.transfer_to_consultation(consultation)
        if not outcome.ok and customer is not None:  # the transfer is the customer's
            self.panel.show_transfer_error(customer, outcome.error)

    def _show(self, handle: int, outcome: DialOutcome) -> None:
        if outcome.ok:
            self.panel.transfer_started(handle)
        else:
            self.panel.show_transfer_error(handle, outcome.error)

    @Slot(int)
    def record(self, handle: int) -> None:
        if self.recordings is None:
            return
        error = self.recordings.start(handle)
        if error:
            self.panel.show_recording_error(handle, error)

    # -- retention and the log -----------------------------------------------------------

    @Slot()
    def prune_now(self) -> None:
        prune, tasks = self._prune, self._tasks
        if prune is None:
            return
        if tasks is None:
            self._pruned(prune())
        else:
            tasks.run(Lane.DB, prune, succeeded=self._pruned)

    def _pruned(self, deleted: list[Path]) -> None:
        if deleted:
            call_event("recordings_deleted", count=len(deleted),
                       files=[p.name for p in deleted][:20])

    def _call_ended(self, record: CallRecord) -> None:
        q = record.quality
        if q is None and not record.recording_path:
            return
        # One line per call for support staff: which calls were bad, and where the file is.
        call_event("call_quality", call_id=record.call_id,
                   recording=record.recording_path or None,
                   mos_avg=q.mos_avg if q else None, mos_min=q.mos_min if q else None,
                   loss_percent=q.loss_percent if q else None,
                   jitter_ms_max=q.jitter_ms_max if q else None,
                   rtt_ms_avg=q.rtt_ms_avg if q else None, codec=q.codec if q else None,
                   reports=q.reports if q else 0)


__all__ = ["CallFeaturesWiring", "transfer_targets"]
