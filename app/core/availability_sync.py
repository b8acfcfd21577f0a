"""Keep the phone system's idea of our availability in step with app.core.availability.

`AvailabilitySync.push(change)` turns each availability Change into at most one
`set_availability` call (repeats are dropped); wrap-up is sent as a pause of queue calls
so the phone system stops offering them. `apply_remote(event, availability, now)` takes a
RemoteAvailabilityChanged from the backend into the core, recorded as made by the backend.
Pure Python, no threads: call both on the GUI thread.
"""

from __future__ import annotations

from datetime import datetime

from app.core.availability import WRAP_UP, Actor, Availability, Change, Phase, StatusType
from app.core.contactcenter import ContactCenter, RemoteAvailabilityChanged


def backend_availability(change: Change) -> tuple[StatusType, str, str]:
    """(type, name, reason) the phone system should hold for this change."""
    status = change.status
    if change.phase is Phase.WRAP_UP and status.type is not StatusType.DND:
        return StatusType.OFFWORK, WRAP_UP, f"then {status.name}"
    return status.type, status.name, ""  # in a call: the phone system sees the call itself


class AvailabilitySync:
    def __init__(self, backend: ContactCenter) -> None:
        self._backend = backend
        self._last: tuple[StatusType, str, str] | None = None

    def push(self, change: Change) -> bool:
        """Send `change` if it means something new to the phone system; True when sent."""
        if change.by is Actor.BACKEND:
            self._last = backend_availability(change)  # it came from there: no echo
            return False
        wanted = backend_availability(change)
        if wanted == self._last:
            return False
        self._last = wanted
        self._backend.set_availability(*wanted)
        return True

    @staticmethod
    def apply_remote(event: RemoteAvailabilityChanged, availability: Availability,
                     now: datetime) -> Change | None:
        """Use the status named by the phone system, else the first one of its type."""
        try:
            status = availability.find(event.name) if event.name else None
        except KeyError:
            status = None
        if status is None:
            status = next((s for s in availability.statuses if s.type is event.type), None)
        if status is None or status == availability.status:
            return None
        return availability.set_status(status.name, now, by=Actor.BACKEND, note=event.reason)


__all__ = ["AvailabilitySync", "backend_availability"]
