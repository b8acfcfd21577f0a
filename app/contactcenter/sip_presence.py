"""Availability as SIP presence: PUBLISH a PIDF document through the telephony engine.

Works with any registrar that has a presence server (Kamailio's presence module in our
integration tests). PIDF `basic` is `open` for Available and Busy (calls reach the agent)
and `closed` for DND and OffWork; the note carries the status name so colleagues see
"Lunch" or "Do not disturb". Plain SIP has no queues or callback requests, so those stay
empty. The state follows the engine's registration: registered (or direct mode) is
"connected", a failing registration is "unreachable" (401/403: credentials refused), and
the agent's availability is published again each time registration comes back.

Feed engine events to `on_engine_event` (RegistrationChanged, PresenceChanged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from app.contactcenter.base import BackendBase, DesiredAvailability
from app.core.availability import StatusType
from app.core.callbacks import CallbackRequest
from app.core.calls import PresenceChanged, RegistrationChanged, RegistrationState, can_ring
from app.core.contactcenter import BackendState, ColleaguePresenceChanged

log = logging.getLogger(__name__)

OPEN_TYPES = (StatusType.AVAILABLE, StatusType.BUSY)


class PresenceEngine(Protocol):
    """The part of app.telephony.Engine this backend uses."""

    def publish_presence(self, basic_open: bool, note: str) -> None: ...

    def subscribe_presence(self, uri: str) -> None: ...


def pidf_for(d: DesiredAvailability) -> tuple[bool, str]:
    """(basic open, note) published for an availability."""
    note = f"{d.name}: {d.reason}" if d.reason else d.name
    return d.type in OPEN_TYPES, note


class SipPresenceContactCenter(BackendBase):
    def __init__(self, engine: PresenceEngine, *, watch: Iterable[str] = (),
                 own_uri: str = "") -> None:
        super().__init__()
        self._engine = engine
        self._watch = list(dict.fromkeys(watch))
        self._own = own_uri
        self._registered = False

    def connect(self) -> None:
        self._set_status(BackendState.CONNECTING, "waiting for SIP registration")
        for uri in self._watch:
            self._engine.subscribe_presence(uri)

    def close(self) -> None:
        self._set_status(BackendState.CLOSED)

    def watch(self, uri: str) -> None:
        if uri not in self._watch:
            self._watch.append(uri)
            self._engine.subscribe_presence(uri)

    def join(self, queue: str) -> None:
        log.info("SIP presence has no queues to join (%s)", queue)

    def leave(self, queue: str) -> None:
        log.info("SIP presence has no queues to leave (%s)", queue)

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        self._desired = DesiredAvailability(type, name, reason)
        if self._registered:
            self._engine.publish_presence(*pidf_for(self._desired))

    def callback_requests(self) -> list[CallbackRequest]:
        return []

    def close_callback(self, request_id: str, note: str) -> None:
        raise LookupError("SIP presence has no callback requests")

    def on_engine_event(self, event: object) -> None:
        if isinstance(event, RegistrationChanged):
            self._on_registration(event)
        elif isinstance(event, PresenceChanged) and event.uri != self._own:
            self._emit(ColleaguePresenceChanged(event.uri, event.basic_open, event.note))

    def _on_registration(self, ev: RegistrationChanged) -> None:
        was = self._registered
        self._registered = can_ring(ev.state)
        if self._registered:
            self._set_status(BackendState.CONNECTED, ev.contact)
            if not was and self._desired is not None:  # back: say where we are again
                self._engine.publish_presence(*pidf_for(self._desired))
        elif ev.state is RegistrationState.FAILED and ev.sip_code in (401, 403):
            self._set_status(BackendState.CREDENTIALS_REFUSED,
                             f"The registrar refused the SIP account ({ev.sip_code} "
                             f"{ev.reason})", ev.retry_in)
        elif ev.state is RegistrationState.FAILED:
            self._set_status(BackendState.UNREACHABLE, f"SIP registration failed "
                             f"({ev.sip_code} {ev.reason})".replace(" )", ")"), ev.retry_in)
        else:
            self._set_status(BackendState.CONNECTING, ev.state.value)


__all__ = ["PresenceEngine", "SipPresenceContactCenter", "pidf_for"]
