"""Callback requests become open "Callback Request" phone calls in a Dynamics queue, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.core.callbacks import CallbackProcessor, CallbackRequest, HandledStore
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.callbacks import DynamicsCallbacks
from app.crm.dynamics.client import DataverseClient
from tests.fakes.dataverse import FakeDataverse
from tests.unit.crm.dynamics_helpers import StaticTokens

CALLER = "+358401234567"
ASKED = datetime(2025, 3, 4, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
def fake() -> Iterator[FakeDataverse]:
    server = FakeDataverse().start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HandledStore]:
    handled = HandledStore(tmp_path / "callbacks.sqlite3")
    yield handled
    handled.close()


def processor(fake: FakeDataverse, store: HandledStore, queue: str = "Callbacks",
              closed: list[tuple[str, str]] | None = None) -> CallbackProcessor:
    crm = DynamicsCallbacks(DynamicsBackend(DataverseClient(fake.org_url, StaticTokens(),
                                                            timeout=5)), queue)
    sink = closed if closed is not None else []
    return CallbackProcessor(crm, lambda rid, note: sink.append((rid, note)), store,
                             target=crm.callback_target, tz=timezone.utc)


def request(number: str = CALLER, rid: str = "cb-1") -> CallbackRequest:
    return CallbackRequest(rid, "Support", ASKED, number, message="About my invoice")


def parties(fake: FakeDataverse, aid: str) -> dict[str, int]:
    with fake.lock:
        return {f"{p['entity']}/{p['partyid']}": p["participationtypemask"]
                for p in fake.parties.get(aid, [])}


def test_a_known_callers_request_is_an_open_phone_call_for_them_in_the_queue(
        fake: FakeDataverse, store: HandledStore) -> None:
    aino = fake.add_contact("Aino", "Virtanen", CALLER)
    queue = fake.add_queue("Callbacks")
    fake.add_queue("Sales")
    closed: list[tuple[str, str]] = []
    [outcome] = processor(fake, store, closed=closed).process_all([request()])
    assert (outcome.linked, outcome.closed, outcome.error) == (f"contact/{aino}", True, "")
    [(aid, call)] = fake.records("phonecalls").items()
    assert outcome.created == f"task/{aid}"
    assert (call["subject"], call["phonenumber"], call["directioncode"]) == (
        "Callback Request", CALLER, True)
    assert (call["statecode"], call["statuscode"]) == (0, 1)  # open: to be called back
    assert call["scheduledend"] == "2025-03-04T08:30:00Z"
    assert call["_regardingobjectid_value"] == aino
    assert "Message: About my invoice" in call["description"]
    assert "Queue: Support" in call["description"]
    assert parties(fake, aid) == {f"systemuser/{fake.user_id}": 1, f"contact/{aino}": 2}
    assert list(fake.queue_items.values()) == [(queue, aid)]
    assert closed == [("cb-1", f"Task {aid} created in CRM")]


def test_an_unknown_callers_request_is_unlinked(fake: FakeDataverse,
                                                store: HandledStore) -> None:
    fake.add_queue("Callbacks")
    [outcome] = processor(fake, store).process_all([request("+358451234999")])
    [(aid, call)] = fake.records("phonecalls").items()
    assert (outcome.linked, call["_regardingobjectid_value"]) == ("", None)
    assert call["phonenumber"] == "+358451234999"
    assert parties(fake, aid) == {f"systemuser/{fake.user_id}": 1}


def test_a_lost_answer_gives_one_phone_call_and_one_queue_item(
        fake: FakeDataverse, store: HandledStore) -> None:
    fake.add_queue("Callbacks")
    fake.fail_next("lost", method="PATCH", path_contains="/phonecalls(")
    work = processor(fake, store)
    [first] = work.process_all([request()])
    assert first.error and not first.closed  # not known to be created: tried again
    [second] = work.process_all([request()])
    assert second.closed and not second.error
    assert len(fake.records("phonecalls")) == 1
    assert len(fake.queue_items) == 1
    [third] = work.process_all([request()])  # the phone system lists it once more
    assert third.skipped and len(fake.records("phonecalls")) == 1


def test_a_queue_name_dynamics_does_not_have_is_said_and_retried(
        fake: FakeDataverse, store: HandledStore) -> None:
    [outcome] = processor(fake, store, queue="Call-backs").process_all([request()])
    assert "no queue named 'Call-backs'" in outcome.error
    assert not outcome.closed
    fake.add_queue("Call-backs")  # the admin made it
    [again] = processor(fake, store, queue="Call-backs").process_all([request()])
    assert again.closed and len(fake.queue_items) == 1
    assert len(fake.records("phonecalls")) == 1


def test_without_a_queue_the_phone_call_is_made_and_queued_nowhere(
        fake: FakeDataverse, store: HandledStore) -> None:
    [outcome] = processor(fake, store, queue="").process_all([request()])
    assert outcome.closed and len(fake.records("phonecalls")) == 1
    assert fake.queue_items == {}


def test_the_app_sends_callback_requests_to_the_dynamics_queue(tmp_path: Path) -> None:
    from app.compose import choose_crm
    from app.config import Settings

    settings = Settings()
    settings.crm.backend = "dynamics"
    settings.dynamics.org_url = "https://contoso.crm4.dynamics.com"
    settings.dynamics.client_id = "11111111-2222-4333-8444-555555555555"
    settings.dynamics.callback_queue = "Callbacks"
    choice = choose_crm(settings, None, secrets=None,  # type: ignore[arg-type]
                        data_dir=tmp_path)
    assert isinstance(choice.callbacks, DynamicsCallbacks)
    assert choice.callbacks.backend is choice.backend
    assert (choice.callbacks.queue, choice.callbacks.callback_target) == ("Callbacks", "task")
