"""app.core.tones: which call-progress sound fits the calls, and which one follows a call."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.core.calls import Call, CallRecord, CallResult, CallState, Direction, HangupSide
from app.core.tones import Tone, needs_audio, tone_after, tone_for

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
_handles = iter(range(1, 10_000))


def call(direction: Direction, state: CallState, *, early_media: bool = False) -> Call:
    handle = next(_handles)
    return Call(handle=handle, call_id=f"c{handle}", direction=direction,
                local_number="+35891", remote_number="+358401234567", arrived_at=T0,
                state=state, early_media=early_media)


def inbound(state: CallState) -> Call:
    return call(Direction.INBOUND, state)


def outbound(state: CallState, *, early_media: bool = False) -> Call:
    return call(Direction.OUTBOUND, state, early_media=early_media)


def record(direction: Direction, result: CallResult, side: HangupSide,
           code: int = 0) -> CallRecord:
    return CallRecord(call_id="c", direction=direction, local_number="+35891",
                      remote_number="+358401234567", display_name="", queue=None,
                      arrived_at=T0,
                      answered_at=T0 if result is CallResult.ANSWERED else None,
                      ended_at=T0, result=result, hangup_side=side, sip_code=code,
                      sip_reason="")


# -- ringing --------------------------------------------------------------------------------

def test_an_incoming_call_rings_on_the_ringer_when_the_agent_is_free() -> None:
    assert tone_for([inbound(CallState.RINGING)]) is Tone.RING


@pytest.mark.parametrize("state", [CallState.CONNECTING, CallState.CONNECTED, CallState.HELD])
def test_an_incoming_call_during_a_call_beeps_in_the_headset_instead_of_ringing(
        state: CallState) -> None:
    assert tone_for([outbound(state), inbound(CallState.RINGING)]) is Tone.WAITING
    assert tone_for([inbound(state), inbound(CallState.RINGING)]) is Tone.WAITING


def test_two_incoming_calls_and_no_call_in_progress_ring_once() -> None:
    assert tone_for([inbound(CallState.RINGING), inbound(CallState.RINGING)]) is Tone.RING


def test_an_incoming_call_rings_even_while_the_agent_dials_out() -> None:
    # Nobody is talking yet, so the agent is not necessarily wearing the headset.
    calls = [outbound(CallState.ALERTING), inbound(CallState.RINGING)]
    assert tone_for(calls) is Tone.RING


def test_ringing_stops_when_the_call_is_answered_or_ends() -> None:
    assert tone_for([inbound(CallState.CONNECTING)]) is None
    assert tone_for([inbound(CallState.CONNECTED)]) is None
    assert tone_for([inbound(CallState.ENDED)]) is None


def test_the_beep_stops_when_the_waiting_call_ends_and_the_call_goes_on() -> None:
    assert tone_for([inbound(CallState.CONNECTED), inbound(CallState.ENDED)]) is None


# -- dialling -------------------------------------------------------------------------------

def test_an_outgoing_call_that_alerts_without_early_media_plays_ringback() -> None:
    assert tone_for([outbound(CallState.ALERTING)]) is Tone.RINGBACK


def test_with_early_media_the_far_ends_own_sound_is_heard_not_our_ringback() -> None:
    assert tone_for([outbound(CallState.ALERTING, early_media=True)]) is None


def test_no_ringback_before_the_far_end_alerts_or_once_it_answers() -> None:
    assert tone_for([outbound(CallState.DIALING)]) is None
    assert tone_for([outbound(CallState.CONNECTING)]) is None
    assert tone_for([outbound(CallState.CONNECTED)]) is None
    assert tone_for([outbound(CallState.ENDED)]) is None


def test_dialling_a_colleague_while_the_customer_is_held_plays_ringback() -> None:
    # A consultation (or any second outgoing call) holds the call in progress first.
    calls = [inbound(CallState.HELD), outbound(CallState.ALERTING)]
    assert tone_for(calls) is Tone.RINGBACK


def test_no_ringback_over_a_call_the_agent_is_talking_on() -> None:
    assert tone_for([inbound(CallState.CONNECTED), outbound(CallState.ALERTING)]) is None


def test_no_calls_no_sound() -> None:
    assert tone_for([]) is None


# -- after a call ---------------------------------------------------------------------------

@pytest.mark.parametrize(("result", "code", "tone"), [
    (CallResult.BUSY, 486, Tone.BUSY),
    (CallResult.BUSY, 600, Tone.BUSY),
    (CallResult.FAILED, 404, Tone.FAILED),
    (CallResult.FAILED, 503, Tone.FAILED),
])
def test_an_outgoing_call_the_far_end_refused_plays_busy_or_failure_once(
        result: CallResult, code: int, tone: Tone) -> None:
    assert tone_after(record(Direction.OUTBOUND, result, HangupSide.REMOTE, code)) is tone


def test_a_call_the_network_ended_before_answer_plays_the_failure_tone() -> None:
    assert tone_after(record(Direction.OUTBOUND, CallResult.FAILED, HangupSide.NONE, 503)) \
        is Tone.FAILED


@pytest.mark.parametrize("result", list(CallResult))
def test_nothing_plays_after_the_agents_own_hang_up(result: CallResult) -> None:
    assert tone_after(record(Direction.OUTBOUND, result, HangupSide.LOCAL, 487)) is None


@pytest.mark.parametrize("result", list(CallResult))
@pytest.mark.parametrize("side", list(HangupSide))
def test_nothing_plays_after_an_incoming_call(result: CallResult, side: HangupSide) -> None:
    assert tone_after(record(Direction.INBOUND, result, side, 486)) is None


@pytest.mark.parametrize("result", [CallResult.ANSWERED, CallResult.NO_ANSWER])
def test_nothing_plays_after_an_answered_or_unanswered_outgoing_call(
        result: CallResult) -> None:
    assert tone_after(record(Direction.OUTBOUND, result, HangupSide.REMOTE, 480)) is None


# -- the sound path -------------------------------------------------------------------------

@pytest.mark.parametrize("state", [s for s in CallState if s is not CallState.ENDED])
def test_the_sound_path_is_open_while_any_call_is_live(state: CallState) -> None:
    # Opened already while ringing or dialling: a sound card takes most of a second to
    # start, and the first words after answering must not be lost.
    assert needs_audio([inbound(CallState.ENDED), outbound(state)])


def test_the_sound_path_closes_when_no_call_is_live() -> None:
    assert not needs_audio([])
    assert not needs_audio([inbound(CallState.ENDED), outbound(CallState.ENDED)])
