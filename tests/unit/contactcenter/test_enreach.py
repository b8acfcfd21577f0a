"""The Enreach backend against a local HTTP fake of the Enreach Voice API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from app.contactcenter.enreach import EnreachContactCenter
from app.core.availability import StatusType
from app.core.contactcenter import (
    BackendState,
    BackendUnavailable,
    CallbacksChanged,
    ContactCenterEvent,
    QueueStatus,
)
from tests.fakes.enreach_api import FakeEnreachApi


def wait_for(predicate: Callable[[], object], what: str = "condition") -> None:
    """Wait for the backend thread; the limit only stops a hung test."""
    deadline = time.monotonic() + 10
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def api() -> Iterator[FakeEnreachApi]:
    fake = FakeEnreachApi()
    fake.add_queue("q-sales", "Sales", "+358101000", active=True, ServingAgents=3,
                   FreeAgents=1, OngoingCalls=2, QueueLength=4, MaxWaitTime=95)
    fake.add_queue("q-support", "Support", "+358102000")
    fake.add_queue("q-ivr", "Main menu", "+358100000", type_id=5)
    fake.start()
    yield fake
    fake.stop()


def make(api: FakeEnreachApi, secret: str = "api-secret") -> EnreachContactCenter:
    return EnreachContactCenter(api.user, secret, discovery_url=api.base, poll_seconds=0.05,
                                timeout=2, backoff_first=0.02, backoff_max=0.1)


@pytest.fixture
def enreach(api: FakeEnreachApi) -> Iterator[EnreachContactCenter]:
    backend = make(api)
    backend.connect()
    wait_for(lambda: len(backend.queues()) == 2, "queues")
    yield backend
    backend.close()


def row(backend: EnreachContactCenter, name: str) -> QueueStatus:
    return next(q for q in backend.queues() if q.name == name)


def test_discovery_then_queue_rows(enreach: EnreachContactCenter, api: FakeEnreachApi) -> None:
    assert enreach.status.state is BackendState.CONNECTED
    assert api.requests[0][:2] == ("GET", "/api/user")
    sales = row(enreach, "Sales")
    assert (sales.number, sales.serving, sales.free, sales.active, sales.active_calls,
            sales.queue_length, sales.max_wait_seconds) == ("+358101000", 3, 1, True, 2, 4, 95)
    assert row(enreach, "Support").active is False  # the IVR queue is not a service pool


def test_live_numbers_follow_the_api(enreach: EnreachContactCenter,
                                     api: FakeEnreachApi) -> None:
    api.set_queue_status("q-support", QueueLength=2, MaxWaitTime=30)
    wait_for(lambda: row(enreach, "Support").queue_length == 2, "update")
    assert row(enreach, "Support").max_wait_seconds == 30


def test_join_leave_and_availability(enreach: EnreachContactCenter,
                                     api: FakeEnreachApi) -> None:
    enreach.join("Support")
    enreach.leave("Sales")
    wait_for(lambda: row(enreach, "Support").active and not row(enreach, "Sales").active,
             "membership")
    enreach.set_availability(StatusType.DND, "Do not disturb", "training")
    wait_for(lambda: api.availability, "availability")
    assert api.availability[-1] == {"EventType": "DND", "Note": "Do not disturb: training"}


def test_callbacks_listed_and_closed(enreach: EnreachContactCenter,
                                     api: FakeEnreachApi) -> None:
    api.add_callback("cb-9", "Sales", "+358401234567", "2026-03-02T10:15:00Z",
                     note="Call me", recording="https://rec/9")
    (req,) = enreach.callback_requests()
    assert (req.id, req.queue, req.number, req.message, req.recording_url,
            req.requested_at.hour) == ("cb-9", "Sales", "+358401234567", "Call me",
                                       "https://rec/9", 10)
    enreach.close_callback("cb-9", "Case 12 created in CRM")
    assert api.closed_callbacks == [("cb-9", "Case 12 created in CRM")]


def test_new_callbacks_are_announced(api: FakeEnreachApi) -> None:
    backend = make(api)
    events: list[ContactCenterEvent] = []
    backend.add_listener(events.append)
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.CONNECTED, "connected")
        api.add_callback("cb-1", "Sales", "+358401", "2026-03-02T10:15:00")
        wait_for(lambda: any(isinstance(e, CallbacksChanged) and e.requests for e in events),
                 "announcement")
    finally:
        backend.close()


def test_wrong_secret_is_credentials_refused(api: FakeEnreachApi) -> None:
    backend = make(api, secret="nope")
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.CREDENTIALS_REFUSED, "refused")
        assert "Authorization has been denied" in backend.status.message
        with pytest.raises(BackendUnavailable):
            backend.callback_requests()
    finally:
        backend.close()


def test_unknown_user_in_discovery_is_refused(api: FakeEnreachApi) -> None:
    backend = EnreachContactCenter("nobody@example.com", "x", discovery_url=api.base,
                                   poll_seconds=0.05, timeout=2)
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.CREDENTIALS_REFUSED, "refused")
        assert "nobody@example.com" in backend.status.message
    finally:
        backend.close()


def test_unreachable_at_start_then_back(api: FakeEnreachApi) -> None:
    api.stop()
    backend = make(api)
    backend.set_availability(StatusType.OFFWORK, "Lunch")
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.UNREACHABLE, "unreachable")
        assert "no connection to Enreach" in backend.status.message
        api.start()
        wait_for(lambda: backend.status.state is BackendState.CONNECTED, "connected")
        wait_for(lambda: api.availability, "availability sent after connecting")
        assert api.availability[0]["EventType"] == "OffWork"
    finally:
        backend.close()


def test_error_body_gives_clear_state_and_nothing_is_lost(enreach: EnreachContactCenter,
                                                          api: FakeEnreachApi) -> None:
    api.fail_next(503, '{"Message": "Service is under maintenance"}', times=3)
    enreach.join("Support")
    wait_for(lambda: enreach.status.state is BackendState.UNREACHABLE, "error state")
    assert enreach.status.message == "Enreach API error 503: Service is under maintenance"
    wait_for(lambda: enreach.status.state is BackendState.CONNECTED, "recovered")
    wait_for(lambda: row(enreach, "Support").active, "join retried")


def test_lost_mid_session_and_back(enreach: EnreachContactCenter,
                                   api: FakeEnreachApi) -> None:
    api.stop()
    wait_for(lambda: enreach.status.state is BackendState.UNREACHABLE, "lost")
    enreach.set_availability(StatusType.AVAILABLE, "Available")
    with pytest.raises(BackendUnavailable):
        enreach.close_callback("cb-1", "note")
    api.start()
    wait_for(lambda: enreach.status.state is BackendState.CONNECTED, "back")
    wait_for(lambda: api.availability and api.availability[-1]["EventType"] == "Available",
             "availability re-applied")


def test_plain_text_error_body(enreach: EnreachContactCenter, api: FakeEnreachApi) -> None:
    api.fail_next(500, "<html>Bad gateway</html>")
    wait_for(lambda: enreach.status.state is BackendState.UNREACHABLE, "error state")
    assert "<html>Bad gateway</html>" in enreach.status.message
