"""What every contact-centre backend shares: listeners, status, remembered availability.

The port these backends implement (records, events, the `ContactCenter` protocol) lives in
app/core/contactcenter.py; this module holds the shared implementation and backend `none`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from app.core.availability import StatusType
from app.core.callbacks import CallbackRequest
from app.core.contactcenter import (
    BackendState,
    BackendStatus,
    ContactCenterEvent,
    Listener,
    QueuesChanged,
    QueueStatus,
    StatusChanged,
)

log = logging.getLogger(__name__)


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
    "DesiredAvailability",
    "NullContactCenter",
    "backoff",
]
