"""The PhoneCall workflow's end-of-call form (Dynamics 365): who gets the form, who a log."""

from __future__ import annotations

from typing import Any

from app.core.calls import CallResult
from app.core.crm import IdentifyResult
from app.core.crm_call import CrmCallTracker, OpenCallForm, SaveLog, ShowEnded
from app.core.workflows import Workflow
from tests.unit.core.test_crm_call import (
    AINO,
    C7,
    EERO,
    NUMBER,
    CountingDecide,
    connected,
    ended,
    found,
    inbound,
    outbound,
)


def phone_call_tracker(*, call_form: bool = True,
                       workflow: Workflow = Workflow.PHONE_CALL) -> CrmCallTracker:
    return CrmCallTracker(workflow, region="FI", log_missed_calls=True, save_on_case=False,
                          decide=CountingDecide(), call_form=call_form)


def kinds(actions: list[Any]) -> list[type]:
    return [type(a) for a in actions]


def test_an_unidentified_answered_call_ends_in_the_crms_form_not_in_a_log() -> None:
    tracker = phone_call_tracker()
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", IdentifyResult(NUMBER))
    tracker.call_updated(connected(call))
    tracker.notes_edited("Asked about prices")
    actions = tracker.call_ended(ended(connected(call), CallResult.ANSWERED))
    assert kinds(actions) == [OpenCallForm, ShowEnded]
    form = actions[0]
    assert isinstance(form, OpenCallForm)
    assert form.log.activity.regarding == ()
    assert form.log.activity.notes == "Asked about prices"
    assert form.log.activity.caller_number == NUMBER
    assert actions[1] == ShowEnded("040 1234567", "Asked about prices", logged=False,
                                   form=True)


def test_several_matches_and_nobody_picked_also_end_in_the_form() -> None:
    tracker = phone_call_tracker()
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO, EERO))
    tracker.call_updated(connected(call))
    assert kinds(tracker.call_ended(ended(connected(call), CallResult.ANSWERED))) == [
        OpenCallForm, ShowEnded]


def test_a_picked_caller_is_logged_by_the_outbox_regarding_them() -> None:
    tracker = phone_call_tracker()
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO, EERO))
    tracker.link("c1", C7)
    tracker.call_updated(connected(call))
    [save] = tracker.call_ended(ended(connected(call), CallResult.ANSWERED))
    assert isinstance(save, SaveLog) and save.log.activity.regarding == (C7,)


def test_one_match_is_logged_by_the_outbox() -> None:
    tracker = phone_call_tracker()
    call = inbound()
    tracker.call_updated(call)
    tracker.identified("c1", found(AINO))
    tracker.call_updated(connected(call))
    [save] = tracker.call_ended(ended(connected(call), CallResult.ANSWERED))
    assert isinstance(save, SaveLog) and save.log.activity.regarding == (C7,)


def test_a_missed_unidentified_call_is_logged_as_missed_without_a_form() -> None:
    tracker = phone_call_tracker()
    tracker.call_updated(inbound())
    tracker.identified("c1", IdentifyResult(NUMBER))
    [save] = tracker.call_ended(ended(inbound(), CallResult.MISSED))
    assert isinstance(save, SaveLog) and save.log.activity.result == "missed"


def test_an_unanswered_outbound_call_gets_no_form() -> None:
    tracker = phone_call_tracker()
    call = outbound()
    tracker.call_updated(call)
    tracker.identified("c1", IdentifyResult(NUMBER))
    actions = tracker.call_ended(ended(call, CallResult.NO_ANSWER))
    assert kinds(actions) == [SaveLog]


def test_while_another_call_is_on_the_pane_stays_with_it_and_the_call_is_logged() -> None:
    tracker = phone_call_tracker()
    first, second = inbound(1), inbound(2, t=10)
    tracker.call_updated(first)
    tracker.identified("c1", IdentifyResult(NUMBER))
    tracker.call_updated(connected(first))
    tracker.call_updated(second)  # takes the pane
    tracker.identified("c2", found(AINO))
    assert kinds(tracker.call_ended(ended(connected(first), CallResult.ANSWERED))) == [SaveLog]


def test_without_call_form_or_in_another_workflow_the_call_is_logged() -> None:
    for tracker in (phone_call_tracker(call_form=False),
                    phone_call_tracker(workflow=Workflow.CONTACT_ACCOUNT)):
        call = inbound()
        tracker.call_updated(call)
        tracker.identified("c1", IdentifyResult(NUMBER))
        tracker.call_updated(connected(call))
        assert kinds(tracker.call_ended(ended(connected(call), CallResult.ANSWERED))) == [
            SaveLog]
