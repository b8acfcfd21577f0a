"""The outbox driving the Dynamics backend against the fake Dataverse (real HTTP).

What the agent sees when Dynamics refuses the sign-in (401 after one silent refresh) or
the access (403), and that later details change the same phone call, never a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.outbox import ACTIVITY, FAILED, PENDING, Outbox, activity_to_json
from app.crm.dynamics import records
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.dynamics.client import DataverseClient
from tests.fakes.dataverse import FakeDataverse
from tests.unit.crm.dynamics_helpers import StaticTokens, activity


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeDataverse]:
    server = FakeDataverse().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3", retry_min=5, retry_max=60, clock=clock)
    yield box
    box.close()


def backend(fake: FakeDataverse, tokens: StaticTokens) -> DynamicsBackend:
    return DynamicsBackend(DataverseClient(fake.org_url, tokens, timeout=5), region="FI")


def api_requests(fake: FakeDataverse) -> list[str]:
    with fake.lock:
        return [f"{r['method']} {r['path']}" for r in fake.requests]


def enqueue_calls(outbox: Outbox, n: int) -> list[str]:
    call_ids = [f"call-{i}@pbx.example.com" for i in range(n)]
    for call_id in call_ids:
        outbox.enqueue(call_id, ACTIVITY, {"activity": activity_to_json(activity(call_id=call_id))})
    return call_ids


def test_a_revoked_sign_in_stops_the_round_after_one_refused_request(
        fake: FakeDataverse, outbox: Outbox, clock: Clock) -> None:
    tokens = StaticTokens("revoked-token")  # refused before and after the silent refresh
    call_ids = enqueue_calls(outbox, 20)
    report = outbox.process(backend(fake, tokens))
    assert report.sign_in_required
    assert tokens.calls == [False, True]  # one request, one silent refresh, then it stops
    assert len(api_requests(fake)) == 2
    item = outbox.item(call_ids[0], ACTIVITY)
    assert item is not None and item.state == PENDING and item.attempts == 0
    assert "Sign in to Dynamics 365 again" in item.last_error
    clock.now += 30  # the outbox timer keeps ticking: nothing is sent meanwhile
    assert outbox.process(backend(fake, tokens)).retrying == 0
    assert len(api_requests(fake)) == 2

    signed_in = StaticTokens("good-token")  # the agent signed in from the bar
    assert outbox.resume() == 20
    assert outbox.process(backend(fake, signed_in)).applied == 20
    assert sorted(fake.records("phonecalls")) == sorted(records.activity_id(c)
                                                        for c in call_ids)


def test_a_tenant_policy_403_is_parked_with_words_for_it_and_lands_when_retried(
        fake: FakeDataverse, outbox: Outbox, clock: Clock) -> None:
    [call_id] = enqueue_calls(outbox, 1)
    fake.fail_next("forbidden_policy")
    crm = backend(fake, StaticTokens())
    report = outbox.process(crm)
    assert (report.failed, report.retrying, report.sign_in_required) == (1, 0, False)
    [parked] = outbox.failed()
    assert parked.state == FAILED
    assert "Pass this message to your IT" in parked.last_error
    assert "blocked by a tenant policy" in parked.last_error  # Dynamics' words kept
    sent = len(api_requests(fake))
    clock.now += 3600  # parked: never retried on its own
    outbox.process(crm)
    assert len(api_requests(fake)) == sent
    outbox.retry(parked.id)  # IT allowed the app; the agent pressed Retry
    assert outbox.process(crm).applied == 1
    assert list(fake.records("phonecalls")) == [records.activity_id(call_id)]


def test_later_details_change_the_same_phone_call(fake: FakeDataverse,
                                                  outbox: Outbox) -> None:
    [call_id] = enqueue_calls(outbox, 1)
    crm = backend(fake, StaticTokens())
    # Queued before the phone call exists: waits for it, then changes it.
    outbox.enqueue_update(call_id, {"recording_url": "https://rec.example/7.wav",
                                    "queue_wait_seconds": 42})
    outbox.enqueue_update(call_id, {"notes": "Called back, all sorted"})
    report = outbox.process(crm)
    assert report.applied == 3
    [(key, row)] = fake.records("phonecalls").items()
    assert key == records.activity_id(call_id)
    notes, lines = records.parse_description(row["description"])
    assert notes == "Called back, all sorted"
    assert (lines["Recording"], lines["Queue wait"], lines["Call-ID"]) == (
        "https://rec.example/7.wav", "42 s", call_id)
    assert (row["statecode"], row["statuscode"]) == (1, 4)  # closed again as Received
    posts = [r for r in api_requests(fake) if r.startswith("POST")]
    assert posts == []  # upserts and updates by id only: no second phone call possible
