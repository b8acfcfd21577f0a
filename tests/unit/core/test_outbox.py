"""The outbox: durable, retried with backoff while the CRM is down, applied exactly once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.activity import call_log
from app.core.calls import CallRecord, CallResult, Direction, HangupSide
from app.core.crm import (
    CallActivity,
    CrmAccessDenied,
    CrmError,
    CrmSignInRequired,
    CrmUnavailable,
    NewCase,
    NewContact,
)
from app.core.outbox import ACTIVITY, DONE, FAILED, PENDING, Outbox
from app.crm.local.store import LocalStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[3]


def record(call_id: str, number: str = "+358401234567") -> CallRecord:
    return CallRecord(call_id=call_id, direction=Direction.INBOUND, local_number="+35891000",
                      remote_number=number, display_name="", queue="Support",
                      arrived_at=T0, answered_at=T0 + timedelta(seconds=12),
                      ended_at=T0 + timedelta(seconds=95), result=CallResult.ANSWERED,
                      hangup_side=HangupSide.REMOTE, sip_code=200, sip_reason="OK")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class FlakyCrm:
    """The real built-in CRM behind a switch: `down` makes every call CrmUnavailable;
    `lose_answers` lets the write land and then raises, as a timed-out HTTP call would."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.down = False
        self.lose_answers = 0
        self.calls = 0

    def _gate(self) -> None:
        self.calls += 1
        if self.down:
            raise CrmUnavailable("CRM not reachable (connection refused)")

    def find_activity(self, call_id: str) -> str | None:
        self._gate()
        return self.store.find_activity(call_id)

    def create_activity(self, activity: CallActivity) -> str:
        self._gate()
        activity_id = self.store.create_activity(activity)
        if self.lose_answers:
            self.lose_answers -= 1
            raise CrmUnavailable("timed out waiting for the CRM's answer")
        return activity_id

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        self._gate()
        self.store.update_activity(activity_id, fields)

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        self._gate()
        self.store.log_call_on_case(case_id, activity)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "crm.sqlite3") as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3", retry_min=5, retry_max=60, clock=clock)
    yield box
    box.close()


def activity_call_ids(store: LocalStore) -> list[str]:
    with store._db() as conn:
        return [r[0] for r in conn.execute("SELECT call_id FROM activities")]


def test_fifty_calls_while_the_crm_is_down_land_once_each_when_it_is_back(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = FlakyCrm(store)
    crm.down = True
    for i in range(50):
        assert outbox.enqueue_log(call_log(record(f"call-{i}@pbx")))
    assert outbox.pending_count() == 50

    for _ in range(6):  # an hour of retries while the CRM is down
        report = outbox.process(crm)
        assert report.applied == 0
        clock.now += 600
    assert outbox.pending_count() == 50
    assert outbox.item("call-0@pbx", ACTIVITY).attempts == 6  # type: ignore[union-attr]

    crm.down = False
    report = outbox.process(crm)
    assert report.applied == 50
    assert outbox.pending_count() == 0
    assert outbox.process(crm).applied == 0  # nothing left, nothing repeated
    ids = activity_call_ids(store)
    assert sorted(ids) == sorted(f"call-{i}@pbx" for i in range(50))


def test_retries_back_off_exponentially_up_to_the_maximum(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = FlakyCrm(store)
    crm.down = True
    outbox.enqueue_log(call_log(record("c1")))
    delays = []
    for _ in range(6):
        start = clock.now
        outbox.process(crm)
        item = outbox.item("c1", ACTIVITY)
        assert item is not None and item.state == PENDING
        delays.append(item.next_at - start)
        assert outbox.process(crm).retrying == 0  # not due yet: the CRM is not asked
        clock.now = item.next_at
    assert delays == [5, 10, 20, 40, 60, 60]
    assert "connection refused" in outbox.item("c1", ACTIVITY).last_error  # type: ignore


def test_a_write_whose_answer_was_lost_is_not_written_twice(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = FlakyCrm(store)
    crm.lose_answers = 1
    outbox.enqueue_log(call_log(record("lost@pbx")))
    assert outbox.process(crm).retrying == 1
    clock.now += 5
    assert outbox.process(crm).applied == 1
    assert activity_call_ids(store) == ["lost@pbx"]


def test_same_call_enqueued_twice_is_one_item(outbox: Outbox) -> None:
    assert outbox.enqueue_log(call_log(record("dup")))
    assert not outbox.enqueue_log(call_log(record("dup")))
    assert outbox.pending_count() == 1


def test_update_waits_for_the_activity_then_changes_the_same_one(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = FlakyCrm(store)
    crm.down = True
    outbox.enqueue_log(call_log(record("rec@pbx")))
    outbox.enqueue_update("rec@pbx", {"recording_url": "https://rec.example/1.wav",
                                      "queue_wait_seconds": 42})
    outbox.process(crm)
    crm.down = False
    clock.now += 5
    report = outbox.process(crm)
    assert report.applied == 2
    [activity_id] = [store.find_activity("rec@pbx")]
    assert activity_id is not None
    logged = store.get_activity(activity_id)
    assert logged.recording_url == "https://rec.example/1.wav"
    assert logged.queue_wait_seconds == 42
    assert activity_call_ids(store) == ["rec@pbx"]


def test_update_queued_before_its_activity_waits_without_failing(
        store: LocalStore, tmp_path: Path, clock: Clock) -> None:
    box = Outbox(tmp_path / "o.sqlite3", retry_min=5, clock=clock)
    box.enqueue_update("early", {"recording_url": "https://rec.example/2.wav"})
    box.enqueue_log(call_log(record("early")))  # queued after the update
    crm = FlakyCrm(store)
    report = box.process(crm)
    assert (report.applied, report.waiting) == (1, 1)
    clock.now += 5
    assert box.process(crm).applied == 1
    assert box.pending_count() == 0
    box.close()


def test_refused_write_is_marked_failed_with_the_crms_message(
        store: LocalStore, outbox: Outbox) -> None:
    outbox.enqueue_update("never-logged", {"notes": "x"})
    report = outbox.process(FlakyCrm(store))
    assert report.failed == 1
    [item] = outbox.failed()
    assert item.state == FAILED
    assert "no call activity" in item.last_error
    assert outbox.pending_count() == 0


def test_bad_field_is_a_permanent_failure(store: LocalStore, outbox: Outbox,
                                          clock: Clock) -> None:
    outbox.enqueue_log(call_log(record("c2")))
    outbox.enqueue_update("c2", {"colour": "red"})
    outbox.process(FlakyCrm(store))
    [item] = outbox.failed()
    assert "colour" in item.last_error
    outbox.retry(item.id)
    assert outbox.pending_count() == 1


def test_max_attempts_gives_up_visibly(store: LocalStore, tmp_path: Path,
                                       clock: Clock) -> None:
    box = Outbox(tmp_path / "o.sqlite3", retry_min=1, max_attempts=3, clock=clock)
    crm = FlakyCrm(store)
    crm.down = True
    box.enqueue_log(call_log(record("c3")))
    for _ in range(3):
        box.process(crm)
        clock.now += 100
    [item] = box.failed()
    assert "gave up after 3 attempts" in item.last_error
    box.close()


def test_call_info_saved_on_the_case_once(store: LocalStore, outbox: Outbox,
                                          clock: Clock) -> None:
    contact = store.create_contact(NewContact("Maija", "Mehiläinen"))
    case = store.create_case(NewCase("Invoice", contact_id=contact.id))
    log = call_log(record("oncase"), notes="asked about the invoice",
                   regarding=(case.ref, contact.ref), save_on_case=True)
    assert log.case_id == case.id
    outbox.enqueue_log(log)
    crm = FlakyCrm(store)
    assert outbox.process(crm).applied == 1
    store.log_call_on_case(case.id, log.activity)  # a repeat changes nothing
    [(_, text)] = store.case_calls(case.id)
    assert "asked about the invoice" in text
    assert activity_call_ids(store) == []


def test_unexpected_backend_bug_fails_the_item_not_the_queue(
        store: LocalStore, outbox: Outbox) -> None:
    class Broken(FlakyCrm):
        def find_activity(self, call_id: str) -> str | None:
            raise ZeroDivisionError("oops")

    outbox.enqueue_log(call_log(record("b1")))
    assert outbox.process(Broken(store)).failed == 1
    assert "ZeroDivisionError" in outbox.failed()[0].last_error


def test_crm_error_type_hierarchy() -> None:
    assert issubclass(CrmUnavailable, CrmError)


CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, timedelta, timezone
    sys.path.insert(0, sys.argv[2])
    from app.core.activity import call_log
    from app.core.outbox import Outbox
    from tests.unit.core.test_outbox import record
    box = Outbox(sys.argv[1])
    assert box.enqueue_log(call_log(record("killed@pbx"), notes="said after crash"))
    print("enqueued", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_enqueued_then_killed_with_sigkill_lands_after_restart(
        tmp_path: Path, store: LocalStore) -> None:
    path = tmp_path / "outbox.sqlite3"
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), str(ROOT)],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert child.returncode == -9, child.stderr
    assert child.stdout.strip() == "enqueued"

    box = Outbox(path)  # a new process would do exactly this at start-up
    assert box.pending_count() == 1
    assert box.process(store).applied == 1
    box.close()
    activity_id = store.find_activity("killed@pbx")
    assert activity_id is not None
    assert store.get_activity(activity_id).notes == "said after crash"
    again = Outbox(path)
    assert again.item("killed@pbx", ACTIVITY).state == DONE  # type: ignore[union-attr]
    again.close()


class LimitedCrm(FlakyCrm):
    """A CRM that says how long to leave it alone (Salesforce's REQUEST_LIMIT_EXCEEDED)."""

    def __init__(self, store: LocalStore, retry_after: float) -> None:
        super().__init__(store)
        self.retry_after = retry_after

    def _gate(self) -> None:
        self.calls += 1
        if self.down:
            error = CrmUnavailable("the org has used up its daily API requests")
            error.retry_after = self.retry_after  # type: ignore[attr-defined]
            raise error


def test_a_crm_asking_for_a_long_pause_is_not_asked_again_for_any_call_until_then(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = LimitedCrm(store, retry_after=1800)
    crm.down = True
    for i in range(10):
        outbox.enqueue_log(call_log(record(f"call-{i}@pbx")))
    report = outbox.process(crm)
    assert (crm.calls, report.retrying, report.paused_for) == (1, 1, 1800)
    clock.now += 1799  # longer than retry_max (60 s here): the CRM's word counts
    assert outbox.process(crm).retrying == 0
    assert crm.calls == 1
    clock.now += 1
    crm.down = False
    assert outbox.process(crm).applied == 10
    assert sorted(activity_call_ids(store)) == sorted(f"call-{i}@pbx" for i in range(10))
    assert outbox.item("call-0@pbx", ACTIVITY).attempts == 2  # type: ignore[union-attr]
    assert outbox.item("call-9@pbx", ACTIVITY).attempts == 1  # type: ignore[union-attr]


def test_a_short_retry_after_replaces_the_exponential_back_off(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = LimitedCrm(store, retry_after=1)
    crm.down = True
    outbox.enqueue_log(call_log(record("c1")))
    for _ in range(4):
        start = clock.now
        outbox.process(crm)
        item = outbox.item("c1", ACTIVITY)
        assert item is not None and item.next_at - start == 1
        clock.now = item.next_at


class GuardedCrm(FlakyCrm):
    """The built-in CRM behind a sign-in and a permission switch: `refuse` is raised by
    every request while set (CrmSignInRequired or CrmAccessDenied, as a CRM's 401/403)."""

    def __init__(self, store: LocalStore) -> None:
        super().__init__(store)
        self.refuse: CrmError | None = None

    def _gate(self) -> None:
        self.calls += 1
        if self.refuse is not None:
            raise self.refuse


def test_a_refused_sign_in_stops_the_round_and_holds_every_item_until_resumed(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = GuardedCrm(store)
    crm.refuse = CrmSignInRequired("Sign in to the CRM again; calls go on meanwhile.")
    for i in range(5):
        outbox.enqueue_log(call_log(record(f"call-{i}@pbx")))
    report = outbox.process(crm)
    assert crm.calls == 1  # one refusal, not one per queued call
    assert (report.sign_in_required, report.retrying, report.failed) == (True, 1, 0)
    first = outbox.item("call-0@pbx", ACTIVITY)
    assert first is not None and first.state == PENDING and first.attempts == 0
    assert first.last_error == "Sign in to the CRM again; calls go on meanwhile."
    clock.now += 59  # retry_max is 60 here: nothing is due, the timer sends nothing
    assert outbox.process(crm).retrying == 0
    assert crm.calls == 1
    crm.refuse = None  # the agent signed in
    assert outbox.resume() == 5
    assert outbox.process(crm).applied == 5
    assert sorted(activity_call_ids(store)) == [f"call-{i}@pbx" for i in range(5)]


def test_access_denied_is_parked_with_the_words_for_it_and_retried_when_asked(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = GuardedCrm(store)
    words = "Your CRM user lacks the privilege prvCreateActivity; ask your administrator."
    crm.refuse = CrmAccessDenied(words)
    outbox.enqueue_log(call_log(record("c1")))
    report = outbox.process(crm)
    assert (report.failed, report.retrying) == (1, 0)
    [parked] = outbox.failed()
    assert (parked.call_id, parked.state, parked.last_error) == ("c1", FAILED, words)
    clock.now += 10_000  # parked, not retried by the timer: the CRM is asked only once
    outbox.process(crm)
    assert crm.calls == 1
    crm.refuse = None  # IT gave the privilege; the agent presses Retry
    outbox.retry(parked.id)
    assert outbox.process(crm).applied == 1
    assert activity_call_ids(store) == ["c1"]


def test_notes_typed_after_the_call_replace_the_queued_ones_and_reopen_an_applied_one(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    crm = FlakyCrm(store)
    outbox.enqueue_log(call_log(record("wrap@pbx"), notes="Asked about"))
    outbox.enqueue_update("wrap@pbx", {"notes": "Asked about the"}, replace=True)
    outbox.enqueue_update("wrap@pbx", {"notes": "Asked about the invoice"}, replace=True)
    assert outbox.process(crm).applied == 2  # the log, and one update with the last text
    activity_id = store.find_activity("wrap@pbx")
    assert activity_id is not None
    assert store.get_activity(activity_id).notes == "Asked about the invoice"
    outbox.enqueue_update("wrap@pbx", {"notes": "Asked about the invoice; sent a copy"},
                          replace=True)
    assert outbox.process(crm).applied == 1  # applied before: queued again, applied again
    assert store.get_activity(activity_id).notes == "Asked about the invoice; sent a copy"
    assert activity_call_ids(store) == ["wrap@pbx"]


def test_notes_replaced_while_the_old_ones_are_being_written_are_written_next(
        store: LocalStore, outbox: Outbox, clock: Clock) -> None:
    class TypingMeanwhile(FlakyCrm):
        """The agent types again while the CRM is taking the previous text."""

        def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
            super().update_activity(activity_id, fields)
            if fields == {"notes": "first"}:
                outbox.enqueue_update("race@pbx", {"notes": "second"}, replace=True)

    crm = TypingMeanwhile(store)
    outbox.enqueue_log(call_log(record("race@pbx")))
    assert outbox.process(crm).applied == 1
    outbox.enqueue_update("race@pbx", {"notes": "first"}, replace=True)
    outbox.process(crm)
    item = outbox.item("race@pbx", "update:notes")
    assert item is not None and item.state == PENDING  # not marked done with "first"
    assert outbox.process(crm).applied == 1
    activity_id = store.find_activity("race@pbx")
    assert activity_id is not None and store.get_activity(activity_id).notes == "second"
