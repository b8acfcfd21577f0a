"""PhoneSession: events → calls, intents → commands, the call-waiting rules, history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

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
    EngineProblem,
    HangupSide,
    IncomingCall,
    MediaChanged,
    OutgoingCallStarted,
    RegistrationChanged,
    RegistrationState,
    TransferRequested,
    TransferState,
    TransferStatus,
)
from app.core.history import MEMORY, History, HistoryLocked
from app.core.numbers import InvalidNumber
from app.core.phone import PhoneSession, dial_target

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)


class RecordingControl:
    """Our own CallControl interface, recording each command; dial returns 100, 101, …"""

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.next_handle = 100
        self.fail: str | None = None

    def _rec(self, *cmd: Any) -> None:
        if self.fail == cmd[0]:
            raise RuntimeError("engine is not running")
        self.commands.append(cmd)

    def dial(self, target: str, *, caller_id: str | None = None,
             headers: dict[str, str] | None = None) -> int:
        self._rec("dial", target, caller_id)
        self.next_handle += 1
        return self.next_handle - 1

    def answer(self, handle: int) -> None:
        self._rec("answer", handle)

    def decline(self, handle: int, code: int = 486) -> None:
        self._rec("decline", handle)

    def hangup(self, handle: int) -> None:
        self._rec("hangup", handle)

    def set_mute(self, handle: int, muted: bool) -> None:
        self._rec("mute", handle, muted)

    def set_hold(self, handle: int, held: bool) -> None:
        self._rec("hold", handle, held)

    def send_dtmf(self, handle: int, digits: str) -> None:
        self._rec("dtmf", handle, digits)

    def transfer(self, handle: int, target: str) -> None:
        self._rec("transfer", handle, target)

    def transfer_to_call(self, handle: int, other: int) -> None:
        self._rec("transfer_to_call", handle, other)


class FailingHistory:
    def __init__(self) -> None:
        self.tried: list[CallRecord] = []

    def add(self, record: CallRecord) -> bool:
        self.tried.append(record)
        raise HistoryLocked("Call history is locked by another program")


@pytest.fixture
def control() -> RecordingControl:
    return RecordingControl()


@pytest.fixture
def history() -> History:
    return History(MEMORY)


@pytest.fixture
def session(control: RecordingControl, history: History) -> PhoneSession:
    settings = Settings()
    settings.sip.caller_ids = ["+358912345", "+358987654"]
    return PhoneSession(control, history, settings)


class Seen:
    def __init__(self, session: PhoneSession) -> None:
        self.updated: list[tuple[int, CallState]] = []
        self.ended: list[CallRecord] = []
        self.problems: list[str] = []
        self.registrations: list[RegistrationChanged] = []
        self.dtmf: list[str] = []
        session.subscribe(on_call_updated=self._updated, on_call_ended=self.ended.append,
                          on_problem=self.problems.append,
                          on_registration=self.registrations.append,
                          on_dtmf=lambda ev: self.dtmf.append(ev.digit))

    def _updated(self, call: Call) -> None:
        self.updated.append((call.handle, call.state))


@pytest.fixture
def seen(session: PhoneSession) -> Seen:
    return Seen(session)


def ring(session: PhoneSession, handle: int, *, t: float = 0, number: str = "+358401234567",
         queue: str | None = "Sales", auto: float | None = None) -> None:
    session.handle(IncomingCall(
        handle=handle, call_id=f"c{handle}", remote_uri=f"sip:{number}@pbx",
        remote_number=number, display_name="Maija", queue=queue, local_number="201",
        auto_answer_after=auto, waiting=bool(session.calls), at=T0 + timedelta(seconds=t)))


def state(session: PhoneSession, handle: int, st: CallState, *, t: float = 1, code: int = 0,
          side: HangupSide = HangupSide.NONE) -> None:
    session.handle(CallStateChanged(handle, st, sip_code=code, hangup_side=side,
                                    at=T0 + timedelta(seconds=t)))


def test_inbound_answered_then_hung_up_goes_to_history(
        session: PhoneSession, control: RecordingControl, history: History, seen: Seen) -> None:
    ring(session, 1)
    assert [c.handle for c in session.ringing] == [1]
    assert session.waiting == []  # nothing else going on: plain ringing, not waiting
    assert session.answer(1)
    assert control.commands == [("answer", 1)]
    state(session, 1, CallState.CONNECTED, t=3)
    assert session.active is not None and session.active.handle == 1
    assert session.hangup(1)
    assert control.commands[-1] == ("hangup", 1)
    state(session, 1, CallState.ENDED, t=40, code=200, side=HangupSide.LOCAL)
    assert session.calls == []
    assert [r.result for r in seen.ended] == [CallResult.ANSWERED]
    assert history.recent()[0].call_id == "c1"
    assert seen.updated == [(1, CallState.RINGING), (1, CallState.CONNECTED),
                            (1, CallState.ENDED)]


def test_answering_a_second_call_holds_the_first(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    session.answer(1)
    state(session, 1, CallState.CONNECTED)
    ring(session, 2, t=5)
    assert [c.handle for c in session.waiting] == [2]
    control.commands.clear()
    session.answer(2)
    assert control.commands == [("hold", 1, True), ("answer", 2)]
    state(session, 1, CallState.HELD, t=6)
    state(session, 2, CallState.CONNECTED, t=6)
    assert session.active.handle == 2  # type: ignore[union-attr]
    assert [c.handle for c in session.held] == [1]


def test_hanging_up_the_active_call_leaves_the_held_one_held(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    ring(session, 2, t=2)
    session.answer(2)
    state(session, 1, CallState.HELD, t=3)
    state(session, 2, CallState.CONNECTED, t=3)
    control.commands.clear()
    session.hangup(2)
    state(session, 2, CallState.ENDED, t=9, code=200, side=HangupSide.LOCAL)
    assert control.commands == [("hangup", 2)]  # no automatic resume
    assert session.active is None
    assert [c.handle for c in session.held] == [1]
    session.set_hold(1, False)
    assert control.commands[-1] == ("hold", 1, False)


def test_resuming_a_held_call_holds_the_connected_one(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    state(session, 1, CallState.HELD)
    ring(session, 2)
    state(session, 2, CallState.CONNECTED)
    control.commands.clear()
    assert session.set_hold(1, False)
    assert control.commands == [("hold", 2, True), ("hold", 1, False)]


def test_decline_marks_declined(session: PhoneSession, control: RecordingControl,
                                seen: Seen) -> None:
    ring(session, 1)
    assert session.decline(1)
    assert control.commands == [("decline", 1)]
    # The engine reports the end as it saw it; our record still says DECLINED.
    state(session, 1, CallState.ENDED, t=2, code=487, side=HangupSide.REMOTE)
    assert seen.ended[0].result is CallResult.DECLINED


def test_hangup_on_a_ringing_inbound_call_declines_it(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    session.hangup(1)
    assert control.commands == [("decline", 1)]


def test_missed_call(session: PhoneSession, seen: Seen) -> None:
    ring(session, 1)
    state(session, 1, CallState.ENDED, t=20, code=487, side=HangupSide.REMOTE)
    assert seen.ended[0].result is CallResult.MISSED


def test_commands_on_calls_in_the_wrong_state_do_nothing(
        session: PhoneSession, control: RecordingControl) -> None:
    assert not session.answer(9)
    assert not session.hangup(9)
    ring(session, 1)
    assert not session.set_hold(1, True)
    assert not session.set_mute(1, True)
    assert not session.send_dtmf(1, "1")
    state(session, 1, CallState.CONNECTED)
    assert not session.answer(1)
    assert not session.decline(1)
    assert not session.set_hold(1, False)
    assert not session.send_dtmf(1, "1; rm -rf")
    assert control.commands == []


def test_mute_hold_and_dtmf(session: PhoneSession, control: RecordingControl,
                            seen: Seen) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    assert session.set_mute(1, True)
    assert session.get(1).muted  # type: ignore[union-attr]
    assert session.send_dtmf(1, "12#a")
    assert session.set_hold(1, True)
    assert control.commands == [("mute", 1, True), ("dtmf", 1, "12#A"), ("hold", 1, True)]
    session.handle(DtmfReceived(1, "5", "rfc4733"))
    assert seen.dtmf == ["5"]


def test_media_changes_follow_hold_and_mute(session: PhoneSession) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    session.handle(MediaChanged(1, active=False, muted=True, held_locally=True,
                                held_remotely=False))
    call = session.get(1)
    assert call is not None and call.state is CallState.HELD and call.muted
    session.handle(MediaChanged(1, active=True, muted=False, held_locally=False,
                                held_remotely=False))
    assert call.state is CallState.CONNECTED and not call.muted
    state(session, 1, CallState.CONNECTED)  # the engine's own state event is harmless


def test_outbound_dial_uses_e164_and_the_chosen_caller_id(
        session: PhoneSession, control: RecordingControl, seen: Seen) -> None:
    outcome = session.dial("040 123 45 67")
    assert outcome.ok and outcome.handle == 100 and outcome.target == "+358401234567"
    assert control.commands == [("dial", "+358401234567", "+358912345")]
    session.choose_caller_id("+358987654")
    session.dial("sip:alice@example.com")
    assert control.commands[-1] == ("dial", "sip:alice@example.com", "+358987654")
    with pytest.raises(ValueError):
        session.choose_caller_id("+3580000")
    session.handle(OutgoingCallStarted(100, "o1", "sip:+358401234567@pbx", "+358401234567",
                                       "+358912345", at=T0))
    state(session, 100, CallState.ALERTING)
    assert session.active.handle == 100  # type: ignore[union-attr]
    state(session, 100, CallState.ENDED, t=30, code=486, side=HangupSide.REMOTE)
    assert seen.ended[0].result is CallResult.BUSY
    assert seen.ended[0].direction is Direction.OUTBOUND


def test_dialling_while_in_a_call_holds_it(session: PhoneSession,
                                           control: RecordingControl) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    session.dial("201")
    assert control.commands == [("dial", "201", "+358912345"), ("hold", 1, True)]


def test_engine_refusing_the_target_is_shown_and_holds_nothing(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)

    def refuse(target: str, **kw: Any) -> int:
        raise ValueError("no SIP domain to dial numbers on: set sip.domain")

    control.dial = refuse  # type: ignore[method-assign]
    outcome = session.dial("201")
    assert outcome.error.startswith("No SIP domain")
    assert control.commands == []


@pytest.mark.parametrize("text", ["", "hello", "040 123 4567 ext 5", "++358", "sip:",
                                  "sip:a b@example.com", "@example.com"])
def test_unparseable_numbers_dial_nothing(session: PhoneSession, control: RecordingControl,
                                          text: str) -> None:
    outcome = session.dial(text)
    assert not outcome.ok
    assert outcome.error and outcome.target == ""
    assert control.commands == []


@pytest.mark.parametrize(("text", "target"), [
    ("tel:+358-40-123-4567", "+358401234567"),
    ("tel:040 1234567;phone-context=fi", "+358401234567"),
    ("callto://+358401234567", "+358401234567"),
    ("callto:bob@example.com", "sip:bob@example.com"),
    ("bob@example.com", "sip:bob@example.com"),
    ("SIP:Bob@Example.com", "SIP:Bob@Example.com"),
    ("sips:bob@example.com;transport=tls", "sips:bob@example.com;transport=tls"),
])
def test_dial_targets(text: str, target: str) -> None:
    assert dial_target(text, "FI") == target


def test_dial_target_refuses_control_characters() -> None:
    with pytest.raises(InvalidNumber):
        dial_target("sip:bob@example.com\r\nVia: evil", "FI")


def test_engine_failure_is_a_problem_not_a_crash(
        session: PhoneSession, control: RecordingControl, seen: Seen) -> None:
    control.fail = "dial"
    outcome = session.dial("201")
    assert not outcome.ok and "could not be started: engine is not running" in outcome.error
    ring(session, 1)
    control.fail = "answer"
    session.answer(1)
    assert "Could not answer" in seen.problems[-1]


def test_history_failure_still_notifies_the_end() -> None:
    control, store = RecordingControl(), FailingHistory()
    session = PhoneSession(control, store, Settings())
    seen = Seen(session)
    ring(session, 1)
    state(session, 1, CallState.ENDED, code=487, side=HangupSide.REMOTE)
    assert len(store.tried) == 1
    assert seen.ended and "locked" in seen.problems[0]


def test_refused_calls_are_logged(session: PhoneSession, history: History,
                                  seen: Seen) -> None:
    session.handle(CallRefused("r1", "+358401234567", "", None, 486, "Busy Here", at=T0))
    assert seen.ended[0].result is CallResult.DECLINED
    assert history.get("r1") is not None
    assert session.calls == []


def test_registration_problems_and_odd_events(session: PhoneSession, seen: Seen) -> None:
    ev = RegistrationChanged(RegistrationState.FAILED, 503, "Service Unavailable", 4.0)
    session.handle(ev)
    assert session.registration == ev and seen.registrations == [ev]
    session.handle(EngineProblem("No sound card; calls are silent"))
    assert seen.problems == ["No sound card; calls are silent"]
    state(session, 77, CallState.CONNECTED)  # unknown handle: ignored
    ring(session, 1)
    ring(session, 1)  # duplicate: ignored
    state(session, 1, CallState.HELD)  # impossible from RINGING: logged, ignored
    assert session.get(1).state is CallState.RINGING  # type: ignore[union-attr]
    assert len(session.calls) == 1


def test_a_broken_listener_does_not_stop_the_others(session: PhoneSession) -> None:
    got: list[int] = []

    def broken(call: Call) -> None:
        raise RuntimeError("boom")

    session.subscribe(on_call_updated=broken)
    session.subscribe(on_call_updated=lambda c: got.append(c.handle))
    ring(session, 1)
    assert got == [1]


def test_auto_answer_delay_is_kept_per_call(session: PhoneSession) -> None:
    ring(session, 1, auto=2.5)
    ring(session, 2)
    assert session.auto_answer_after(1) == 2.5
    assert session.auto_answer_after(2) is None
    state(session, 1, CallState.ENDED, code=487)
    assert session.auto_answer_after(1) is None


# -- blind transfer ---------------------------------------------------------------------


def connected(session: PhoneSession, handle: int = 1) -> None:
    ring(session, handle)
    state(session, handle, CallState.CONNECTED)


def progress(session: PhoneSession, handle: int, st: TransferState, code: int,
             reason: str = "", *, final: bool = False) -> None:
    session.handle(TransferStatus(handle, st, code, reason, final,
                                  "sip:+358501112222@pbx"))


def test_blind_transfer_goes_to_the_engine_as_e164(
        session: PhoneSession, control: RecordingControl, seen: Seen) -> None:
    connected(session)
    control.commands.clear()
    outcome = session.transfer(1, "050 111 2222")
    assert outcome.ok and outcome.target == "+358501112222"
    # The engine holds the connected call itself before it sends the REFER.
    assert control.commands == [("transfer", 1, "+358501112222")]
    call = session.get(1)
    assert call is not None and call.transferring
    assert (call.transfer, call.transfer_target) == (TransferState.TRYING, "+358501112222")
    state(session, 1, CallState.HELD)
    progress(session, 1, TransferState.RINGING, 180, "Ringing")
    assert call.transfer is TransferState.RINGING
    progress(session, 1, TransferState.ACCEPTED, 200, "OK", final=True)
    assert (call.transfer, call.transfer_reason) == (TransferState.ACCEPTED, "200 OK")
    assert call.transfer_target == "+358501112222"  # what the agent chose, not the URI
    # The engine hangs up once the target has answered; the session sends nothing more.
    assert control.commands[-1] == ("transfer", 1, "+358501112222")
    state(session, 1, CallState.ENDED, t=20, code=200, side=HangupSide.LOCAL)
    assert session.calls == []
    assert [r.result for r in seen.ended] == [CallResult.ANSWERED]


def test_a_failed_transfer_gives_the_customer_back_off_hold(
        session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    session.transfer(1, "sip:colleague@pbx")
    state(session, 1, CallState.HELD)
    control.commands.clear()
    progress(session, 1, TransferState.FAILED, 486, "Busy Here", final=True)
    call = session.get(1)
    assert call is not None and not call.transferring
    assert (call.transfer, call.transfer_reason) == (TransferState.FAILED, "486 Busy Here")
    assert control.commands == [("hold", 1, False)]


def test_a_failed_transfer_does_not_interrupt_another_call(
        session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    session.transfer(1, "sip:colleague@pbx")
    state(session, 1, CallState.HELD)
    ring(session, 2)
    session.answer(2)
    state(session, 2, CallState.CONNECTED)
    control.commands.clear()
    progress(session, 1, TransferState.FAILED, 480, "Temporarily Unavailable", final=True)
    assert control.commands == []  # stays held: the agent resumes it with one click
    assert [c.handle for c in session.held] == [1]


def test_a_held_call_is_transferred_as_it_is_and_stays_held_on_failure(
        session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    state(session, 1, CallState.HELD)
    control.commands.clear()
    assert session.transfer(1, "+358501112222").ok
    assert control.commands == [("transfer", 1, "+358501112222")]
    progress(session, 1, TransferState.FAILED, 603, "Decline", final=True)
    assert control.commands == [("transfer", 1, "+358501112222")]  # held by the agent


def test_transfer_refusals(session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    assert session.transfer(1, "+358501112222").error  # still ringing
    assert session.transfer(9, "+358501112222").error  # no such call
    state(session, 1, CallState.CONNECTED)
    control.commands.clear()
    assert session.transfer(1, "not a number").error
    assert control.commands == []
    assert session.transfer(1, "+358501112222").ok
    assert session.transfer(1, "+358501112223").error == "This call is already being " \
        "transferred"


def test_engine_refusing_a_transfer_is_shown_and_changes_nothing(
        session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    control.commands.clear()
    control.fail = "transfer"
    outcome = session.transfer(1, "+358501112222")
    assert not outcome.ok and "could not be transferred" in outcome.error
    assert control.commands == []
    call = session.get(1)
    assert call is not None and call.transfer is None


def test_being_transferred_starts_the_new_call_and_holds_the_old(
        session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    control.commands.clear()
    session.handle(TransferRequested(1, 7, "sip:+358501112222@pbx", "+358501112222"))
    assert control.commands == [("hold", 1, True)]
    session.handle(OutgoingCallStarted(7, "x7", "sip:+358501112222@pbx", "+358501112222",
                                       "201"))
    old = session.get(1)
    assert old is not None and old.transferred_to == "+358501112222"
    state(session, 7, CallState.CONNECTED)
    state(session, 1, CallState.HELD)
    state(session, 1, CallState.ENDED, code=200, side=HangupSide.REMOTE)
    assert session.active is not None and session.active.handle == 7


# -- consulted transfer -----------------------------------------------------------------


def consulting(session: PhoneSession, control: RecordingControl) -> int:
    """Customer on call 1 held, consultation dialled (handle 100) and connected."""
    connected(session)
    outcome = session.consult(1, "050 111 2222")
    assert outcome.ok and outcome.handle == 100
    session.handle(OutgoingCallStarted(100, "x100", "sip:+358501112222@pbx",
                                       "+358501112222", "201"))
    state(session, 1, CallState.HELD)
    state(session, 100, CallState.CONNECTED)
    return 100


def test_consultation_holds_the_customer_and_calls_the_colleague(
        session: PhoneSession, control: RecordingControl) -> None:
    consult = consulting(session, control)
    assert control.commands == [("dial", "+358501112222", "+358912345"), ("hold", 1, True)]
    assert session.get(consult).consultation_for == 1  # type: ignore[union-attr]
    assert session.consultation_of(1) is session.get(consult)
    assert session.consult(1, "050 111 3333").error  # one consultation at a time


def test_swapping_between_customer_and_colleague(session: PhoneSession,
                                                 control: RecordingControl) -> None:
    consult = consulting(session, control)
    control.commands.clear()
    session.set_hold(1, False)
    assert control.commands == [("hold", consult, True), ("hold", 1, False)]


def test_swap_resumes_whichever_of_the_pair_is_held(session: PhoneSession,
                                                    control: RecordingControl) -> None:
    consult = consulting(session, control)
    state(session, consult, CallState.CONNECTED)
    control.commands.clear()
    assert session.swap(consult)  # from the colleague's card: back to the customer
    assert control.commands == [("hold", consult, True), ("hold", 1, False)]
    state(session, consult, CallState.HELD)
    state(session, 1, CallState.CONNECTED)
    control.commands.clear()
    assert session.swap(1)  # and from the customer's card back to the colleague
    assert control.commands == [("hold", 1, True), ("hold", consult, False)]
    assert not session.swap(999)


def test_swap_needs_a_consultation(session: PhoneSession, control: RecordingControl) -> None:
    connected(session)
    control.commands.clear()
    assert not session.swap(1)
    assert control.commands == []


def test_completing_hands_the_customer_over_and_ends_both_calls(
        session: PhoneSession, control: RecordingControl, seen: Seen) -> None:
    consult = consulting(session, control)
    control.commands.clear()
    assert session.complete_transfer(consult)
    assert control.commands == [("transfer_to_call", 1, consult)]
    customer = session.get(1)
    assert customer is not None and customer.transferring
    assert customer.transfer_target == "+358501112222"
    # The colleague ends the replaced consultation before the final NOTIFY reaches us:
    # the customer must not be taken off hold then.
    state(session, consult, CallState.ENDED, t=9, code=200, side=HangupSide.REMOTE)
    progress(session, 1, TransferState.ACCEPTED, 200, "OK", final=True)
    state(session, 1, CallState.ENDED, t=10, code=200, side=HangupSide.LOCAL)
    assert control.commands == [("transfer_to_call", 1, consult)]
    assert session.calls == []
    assert [r.result for r in seen.ended] == [CallResult.ANSWERED, CallResult.ANSWERED]


@pytest.mark.parametrize("how", ["cancelled", "declined", "colleague hung up"])
def test_a_consultation_that_ends_gives_the_customer_back(
        session: PhoneSession, control: RecordingControl, how: str) -> None:
    connected(session)
    session.consult(1, "050 111 2222")
    session.handle(OutgoingCallStarted(100, "x100", "sip:+358501112222@pbx",
                                       "+358501112222", "201"))
    state(session, 1, CallState.HELD)
    if how == "declined":
        state(session, 100, CallState.ENDED, code=603, side=HangupSide.REMOTE)
    else:
        state(session, 100, CallState.CONNECTED)
        if how == "cancelled":
            assert session.cancel_consultation(100)
        state(session, 100, CallState.ENDED, t=5, code=200,
              side=HangupSide.LOCAL if how == "cancelled" else HangupSide.REMOTE)
    assert control.commands[-1] == ("hold", 1, False)


def test_a_consultation_ending_while_on_another_call_leaves_the_customer_held(
        session: PhoneSession, control: RecordingControl) -> None:
    consult = consulting(session, control)
    ring(session, 2)
    session.answer(2)
    state(session, consult, CallState.HELD)
    state(session, 2, CallState.CONNECTED)
    control.commands.clear()
    state(session, consult, CallState.ENDED, t=5, code=200, side=HangupSide.REMOTE)
    assert control.commands == []


def test_complete_and_cancel_refusals(session: PhoneSession,
                                      control: RecordingControl) -> None:
    connected(session)
    assert not session.complete_transfer(1)  # not a consultation
    assert not session.cancel_consultation(1)
    assert not session.complete_transfer(42)
    assert session.consult(42, "050 111 2222").error


def test_a_call_that_replaces_another_is_linked_to_it(session: PhoneSession) -> None:
    connected(session)
    session.handle(IncomingCall(
        handle=5, call_id="r5", remote_uri="sip:+358401234567@pbx",
        remote_number="+358401234567", display_name="", queue=None, local_number="201",
        auto_answer_after=0.0, waiting=False, at=T0, replaces=1))
    assert session.get(5).replaces == 1  # type: ignore[union-attr]
    assert session.get(1).replaced_by == 5  # type: ignore[union-attr]
