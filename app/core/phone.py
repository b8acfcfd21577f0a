"""The agent's phone session: engine events become Call objects, intents become commands.

`PhoneSession` is pure Python (no Qt, no pjsua2). It is given something with the
engine's command methods (`CallControl`) and a history store, and it holds the rules:

- answering a call while another is connected holds the connected one (call waiting);
  resuming a held call holds whichever other call is connected (swap);
- hanging up the active call leaves a held call held: the agent resumes it;
- declining marks the call declined so its record says DECLINED, not MISSED;
- when a call ends, `on_call_updated` sees it once more in state ENDED (so a UI can drop
  it by handle), then its CallRecord goes to history and to the `on_call_ended` listeners;
- numbers typed by the agent go through `numbers.normalise`; an unparseable one comes
  back as a message for the UI and nothing is dialled. `sip:` URIs pass through;
- transfers (blind, consulted, being transferred, the CRM context that goes with
  them) are the session's `TransferMixin` half: app/core/transfers.py;
- the engine's recording and quality reports land on the call (`Call.recording`,
  `Call.quality`), and so in its CallRecord (the file, the quality summary);
- the number shown on outbound calls (`caller_id`) is one the agent may show: a
  configured caller id, a queue's number the phone system reported, or ANONYMOUS
  (app/core/display_number.py makes the chooser's entries and values).

Listeners are plain callables registered with `subscribe`; a failing listener is logged
and never stops the others or the session. Besides "this call changed"
(`on_call_updated`) and "this call is over" (`on_call_ended`, also for calls refused
before they rang), the session publishes each call's transitions once
(`on_transition`: app/core/transitions.py) and what the call panel shows (`view`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from app.config import Settings
from app.core.calls import (
    Call,
    CallRecord,
    CallRefused,
    CallResult,
    CallState,
    CallStateChanged,
    Direction,
    DtmfReceived,
    EngineEvent,
    EngineProblem,
    HoldFailed,
    IllegalTransition,
    IncomingCall,
    MediaChanged,
    OutgoingCallStarted,
    PresenceChanged,
    QualityReport,
    RecordingChanged,
    RegistrationChanged,
    TransferRequested,
    TransferStatus,
    refused_record,
)
from app.core.dialing import CallControl, DialOutcome, dial_target
from app.core.display_number import ANONYMOUS, DisplayChoice, caller_id_for, display_choices
from app.core.display_number import value_of as display_value_of
from app.core.history import HistoryError
from app.core.numbers import InvalidNumber
from app.core.transfers import TransferMixin
from app.core.transitions import (
    CallAnswered,
    CallEnded,
    CallsView,
    CallTransition,
    RingingStopped,
    calls_view,
    started,
)
from app.core.transitions import active as active_call
from app.core.transitions import waiting as waiting_calls

log = logging.getLogger(__name__)

T = TypeVar("T")

_DTMF = re.compile(r"^[0-9*#A-Da-d]{1,32}$")


class HistoryStore(Protocol):
    def add(self, record: CallRecord) -> bool: ...


class PhoneSession(TransferMixin):
    """All calls of one agent; feed it engine events with `handle`, send it intents."""

    def __init__(self, control: CallControl, history: HistoryStore | None,
                 settings: Settings) -> None:
        self._control = control
        self._history = history
        self.region = settings.phone.default_region
        self.caller_ids: list[str] = list(settings.sip.caller_ids)
        self.queue_numbers: list[tuple[str, str]] = []  # (queue, number) the system reports
        self.caller_id: str | None = self.caller_ids[0] if self.caller_ids else None
        self._calls: dict[int, Call] = {}
        self._auto_answer: dict[int, float] = {}
        self._init_transfers()
        self.registration: RegistrationChanged | None = None
        self._on_call_updated: list[Callable[[Call], None]] = []
        self._on_call_ended: list[Callable[[CallRecord], None]] = []
        self._on_registration: list[Callable[[RegistrationChanged], None]] = []
        self._on_problem: list[Callable[[str], None]] = []
        self._on_dtmf: list[Callable[[DtmfReceived], None]] = []
        self._on_presence: list[Callable[[PresenceChanged], None]] = []
        self._on_transition: list[Callable[[CallTransition], None]] = []

    # -- listeners -------------------------------------------------------------------

    def subscribe(self, *, on_call_updated: Callable[[Call], None] | None = None,
                  on_call_ended: Callable[[CallRecord], None] | None = None,
                  on_registration: Callable[[RegistrationChanged], None] | None = None,
                  on_problem: Callable[[str], None] | None = None,
                  on_dtmf: Callable[[DtmfReceived], None] | None = None,
                  on_presence: Callable[[PresenceChanged], None] | None = None,
                  on_transition: Callable[[CallTransition], None] | None = None) -> None:
        if on_call_updated is not None:
            self._on_call_updated.append(on_call_updated)
        if on_call_ended is not None:
            self._on_call_ended.append(on_call_ended)
        if on_registration is not None:
            self._on_registration.append(on_registration)
        if on_problem is not None:
            self._on_problem.append(on_problem)
        if on_dtmf is not None:
            self._on_dtmf.append(on_dtmf)
        if on_presence is not None:
            self._on_presence.append(on_presence)
        if on_transition is not None:
            self._on_transition.append(on_transition)

    def _notify(self, listeners: list[Callable[[T], None]], value: T) -> None:
        for fn in list(listeners):
            try:
                fn(value)
            except Exception:  # one broken listener must not stop the phone
                log.exception("listener %r failed", fn)

    def _transition(self, transition: CallTransition) -> None:
        self._notify(self._on_transition, transition)

    def _problem(self, message: str) -> None:
        log.warning("%s", message)
        self._notify(self._on_problem, message)

    # -- what the agent has ------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call not yet ended, oldest first."""
        return sorted(self._calls.values(), key=lambda c: (c.arrived_at, c.handle))

    def get(self, handle: int) -> Call | None:
        return self._calls.get(handle)

    @property
    def active(self) -> Call | None:
        """The call the agent is talking on (or dialling), not held, not ringing."""
        return active_call(self.calls)

    @property
    def ringing(self) -> list[Call]:
        return [c for c in self.calls if c.state is CallState.RINGING]

    @property
    def held(self) -> list[Call]:
        return [c for c in self.calls if c.state is CallState.HELD]

    @property
    def waiting(self) -> list[Call]:
        """Ringing calls that arrived while the agent already had a call (call waiting)."""
        return waiting_calls(self.calls)

    def view(self) -> CallsView:
        """The calls as the call panel shows them, and what each shortcut acts on."""
        return calls_view(self.calls)

    def auto_answer_after(self, handle: int) -> float | None:
        return self._auto_answer.get(handle)

    def set_crm_caller(self, handle: int, name: str, crm: str, matches: int) -> None:
        """The CRM (`crm`, crm.backend's name) looked the caller up: `matches` records,
        `name` when they are one caller. Shown on the card and toast, kept in history."""
        call = self._calls.get(handle)
        if call is None:
            return
        call.crm_name, call.crm, call.crm_matches = name, crm, matches
        self._notify(self._on_call_updated, call)

    # -- engine events -----------------------------------------------------------------

    def handle(self, event: EngineEvent) -> None:
        """Apply one engine event (call on the GUI thread, in the order they came)."""
        if isinstance(event, IncomingCall):
            self._incoming(event)
        elif isinstance(event, OutgoingCallStarted):
            self._outgoing(event)
        elif isinstance(event, CallStateChanged):
            self._state_changed(event)
        elif isinstance(event, MediaChanged):
            self._media_changed(event)
        elif isinstance(event, HoldFailed):
            self._hold_failed(event)
        elif isinstance(event, CallRefused):
            local = self.caller_id or ""
            self._finish(refused_record(event, local))
        elif isinstance(event, TransferStatus):
            self._transfer_status(event)
        elif isinstance(event, TransferRequested):
            self._transfer_requested(event)
        elif isinstance(event, RecordingChanged):
            self._recording_changed(event)
        elif isinstance(event, QualityReport):
            self._quality(event)
        elif isinstance(event, DtmfReceived):
            self._notify(self._on_dtmf, event)
        elif isinstance(event, RegistrationChanged):
            self.registration = event
            self._notify(self._on_registration, event)
        elif isinstance(event, EngineProblem):
            self._problem(event.message)
        elif isinstance(event, PresenceChanged):
            # Other agents' presence is the contact-centre module's business: passed on.
            self._notify(self._on_presence, event)
        else:
            log.warning("unknown engine event %r", event)

    def _incoming(self, ev: IncomingCall) -> None:
        if ev.handle in self._calls:
            log.warning("duplicate IncomingCall for handle %d ignored", ev.handle)
            return
        call = Call.inbound(ev)
        self._calls[ev.handle] = call
        replaced = self._calls.get(ev.replaces) if ev.replaces is not None else None
        self._received_context(call, ev, replaced)
        if replaced is not None:
            replaced.replaced_by = ev.handle
            self._notify(self._on_call_updated, replaced)
        if ev.auto_answer_after is not None:
            self._auto_answer[ev.handle] = max(0.0, ev.auto_answer_after)
        self._notify(self._on_call_updated, call)
        self._transition(started(call))

    def _outgoing(self, ev: OutgoingCallStarted) -> None:
        if ev.handle in self._calls:
            log.warning("duplicate OutgoingCallStarted for handle %d ignored", ev.handle)
            return
        call = Call.outbound(ev)
        call.consultation_for = self._pending_consultations.pop(ev.handle, None)
        self._calls[ev.handle] = call
        self._notify(self._on_call_updated, call)
        self._transition(started(call))

    def _state_changed(self, ev: CallStateChanged) -> None:
        call = self._calls.get(ev.handle)
        if call is None:
            log.warning("state %s for unknown call %d ignored", ev.state.value, ev.handle)
            return
        was_ringing, was_answered = call.state is CallState.RINGING, call.answered_at
        try:
            call.apply(ev)
        except IllegalTransition:
            # An engine mapping bug; the agent can still hang up, so log and carry on.
            log.exception("ignored an impossible call state change")
            return
        if call.ended:
            del self._calls[ev.handle]
            self._auto_answer.pop(ev.handle, None)
            self._held_for_transfer.discard(ev.handle)
            self._notify(self._on_call_updated, call)  # the UI drops the call by handle
            record = call.record()
            self._finish(record)  # history first: "missed" below is already in the list
            if was_ringing:
                self._transition(RingingStopped(
                    call.handle, call.call_id, missed=record.result is CallResult.MISSED))
            self._transition(CallEnded(call.handle, record))
            self._consultation_ended(call)
            return
        self._notify(self._on_call_updated, call)
        if was_ringing and call.state is not CallState.RINGING:
            self._transition(RingingStopped(call.handle, call.call_id))
        if was_answered is None and call.answered_at is not None:
            self._transition(CallAnswered(
                call.handle, call.call_id, call.direction, call.answered_at))

    def _media_changed(self, ev: MediaChanged) -> None:
        call = self._calls.get(ev.handle)
        if call is None:
            return
        call.muted = ev.muted
        # Hold is a media fact; follow it even if the engine sends no state change.
        if ev.held_locally and call.state is CallState.CONNECTED:
            call.apply(CallStateChanged(ev.handle, CallState.HELD))
            call.hold_failure = None
        elif not ev.held_locally and call.state is CallState.HELD:
            call.apply(CallStateChanged(ev.handle, CallState.CONNECTED))
            call.hold_failure = None
        self._notify(self._on_call_updated, call)

    def _hold_failed(self, ev: HoldFailed) -> None:
        """The far end refused a hold or resume: the call stays as it was; the card says so."""
        call = self._calls.get(ev.handle)
        if call is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            return
        call.hold_failure = ev
        self._notify(self._on_call_updated, call)

    def _recording_changed(self, ev: RecordingChanged) -> None:
        call = self._calls.get(ev.handle)
        if call is None:
            return
        call.recording = ev.state
        call.recording_path = ev.path or call.recording_path
        call.recording_error = ev.error
        self._notify(self._on_call_updated, call)

    def _quality(self, ev: QualityReport) -> None:
        call = self._calls.get(ev.handle)
        if call is None:
            return
        call.quality = ev
        call.quality_reports.append(ev)
        self._notify(self._on_call_updated, call)

    def _finish(self, record: CallRecord) -> None:
        if self._history is not None:
            try:
                self._history.add(record)
            except HistoryError as exc:
                # The store keeps the record in memory and retries; tell the agent once.
                self._problem(str(exc))
        self._notify(self._on_call_ended, record)

    # -- intents -----------------------------------------------------------------------

    def _command(self, what: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T | None:
        try:
            return fn(*args, **kw)
        except Exception as exc:  # the engine's errors are reported, never crash the UI
            log.exception("%s failed", what)
            self._problem(f"Could not {what}: {exc}")
            return None

    def _hold_others(self, keep: int) -> None:
        for other in self.calls:
            if other.handle != keep and other.state is CallState.CONNECTED:
                self._command("put the other call on hold", self._control.set_hold,
                              other.handle, True)

    def dial(self, text: str) -> DialOutcome:
        """Dial what the agent typed or clicked; an unusable number dials nothing."""
        return self._dial(text, None)

    def _dial(self, text: str, headers: dict[str, str] | None) -> DialOutcome:
        try:
            target = dial_target(text, self.region)
        except InvalidNumber as exc:
            message = str(exc)
            return DialOutcome(error=message[:1].upper() + message[1:])
        try:
            if headers:
                handle = self._control.dial(target, caller_id=self.caller_id,
                                            headers=headers)
            else:
                handle = self._control.dial(target, caller_id=self.caller_id)
        except ValueError as exc:  # the engine's own check (InvalidNumber, no SIP domain)
            return DialOutcome(target=target, error=str(exc)[:1].upper() + str(exc)[1:])
        except Exception as exc:  # engine not running, SIP stack error
            log.exception("dial %s failed", target)
            return DialOutcome(target=target, error=f"The call could not be started: {exc}")
        # Commands reach the engine in order, so the old call is held as the new one starts.
        self._hold_others(keep=handle)
        return DialOutcome(target=target, handle=handle)

    # -- the number shown on outbound calls -------------------------------------------

    def _may_show(self, number: str | None) -> bool:
        return number is None or number == ANONYMOUS or number in self.caller_ids or \
            any(number == n for _q, n in self.queue_numbers if n)

    def choose_caller_id(self, number: str | None) -> None:
        """The number shown on the next outbound calls: a configured caller id, a queue's
        number, ANONYMOUS (hidden) or None (the phone system's default)."""
        if not self._may_show(number):
            raise ValueError(f"{number!r} is not one of the configured caller ids")
        self.caller_id = number

    def choose_display_number(self, value: str) -> None:
        """The agent picked `value` in the chooser ("", HIDDEN or a number it offered)."""
        self.choose_caller_id(caller_id_for(value, self.caller_ids))

    def set_caller_ids(self, numbers: list[str]) -> None:
        """The settings changed the configured caller ids: a chosen number not among them
        (a queue's number too) falls back to the first, the work number; hidden stays."""
        self.caller_ids = list(numbers)
        if self.caller_id not in self.caller_ids and self.caller_id != ANONYMOUS:
            self.caller_id = self.caller_ids[0] if self.caller_ids else None

    def set_queue_numbers(self, numbers: list[tuple[str, str]]) -> None:
        """The queues' (name, number) the phone system reports; they may be shown too."""
        self.queue_numbers = list(numbers)

    def display_choices(self) -> tuple[list[DisplayChoice], str]:
        """The chooser's entries and the value of the number now shown."""
        return (display_choices(self.caller_ids, self.queue_numbers),
                display_value_of(self.caller_id))

    def answer(self, handle: int) -> bool:
        call = self._calls.get(handle)
        if call is None or call.state is not CallState.RINGING:
            return False
        self._hold_others(keep=handle)
        self._command("answer", self._control.answer, handle)
        return True

    def decline(self, handle: int) -> bool:
        call = self._calls.get(handle)
        if call is None or call.state is not CallState.RINGING:
            return False
        call.mark_declined()
        self._command("decline", self._control.decline, handle)
        return True

    def hangup(self, handle: int) -> bool:
        """End this call only; a held call stays held until the agent resumes it."""
        call = self._calls.get(handle)
        if call is None:
            return False
        if call.state is CallState.RINGING and call.direction is Direction.INBOUND:
            return self.decline(handle)
        self._command("hang up", self._control.hangup, handle)
        return True

    def set_mute(self, handle: int, muted: bool) -> bool:
        call = self._calls.get(handle)
        if call is None or call.state not in (CallState.CONNECTED, CallState.HELD):
            return False
        self._command("change mute", self._control.set_mute, handle, muted)
        call.muted = muted
        self._notify(self._on_call_updated, call)
        return True

    def set_hold(self, handle: int, held: bool) -> bool:
        call = self._calls.get(handle)
        if call is None:
            return False
        if held and call.state is CallState.CONNECTED:
            self._command("hold", self._control.set_hold, handle, True)
            return True
        if not held and call.state is CallState.HELD:
            self._hold_others(keep=handle)
            self._command("resume", self._control.set_hold, handle, False)
            return True
        return False

    def send_dtmf(self, handle: int, digits: str) -> bool:
        call = self._calls.get(handle)
        if call is None or call.state is not CallState.CONNECTED or not _DTMF.match(digits):
            return False
        self._command("send keypad digits", self._control.send_dtmf, handle, digits.upper())
        return True


# CallControl, DialOutcome and dial_target are app/core/dialing.py's, re-exported.
__all__ = ["CallControl", "DialOutcome", "HistoryStore", "PhoneSession", "dial_target"]
