"""The call activity built from a finished call, and "save call info on the case"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.core.activity import build_activity, call_log, case_note, subject
from app.core.calls import CallRecord, CallResult, Direction, HangupSide
from app.core.crm import RecordKind, RecordRef

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CONTACT = RecordRef(RecordKind.CONTACT, "1")
CASE = RecordRef(RecordKind.CASE, "5")


def rec(direction: Direction = Direction.INBOUND, result: CallResult = CallResult.ANSWERED,
        queue: str | None = "Support", answered: float | None = 20.0,
        name: str = "") -> CallRecord:
    return CallRecord(
        call_id="abc@pbx", direction=direction, local_number="+35891000",
        remote_number="+358401234567", display_name=name, queue=queue, arrived_at=T0,
        answered_at=None if answered is None else T0 + timedelta(seconds=answered),
        ended_at=T0 + timedelta(seconds=200), result=result, hangup_side=HangupSide.REMOTE,
        sip_code=200, sip_reason="OK")


def test_answered_queue_call() -> None:
    a = build_activity(rec(), notes="  wants a callback  ", regarding=(CONTACT, CONTACT),
                       display_number="+35891000")
    assert a.subject == "Call from +358401234567 via Support"
    assert (a.direction, a.result) == ("inbound", "answered")
    assert (a.duration_seconds, a.queue_wait_seconds) == (180, 20)
    assert (a.caller_number, a.display_number, a.queue) == ("+358401234567", "+35891000",
                                                            "Support")
    assert a.ended_at == T0 + timedelta(seconds=200)
    assert a.notes == "wants a callback"
    assert a.regarding == (CONTACT,)
    assert a.call_id == "abc@pbx"
    assert (a.started_at, a.answered_at) == (T0, (T0 + timedelta(seconds=20)).isoformat())


def test_queue_wait_from_the_phone_system_wins() -> None:
    assert build_activity(rec(), queue_wait_seconds=95.4).queue_wait_seconds == 95


@pytest.mark.parametrize("record, expected", [
    (rec(result=CallResult.MISSED, answered=None, queue=None), "Missed call from +358401234567"),
    (rec(result=CallResult.DECLINED, answered=None, name="Maija"), "Declined call from Maija"),
    (rec(Direction.OUTBOUND, queue=None, name="Maija"), "Call to Maija"),
    (rec(Direction.OUTBOUND, CallResult.BUSY, None, None), "Call to +358401234567 (busy)"),
    (rec(Direction.OUTBOUND, CallResult.NO_ANSWER, None, None),
     "Call to +358401234567 (not answered)"),
])
def test_subjects(record: CallRecord, expected: str) -> None:
    assert subject(record) == expected


def test_direct_and_unanswered_calls_have_no_wait_or_duration() -> None:
    a = build_activity(rec(queue=None))
    assert (a.queue, a.queue_wait_seconds) == ("", 0)
    missed = build_activity(rec(result=CallResult.MISSED, answered=None))
    assert missed.duration_seconds == 0
    assert missed.answered_at == ""
    assert missed.queue_wait_seconds == 200  # waited until the caller gave up


def test_outbound_display_number_defaults_to_the_local_number() -> None:
    assert build_activity(rec(Direction.OUTBOUND, queue=None)).display_number == "+35891000"


def test_save_call_info_on_the_case_when_a_case_is_chosen() -> None:
    log = call_log(rec(), regarding=(CONTACT, CASE), save_on_case=True, notes="n")
    assert log.case_id == "5"
    assert call_log(rec(), regarding=(CONTACT, CASE)).case_id is None
    assert call_log(rec(), regarding=(CONTACT,), save_on_case=True).case_id is None


def test_case_note_lists_the_call_details() -> None:
    text = case_note(build_activity(rec(), notes="wants a callback", display_number="+3589"))
    for line in ("Call from +358401234567 via Support", "Result: answered", "Queue: Support",
                 "Queue wait: 0:20", "Duration: 3:00", "Display number: +3589",
                 "Notes: wants a callback"):
        assert line in text.splitlines()
    assert "Queue: Direct" in case_note(build_activity(rec(queue=None)))
