"""The AMI backend against a real TCP fake of Asterisk 20's Manager Interface."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from app.contactcenter.asterisk_ami import AmiContactCenter, FrameReader, encode
from app.core.availability import StatusType
from app.core.contactcenter import (
    BackendState,
    ContactCenterEvent,
    QueueStatus,
    RemoteAvailabilityChanged,
)
from tests.fakes.ami_server import FakeAmiServer

ME = "PJSIP/1001"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def wait_for(predicate: Callable[[], object], what: str = "condition") -> None:
    """Wait for something the backend thread does; the limit only stops a hung test."""
    deadline = time.monotonic() + 10
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> Iterator[FakeAmiServer]:
    srv = FakeAmiServer(clock=clock)
    srv.add_queue("Sales", [(ME, "Agent 1001"), ("PJSIP/1002", "Agent 1002")])
    srv.add_queue("Support", [("PJSIP/1002", "Agent 1002")])
    srv.start()
    yield srv
    srv.stop()


def make(server: FakeAmiServer, clock: Clock, secret: str = "s3cret") -> AmiContactCenter:
    return AmiContactCenter("127.0.0.1", server.port, "switchboard", secret, ME,
                            queue_numbers={"Sales": "+35810100"}, poll_seconds=3600,
                            backoff_first=0.02, backoff_max=0.1, clock=clock)


@pytest.fixture
def ami(server: FakeAmiServer, clock: Clock) -> Iterator[AmiContactCenter]:
    backend = make(server, clock)
    backend.connect()
    wait_for(lambda: backend.status.state is BackendState.CONNECTED, "login")
    wait_for(lambda: len(backend.queues()) == 2, "queue status")
    yield backend
    backend.close()


def row(ami: AmiContactCenter, name: str) -> QueueStatus:
    return next(q for q in ami.queues() if q.name == name)


def test_dashboard_rows_from_queue_status(ami: AmiContactCenter) -> None:
    sales = row(ami, "Sales")
    assert (sales.number, sales.serving, sales.free, sales.active, sales.active_calls,
            sales.queue_length) == ("+35810100", 2, 2, True, 0, 0)
    assert row(ami, "Support").active is False


def test_live_updates_from_caller_and_member_events(ami: AmiContactCenter,
                                                    server: FakeAmiServer,
                                                    clock: Clock) -> None:
    server.caller_join("Sales", "c1")
    wait_for(lambda: row(ami, "Sales").queue_length == 1, "first caller")
    clock.t += 40
    server.caller_join("Sales", "c2")
    wait_for(lambda: row(ami, "Sales").queue_length == 2, "callers")
    server.set_member_status("Sales", "PJSIP/1002", 2, in_call=1)
    wait_for(lambda: row(ami, "Sales").active_calls == 1, "member on a call")
    sales = row(ami, "Sales")
    assert (sales.free, sales.max_wait_seconds) == (1, 40)
    server.caller_leave("Sales", "c1")
    wait_for(lambda: row(ami, "Sales").queue_length == 1, "caller left")


def test_waiting_callers_at_login_count_their_wait(server: FakeAmiServer,
                                                   clock: Clock) -> None:
    server.caller_join("Support", "w1")
    clock.t += 75
    backend = make(server, clock)
    backend.connect()
    try:
        wait_for(lambda: any(q.name == "Support" and q.queue_length for q in
                             backend.queues()), "queue entries")
        assert row(backend, "Support").max_wait_seconds == 75
    finally:
        backend.close()


def test_dnd_pauses_with_reason_and_available_unpauses(ami: AmiContactCenter,
                                                       server: FakeAmiServer) -> None:
    ami.set_availability(StatusType.DND, "Do not disturb")
    wait_for(lambda: server.member("Sales", ME).paused, "pause")  # type: ignore[union-attr]
    assert server.member("Sales", ME).reason == "Do not disturb"  # type: ignore[union-attr]
    wait_for(lambda: row(ami, "Sales").free == 1, "paused member not free")
    ami.set_availability(StatusType.AVAILABLE, "Available")
    wait_for(lambda: not server.member("Sales", ME).paused, "unpause")  # type: ignore[union-attr]


def test_offwork_pauses_busy_does_not(ami: AmiContactCenter, server: FakeAmiServer) -> None:
    ami.set_availability(StatusType.OFFWORK, "Lunch", "back at one")
    wait_for(lambda: server.member("Sales", ME).paused, "pause")  # type: ignore[union-attr]
    assert server.member("Sales", ME).reason == "Lunch: back at one"  # type: ignore[union-attr]
    ami.set_availability(StatusType.BUSY, "Busy")
    wait_for(lambda: not server.member("Sales", ME).paused, "unpause")  # type: ignore[union-attr]


def test_pause_by_someone_else_is_reported(ami: AmiContactCenter,
                                           server: FakeAmiServer) -> None:
    events: list[ContactCenterEvent] = []
    ami.add_listener(events.append)
    ami.set_availability(StatusType.AVAILABLE, "Available")
    server.admin_pause(ME, True, "Supervisor: coaching")
    wait_for(lambda: any(isinstance(e, RemoteAvailabilityChanged) for e in events), "report")
    (change,) = [e for e in events if isinstance(e, RemoteAvailabilityChanged)]
    assert (change.type, change.name, change.reason) == (
        StatusType.OFFWORK, "Supervisor", "Supervisor: coaching")


def test_our_own_pause_is_not_reported_back(ami: AmiContactCenter,
                                            server: FakeAmiServer) -> None:
    events: list[ContactCenterEvent] = []
    ami.add_listener(events.append)
    ami.set_availability(StatusType.DND, "Do not disturb")
    wait_for(lambda: server.member("Sales", ME).paused, "pause")  # type: ignore[union-attr]
    wait_for(lambda: row(ami, "Sales").free == 1, "paused member not free")
    assert not any(isinstance(e, RemoteAvailabilityChanged) for e in events)


def test_join_and_leave(ami: AmiContactCenter, server: FakeAmiServer) -> None:
    ami.join("Support")
    wait_for(lambda: row(ami, "Support").active, "joined")
    assert server.member("Support", ME) is not None
    ami.leave("Sales")
    wait_for(lambda: not row(ami, "Sales").active, "left")
    assert server.member("Sales", ME) is None


def test_action_ids_are_sent_and_unique(ami: AmiContactCenter, server: FakeAmiServer) -> None:
    ids = [a.get("ActionID") for a in server.actions]
    assert all(ids) and len(set(ids)) == len(ids)


def test_credentials_refused_is_reported_and_not_retried(server: FakeAmiServer,
                                                         clock: Clock) -> None:
    backend = make(server, clock, secret="wrong")
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.CREDENTIALS_REFUSED, "refusal")
        assert "switchboard" in backend.status.message
        assert "Authentication failed" in backend.status.message
        assert server.login_attempts == 1
    finally:
        backend.close()


def test_unreachable_at_start_then_back_applies_status(clock: Clock) -> None:
    server = FakeAmiServer(clock=clock)
    server.add_queue("Sales", [(ME, "Agent 1001")])
    server.start()
    server.stop()  # keep the port, nobody listening
    backend = make(server, clock)
    backend.connect()
    try:
        wait_for(lambda: backend.status.state is BackendState.UNREACHABLE, "unreachable")
        assert "no connection to 127.0.0.1" in backend.status.message
        assert backend.status.retry_in is not None
        backend.set_availability(StatusType.DND, "Do not disturb")
        server.start()
        wait_for(lambda: backend.status.state is BackendState.CONNECTED, "connected")
        wait_for(lambda: server.member("Sales", ME).paused, "pause re-applied")  # type: ignore[union-attr]
    finally:
        backend.close()
        server.stop()


def test_lost_mid_session_and_back_loses_nothing(ami: AmiContactCenter,
                                                 server: FakeAmiServer) -> None:
    server.stop()
    wait_for(lambda: ami.status.state is BackendState.UNREACHABLE, "lost")
    ami.set_availability(StatusType.OFFWORK, "Meeting")
    ami.join("Support")
    server.start()
    wait_for(lambda: ami.status.state is BackendState.CONNECTED, "reconnected")
    wait_for(lambda: server.member("Support", ME) is not None, "join sent after reconnect")
    wait_for(lambda: server.member("Sales", ME).paused, "pause re-applied")  # type: ignore[union-attr]
    wait_for(lambda: row(ami, "Support").active, "rows refreshed")


def test_malformed_frames_are_skipped(ami: AmiContactCenter, server: FakeAmiServer) -> None:
    server.send_raw(b"this line has no colon\r\nEvent QueueCallerJoin\r\n\r\n")
    server.send_raw(b"Foo: bar\r\n\r\n")  # neither Event nor Response
    server.send_raw(b"Event: QueueCallerJoin\r\nQueue: Sales\r\n\r\n")  # no Uniqueid
    server.send_raw(b"Event: QueueMemberStatus\r\nQueue: Sales\r\nInterface: PJSIP/1002\r\n"
                    b"Status: not-a-number\r\n\r\n")
    server.send_raw(b"\xff\xfe\r\n\r\n")
    server.caller_join("Sales", "after-junk")
    wait_for(lambda: row(ami, "Sales").queue_length == 1, "event after junk")
    assert ami.status.state is BackendState.CONNECTED


def test_frame_reader_handles_split_oversized_and_bad_bytes() -> None:
    reader = FrameReader()
    assert reader.feed(b"Asterisk Call Manager/9.0.0\r\nEvent: Ping\r") == []
    assert reader.feed(b"\nFoo: 1\r\n\r\n") == [{"Event": "Ping", "Foo": "1"}]
    assert reader.feed(b"X" * (70 * 1024)) == []
    assert reader.skipped == 1
    assert reader.feed(b"\r\nResponse: Success\r\nMessage: caf\xe9\r\n\r\n") == [
        {"Response": "Success", "Message": "caf\ufffd"}]


def test_encode_refuses_header_injection() -> None:
    data = encode("QueuePause", {"Reason": "Lunch\r\nAction: Logoff"})
    assert data.count(b"\r\nAction:") == 0 and data.endswith(b"\r\n\r\n")
