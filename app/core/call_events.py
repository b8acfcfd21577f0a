"""What the telephony engine reports, as frozen plain values: call states and the events.

The engine copies what pjsua2 tells it into these dataclasses (on its own thread) and hands
them over; `app/core/calls.py` runs the call state machine on them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone

from app.core.quality import QualityReport


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallState(enum.Enum):
    """Our own call states; the engine maps PJSIP_INV_STATE_* onto these."""

    RINGING = "ringing"  # inbound, we sent 180 and the agent may answer
    DIALING = "dialing"  # outbound, INVITE sent, no provisional answer yet
    ALERTING = "alerting"  # outbound, remote is ringing (180/183, maybe early media)
    CONNECTING = "connecting"  # 200 sent or received, waiting for ACK
    CONNECTED = "connected"
    HELD = "held"  # connected, held by us
    ENDED = "ended"


# States in which a call is "the one the agent is on" (audio up or being set up): not
# ringing, not held, not over.
LIVE_STATES = frozenset({CallState.DIALING, CallState.ALERTING, CallState.CONNECTING,
                         CallState.CONNECTED})


class CallResult(enum.Enum):
    ANSWERED = "answered"
    MISSED = "missed"  # inbound, never answered, caller gave up or we timed out
    DECLINED = "declined"  # inbound, the agent (or a rule) refused it
    FAILED = "failed"  # outbound (or inbound) ended with an error before answer
    BUSY = "busy"  # outbound, 486/600
    NO_ANSWER = "no_answer"  # outbound, remote never answered (408/480/487 after our cancel)


class TransferState(enum.Enum):
    """How a transfer we asked for is going (the far end's NOTIFY sipfrag, RFC 3515)."""

    TRYING = "trying"  # REFER accepted, or the transferee's call is under way (100)
    RINGING = "ringing"  # the target is ringing (18x)
    ACCEPTED = "accepted"  # the target answered (2xx): the customer is theirs now
    FAILED = "failed"  # refused, busy, no answer, or the REFER itself was rejected


class RecordingState(enum.Enum):
    """Where a call's recording is (one recording per call; Stop ends it for good)."""

    RECORDING = "recording"
    PAUSED = "paused"  # the file goes on with silence, so the timeline is kept
    STOPPED = "stopped"  # the file is complete
    FAILED = "failed"  # could not start or write; `error` says why


class HangupSide(enum.Enum):
    LOCAL = "local"
    REMOTE = "remote"
    NONE = "none"  # ended by the network (timeout, transport error)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------
# Events from the telephony engine. All frozen, all plain values; `handle` is the engine's
# own small integer for a call (pjsua2 call ids are reused, handles are not).
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingCall:
    handle: int
    call_id: str  # SIP Call-ID
    remote_uri: str
    remote_number: str  # E.164 when it parses, else the raw user part
    display_name: str
    queue: str | None  # service pool name from the configured header, None for direct
    local_number: str
    auto_answer_after: float | None  # seconds, when the INVITE or settings ask for it
    waiting: bool  # another call is already in progress (call waiting)
    at: datetime = field(default_factory=utcnow)
    # An INVITE with Replaces: this call takes over call `replaces` (we were consulted and
    # the consulting agent completed the transfer). The engine answers it by itself.
    replaces: int | None = None
    # The INVITE's X-Switchboard-Context header as received (parsed by
    # app/core/transfer_context.py): the CRM record and case of a transferred call.
    context: str = ""


@dataclass(frozen=True)
class CallRefused:
    """An INVITE we turned away before it rang (rules, limits); logged, never shown ringing."""

    call_id: str
    remote_number: str
    display_name: str
    queue: str | None
    sip_code: int
    reason: str
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class OutgoingCallStarted:
    handle: int
    call_id: str
    remote_uri: str
    remote_number: str
    local_number: str  # the display number (caller id) chosen for this call
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class CallStateChanged:
    handle: int
    state: CallState
    sip_code: int = 0
    reason: str = ""
    hangup_side: HangupSide = HangupSide.NONE  # meaningful when state is ENDED
    early_media: bool = False
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class MediaChanged:
    handle: int
    active: bool  # audio flowing both ways
    muted: bool
    held_locally: bool
    held_remotely: bool


@dataclass(frozen=True)
class HoldFailed:
    """The far end refused (or never answered) our hold or resume re-INVITE."""

    handle: int
    held: bool  # what was asked: True for hold, False for resume
    sip_code: int  # 0: no answer came
    reason: str = ""


@dataclass(frozen=True)
class DtmfReceived:
    handle: int
    digit: str
    method: str  # "rfc4733" or "info"


class RegistrationState(enum.Enum):
    DISABLED = "disabled"  # direct (peer-to-peer) mode, nothing to register
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"  # will retry after `retry_in`
    UNREGISTERED = "unregistered"


# The registration states in which calls can reach the agent (the tray, presence and the
# colleagues list all ask this).
RINGABLE = frozenset({RegistrationState.REGISTERED, RegistrationState.DISABLED})


def can_ring(state: RegistrationState) -> bool:
    """Whether calls can reach the agent in this registration state."""
    return state in RINGABLE


@dataclass(frozen=True)
class TransferStatus:
    """Progress of a blind transfer of call `handle` that we started (REFER sent)."""

    handle: int
    state: TransferState
    sip_code: int  # the status line in the sipfrag, or the REFER's own error response
    reason: str
    final: bool  # the transfer subscription is over; no more progress will come
    target: str  # the URI the call is being transferred to
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class TransferRequested:
    """The far end transfers us (REFER received): we call the target as a new call.

    `new_handle` is that new call; its OutgoingCallStarted follows. The call `handle`
    is normally ended by the far end once the new call is answered.
    """

    handle: int
    new_handle: int
    target_uri: str
    target_number: str
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class RecordingChanged:
    """A call's recording started, paused, resumed, stopped or failed.

    `position` is how much of the call the file holds at that moment (seconds), so a
    pause from 12.4 to 20.0 is silence from 12.4 s to 20.0 s in the file.
    """

    handle: int
    state: RecordingState
    path: str
    position: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class RegistrationChanged:
    state: RegistrationState
    sip_code: int = 0
    reason: str = ""
    retry_in: float | None = None
    contact: str = ""


@dataclass(frozen=True)
class PresenceChanged:
    """A subscribed presentity's state (PIDF basic open/closed and its note)."""

    uri: str
    basic_open: bool
    note: str
    state_text: str


@dataclass(frozen=True)
class EngineProblem:
    """Something the agent should be told once (no sound card, transport failed, …)."""

    message: str
    fatal: bool = False


EngineEvent = (
    IncomingCall
    | CallRefused
    | OutgoingCallStarted
    | CallStateChanged
    | MediaChanged
    | HoldFailed
    | DtmfReceived
    | TransferStatus
    | TransferRequested
    | RecordingChanged
    | QualityReport
    | RegistrationChanged
    | PresenceChanged
    | EngineProblem
)


__all__ = [
    "LIVE_STATES",
    "RINGABLE",
    "CallRefused",
    "CallResult",
    "CallState",
    "CallStateChanged",
    "Direction",
    "DtmfReceived",
    "EngineEvent",
    "EngineProblem",
    "HangupSide",
    "HoldFailed",
    "IncomingCall",
    "MediaChanged",
    "OutgoingCallStarted",
    "PresenceChanged",
    "RecordingChanged",
    "RecordingState",
    "RegistrationChanged",
    "RegistrationState",
    "TransferRequested",
    "TransferState",
    "TransferStatus",
    "can_ring",
    "utcnow",
]
