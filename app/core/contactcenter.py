"""The ContactCenter port: queues, availability and callbacks on the phone system.

This is core's side of the contact-centre adapters in app/contactcenter/ (Asterisk AMI,
Enreach, SIP presence, or none): the records, the events and the protocol they offer. A
backend works in its own thread and tells listeners what happened with the frozen events
below, on that thread; the UI bridges them to the GUI thread. Nothing here blocks a caller:
`connect()` starts the work, commands are queued, and a backend that is down or refuses our
credentials says so in `status` and keeps what the agent asked for, re-applying the
availability when it is back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
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


# --- settings ---------------------------------------------------------------------------


def parse_colleagues(entries: Iterable[str]) -> list[tuple[str, str]]:
    """`Name=sip:user@domain` lines → (name, uri); a bare URI is named by its user part.

    Lines without a sip:/sips: URI are skipped (logged); the first entry of a URI wins.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in entries:
        name, sep, uri = entry.partition("=")
        if not sep or name.strip().lower().startswith(("sip:", "sips:")):
            name, uri = "", entry  # a bare URI (its parameters may hold "=")
        name, uri = name.strip(), uri.strip()
        if not uri.lower().startswith(("sip:", "sips:")) or "@" not in uri:
            log.warning("contactcenter.colleagues: %r is not Name=sip:user@domain; skipped",
                        entry)
            continue
        if uri not in seen:
            seen.add(uri)
            out.append((name or uri.split(":", 1)[1].split("@", 1)[0], uri))
    return out
