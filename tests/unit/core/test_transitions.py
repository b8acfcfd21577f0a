"""PhoneSession's transitions, the call panel's view and the number shown: each rule once."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.core.calls import (
    CallRecord,
    CallRefused,
    CallResult,
    CallState,
    Direction,
    HangupSide,
    OutgoingCallStarted,
    RegistrationState,
    can_ring,
)
from app.core.display_number import ANONYMOUS, HIDDEN, DisplayChoice
from app.core.history import MEMORY, History
from app.core.phone import PhoneSession
from app.core.transitions import (
    CallAnswered,
    CallEnded,
    CallStarted,
    CallTransition,
    RingingStopped,
)
from tests.unit.core.test_phone import T0, RecordingControl, ring, state


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


@pytest.fixture
def heard(session: PhoneSession) -> list[CallTransition]:
    transitions: list[CallTransition] = []
    session.subscribe(on_transition=transitions.append)
    return transitions


def kinds(heard: list[CallTransition]) -> list[tuple[str, int]]:
    return [(type(t).__name__, t.handle) for t in heard]


# -- transitions ---------------------------------------------------------------------------


def test_an_answered_inbound_call_starts_stops_ringing_is_answered_and_ends_once_each(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    ring(session, 1)
    assert heard == [CallStarted(1, "c1", Direction.INBOUND, "+358401234567", "Maija",
                                 "Sales", T0)]
    assert isinstance(heard[0], CallStarted) and heard[0].ringing
    state(session, 1, CallState.CONNECTING, t=2)  # the 200 is sent: it no longer rings
    assert heard[1:] == [RingingStopped(1, "c1", missed=False)]
    state(session, 1, CallState.CONNECTED, t=3)
    state(session, 1, CallState.HELD, t=4)
    state(session, 1, CallState.CONNECTED, t=5)  # resuming is not answering again
    session.set_mute(1, True)
    assert heard[2:] == [CallAnswered(1, "c1", Direction.INBOUND, T0.replace(second=3))]
    state(session, 1, CallState.ENDED, t=40, code=200, side=HangupSide.REMOTE)
    assert kinds(heard) == [("CallStarted", 1), ("RingingStopped", 1), ("CallAnswered", 1),
                            ("CallEnded", 1)]
    ended = heard[-1]
    assert isinstance(ended, CallEnded) and ended.record.result is CallResult.ANSWERED


def test_a_call_that_rings_out_stops_ringing_as_missed_after_it_is_in_history(
        session: PhoneSession, history: History) -> None:
    seen: list[tuple[CallTransition, list[CallRecord]]] = []
    session.subscribe(on_transition=lambda t: seen.append((t, history.recent())))
    ring(session, 1)
    state(session, 1, CallState.ENDED, t=20, code=487, side=HangupSide.REMOTE)
    stopped, in_history = seen[1]
    assert stopped == RingingStopped(1, "c1", missed=True)
    assert [r.call_id for r in in_history] == ["c1"]  # "N missed calls" can show it
    ended = seen[2][0]
    assert isinstance(ended, CallEnded) and ended.record.result is CallResult.MISSED


def test_a_declined_call_stops_ringing_but_was_not_missed(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    ring(session, 1)
    session.decline(1)
    state(session, 1, CallState.ENDED, t=2, code=487, side=HangupSide.REMOTE)
    assert heard[1] == RingingStopped(1, "c1", missed=False)
    assert kinds(heard) == [("CallStarted", 1), ("RingingStopped", 1), ("CallEnded", 1)]


def test_an_outbound_call_starts_without_ringing_and_is_answered_when_connected(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    session.handle(OutgoingCallStarted(100, "o1", "sip:+358401234567@pbx", "+358401234567",
                                       "+358912345", at=T0))
    start = heard[0]
    assert isinstance(start, CallStarted) and start.direction is Direction.OUTBOUND
    assert not start.ringing
    state(session, 100, CallState.ALERTING, t=1)
    state(session, 100, CallState.CONNECTED, t=4)
    state(session, 100, CallState.ENDED, t=9, code=200, side=HangupSide.LOCAL)
    assert kinds(heard) == [("CallStarted", 100), ("CallAnswered", 100), ("CallEnded", 100)]


def test_a_busy_outbound_call_is_never_answered(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    session.handle(OutgoingCallStarted(100, "o1", "sip:x@pbx", "201", "", at=T0))
    state(session, 100, CallState.ENDED, t=2, code=486, side=HangupSide.REMOTE)
    assert kinds(heard) == [("CallStarted", 100), ("CallEnded", 100)]


def test_a_call_refused_before_it_rang_has_no_transitions_but_is_recorded(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    records: list[CallRecord] = []
    session.subscribe(on_call_ended=records.append)
    session.handle(CallRefused("r1", "+358401234567", "", "Sales", 480, "Off work", at=T0))
    assert heard == [] and [r.result for r in records] == [CallResult.DECLINED]


def test_a_failing_transition_listener_does_not_stop_the_others(
        session: PhoneSession, heard: list[CallTransition]) -> None:
    def broken(_t: Any) -> None:
        raise RuntimeError("listener bug")
    later: list[CallTransition] = []
    session.subscribe(on_transition=broken)
    session.subscribe(on_transition=later.append)
    ring(session, 1)
    assert len(heard) == len(later) == 1


# -- what the call panel shows and what its shortcuts act on -----------------------------------


def test_one_ringing_call_is_not_waiting_and_only_answer_and_decline_act_on_it(
        session: PhoneSession) -> None:
    ring(session, 1)
    view = session.view()
    assert [(s.call.handle, s.waiting) for s in view.calls] == [(1, False)]
    assert (view.answer, view.hangup, view.mute, view.hold) == (1, None, None, None)


def test_a_call_ringing_during_another_is_call_waiting(session: PhoneSession) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    ring(session, 2, t=5)
    view = session.view()
    assert [(s.call.handle, s.waiting) for s in view.calls] == [(1, False), (2, True)]
    assert view.answer == 2 and view.hangup == 1
    assert view.mute == (1, True) and view.hold == (1, True)
    session.set_mute(1, True)
    assert session.view().mute == (1, False)  # Mute again unmutes


def test_the_oldest_ringing_call_is_the_one_answered_by_the_shortcut(
        session: PhoneSession) -> None:
    ring(session, 1)
    ring(session, 2, t=1)
    assert session.view().answer == 1


def test_hold_resumes_the_one_held_call_when_nothing_else_is_on(
        session: PhoneSession) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    state(session, 1, CallState.HELD)
    view = session.view()
    assert view.hold == (1, False) and view.hangup is None and view.mute is None
    ring(session, 2, t=3)
    state(session, 2, CallState.CONNECTED, t=4)
    state(session, 2, CallState.HELD, t=5)
    assert session.view().hold is None  # two held calls: which one is the agent's to say


def test_hang_up_acts_on_a_call_being_dialled(session: PhoneSession) -> None:
    session.handle(OutgoingCallStarted(100, "o1", "sip:x@pbx", "201", "", at=T0))
    view = session.view()
    assert view.hangup == 100 and view.mute is None and view.hold is None


def test_a_consultation_and_its_customer_are_shown_as_a_pair(
        session: PhoneSession, control: RecordingControl) -> None:
    ring(session, 1)
    state(session, 1, CallState.CONNECTED)
    outcome = session.consult(1, "202")
    session.handle(OutgoingCallStarted(outcome.handle or 0, "o1", "sip:202@pbx", "202", "",
                                       at=T0))
    shown = {s.call.handle: s.peer.handle if s.peer else None for s in session.view().calls}
    assert shown == {1: outcome.handle, outcome.handle: 1}


def test_ended_calls_leave_the_view(session: PhoneSession) -> None:
    ring(session, 1)
    state(session, 1, CallState.ENDED, t=20, code=487, side=HangupSide.REMOTE)
    assert session.view().calls == ()


# -- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(("registration", "rings"), [
    (RegistrationState.REGISTERED, True), (RegistrationState.DISABLED, True),
    (RegistrationState.REGISTERING, False), (RegistrationState.FAILED, False),
    (RegistrationState.UNREGISTERED, False)])
def test_calls_reach_the_agent_only_when_registered_or_direct(
        registration: RegistrationState, rings: bool) -> None:
    assert can_ring(registration) is rings


# -- the number shown on outbound calls ------------------------------------------------------


def test_the_chooser_offers_configured_numbers_queues_and_hidden(
        session: PhoneSession) -> None:
    session.set_queue_numbers([("Sales", "+35810100")])
    choices, current = session.display_choices()
    assert choices == [DisplayChoice("+358912345", "work"),
                       DisplayChoice("+358987654", "number"),
                       DisplayChoice("+35810100", "queue", "Sales"),
                       DisplayChoice(HIDDEN, "hidden")]
    assert current == "+358912345"


def test_hiding_the_number_dials_anonymous(session: PhoneSession,
                                           control: RecordingControl) -> None:
    session.choose_display_number(HIDDEN)
    assert session.caller_id == ANONYMOUS and session.display_choices()[1] == HIDDEN
    session.dial("201")
    assert control.commands == [("dial", "201", ANONYMOUS)]


def test_a_queue_number_may_be_shown_only_once_the_phone_system_reported_it(
        session: PhoneSession) -> None:
    with pytest.raises(ValueError):
        session.choose_display_number("+35810100")
    session.set_queue_numbers([("Sales", "+35810100")])
    session.choose_display_number("+35810100")
    assert session.caller_id == "+35810100"


def test_the_default_choice_is_the_work_number(session: PhoneSession) -> None:
    session.choose_display_number("+358987654")
    session.choose_display_number("")
    assert session.caller_id == "+358912345"


def test_changed_caller_ids_keep_a_number_still_configured_and_hidden(
        session: PhoneSession) -> None:
    session.choose_display_number("+358987654")
    session.set_caller_ids(["+358900000", "+358987654"])
    assert session.caller_id == "+358987654"
    session.set_caller_ids(["+358900000"])
    assert session.caller_id == "+358900000"  # no longer configured: the work number
    session.choose_display_number(HIDDEN)
    session.set_caller_ids([])
    assert session.caller_id == ANONYMOUS
