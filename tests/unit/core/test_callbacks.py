"""Callback requests → CRM cases/tasks: linking by matches, closing, never twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.callbacks import (
    CallbackCrm,
    CallbackProcessor,
    CallbackRequest,
    HandledStore,
    subject_for,
)
from app.core.crm import (
    Account,
    Case,
    Contact,
    CrmUnavailable,
    IdentifyResult,
    NewCase,
    NewTask,
    Task,
)

NUMBER = "+358401234567"
REQ = CallbackRequest("cb-1", "Sales", datetime(2026, 3, 2, 12, 30, tzinfo=timezone.utc),
                      NUMBER, "https://rec.example/1.mp3", "Please call about my order")


class FakeCrm:
    def __init__(self, result: IdentifyResult, *, down: bool = False) -> None:
        self.result = result
        self.down = down
        self.cases: list[NewCase] = []
        self.tasks: list[NewTask] = []

    def identify(self, number: str) -> IdentifyResult:
        if self.down:
            raise CrmUnavailable("CRM is down")
        return self.result

    def create_case(self, new: NewCase) -> Case:
        self.cases.append(new)
        return Case(str(len(self.cases)), f"0000{len(self.cases)}", new.subject)

    def create_task(self, new: NewTask) -> Task:
        self.tasks.append(new)
        return Task(f"T{len(self.tasks)}", new.subject, new.description, new.due_at)


class PhoneSystem:
    def __init__(self, fail: int = 0) -> None:
        self.closed: list[tuple[str, str]] = []
        self.fail = fail

    def close(self, request_id: str, note: str) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("phone system unreachable")
        self.closed.append((request_id, note))


ALICE = Contact("3", "Alice", "Smith", account_id="9", phones=(NUMBER,))
BOB = Contact("4", "Bob", "Smith", phones=(NUMBER,))
ACME = Account("9", "Acme", phones=(NUMBER,))


@pytest.fixture
def store(tmp_path: Path) -> HandledStore:
    return HandledStore(tmp_path / "callbacks.sqlite3")


def make(crm: FakeCrm, phone: PhoneSystem, store: HandledStore,
         target: str = "case") -> CallbackProcessor:
    return CallbackProcessor(crm, phone.close, store, target=target, tz=timezone.utc)


def test_subject_has_date_and_time() -> None:
    assert subject_for(REQ, timezone(timedelta(hours=2))) == "CallBack - 2026-03-02 14:30"


@pytest.mark.parametrize(("matches", "contact_id", "account_id", "linked"), [
    (IdentifyResult(NUMBER), None, None, ""),
    (IdentifyResult(NUMBER, contacts=(ALICE,)), "3", "9", "contact/3"),
    (IdentifyResult(NUMBER, accounts=(ACME,)), None, "9", "account/9"),
    (IdentifyResult(NUMBER, contacts=(ALICE, BOB)), None, None, ""),
    (IdentifyResult(NUMBER, contacts=(ALICE,), accounts=(ACME,)), None, None, ""),
    (IdentifyResult(NUMBER, contacts=(ALICE,), truncated=True), None, None, ""),
])
def test_case_linked_only_when_exactly_one_matches(store: HandledStore, matches: IdentifyResult,
                                                   contact_id: str | None,
                                                   account_id: str | None,
                                                   linked: str) -> None:
    crm, phone = FakeCrm(matches), PhoneSystem()
    outcome = make(crm, phone, store).process(REQ)
    (case,) = crm.cases
    assert (case.contact_id, case.account_id, outcome.linked) == (contact_id, account_id,
                                                                  linked)
    assert case.subject == "CallBack - 2026-03-02 12:30"
    assert "Sales" in case.description and "https://rec.example/1.mp3" in case.description
    assert "Please call about my order" in case.description
    assert phone.closed == [("cb-1", "Case 1 created in CRM")]
    assert outcome.closed and outcome.created == "case/1"


def test_repeated_request_is_not_created_twice(store: HandledStore, tmp_path: Path) -> None:
    crm, phone = FakeCrm(IdentifyResult(NUMBER, contacts=(ALICE,))), PhoneSystem()
    make(crm, phone, store).process(REQ)
    again = make(crm, phone, store).process(REQ)
    assert again.skipped and len(crm.cases) == 1 and len(phone.closed) == 1
    # and after a restart (a new connection to the same file)
    reopened = HandledStore(tmp_path / "callbacks.sqlite3")
    assert make(crm, phone, reopened).process(REQ).skipped
    assert len(crm.cases) == 1


def test_failed_close_is_retried_without_a_second_case(store: HandledStore) -> None:
    crm, phone = FakeCrm(IdentifyResult(NUMBER)), PhoneSystem(fail=1)
    processor = make(crm, phone, store)
    first = processor.process(REQ)
    assert not first.closed and first.created == "case/1" and "unreachable" in first.error
    second = processor.process(REQ)
    assert second.closed and len(crm.cases) == 1
    assert phone.closed == [("cb-1", "Case 1 created in CRM")]


def test_crm_down_leaves_request_for_later(store: HandledStore) -> None:
    crm, phone = FakeCrm(IdentifyResult(NUMBER), down=True), PhoneSystem()
    processor = make(crm, phone, store)
    assert processor.process(REQ).error == "CRM is down"
    assert phone.closed == [] and store.get("cb-1") is None
    crm.down = False
    assert processor.process(REQ).closed and len(crm.cases) == 1


def test_fake_crm_is_a_callback_crm() -> None:
    assert isinstance(FakeCrm(IdentifyResult(NUMBER)), CallbackCrm)


@pytest.mark.parametrize(("matches", "contact_id", "linked"), [
    (IdentifyResult(NUMBER), None, ""),
    (IdentifyResult(NUMBER, contacts=(ALICE,)), "3", "contact/3"),
    (IdentifyResult(NUMBER, contacts=(ALICE, BOB)), None, ""),
    (IdentifyResult(NUMBER, contacts=(ALICE,), truncated=True), None, ""),
])
def test_task_target_creates_a_task_linked_only_to_one_match(
        store: HandledStore, matches: IdentifyResult, contact_id: str | None,
        linked: str, caplog: pytest.LogCaptureFixture) -> None:
    crm, phone = FakeCrm(matches), PhoneSystem()
    outcome = make(crm, phone, store, target="task").process(REQ)
    (task,) = crm.tasks
    assert crm.cases == [] and not caplog.records  # a real task, no warning fallback
    assert (task.subject, task.contact_id, outcome.linked) == (
        "CallBack - 2026-03-02 12:30", contact_id, linked)
    assert task.due_at == REQ.requested_at
    assert NUMBER in task.description and "https://rec.example/1.mp3" in task.description
    assert "Please call about my order" in task.description
    assert outcome.created == "task/T1" and outcome.closed
    assert phone.closed == [("cb-1", "Task T1 created in CRM")]


def test_repeated_task_request_is_not_created_twice(store: HandledStore,
                                                    tmp_path: Path) -> None:
    crm, phone = FakeCrm(IdentifyResult(NUMBER, contacts=(ALICE,))), PhoneSystem(fail=1)
    first = make(crm, phone, store, target="task").process(REQ)
    assert first.created == "task/T1" and not first.closed  # created, close failed
    assert make(crm, phone, store, target="task").process(REQ).closed
    assert make(crm, phone, store, target="task").process(REQ).skipped
    reopened = HandledStore(tmp_path / "callbacks.sqlite3")
    assert make(crm, phone, reopened, target="task").process(REQ).skipped
    assert len(crm.tasks) == 1 and crm.cases == []
    assert phone.closed == [("cb-1", "Task T1 created in CRM")]


def test_request_without_number_is_unlinked(store: HandledStore) -> None:
    crm, phone = FakeCrm(IdentifyResult("", contacts=(ALICE,))), PhoneSystem()
    req = CallbackRequest("cb-2", "Support", REQ.requested_at, "")
    assert make(crm, phone, store).process(req).linked == ""
    assert crm.cases[0].contact_id is None
