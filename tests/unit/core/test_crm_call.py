"""CrmCallTracker: facts about calls and lookups in, pops, case creation and logs out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from app.core.calls import Call, CallRecord, CallResult, CallState, Direction, HangupSide
from app.core.crm import Contact, CrmUnavailable, IdentifyResult, NewCase, RecordKind, RecordRef
from app.core.crm_call import (
    CreateCallCase,
    CrmCallTracker,
    Identify,
    ReportLinked,
    ReportLookupFailed,
    ReportPopped,
    SaveLog,
    ShowCall,
    ShowDialog,
    ShowEnded,
    ShowLookingUp,
    ShowRecord,
    ShowRinging,
)
from app.core.workflows import Phase, Workflow, decide

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
NUMBER = "+358401234567"
AINO = Contact("7", "Aino", "Virtanen", phones=(NUMBER,))
EERO = Contact("8", "Eero", "Virtanen", phones=(NUMBER,))
C7 = RecordRef(RecordKind.CONTACT, "7")
C8 = RecordRef(RecordKind.CONTACT, "8")
CASE3 = RecordRef(RecordKind.CASE, "3")


class CountingDecide:
    """The real `decide`, recording the phase of every call to it."""

    def __init__(self) -> None:
        self.phases: list[Phase] = []

    def __call__(self, *args: Any) -> Any:
        self.phases.append(args[3])
        return decide(*args)


@pytest.fixture
def decisions() -> CountingDecide:
    return CountingDecide()


def tracker_for(decisions: CountingDecide, workflow: Workflow = Workflow.CONTACT_ACCOUNT,
                *, log_missed_calls: bool = True, save_on_case: bool = False
                ) -> CrmCallTracker:
    return CrmCallTracker(workflow, region="FI", log_missed_calls=log_missed_calls,
                          save_on_case=save_on_case, case_subject="Call from {}".format,
                          decide=decisions)


@pytest.fixture
def tracker(decisions: CountingDecide) -> CrmCallTracker:
    return tracker_for(decisions)


def inbound(handle: int = 1, *, number: str = NUMBER, name: str = "",
            queue: str | None = "Sales", t: float = 0) -> Call:
    return Call(handle=handle, call_id=f"c{handle}", direction=Direction.INBOUND,
                local_number="201", remote_number=number, display_name=name, queue=queue,
                arrived_at=T0 + timedelta(seconds=t))


def outbound(handle: int = 1, *, number: str = NUMBER) -> Call:
    return Call(handle=handle, call_id=f"c{handle}", direction=Direction.OUTBOUND,
                local_number="201", remote_number=number, arrived_at=T0,
                state=CallState.DIALING)


def connected(call: Call, t: float = 5) -> Call:
    return replace(call, state=CallState.CONNECTED, answered_at=T0 + timedelta(seconds=t))


def ended(call: Call, result: CallResult, t: float = 60) -> CallRecord:
    answered = call.answered_at if result is CallResult.ANSWERED else None
    return CallRecord(call_id=call.call_id, direction=call.direction,
                      local_number=call.local_number, remote_number=call.remote_number,
                      display_name=call.display_name, queue=call.queue,
                      arrived_at=call.arrived_at, answered_at=answered,
                      ended_at=T0 + timedelta(seconds=t), result=result,
                      hangup_side=HangupSide.REMOTE, sip_code=200, sip_reason="")


def found(*contacts: Contact) -> IdentifyResult:
    return IdentifyResult(NUMBER, contacts=contacts)


def saved_log(actions: list[Any]) -> SaveLog:
    logs = [a for a in actions if isinstance(a, SaveLog)]
    assert len(logs) == 1, actions
    return logs[0]


# --- identify → decide → pop ------------------------------------------------------------


def test_a_new_call_takes_the_pane_shows_looking_up_and_asks_for_a_lookup(
        tracker: CrmCallTracker) -> None:
    assert tracker.call_updated(inbound()) == [
        ShowLookingUp(NUMBER), ShowCall("040 1234567", ""), Identify("c1", NUMBER)]
    assert tracker.focused is not None and tracker.focused.call_id == "c1"


def test_the_callers_display_name_names_the_call_until_the_crm_knows_better(
        tracker: CrmCallTracker) -> None:
    assert ShowCall("Maija", "") in tracker.call_updated(inbound(name="Maija"))
    actions = tracker.identified("c1", found(AINO))
    assert actions[0] == ShowCall("Aino Virtanen", "")


def test_one_matching_contact_is_popped(tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound())
    assert tracker.identified("c1", found(AINO)) == [
        ShowCall("Aino Virtanen", ""), ShowRecord("c1", C7)]


def test_several_matches_open_the_dialog_for_this_call(tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound())
    actions = tracker.identified("c1", found(AINO, EERO))
    assert actions == [ShowCall("040 1234567", ""), ShowDialog("c1", {
        "kind": "contact_account", "number": NUMBER, "call": "c1", "direction": "inbound",
        "queue": "Sales"})]


def test_a_case_workflow_call_only_says_it_is_ringing_until_answered(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, Workflow.CASE)
    tracker.call_updated(inbound())
    assert tracker.identified("c1", found(AINO)) == [
        ShowCall("Aino Virtanen", ""), ShowRinging("Aino Virtanen")]


def test_a_failed_lookup_is_reported_and_shown_for_the_pane_call(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound())
    error = CrmUnavailable("the CRM is busy")
    assert tracker.lookup_failed("c1", error) == [ReportLookupFailed("c1", error, True)]


def test_a_failed_lookup_of_a_call_the_pane_does_not_show_is_only_reported(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(1))
    tracker.call_updated(inbound(2, t=3))  # the newer call takes the pane
    error = CrmUnavailable("the CRM is busy")
    assert tracker.lookup_failed("c1", error) == [ReportLookupFailed("c1", error, False)]


def test_a_lookup_answer_for_a_call_the_pane_does_not_show_pops_nothing(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(1))
    tracker.call_updated(inbound(2, t=3))
    assert tracker.identified("c1", found(AINO)) == []


def test_slow_lookup_is_said_only_while_the_pane_call_waits_for_it(
        tracker: CrmCallTracker) -> None:
    assert tracker.lookup_slow() == []
    tracker.call_updated(inbound())
    assert tracker.lookup_slow() == [ShowLookingUp(NUMBER, slow=True)]
    tracker.identified("c1", found(AINO))
    assert tracker.lookup_slow() == []


# --- answer -------------------------------------------------------------------------------


def test_the_case_workflow_creates_a_case_on_answer_named_after_the_one_contact(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, Workflow.CASE)
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    assert tracker.call_updated(connected(call)) == [
        CreateCallCase("c1", NewCase("Call from Aino Virtanen", contact_id="7"))]


def test_answering_before_a_slow_lookup_waits_for_it(decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, Workflow.CASE)
    call = inbound()
    tracker.call_updated(call)
    assert tracker.call_updated(connected(call)) == []
    assert tracker.identified("c1", found(AINO)) == [
        ShowCall("Aino Virtanen", ""), ShowRinging("Aino Virtanen"),
        CreateCallCase("c1", NewCase("Call from Aino Virtanen", contact_id="7"))]


def test_answering_is_acted_on_once_however_often_the_call_is_updated(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, Workflow.CASE)
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found())
    assert len(tracker.call_updated(connected(call))) == 1
    assert tracker.call_updated(replace(connected(call), muted=True)) == []


def test_an_unidentified_case_call_gets_a_case_without_a_contact(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, Workflow.CASE)
    call = inbound(name="Maija")
    tracker.call_updated(call)
    tracker.identified("c1", found())
    assert tracker.call_updated(connected(call)) == [
        CreateCallCase("c1", NewCase("Call from Maija", contact_id=None))]


# --- log ----------------------------------------------------------------------------------


def test_an_answered_call_is_logged_regarding_the_one_match(tracker: CrmCallTracker) -> None:
    call = connected(inbound())
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    log = saved_log(tracker.call_ended(ended(call, CallResult.ANSWERED))).log
    assert log.activity.regarding == (C7,)
    assert log.activity.result == "answered"
    assert log.case_id is None


def test_the_notes_box_says_logged_only_once_the_log_is_saved(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    assert not any(isinstance(a, ShowEnded)
                   for a in tracker.call_ended(ended(call, CallResult.MISSED)))
    assert tracker.log_saved("c1", saved=True) == [ShowEnded("Aino Virtanen", "", True)]
    assert tracker.log_saved("c1", saved=True) == []  # once


def test_a_log_that_could_not_be_saved_says_not_logged(tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    tracker.call_ended(ended(call, CallResult.MISSED))
    assert tracker.log_saved("c1", saved=False) == [ShowEnded("Aino Virtanen", "", False)]


def test_a_missed_call_is_logged_when_missed_calls_are_logged(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found())
    log = saved_log(tracker.call_ended(ended(call, CallResult.MISSED))).log
    assert log.activity.subject == "Missed call from +358401234567"
    assert log.activity.result == "missed"


def test_a_missed_call_is_not_logged_when_missed_calls_are_not_logged(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, log_missed_calls=False)
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    assert tracker.call_ended(ended(call, CallResult.MISSED)) == [
        ShowEnded("Aino Virtanen", "", False)]


def test_an_unanswered_outbound_call_is_logged_even_when_missed_calls_are_not(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, log_missed_calls=False)
    call = outbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    assert saved_log(tracker.call_ended(ended(call, CallResult.NO_ANSWER)))


def test_a_declined_call_is_not_logged(tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    assert tracker.call_ended(ended(call, CallResult.DECLINED)) == [
        ShowEnded("Aino Virtanen", "", False)]


def test_a_hang_up_during_the_lookup_is_logged_when_the_lookup_returns(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    assert tracker.call_ended(ended(call, CallResult.MISSED)) == []
    actions = tracker.identified("c1", found(AINO))
    assert not any(isinstance(a, ShowRecord) for a in actions)  # no pop for a gone call
    assert saved_log(actions).log.activity.regarding == (C7,)


def test_a_hang_up_during_a_failed_lookup_is_logged_regarding_nothing(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.call_ended(ended(call, CallResult.MISSED))
    actions = tracker.lookup_failed("c1", CrmUnavailable("away"))
    assert saved_log(actions).log.activity.regarding == ()


def test_quitting_logs_the_calls_that_ended_while_their_lookup_ran(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.call_ended(ended(call, CallResult.MISSED))
    assert saved_log(tracker.quitting()).call_id == "c1"
    assert tracker.quitting() == []


def test_a_call_refused_before_it_rang_is_logged_without_a_pop(
        tracker: CrmCallTracker) -> None:
    actions = tracker.call_ended(ended(inbound(name="Maija"), CallResult.MISSED))
    assert [type(a) for a in actions] == [SaveLog]
    assert tracker.log_saved("c1", saved=True) == []  # the pane never showed it


def test_the_agents_notes_go_into_the_log_and_stop_at_hang_up(
        tracker: CrmCallTracker) -> None:
    call = connected(inbound())
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    tracker.notes_edited("wants a callback")
    actions = tracker.call_ended(ended(call, CallResult.ANSWERED))
    tracker.notes_edited("typed after the end")
    assert saved_log(actions).log.activity.notes == "wants a callback"
    assert tracker.log_saved("c1", saved=True) == [
        ShowEnded("Aino Virtanen", "wants a callback", True)]


# --- links chosen by the agent ------------------------------------------------------------


def test_a_record_chosen_during_the_call_is_reported_and_the_call_logged_on_it(
        tracker: CrmCallTracker) -> None:
    call = connected(inbound())
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO, EERO))
    assert tracker.link("c1", CASE3) == [ReportLinked("c1", CASE3)]
    tracker.also_regarding("c1", C8)
    log = saved_log(tracker.call_ended(ended(call, CallResult.ANSWERED))).log
    assert log.activity.regarding == (CASE3, C8)


def test_with_save_on_case_a_call_linked_to_a_case_is_logged_on_the_case(
        decisions: CountingDecide) -> None:
    tracker = tracker_for(decisions, save_on_case=True)
    call = connected(inbound())
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    tracker.link("c1", CASE3)
    assert saved_log(tracker.call_ended(ended(call, CallResult.ANSWERED))).log.case_id == "3"


def test_a_link_after_hang_up_during_the_lookup_counts_but_is_not_reported(
        tracker: CrmCallTracker) -> None:
    call = inbound()
    tracker.call_updated(call)
    tracker.call_ended(ended(call, CallResult.MISSED))
    assert tracker.link("c1", C8) == []
    assert saved_log(tracker.identified("c1", found(AINO))).log.activity.regarding == (C8,)


def test_links_to_calls_that_are_gone_change_nothing(tracker: CrmCallTracker) -> None:
    assert tracker.link("nope", C7) == []
    tracker.also_regarding("nope", C7)
    assert tracker.get("nope") is None


def test_a_call_dialled_from_a_record_pops_that_record_and_is_logged_on_it(
        tracker: CrmCallTracker) -> None:
    tracker.dialled_from(1, CASE3)
    call = outbound(1)
    tracker.call_updated(call)
    assert tracker.identified("c1", found(AINO, EERO))[-1] == ShowRecord("c1", CASE3)
    log = saved_log(tracker.call_ended(ended(connected(call), CallResult.ANSWERED))).log
    assert log.activity.regarding == (CASE3,)


def test_a_dial_link_belongs_to_one_call_only(tracker: CrmCallTracker) -> None:
    tracker.dialled_from(1, CASE3)
    tracker.call_updated(outbound(1))
    tracker.call_ended(ended(outbound(1), CallResult.NO_ANSWER))
    tracker.call_updated(replace(outbound(1), call_id="c9"))  # the handle comes round again
    first, again = tracker.get("c1"), tracker.get("c9")
    assert first is not None and first.linked == CASE3
    assert again is not None and again.linked is None


def test_a_new_case_from_a_page_is_named_after_the_caller_or_the_number_without_a_call(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(name="Maija"))
    assert tracker.new_case("c1", "7", NUMBER) == NewCase("Call from Maija", contact_id="7")
    assert tracker.new_case("", None, NUMBER) == NewCase(f"Call from {NUMBER}")


# --- which call the pane follows ----------------------------------------------------------


def test_when_the_pane_call_ends_the_pane_follows_the_newest_live_call(
        tracker: CrmCallTracker) -> None:
    first, second, third = inbound(1), inbound(2, t=2), inbound(3, t=4)
    for call in (first, second, third):
        tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    tracker.identified("c2", found(AINO, EERO))
    tracker.identified("c3", found(EERO))
    tracker.call_ended(ended(third, CallResult.MISSED))
    actions = tracker.log_saved("c3", saved=True)
    assert actions[:2] == [ShowEnded("Eero Virtanen", "", True),
                           ShowCall("040 1234567", "")]
    assert isinstance(actions[2], ShowDialog) and actions[2].call_id == "c2"


def test_a_call_the_pane_does_not_show_ends_without_moving_the_pane(
        tracker: CrmCallTracker) -> None:
    first = inbound(1)
    tracker.call_updated(first)
    tracker.call_updated(inbound(2, t=2))
    tracker.identified("c1", found(AINO))
    tracker.call_ended(ended(first, CallResult.MISSED))
    assert tracker.log_saved("c1", saved=True) == []
    assert tracker.focused is not None and tracker.focused.call_id == "c2"


def test_the_pane_follows_a_live_call_still_looking_up(tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(1))
    second = inbound(2, t=2)
    tracker.call_updated(second)
    tracker.identified("c2", found(AINO))
    tracker.call_ended(ended(second, CallResult.MISSED))
    assert tracker.log_saved("c2", saved=True)[1:] == [
        ShowCall("040 1234567", ""), ShowLookingUp(NUMBER)]


def test_the_pane_follows_the_record_a_live_call_is_linked_to(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(1))
    tracker.identified("c1", found(AINO, EERO))
    tracker.link("c1", C8)
    second = inbound(2, t=2)
    tracker.call_updated(second)
    tracker.identified("c2", found(AINO))
    tracker.call_ended(ended(second, CallResult.MISSED))
    assert tracker.log_saved("c2", saved=True)[-1] == ShowRecord("c1", C8)


def test_decide_is_called_once_per_decision_point(decisions: CountingDecide,
                                                  tracker: CrmCallTracker) -> None:
    first = connected(inbound(1))
    tracker.call_updated(inbound(1))
    tracker.identified("c1", found(AINO, EERO))
    tracker.call_updated(first)
    second = inbound(2, t=10)
    tracker.call_updated(second)
    tracker.identified("c2", found(AINO))
    tracker.call_ended(ended(second, CallResult.MISSED))
    tracker.log_saved("c2", saved=True)  # the pane goes back to c1: its dialog, not decided
    tracker.call_ended(ended(first, CallResult.ANSWERED))
    assert decisions.phases == [Phase.RINGING, Phase.ANSWERED, Phase.RINGING, Phase.ENDED,
                                Phase.ENDED]


def test_an_ended_call_update_is_left_to_call_ended(tracker: CrmCallTracker) -> None:
    assert tracker.call_updated(replace(inbound(), state=CallState.ENDED)) == []
    assert tracker.get("c1") is None


# --- the popped event ---------------------------------------------------------------------


def test_the_pop_is_reported_once_when_the_pane_calls_page_loads(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound())
    tracker.identified("c1", found(AINO))
    tracker.page_requested("c1", "contact/7")
    now = T0 + timedelta(seconds=1.25)
    assert tracker.page_loaded("looking-up", now) == []
    assert tracker.page_loaded("contact/7", now) == [ReportPopped("c1", "contact/7", 1250.0)]
    assert tracker.page_loaded("contact/7", now) == []


def test_a_page_loaded_for_a_call_the_pane_does_not_show_is_not_its_pop(
        tracker: CrmCallTracker) -> None:
    tracker.call_updated(inbound(1))
    tracker.page_requested("c1", "contact/7")
    tracker.call_updated(inbound(2, t=1))
    assert tracker.page_loaded("contact/7", T0) == []
