"""Availability, wrap-up, queues and callbacks wired into the running app (issue #4).

`AvailabilityWiring` owns the agent's `Availability` (app.core.availability) and connects
it to everything around it:

- the engine: `ring_policy` is what the composition root gives the engine, so DND refuses
  direct calls 486 and queue calls 480 and OffWork refuses queue calls, on the engine
  thread, at once;
- the phone session: ringing and talking show *In a Call*, an answered call is followed by
  *Wrap Up* for `availability.wrap_up_seconds`, then the status before the call returns;
- the window: the StatusMenu at the top of the left column (status, duration, pool calls,
  schedule, display number), the queue dashboard and the callback list under the
  screen-pop when a phone-system backend is configured;
- the phone system (`contactcenter.backend`): connected off the GUI thread, every change
  pushed once (AvailabilitySync), changes made there taken back into the core; with SIP
  presence, the colleagues listed in `contactcenter.colleagues` in a tab beside the
  queues (app.wiring.colleagues);
- the CRM: callback requests become cases or tasks in the built-in CRM on a worker
  thread, listed with a one-click dial-back (app.wiring.callbacks).

A 1 s timer applies what is due (durations, wrap-up end, schedule) and counts down. Every
change is logged as a structured `availability` call event saying who or what made it.
The agent's choice (status, duration, pool calls, schedule) is saved in the profile on
every change and taken back at the next start (app.wiring.availability_store), before
anything is pushed to the phone system.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import cast

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QTabWidget, QToolButton, QVBoxLayout, QWidget

from app.config import Settings
from app.contactcenter.sync import AvailabilitySync
from app.core.availability import Actor, Availability, Change, Phase
from app.core.calls import Call, CallState, PresenceChanged, RegistrationChanged, RingPolicy
from app.core.contactcenter import (
    CallbacksChanged,
    ColleaguePresenceChanged,
    ContactCenter,
    QueuesChanged,
    RemoteAvailabilityChanged,
)
from app.core.phone import PhoneSession
from app.logs import call_event
from app.paths import Profile
from app.ui.main_window import MainWindow
from app.ui.queue_dashboard import ContactCenterBridge, QueueDashboard
from app.ui.status_menu import HIDDEN, StatusMenu
from app.wiring.availability_store import FILE_NAME, AvailabilityStore
from app.wiring.callbacks import CallbackWiring
from app.wiring.colleagues import ColleaguesWiring

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# What PhoneSession/Engine get as the caller id when the agent hides the number.
ANONYMOUS = "anonymous"
CONNECT_JOIN_SECONDS = 5.0  # connect() returns at once; this only bounds a broken one


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _tr(text: str) -> str:
    return QCoreApplication.translate("AvailabilityWiring", text)


class AvailabilityWiring(QObject):
    """See the module docstring. Build it, hand `ring_policy` to the engine, then `attach`.

    For other parts of the app (the tray): `changed` is emitted with every Change once it
    is applied, and `request_status(name, minutes)` is the agent's intent from elsewhere.
    """

    changed = Signal(object)  # app.core.availability.Change

    def __init__(self, settings: Settings, window: MainWindow, profile: Profile | None, *,
                 clock: Clock = utc_now, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._window = window
        self._profile = profile
        self._clock = clock
        self.availability = Availability.from_settings(
            settings.availability, clock(), call_waiting=settings.sip.call_waiting)
        self._store = AvailabilityStore(profile.data_dir / FILE_NAME) if profile else None
        if self._store is not None:  # before anything is shown or pushed
            self._store.restore(self.availability, clock())
        self._seen = 0  # history entries already shown, logged and pushed
        self._live: set[int] = set()  # call handles counted as "in a call"
        self._session: PhoneSession | None = None
        self._dial: Callable[[str], None] = lambda _number: None
        self.backend: ContactCenter | None = None
        self.dashboard: QueueDashboard | None = None
        self.callbacks: CallbackWiring | None = None
        self.colleagues: ColleaguesWiring | None = None
        self._sync: AvailabilitySync | None = None
        self._bridge: ContactCenterBridge | None = None
        self._queue_numbers: list[tuple[str, str]] = []
        self._connector: threading.Thread | None = None
        self._stopped = False

        self.menu = StatusMenu()
        self.menu.set_statuses(self.availability.statuses, self.availability.durations)
        window.set_status_widget(self._status_panel())
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._flush()

    def _save(self) -> None:
        if self._store is not None:
            self._store.save_choice(self.availability, self._clock())

    def _status_panel(self) -> QWidget:
        """The menu, with the schedule folded away: the calls stay in view below it."""
        panel = QWidget()
        panel.setObjectName("statusPanel")
        self.schedule_toggle = QToolButton(panel)
        self.schedule_toggle.setObjectName("scheduleToggle")
        self.schedule_toggle.setCheckable(True)
        self.schedule_toggle.setAutoRaise(True)
        self.schedule_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.schedule_toggle.toggled.connect(self._show_schedule)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.menu)
        layout.addWidget(self.schedule_toggle)
        self._show_schedule(False)
        return panel

    @Slot(bool)
    def _show_schedule(self, shown: bool) -> None:
        self.menu.upcoming_box.setVisible(shown)
        self.schedule_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)
        count = len(self.availability.upcoming)
        text = _tr("Upcoming availabilities") + (f" ({count})" if count else "")
        self.schedule_toggle.setText(text)

    @property
    def ring_policy(self) -> RingPolicy:
        """Runs on the engine thread: reads one immutable gate, never blocks."""
        return self.availability.ring_policy

    # -- building ----------------------------------------------------------------------

    def attach(self, engine: object, session: PhoneSession, *,
               dial: Callable[[str], None]) -> None:
        """Follow `session`'s calls, offer its caller ids, and build the backend."""
        self._session = session
        self._dial = dial
        session.subscribe(on_call_updated=self._call_updated,
                          on_registration=self._registration, on_presence=self._presence)
        m = self.menu
        m.status_requested.connect(self._status_requested)
        m.pool_calls_requested.connect(self._pool_calls_requested)
        m.wrap_up_end_requested.connect(self._wrap_up_end_requested)
        m.schedule_add_requested.connect(self._schedule_add_requested)
        m.schedule_remove_requested.connect(self._schedule_remove_requested)
        m.display_number_requested.connect(self._display_number_requested)
        self._window.caller_id_selected.connect(lambda n: m.show_display_number(n or ""))
        self._offer_display_numbers()
        cc = self._settings.contactcenter
        if cc.backend == "none":
            return
        from app.contactcenter.factory import create_contact_center

        try:
            # Every backend the factory builds implements the ContactCenter protocol.
            self.backend = cast(ContactCenter, create_contact_center(
                cc, self._settings.sip, engine=engine))  # type: ignore[arg-type]
        except Exception as exc:  # a bad setting or keyring: the phone works without it
            log.exception("contact-centre backend %s not available", cc.backend)
            self._window.show_problem(_tr("Queues and availability are not linked to the "
                                          "phone system: %s") % exc)
            return
        self._sync = AvailabilitySync(self.backend)
        self._bridge = ContactCenterBridge(self)
        self._bridge.event_received.connect(self._on_backend_event)
        self.dashboard = QueueDashboard()
        self.dashboard.attach(self.backend, ContactCenterBridge(self.dashboard))
        self.dashboard.join_requested.connect(self.backend.join)
        self.dashboard.leave_requested.connect(self.backend.leave)
        self.dashboard.setMinimumHeight(170)  # header and three rows, never one squeezed row
        self.callbacks = CallbackWiring(self._settings, self._profile,
                                        self.backend.close_callback, self._dial, self)
        self._tabs = QTabWidget()
        self._tabs.setObjectName("queues_and_callbacks")
        self._tabs.setTabBarAutoHide(True)  # one tab (no callbacks yet): no tab bar
        self._tabs.setDocumentMode(True)
        self._tabs.addTab(self.dashboard, _tr("Queues"))
        if cc.backend == "sip_presence" and cc.colleagues:
            # Plain SIP has no queues: the colleagues are what there is to see.
            self.colleagues = ColleaguesWiring(cc.colleagues, engine,  # type: ignore[arg-type]
                                               self._dial)
            self._tabs.addTab(self.colleagues.widget, _tr("Colleagues"))
            self._tabs.setCurrentWidget(self.colleagues.widget)
        # Asterisk never has callback requests: the tab comes with the first one.
        self.callbacks.widget.count_changed.connect(self._show_callback_count)
        self._window.set_queues_widget(self._tabs)
        self.backend.add_listener(self._bridge.post)

    @Slot(int)
    def _show_callback_count(self, count: int) -> None:
        widget = self.callbacks.widget if self.callbacks is not None else None
        if widget is None:
            return
        index = self._tabs.indexOf(widget)
        if index < 0:
            index = self._tabs.addTab(widget, "")
        self._tabs.setTabText(index, _tr("Callback requests (%s)") % count)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._timer.start()
        backend = self.backend
        if backend is None:
            return
        assert self._sync is not None
        self._sync.push(self.availability.current)  # remembered until it is connected
        # connect() should return at once; a slow DNS lookup or a backend that does its
        # first round inline must still never freeze the window.
        self._connector = threading.Thread(target=backend.connect,
                                           name="contactcenter-connect", daemon=True)
        self._connector.start()

    def stop(self) -> None:
        """Stop the timer, close the backend and finish pending CRM work. Safe twice."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        if self.backend is not None:
            if self._bridge is not None:
                self.backend.remove_listener(self._bridge.post)
            if self._connector is not None:  # a close() before connect() would not stick
                self._connector.join(CONNECT_JOIN_SECONDS)
            try:
                self.backend.close()
            except Exception:
                log.exception("contact-centre backend close failed")
        if self.callbacks is not None:
            self.callbacks.stop()

    # -- availability in, everywhere out ---------------------------------------------------

    def _flush(self) -> None:
        """Log, push and show every change recorded since the last flush."""
        a = self.availability
        new, self._seen = a.history[self._seen:], len(a.history)
        for change in new:
            call_event("availability", by=change.by.value, status=change.status.name,
                       type=change.status.type.value, shown=change.shown,
                       phase=change.phase.value, pool_calls=change.pool_calls,
                       until=change.until.isoformat() if change.until else None,
                       note=change.note)
            if self._sync is not None and not self._stopped:
                self._sync.push(change)
            self.changed.emit(change)
        if new:
            self._save()
            self._render(new[-1])
            if any(c.by in (Actor.SCHEDULE, Actor.RESTORE) for c in new):
                self.menu.show_upcoming(a.upcoming)
                self._show_schedule(self.schedule_toggle.isChecked())

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
        self.menu.show_upcoming(self.availability.upcoming)
        self._show_schedule(self.schedule_toggle.isChecked())
        self.menu.reset_new_schedule(now.astimezone())
        self._save()
        self._flush()

    @Slot(int)
    def _schedule_remove_requested(self, item_id: int) -> None:
        if self.availability.unschedule(item_id):
            call_event("availability_unscheduled", by="agent", id=item_id)
            self._save()
        self.menu.show_upcoming(self.availability.upcoming)
        self._show_schedule(self.schedule_toggle.isChecked())

    # -- calls -----------------------------------------------------------------------------

    def _call_updated(self, call: Call) -> None:
        a, now = self.availability, self._clock()
        if call.ended:
            if call.handle in self._live:
                self._live.discard(call.handle)
                a.call_ended(call.handle, now)
        else:
            if call.handle not in self._live:
                self._live.add(call.handle)
                a.call_started(call.handle, now)
            if call.state is CallState.CONNECTED or call.answered_at is not None:
                a.call_answered(call.handle, now)
        self._flush()

    def _registration(self, ev: RegistrationChanged) -> None:
        on_engine_event = getattr(self.backend, "on_engine_event", None)
        if on_engine_event is not None:  # SIP presence follows the registration
            on_engine_event(ev)
        if self.colleagues is not None:
            self.colleagues.on_registration(ev)

    def _presence(self, ev: PresenceChanged) -> None:
        """A watched colleague's NOTIFY; the backend emits it as ColleaguePresenceChanged."""
        getattr(self.backend, "on_engine_event", lambda _ev: None)(ev)

    # -- display number ----------------------------------------------------------------------

    def _offer_display_numbers(self) -> None:
        assert self._session is not None
        configured = list(self._settings.sip.caller_ids)
        work = configured[0] if configured else ""
        extra = [(_tr("Work"), n) for n in configured[1:]] + self._queue_numbers
        self.menu.set_display_numbers(work, extra)
        current = self._session.caller_id
        self.menu.show_display_number(HIDDEN if current == ANONYMOUS else current or "")

    @Slot(str)
    def _display_number_requested(self, choice: str) -> None:
        session = self._session
        assert session is not None
        configured = list(self._settings.sip.caller_ids)
        if choice == HIDDEN:
            # PhoneSession only accepts configured numbers; "anonymous" is what the engine
            # is given to hide the number (see the engine's _dial for what it sends).
            session.caller_id = ANONYMOUS
        elif not choice:
            session.choose_caller_id(configured[0] if configured else None)
        else:
            if choice not in session.caller_ids:  # a queue's number the backend reported
                session.caller_ids.append(choice)
            session.choose_caller_id(choice)
        call_event("display_number", by="agent", choice=choice or "default",
                   caller_id=session.caller_id)
        self._window.set_caller_ids(session.caller_ids, session.caller_id)

    # -- the phone system ----------------------------------------------------------------------

    @Slot(object)
    def _on_backend_event(self, event: object) -> None:
        if isinstance(event, RemoteAvailabilityChanged):
            AvailabilitySync.apply_remote(event, self.availability, self._clock())
            self._flush()
        elif isinstance(event, QueuesChanged):
            numbers = [(q.name, q.number) for q in event.queues if q.number]
            if numbers != self._queue_numbers:
                self._queue_numbers = numbers
                self._offer_display_numbers()
        elif isinstance(event, CallbacksChanged) and self.callbacks is not None:
            self.callbacks.on_requests(event.requests)
        elif isinstance(event, ColleaguePresenceChanged) and self.colleagues is not None:
            self.colleagues.show(event)


__all__ = ["ANONYMOUS", "AvailabilityWiring", "utc_now"]
