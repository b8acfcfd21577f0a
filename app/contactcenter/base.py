"""The ContactCenter protocol: queues, availability and callbacks on the phone system.

A backend (Asterisk AMI, Enreach, SIP presence, or none) works in its own thread and tells
listeners what happened with the frozen events below, on that thread; the UI bridges them
to the GUI thread. Nothing here blocks a caller: `connect()` starts the work, commands are
queued, and a backend that is down or refuses our credentials says so in `status` and keeps
what the agent asked for, re-applying the availability when it is back.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from app.core.availability import StatusType
from app.core.callbacks import CallbackRequest

log = logging.getLogger(__name__)


class BackendUnavailable(ConnectionError):
    """The phone system cannot answer now (down, or we are not signed in); try later."""


class BackendState(enum.Enum):
    DISABLED = "disabled"  # backend "none"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"  # retrying by itself
    CREDENTIALS_REFUSED = "credentials_refused"  # not retrying until reconfigured
    CLOSED = "closed"


@dataclass(frozen=True)
class BackendStatus:
    state: BackendState
    message: str = ""
    retry_in: float | None = None  # seconds until the next attempt, when retrying

    @property
    def ok(self) -> bool:
        return self.state in (BackendState.CONNECTED, BackendState.DISABLED)


@dataclass(frozen=True)
class QueueStatus:
    """One row of the queue dashboard."""

    name: str
    number: str = ""  # the queue's public number, when the backend knows it
    serving: int = 0  # agents logged in to the queue
    free: int = 0  # of those, not paused and not on a call
    active: bool = False  # this agent is a member (joined) and takes its calls
    active_calls: int = 0  # calls being served right now
    queue_length: int = 0  # callers waiting
    max_wait_seconds: int = 0  # longest current wait
    id: str = ""  # the backend's id; "" means the name is the id

    @property
    def key(self) -> str:
        return self.id or self.name


# --- what listeners hear --------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChanged:
    status: BackendStatus


@dataclass(frozen=True)
class QueuesChanged:
    queues: tuple[QueueStatus, ...]


@dataclass(frozen=True)
class RemoteAvailabilityChanged:
    """The phone system says our availability changed (an admin, another device)."""

    type: StatusType
    name: str
    reason: str = ""


@dataclass(frozen=True)
class CallbacksChanged:
    requests: tuple[CallbackRequest, ...]


@dataclass(frozen=True)
class ColleaguePresenceChanged:
    """A watched colleague's availability as the phone system publishes it."""

    uri: str
    available: bool  # PIDF basic open
    note: str  # their status name, e.g. "Do not disturb"


ContactCenterEvent = (StatusChanged | QueuesChanged | RemoteAvailabilityChanged
                      | CallbacksChanged | ColleaguePresenceChanged)
Listener = Callable[[ContactCenterEvent], None]


@runtime_checkable
class ContactCenter(Protocol):
    """What the app asks of a phone system's contact-centre side."""

    @property
    def status(self) -> BackendStatus: ...

    def connect(self) -> None:
        """Start connecting in the background; returns at once."""
        ...

    def close(self) -> None: ...

    def queues(self) -> list[QueueStatus]:
        """The last known rows (no network round trip)."""
        ...

    def join(self, queue: str) -> None: ...

    def leave(self, queue: str) -> None: ...

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        """Remembered, sent now if connected, and sent again after every reconnect."""
        ...

    def callback_requests(self) -> list[CallbackRequest]:
        """Open callback requests (may block on the network: call off the GUI thread)."""
        ...

    def close_callback(self, request_id: str, note: str) -> None:
        """Mark a request handled on the phone system (blocking; raises when it failed)."""
        ...

    def add_listener(self, listener: Listener) -> None: ...

    def remove_listener(self, listener: Listener) -> None: ...


@dataclass(frozen=True)
class DesiredAvailability:
    type: StatusType
    name: str
    reason: str = ""


class BackendBase:
    """Listener list, status and the remembered availability every backend shares."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._status = BackendStatus(BackendState.CLOSED)
        self._desired: DesiredAvailability | None = None
        self._rows: dict[str, QueueStatus] = {}

    @property
    def status(self) -> BackendStatus:
        return self._status

    @property
    def desired_availability(self) -> DesiredAvailability | None:
        return self._desired

    def queues(self) -> list[QueueStatus]:
        return sorted(self._rows.values(), key=lambda q: q.name.casefold())

    def add_listener(self, listener: Listener) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit(self, event: ContactCenterEvent) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the backend thread
                log.exception("contact-centre listener failed on %s", type(event).__name__)

    def _set_status(self, state: BackendState, message: str = "",
                    retry_in: float | None = None) -> None:
        status = BackendStatus(state, message, retry_in)
        if status != self._status:
            self._status = status
            log.info("contact centre: %s %s", state.value, message)
            self._emit(StatusChanged(status))

    def _publish_rows(self, rows: dict[str, QueueStatus]) -> None:
        if rows != self._rows:
            self._rows = dict(rows)
            self._emit(QueuesChanged(tuple(self.queues())))


class NullContactCenter(BackendBase):
    """Backend `none`: no queues, no callbacks; availability stays inside the app."""

    def __init__(self) -> None:
        super().__init__()
        self._status = BackendStatus(BackendState.DISABLED, "No phone-system backend")

    def connect(self) -> None:
        pass

    def close(self) -> None:
        pass

    def join(self, queue: str) -> None:
        pass

    def leave(self, queue: str) -> None:
        pass

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        self._desired = DesiredAvailability(type, name, reason)

    def callback_requests(self) -> list[CallbackRequest]:
        return []

    def close_callback(self, request_id: str, note: str) -> None:
        pass


def backoff(attempt: int, first: float = 1.0, longest: float = 60.0) -> float:
    """Delay before reconnect attempt `attempt` (0-based): doubles up to `longest`."""
    return min(longest, first * (2 ** min(attempt, 30)))


__all__ = [
    "BackendBase",
    "BackendState",
    "BackendStatus",
    "BackendUnavailable",
    "CallbacksChanged",
    "ColleaguePresenceChanged",
    "ContactCenter",
    "ContactCenterEvent",
    "DesiredAvailability",
    "Listener",
    "NullContactCenter",
    "QueueStatus",
    "QueuesChanged",
    "RemoteAvailabilityChanged",
    "StatusChanged",
    "backoff",
]
