"""The phone system's contact-centre side (`contactcenter.backend`) wired into the app.

`ContactCenterWiring` connects a finished `ContactCenter` backend (built by the
composition root) to the window and the agent's availability:

- the backend's events arrive on its own thread and cross to the GUI thread through a
  `GuiPoster`; queue rows and the backend's state go to the queue dashboard, callback
  requests to the callback list (app.wiring.callbacks), colleagues' presence to the
  colleagues list (app.wiring.colleagues), an availability changed there to the core
  (recorded as made by the backend), and the queues' numbers to the display-number menu;
- every availability change the agent (or the schedule) makes is pushed once
  (AvailabilitySync), remembered until the backend is connected;
- the dashboard's join/leave intents go to the backend;
- SIP presence follows the registration: engine events are fed to `engine_events`.

`connect()` runs on the network lane, so a slow DNS lookup or a backend that does its
first round inline never freezes the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Slot

from app.core.availability import Change
from app.core.availability_sync import AvailabilitySync
from app.core.calls import PresenceChanged, RegistrationChanged
from app.core.contactcenter import (
    CallbacksChanged,
    ColleaguePresenceChanged,
    ContactCenter,
    QueuesChanged,
    RemoteAvailabilityChanged,
    StatusChanged,
)
from app.core.phone import PhoneSession
from app.threads import GuiPoster, Lane, TaskRunner
from app.ui.queue_dashboard import QueueDashboard
from app.wiring.availability import AvailabilityWiring
from app.wiring.callbacks import CallbackWiring
from app.wiring.colleagues import ColleaguesWiring

log = logging.getLogger(__name__)

CONNECT_WAIT_SECONDS = 5.0  # connect() returns at once; this only bounds a broken one
EngineEvents = Callable[[RegistrationChanged | PresenceChanged], None]


class ContactCenterWiring(QObject):
    """See the module docstring. `start()` once the window is up; `stop()` before closing."""

    def __init__(self, backend: ContactCenter, poster: GuiPoster,
                 availability: AvailabilityWiring, dashboard: QueueDashboard,
                 session: PhoneSession, tasks: TaskRunner, *,
                 callbacks: CallbackWiring | None = None,
                 colleagues: ColleaguesWiring | None = None,
                 engine_events: EngineEvents | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.dashboard = dashboard
        self.callbacks = callbacks
        self.colleagues = colleagues
        self._poster = poster
        self._availability = availability
        self._tasks = tasks
        self._engine_events = engine_events
        self._sync = AvailabilitySync(backend)
        self._connecting: Future[Any] | None = None
        self._stopped = False

        poster.received.connect(self._on_event)
        dashboard.join_requested.connect(backend.join)
        dashboard.leave_requested.connect(backend.leave)
        dashboard.show_status(backend.status)
        dashboard.show_queues(backend.queues())
        availability.changed.connect(self._push)
        session.subscribe(on_registration=self._registration, on_presence=self._presence)
        backend.add_listener(poster.post)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._sync.push(self._availability.availability.current)  # kept until connected
        self._connecting = self._tasks.run(Lane.NETWORK, self.backend.connect)

    def stop(self) -> None:
        """Stop listening, close the backend and the callback work. Safe twice."""
        if self._stopped:
            return
        self._stopped = True
        self.backend.remove_listener(self._poster.post)
        self._poster.close()
        # A close() before connect() has returned would not stick.
        self._tasks.wait(self._connecting, CONNECT_WAIT_SECONDS)
        try:
            self.backend.close()
        except Exception:
            log.exception("contact-centre backend close failed")
        if self.callbacks is not None:
            self.callbacks.stop()

    # -- both ways ---------------------------------------------------------------------------

    @Slot(object)
    def _push(self, change: Change) -> None:
        if not self._stopped:
            self._sync.push(change)

    def _registration(self, ev: RegistrationChanged) -> None:
        if self._engine_events is not None:  # SIP presence follows the registration
            self._engine_events(ev)
        if self.colleagues is not None:
            self.colleagues.on_registration(ev)

    def _presence(self, ev: PresenceChanged) -> None:
        """A watched colleague's NOTIFY; the backend emits it as ColleaguePresenceChanged."""
        if self._engine_events is not None:
            self._engine_events(ev)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, (QueuesChanged, StatusChanged)):
            self.dashboard.on_event(event)
        if isinstance(event, RemoteAvailabilityChanged):
            self._availability.apply_remote(event)
        elif isinstance(event, QueuesChanged):
            self._availability.set_queue_numbers(
                [(q.name, q.number) for q in event.queues if q.number])
        elif isinstance(event, CallbacksChanged) and self.callbacks is not None:
            self.callbacks.on_requests(event.requests)
        elif isinstance(event, ColleaguePresenceChanged) and self.colleagues is not None:
            self.colleagues.show(event)


__all__ = ["ContactCenterWiring"]
