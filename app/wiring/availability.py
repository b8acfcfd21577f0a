"""The agent's availability wired into the running app (issue #4).

`AvailabilityWiring` connects the agent's `Availability` (app.core.availability), built by
the composition root before the engine (its `ring_policy` is what the engine asks on every
INVITE: DND refuses direct calls 486 and queue calls 480, OffWork refuses queue calls, on
the engine thread, at once), to everything around it:

- the phone session's transitions (app/core/transitions.py): a call that starts shows
  *In a Call*, an answered call is followed by *Wrap Up* for
  `availability.wrap_up_seconds`, then the status before the call returns;
- the status panel (app.ui.status_panel): status, duration, pool calls, schedule; the
  agent's choices come back as intents;
- the number shown on outbound calls: the dial pad's one chooser offers what the
  PhoneSession allows (the configured caller ids, the queues' numbers, hidden) and the
  agent's pick goes to the session, which checks it;
- others (the tray, the phone system through app.wiring.contactcenter): `changed` is
  emitted with every Change once it is applied; `request_status` and `apply_remote` are
  the ways in from elsewhere.

A 1 s timer applies what is due (durations, wrap-up end, schedule) and counts down. Every
change is logged as a structured `availability` call event saying who or what made it.
The agent's choice (status, duration, pool calls, schedule) is saved in the profile on
every change (app.core.availability_store), restored by the composition root before
anything is shown or pushed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from app.core.availability import Actor, Availability, Change, Phase
from app.core.availability_store import AvailabilityStore
from app.core.availability_sync import AvailabilitySync
from app.core.contactcenter import RemoteAvailabilityChanged
from app.core.phone import PhoneSession
from app.core.transitions import CallAnswered, CallEnded, CallStarted, CallTransition
from app.logs import call_event
from app.ui.main_window import MainWindow
from app.ui.status_panel import StatusPanel

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _tr(text: str) -> str:
    return QCoreApplication.translate("AvailabilityWiring", text)


class AvailabilityWiring(QObject):
    """See the module docstring. `start()` the timer once the window is up; `stop()`."""

    changed = Signal(object)  # app.core.availability.Change

    def __init__(self, availability: Availability, store: AvailabilityStore | None,
                 panel: StatusPanel, window: MainWindow, session: PhoneSession, *,
                 clock: Clock = utc_now, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.availability = availability
        self.panel = panel
        self.menu = panel.menu
        self._store = store
        self._window = window
        self._session = session
        self._clock = clock
        self._seen = 0  # history entries already shown, logged and pushed

        m = self.menu
        m.set_statuses(availability.statuses, availability.durations)
        panel.show_upcoming_count(len(availability.upcoming))
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._flush()
        session.subscribe(on_transition=self._transition)
        m.status_requested.connect(self._status_requested)
        m.pool_calls_requested.connect(self._pool_calls_requested)
        m.wrap_up_end_requested.connect(self._wrap_up_end_requested)
        m.schedule_add_requested.connect(self._schedule_add_requested)
        m.schedule_remove_requested.connect(self._schedule_remove_requested)
        window.caller_id_selected.connect(self._display_number_requested)
        self._offer_display_numbers()

    def _save(self) -> None:
        if self._store is not None:
            self._store.save_choice(self.availability, self._clock())

    def _show_upcoming(self) -> None:
        self.menu.show_upcoming(self.availability.upcoming)
        self.panel.show_upcoming_count(len(self.availability.upcoming))

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer. Safe twice."""
        self._timer.stop()

    # -- availability in, everywhere out ---------------------------------------------------

    def _flush(self) -> None:
        """Log, announce and show every change recorded since the last flush."""
        a = self.availability
        new, self._seen = a.history[self._seen:], len(a.history)
        for change in new:
            call_event("availability", by=change.by.value, status=change.status.name,
                       type=change.status.type.value, shown=change.shown,
                       phase=change.phase.value, pool_calls=change.pool_calls,
                       until=change.until.isoformat() if change.until else None,
                       note=change.note)
            self.changed.emit(change)
        if new:
            self._save()
            self._render(new[-1])
            if any(c.by in (Actor.SCHEDULE, Actor.RESTORE) for c in new):
                self._show_upcoming()

    def _render(self, change: Change) -> None:
        a = self.availability
        back = a.returns_to
        self.menu.show_availability(change, a.remaining(self._clock()),
                                    back.name if back else "")

    @Slot()
    def _tick(self) -> None:
        a = self.availability
        now = self._clock()
        a.tick(now)
        if len(a.history) != self._seen:
            self._flush()
        else:
            back = a.returns_to
            idle = a.current.phase is Phase.IDLE
            self.menu.show_remaining(a.remaining(now), back.name if back and idle else "")

    # -- the agent -------------------------------------------------------------------------

    def request_status(self, name: str, minutes: int = 0) -> None:
        """Choose a status (for `minutes`, 0 = until changed) as the agent, from anywhere."""
        self._status_requested(name, minutes)

    @Slot(str, int)
    def _status_requested(self, name: str, minutes: int) -> None:
        duration = timedelta(minutes=minutes) if minutes > 0 else None
        try:
            self.availability.set_status(name, self._clock(), duration=duration)
        except KeyError:
            self.menu.show_error(_tr("There is no status called %s.") % name)
            return
        self._flush()

    @Slot(bool)
    def _pool_calls_requested(self, on: bool) -> None:
        self.availability.set_pool_calls(on, self._clock())
        self._flush()

    @Slot()
    def _wrap_up_end_requested(self) -> None:
        self.availability.end_wrap_up(self._clock())
        self._flush()

    @Slot(object, str, object)
    def _schedule_add_requested(self, start: datetime, name: str,
                                end: datetime | None) -> None:
        now = self._clock()
        try:
            item = self.availability.schedule(start, name, end, now)
        except (ValueError, KeyError) as exc:
            self.menu.show_error(_tr("Not scheduled: %s") % exc)
            return
        call_event("availability_scheduled", by="agent", id=item.id, status=name,
                   start=start.isoformat(), end=end.isoformat() if end else None)
        self._show_upcoming()
        self.menu.reset_new_schedule(now.astimezone())
        self._save()
        self._flush()

    @Slot(int)
    def _schedule_remove_requested(self, item_id: int) -> None:
        if self.availability.unschedule(item_id):
            call_event("availability_unscheduled", by="agent", id=item_id)
            self._save()
        self._show_upcoming()

    # -- calls -----------------------------------------------------------------------------

    def _transition(self, transition: CallTransition) -> None:
        a, now = self.availability, self._clock()
        if isinstance(transition, CallStarted):
            a.call_started(transition.handle, now)
        elif isinstance(transition, CallAnswered):
            a.call_answered(transition.handle, now)
        elif isinstance(transition, CallEnded):
            a.call_ended(transition.handle, now)
        self._flush()

    # -- the phone system ------------------------------------------------------------------

    def apply_remote(self, event: RemoteAvailabilityChanged) -> None:
        """The phone system says our availability changed: take it in, as made there."""
        AvailabilitySync.apply_remote(event, self.availability, self._clock())
        self._flush()

    def set_queue_numbers(self, numbers: list[tuple[str, str]]) -> None:
        """The queues' (name, number): offered as display numbers when they change."""
        if numbers != self._session.queue_numbers:
            self._session.set_queue_numbers(numbers)
            self._offer_display_numbers()

    # -- display number ----------------------------------------------------------------------

    def set_caller_ids(self, numbers: list[str]) -> None:
        """The settings changed the numbers the agent may show: offer these from now on."""
        self._session.set_caller_ids(numbers)
        self._offer_display_numbers()

    def _offer_display_numbers(self) -> None:
        self._window.set_display_numbers(*self._session.display_choices())

    @Slot(str)
    def _display_number_requested(self, choice: str) -> None:
        session = self._session
        try:
            session.choose_display_number(choice)
        except ValueError as exc:  # an entry offered before the numbers changed
            log.warning("display number not changed: %s", exc)
        call_event("display_number", by="agent", choice=choice or "default",
                   caller_id=session.caller_id)
        self._offer_display_numbers()


__all__ = ["AvailabilityWiring", "Clock", "utc_now"]
