"""SIP presence backend: PIDF open/closed per status type, republish on re-registration."""

from __future__ import annotations

import pytest

from app.contactcenter.sip_presence import SipPresenceContactCenter
from app.core.availability import StatusType
from app.core.calls import PresenceChanged, RegistrationChanged, RegistrationState
from app.core.contactcenter import BackendState, ColleaguePresenceChanged, ContactCenterEvent


class FakeEngine:
    def __init__(self) -> None:
        self.published: list[tuple[bool, str]] = []
        self.subscribed: list[str] = []

    def publish_presence(self, basic_open: bool, note: str) -> None:
        self.published.append((basic_open, note))

    def subscribe_presence(self, uri: str) -> None:
        self.subscribed.append(uri)


REGISTERED = RegistrationChanged(RegistrationState.REGISTERED, 200, "OK")


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.mark.parametrize(("type_", "name", "open_"), [
    (StatusType.AVAILABLE, "Available", True),
    (StatusType.BUSY, "Busy", True),
    (StatusType.DND, "Do not disturb", False),
    (StatusType.OFFWORK, "Lunch", False),
])
def test_status_types_map_to_pidf(engine: FakeEngine, type_: StatusType, name: str,
                                  open_: bool) -> None:
    backend = SipPresenceContactCenter(engine)
    backend.connect()
    backend.on_engine_event(REGISTERED)
    backend.set_availability(type_, name)
    assert engine.published[-1] == (open_, name)


def test_published_again_when_registration_returns(engine: FakeEngine) -> None:
    backend = SipPresenceContactCenter(engine, watch=["sip:b@example.com"])
    backend.connect()
    assert engine.subscribed == ["sip:b@example.com"]
    backend.set_availability(StatusType.DND, "Do not disturb", "training")
    assert engine.published == []  # not registered yet
    backend.on_engine_event(REGISTERED)
    assert engine.published == [(False, "Do not disturb: training")]
    backend.on_engine_event(RegistrationChanged(RegistrationState.FAILED, 408, "Timeout",
                                                retry_in=2.0))
    assert backend.status.state is BackendState.UNREACHABLE
    assert backend.status.retry_in == 2.0
    backend.on_engine_event(REGISTERED)
    assert backend.status.state is BackendState.CONNECTED
    assert engine.published[-1] == (False, "Do not disturb: training")


def test_refused_registration_is_credentials_refused(engine: FakeEngine) -> None:
    backend = SipPresenceContactCenter(engine)
    backend.on_engine_event(RegistrationChanged(RegistrationState.FAILED, 403, "Forbidden"))
    assert backend.status.state is BackendState.CREDENTIALS_REFUSED
    assert "403 Forbidden" in backend.status.message


def test_colleague_presence_is_passed_on_but_not_our_own(engine: FakeEngine) -> None:
    backend = SipPresenceContactCenter(engine, own_uri="sip:a@example.com")
    events: list[ContactCenterEvent] = []
    backend.add_listener(events.append)
    backend.on_engine_event(PresenceChanged("sip:a@example.com", False, "Lunch", "Offline"))
    backend.on_engine_event(PresenceChanged("sip:b@example.com", False, "Do not disturb",
                                            "Offline"))
    assert events == [ColleaguePresenceChanged("sip:b@example.com", False, "Do not disturb")]
