"""The phone session and the main window connected: calls, registration, dialling, history.

`PhoneWiring` takes the window's intents (dial, answer, hang up, mute, hold, DTMF, caller
id, history filter and search) to the PhoneSession, and shows what the session publishes
(calls, registration, problems, finished calls in the history list). It builds nothing
and decides nothing: the rules are PhoneSession's.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Slot

from app.core.calls import Call, CallRecord, CallResult, Direction, RegistrationChanged
from app.core.history import History, HistoryError
from app.core.phone import PhoneSession
from app.logs import call_event
from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200


class PhoneWiring(QObject):
    def __init__(self, window: MainWindow, session: PhoneSession, history: History, *,
                 region: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = session
        self.history = history
        self._region = region
        self._history_filter = "all"
        self._history_search = ""
        w, s = window, session
        s.subscribe(on_call_updated=self._call_updated, on_call_ended=self._call_ended,
                    on_registration=self._registration, on_problem=w.show_problem)
        w.dial_requested.connect(self.dial)
        w.redial_requested.connect(self.redial)
        w.answer_requested.connect(s.answer)
        w.decline_requested.connect(s.decline)
        w.hangup_requested.connect(s.hangup)
        w.mute_requested.connect(s.set_mute)
        w.hold_requested.connect(s.set_hold)
        w.dtmf_requested.connect(s.send_dtmf)
        w.history_filter_requested.connect(self._set_history_filter)
        w.history_search_requested.connect(self._set_history_search)
        self.refresh_history()

    # -- session → window ----------------------------------------------------------------

    def _call_updated(self, _call: Call) -> None:
        self.window.show_calls(self.session.view())

    def _call_ended(self, record: CallRecord) -> None:
        call_event("recorded", call_id=record.call_id, result=record.result.value,
                   direction=record.direction.value, remote=record.remote_number,
                   wait=round(record.wait_seconds, 3), talk=round(record.talk_seconds, 3))
        self.refresh_history()

    def _registration(self, ev: RegistrationChanged) -> None:
        self.window.show_registration(ev)

    # -- intents -------------------------------------------------------------------------

    @Slot(str)
    def dial(self, text: str) -> None:
        outcome = self.session.dial(text)
        if outcome.ok:
            self.window.dial_accepted()
        else:
            self.window.show_dial_error(outcome.error)

    @Slot(str)
    def redial(self, number: str) -> None:
        self.window.dialpad.set_number(number)
        self.dial(number)

    # -- history -------------------------------------------------------------------------

    def _set_history_filter(self, key: str) -> None:
        self._history_filter = key
        self.refresh_history()

    def _set_history_search(self, text: str) -> None:
        self._history_search = text
        self.refresh_history()

    def refresh_history(self) -> None:
        key = self._history_filter
        result = CallResult.MISSED if key == "missed" else None
        direction = {"inbound": Direction.INBOUND,
                     "outbound": Direction.OUTBOUND}.get(key)
        try:
            if self._history_search.strip():
                records = [r for r in self.history.search(
                    self._history_search, HISTORY_LIMIT, region=self._region)
                    if (result is None or r.result is result)
                    and (direction is None or r.direction is direction)]
            else:
                records = self.history.recent(HISTORY_LIMIT, result=result,
                                              direction=direction)
        except HistoryError as exc:
            self.window.show_problem(str(exc))
            return
        self.window.set_history(records)


__all__ = ["HISTORY_LIMIT", "PhoneWiring"]
