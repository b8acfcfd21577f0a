"""The call state machine, whether a call may ring, and the finished CallRecord.

The events that drive it are in `app/core/call_events.py`; they are named here too, so a
caller imports a call's whole vocabulary from one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.core.call_events import (
    LIVE_STATES,
    RINGABLE,
    CallRefused,
    CallResult,
    CallState,
    CallStateChanged,
    Direction,
    DtmfReceived,
    EngineEvent,
    EngineProblem,
    HangupSide,
    HoldFailed,
    IncomingCall,
    MediaChanged,
    OutgoingCallStarted,
    PresenceChanged,
    RecordingChanged,
    RecordingState,
    RegistrationChanged,
    RegistrationState,
    TransferRequested,
    TransferState,
    TransferStatus,
    can_ring,
    utcnow,
)
from app.core.quality import QualityReport, QualitySummary, summarise
from app.core.transfer_context import TransferContext

# Which states may follow which: anything else is a bug in the engine mapping.
LEGAL_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.RINGING: frozenset({CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED}),
    CallState.DIALING: frozenset(
        {CallState.ALERTING, CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED}
    ),
    CallState.ALERTING: frozenset({CallState.CONNECTING, CallState.CONNECTED, CallState.ENDED}),
    CallState.CONNECTING: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.CONNECTED: frozenset({CallState.HELD, CallState.ENDED}),
    CallState.HELD: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class IllegalTransition(ValueError):
    """The engine reported a state change that cannot happen."""


# ---------------------------------------------------------------------------------------
# Whether an incoming INVITE may ring. The engine asks this on its own thread, inside
# onIncomingCall, and answers pjsua2 at once: it must be a quick, pure function.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallOffer:
    remote_number: str  # as the INVITE wrote it (not yet E.164: the decision must not wait)
    display_name: str
    queue: str | None  # None: a direct call to the agent
    calls_in_progress: int  # calls already ringing or up on this agent


@dataclass(frozen=True)
class RingDecision:
    ring: bool
    sip_code: int = 180  # 180 when ringing, else the refusal code (486, 480, 603)
    reason: str = ""


RingPolicy = Callable[[CallOffer], RingDecision]

MAX_CALLS = 4  # the pjsua2 wheel refuses a fifth call whatever maxCalls says


def basic_policy(offer: CallOffer, *, call_waiting: bool = True) -> RingDecision:
    """Ring unless we are full; a second call rings only with call waiting on."""
    if offer.calls_in_progress >= MAX_CALLS:
        return RingDecision(False, 486, "Too many calls")
    if offer.calls_in_progress and not call_waiting:
        return RingDecision(False, 486, "Busy Here")
    return RingDecision(True)


def next_auto_answer(calls: list[tuple[int, CallState, float | None]],
                     now: float) -> int | None:
    """The call the engine auto-answers now, or None.

    `calls` holds (handle, state, due) for every call the engine has; `due` is when a
    call qualified for auto-answer may be answered (monotonic seconds), None when it does
    not qualify. The rule: auto-answer never lands on top of a call the agent is in (any
    state but RINGING/ENDED, held calls included); once the line is free the oldest
    qualifying call still ringing is answered, one at a time. So a call that arrived as
    call waiting is auto-answered when the call before it ends, not never.
    """
    if any(state not in (CallState.RINGING, CallState.ENDED) for _h, state, _d in calls):
        return None
    due = [handle for handle, state, at in calls
           if state is CallState.RINGING and at is not None and at <= now]
    return min(due, default=None)  # handles grow with arrival: the oldest call first


# ---------------------------------------------------------------------------------------
# The finished call.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    direction: Direction
    local_number: str
    remote_number: str
    display_name: str
    queue: str | None
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    result: CallResult
    hangup_side: HangupSide
    sip_code: int
    sip_reason: str
    # Who the CRM says the caller is (one record's name, "" for none or several) and
    # which CRM said it (crm.backend: "local", "salesforce", "dynamics").
    crm_name: str = ""
    crm: str = ""
    # Turned away before it rang, and why (the ring policy's reason: "Wrap up", "Do not
    # disturb"); "" for every call that rang. Such a call's result is DECLINED.
    refused_reason: str = ""
    recording_path: str = ""  # the call's stereo WAV (far end left, agent right)
    quality: QualitySummary | None = None
    # We handed the caller to someone else: to whom (number or URI), how ("blind" /
    # "consulted") and when the target answered. Empty for a call not transferred.
    transferred_to: str = ""
    transfer_kind: str = ""
    transferred_at: datetime | None = None

    @property
    def wait_seconds(self) -> float:
        until = self.answered_at or self.ended_at
        return max(0.0, (until - self.arrived_at).total_seconds())

    @property
    def talk_seconds(self) -> float:
        if self.answered_at is None:
            return 0.0
        return max(0.0, (self.ended_at - self.answered_at).total_seconds())


_BUSY_CODES = frozenset({486, 600})
_NO_ANSWER_CODES = frozenset({408, 480, 487})


@dataclass
class Call:
    """One call's life. Feed it CallStateChanged events; ask it for its record at the end."""

    handle: int
    call_id: str
    direction: Direction
    local_number: str
    remote_number: str
    display_name: str = ""
    queue: str | None = None
    arrived_at: datetime = field(default_factory=utcnow)
    crm_name: str = ""  # the CRM's name for the caller (see CallRecord)
    crm: str = ""  # the CRM that looked the number up; "" until it answered
    crm_matches: int = 0  # how many records it found
    state: CallState = CallState.RINGING
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    sip_code: int = 0
    sip_reason: str = ""
    hangup_side: HangupSide = HangupSide.NONE
    declined_locally: bool = False
    muted: bool = False
    held: bool = False
    early_media: bool = False  # outbound, alerting: the far end already sends audio
    transfer: TransferState | None = None  # a blind transfer we started, and how it goes
    transfer_target: str = ""
    transfer_reason: str = ""  # e.g. "486 Busy Here" when it failed
    transfer_kind: str = ""  # "blind" / "consulted", for the transfer we started
    transfer_accepted_at: datetime | None = None  # the target answered: the caller is theirs
    transferred_to: str = ""  # the far end moved us (REFER) to this target, as a new call
    consultation_for: int | None = None  # this call consults about that (held) call
    replaces: int | None = None  # took over this call (INVITE with Replaces)
    replaced_by: int | None = None  # was taken over by this call
    recording: RecordingState | None = None
    recording_path: str = ""
    recording_error: str = ""
    hold_failure: HoldFailed | None = None  # the last hold/resume the far end refused
    quality: QualityReport | None = None  # the latest interval
    quality_reports: list[QualityReport] = field(default_factory=list, repr=False)
    # The CRM record and case a transferred call is about (X-Switchboard-Context).
    context: TransferContext | None = None

    @property
    def transferring(self) -> bool:
        """A transfer is under way (not yet accepted or failed)."""
        return self.transfer in (TransferState.TRYING, TransferState.RINGING)

    def apply_transfer(self, ev: TransferStatus) -> None:
        self.transfer = ev.state
        if ev.state is TransferState.ACCEPTED and self.transfer_accepted_at is None:
            self.transfer_accepted_at = ev.at
        self.transfer_target = self.transfer_target or ev.target  # keep what the agent chose
        self.transfer_reason = f"{ev.sip_code} {ev.reason}".strip() if ev.sip_code else \
            ev.reason

    @classmethod
    def inbound(cls, ev: IncomingCall) -> Call:
        return cls(
            handle=ev.handle,
            call_id=ev.call_id,
            direction=Direction.INBOUND,
            local_number=ev.local_number,
            remote_number=ev.remote_number,
            display_name=ev.display_name,
            queue=ev.queue,
            arrived_at=ev.at,
            state=CallState.RINGING,
            replaces=ev.replaces,
        )

    @classmethod
    def outbound(cls, ev: OutgoingCallStarted) -> Call:
        return cls(
            handle=ev.handle,
            call_id=ev.call_id,
            direction=Direction.OUTBOUND,
            local_number=ev.local_number,
            remote_number=ev.remote_number,
            arrived_at=ev.at,
            state=CallState.DIALING,
        )

    @property
    def ended(self) -> bool:
        return self.state is CallState.ENDED

    def mark_declined(self) -> None:
        """The agent pressed decline: remember it so the record says DECLINED, not MISSED."""
        self.declined_locally = True

    def apply(self, ev: CallStateChanged) -> None:
        if ev.state is self.state:
            return  # pjsua2 repeats EARLY for each 18x; not a transition
        if ev.state not in LEGAL_TRANSITIONS[self.state]:
            raise IllegalTransition(f"call {self.handle}: {self.state.value} -> {ev.state.value}")
        if ev.state is CallState.CONNECTED and self.answered_at is None:
            self.answered_at = ev.at
        self.held = ev.state is CallState.HELD
        self.early_media = ev.state is CallState.ALERTING and ev.early_media
        self.state = ev.state
        if ev.state is CallState.ENDED:
            self.ended_at = ev.at
            self.sip_code = ev.sip_code
            self.sip_reason = ev.reason
            self.hangup_side = ev.hangup_side

    def result(self) -> CallResult:
        if self.answered_at is not None:
            return CallResult.ANSWERED
        if self.direction is Direction.INBOUND:
            # Only the agent declines: a ringing call the phone itself ended (quitting,
            # shutting down) was never answered and is missed, so it is logged.
            return CallResult.DECLINED if self.declined_locally else CallResult.MISSED
        if self.sip_code in _BUSY_CODES:
            return CallResult.BUSY
        if self.sip_code in _NO_ANSWER_CODES:
            return CallResult.NO_ANSWER
        return CallResult.FAILED

    def record(self) -> CallRecord:
        if self.ended_at is None:
            raise ValueError(f"call {self.handle} has not ended")
        moved = self.transfer is TransferState.ACCEPTED  # the caller went to the target
        return CallRecord(
            call_id=self.call_id,
            direction=self.direction,
            local_number=self.local_number,
            remote_number=self.remote_number,
            display_name=self.display_name,
            crm_name=self.crm_name,
            crm=self.crm,
            queue=self.queue,
            arrived_at=self.arrived_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            result=self.result(),
            hangup_side=self.hangup_side,
            sip_code=self.sip_code,
            sip_reason=self.sip_reason,
            recording_path=self.recording_path,
            quality=summarise(self.quality_reports),
            transferred_to=self.transfer_target if moved else "",
            transfer_kind=(self.transfer_kind or "blind") if moved else "",
            transferred_at=self.transfer_accepted_at if moved else None,
        )


def refused_record(ev: CallRefused, local_number: str) -> CallRecord:
    """A call turned away before ringing still belongs in history (as DECLINED)."""
    return CallRecord(
        call_id=ev.call_id,
        direction=Direction.INBOUND,
        local_number=local_number,
        remote_number=ev.remote_number,
        display_name=ev.display_name,
        queue=ev.queue,
        arrived_at=ev.at,
        answered_at=None,
        ended_at=ev.at,
        result=CallResult.DECLINED,
        hangup_side=HangupSide.LOCAL,
        sip_code=ev.sip_code,
        sip_reason=ev.reason,
        refused_reason=ev.reason or "refused",
    )


__all__ = [
    "LEGAL_TRANSITIONS",
    "LIVE_STATES",
    "MAX_CALLS",
    "RINGABLE",
    "Call",
    "CallOffer",
    "CallRecord",
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
    "IllegalTransition",
    "IncomingCall",
    "MediaChanged",
    "OutgoingCallStarted",
    "PresenceChanged",
    "QualityReport",
    "QualitySummary",
    "RecordingChanged",
    "RecordingState",
    "RegistrationChanged",
    "RegistrationState",
    "RingDecision",
    "RingPolicy",
    "TransferRequested",
    "TransferState",
    "TransferStatus",
    "basic_policy",
    "can_ring",
    "next_auto_answer",
    "refused_record",
]
