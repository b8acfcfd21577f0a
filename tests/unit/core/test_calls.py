"""The call state machine: transitions, results, durations and hangup side."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.core.calls import (
    LEGAL_TRANSITIONS,
    Call,
    CallRefused,
    CallResult,
    CallState,
    CallStateChanged,
    Direction,
    HangupSide,
    IllegalTransition,
    IncomingCall,
    OutgoingCallStarted,
    next_auto_answer,
    refused_record,
)

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def inbound(handle: int = 1) -> Call:
    return Call.inbound(IncomingCall(
        handle=handle, call_id=f"in-{handle}", remote_uri="sip:+358401234567@pbx",
        remote_number="+358401234567", display_name="Maija Meikäläinen", queue="Sales",
        local_number="201", auto_answer_after=None, waiting=False, at=T0))


def outbound(handle: int = 2) -> Call:
    return Call.outbound(OutgoingCallStarted(
        handle=handle, call_id=f"out-{handle}", remote_uri="sip:+358501112222@pbx",
        remote_number="+358501112222", local_number="+358912345", at=T0))


def step(call: Call, state: CallState, t: float, code: int = 0,
         side: HangupSide = HangupSide.NONE, reason: str = "") -> None:
    call.apply(CallStateChanged(call.handle, state, sip_code=code, reason=reason,
                                hangup_side=side, at=at(t)))


def test_new_calls_start_in_the_right_state() -> None:
    assert inbound().state is CallState.RINGING
    assert inbound().direction is Direction.INBOUND
    assert outbound().state is CallState.DIALING
    assert outbound().direction is Direction.OUTBOUND


@pytest.mark.parametrize(("start", "target"), [
    (s, t) for s in CallState for t in CallState
    if t is not s and t not in LEGAL_TRANSITIONS[s]
])
def test_illegal_transitions_raise(start: CallState, target: CallState) -> None:
    call = inbound()
    call.state = start
    with pytest.raises(IllegalTransition):
        step(call, target, 1)
    assert call.state is start


@pytest.mark.parametrize(("start", "target"), [
    (s, t) for s in CallState for t in LEGAL_TRANSITIONS[s]
])
def test_legal_transitions_are_taken(start: CallState, target: CallState) -> None:
    call = outbound()
    call.state = start
    step(call, target, 1)
    assert call.state is target


def test_repeated_state_is_not_a_transition() -> None:
    call = outbound()
    step(call, CallState.ALERTING, 1)
    step(call, CallState.ALERTING, 2)  # a second 180/183
    assert call.state is CallState.ALERTING


def test_ended_is_final() -> None:
    call = inbound()
    step(call, CallState.ENDED, 5, 487, HangupSide.REMOTE)
    with pytest.raises(IllegalTransition):
        step(call, CallState.CONNECTED, 6)


def test_answered_inbound_call_times_and_side() -> None:
    call = inbound()
    step(call, CallState.CONNECTING, 4)
    step(call, CallState.CONNECTED, 5)
    step(call, CallState.HELD, 20)
    assert call.held
    step(call, CallState.CONNECTED, 30)
    assert not call.held
    step(call, CallState.ENDED, 65, 200, HangupSide.REMOTE, "Normal call clearing")
    rec = call.record()
    assert rec.result is CallResult.ANSWERED
    assert rec.answered_at == at(5)  # the first CONNECTED, not the resume after hold
    assert rec.wait_seconds == 5
    assert rec.talk_seconds == 60
    assert rec.hangup_side is HangupSide.REMOTE
    assert (rec.sip_code, rec.sip_reason) == (200, "Normal call clearing")
    assert (rec.queue, rec.display_name) == ("Sales", "Maija Meikäläinen")


def test_unanswered_inbound_is_missed() -> None:
    call = inbound()
    step(call, CallState.ENDED, 25, 487, HangupSide.REMOTE)
    rec = call.record()
    assert rec.result is CallResult.MISSED
    assert rec.wait_seconds == 25
    assert rec.talk_seconds == 0
    assert rec.answered_at is None


def test_agent_decline_is_declined_whatever_the_code() -> None:
    call = inbound()
    call.mark_declined()
    step(call, CallState.ENDED, 3, 487, HangupSide.REMOTE)
    assert call.record().result is CallResult.DECLINED


@pytest.mark.parametrize("code", [486, 603, 480])
def test_ringing_call_ended_by_the_phone_itself_is_missed(code: int) -> None:
    # e.g. the app quits while a call rings: nobody declined it, so it must be logged.
    call = inbound()
    step(call, CallState.ENDED, 3, code, HangupSide.LOCAL)
    assert call.record().result is CallResult.MISSED


@pytest.mark.parametrize(("code", "result"), [
    (486, CallResult.BUSY), (600, CallResult.BUSY),
    (408, CallResult.NO_ANSWER), (480, CallResult.NO_ANSWER), (487, CallResult.NO_ANSWER),
    (404, CallResult.FAILED), (503, CallResult.FAILED), (0, CallResult.FAILED),
])
def test_outbound_results_by_code(code: int, result: CallResult) -> None:
    call = outbound()
    step(call, CallState.ALERTING, 1)
    step(call, CallState.ENDED, 10, code, HangupSide.REMOTE)
    rec = call.record()
    assert rec.result is result
    assert rec.wait_seconds == 10
    assert rec.talk_seconds == 0


def test_outbound_answered_and_hung_up_locally() -> None:
    call = outbound()
    step(call, CallState.CONNECTED, 8)
    step(call, CallState.ENDED, 38, 200, HangupSide.LOCAL)
    rec = call.record()
    assert (rec.result, rec.hangup_side) == (CallResult.ANSWERED, HangupSide.LOCAL)
    assert (rec.wait_seconds, rec.talk_seconds) == (8, 30)


def test_record_before_end_is_an_error() -> None:
    with pytest.raises(ValueError, match="not ended"):
        inbound().record()


def test_clock_going_backwards_never_gives_negative_durations() -> None:
    call = inbound()
    step(call, CallState.CONNECTED, 10)
    step(call, CallState.ENDED, -5, 200, HangupSide.LOCAL)
    rec = call.record()
    assert rec.talk_seconds == 0
    assert rec.wait_seconds == 10


def test_refused_record_is_a_declined_inbound_call() -> None:
    ev = CallRefused(call_id="r1", remote_number="+358401234567", display_name="",
                     queue=None, sip_code=486, reason="Busy Here", at=T0)
    rec = refused_record(ev, "201")
    assert rec.result is CallResult.DECLINED
    assert rec.direction is Direction.INBOUND
    assert rec.hangup_side is HangupSide.LOCAL
    assert rec.wait_seconds == 0 and rec.talk_seconds == 0


# -- the auto-answer rule ---------------------------------------------------------------

R, C, H, E = CallState.RINGING, CallState.CONNECTED, CallState.HELD, CallState.ENDED


def test_auto_answer_picks_the_oldest_due_call_when_the_line_is_free() -> None:
    assert next_auto_answer([(3, R, 0.0), (2, R, 0.0), (4, R, None)], now=1.0) == 2


@pytest.mark.parametrize("busy", [CallState.DIALING, CallState.ALERTING,
                                  CallState.CONNECTING, C, H])
def test_auto_answer_never_lands_on_a_call_the_agent_is_in(busy: CallState) -> None:
    assert next_auto_answer([(1, busy, None), (2, R, 0.0)], now=1.0) is None


def test_auto_answer_waits_for_the_delay_and_ignores_ended_calls() -> None:
    assert next_auto_answer([(1, E, None), (2, R, 5.0)], now=4.9) is None
    assert next_auto_answer([(1, E, None), (2, R, 5.0)], now=5.0) == 2
    assert next_auto_answer([(1, R, None)], now=5.0) is None
