"""Availability rules: durations, schedule, wrap-up, revert, history, and who may ring."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.config import AvailabilitySettings
from app.core.availability import (
    IN_A_CALL,
    WRAP_UP,
    Actor,
    Availability,
    Phase,
    StatusType,
    parse_statuses,
)
from app.core.calls import MAX_CALLS, CallOffer

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def mins(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def av() -> Availability:
    return Availability.from_settings(AvailabilitySettings(wrap_up_seconds=30), T0)


def offer(queue: str | None = None, in_progress: int = 0) -> CallOffer:
    return CallOffer("+358401234567", "Caller", queue, in_progress)


def test_named_statuses_map_to_types() -> None:
    statuses = {s.name: s.type for s in parse_statuses(AvailabilitySettings().statuses)}
    assert statuses["Lunch"] is StatusType.OFFWORK
    assert statuses["Meeting"] is StatusType.OFFWORK
    assert statuses["Do not disturb"] is StatusType.DND


def test_bad_status_lines_are_skipped_and_available_always_exists() -> None:
    statuses = parse_statuses(["Nap=sleeping", "=dnd", "Focus=dnd", "focus=busy"])
    assert [(s.name, s.type) for s in statuses] == [
        ("Available", StatusType.AVAILABLE), ("Focus", StatusType.DND)]


# --- who may ring: the table -------------------------------------------------------------

RING_TABLE = [
    # status,          pool,  queue,   in progress, ring, code
    ("Available",      True,  None,    0, True,  180),
    ("Available",      True,  "Sales", 0, True,  180),
    ("Available",      False, "Sales", 0, False, 480),
    ("Available",      False, None,    0, True,  180),
    ("Busy",           True,  "Sales", 0, True,  180),
    ("Busy",           True,  None,    0, True,  180),
    ("Do not disturb", True,  None,    0, False, 486),
    ("Do not disturb", True,  "Sales", 0, False, 480),
    ("Off work",       True,  "Sales", 0, False, 480),
    ("Off work",       True,  None,    0, True,  180),
    ("Lunch",          True,  "Sales", 0, False, 480),
    ("Lunch",          True,  None,    0, True,  180),
    ("Available",      True,  None,    1, True,  180),  # call waiting
    ("Available",      True,  None,    MAX_CALLS, False, 486),  # the 4-call limit
]


@pytest.mark.parametrize(("status", "pool", "queue", "busy", "ring", "code"), RING_TABLE)
def test_who_may_ring(av: Availability, status: str, pool: bool, queue: str | None,
                      busy: int, ring: bool, code: int) -> None:
    av.set_status(status, T0)
    av.set_pool_calls(pool, T0)
    decision = av.ring_policy(offer(queue, busy))
    assert (decision.ring, decision.sip_code) == (ring, code)


def test_second_call_refused_without_call_waiting() -> None:
    av = Availability(parse_statuses(["Available=available"]), T0, call_waiting=False)
    assert av.ring_policy(offer(None, 1)).sip_code == 486


def test_wrap_up_refuses_queue_calls_but_not_direct(av: Availability) -> None:
    av.call_started(1, T0)
    av.call_answered(1, T0)
    av.call_ended(1, T0 + mins(2))
    assert av.ring_policy(offer("Sales")).sip_code == 480
    assert av.ring_policy(offer(None)).ring


# --- durations -----------------------------------------------------------------------------

def test_duration_returns_previous_status(av: Availability) -> None:
    av.set_status("Busy", T0, duration=mins(60))
    assert av.current.shown == "Busy"
    assert av.returns_to is not None and av.returns_to.name == "Available"
    assert av.remaining(T0 + mins(15)) == mins(45)
    assert av.tick(T0 + mins(59)) == []
    changes = av.tick(T0 + mins(61))
    assert [(c.shown, c.by, c.at) for c in changes] == [("Available", Actor.TIMER, T0 + mins(60))]
    assert av.remaining(T0 + mins(61)) is None


def test_temporary_over_temporary_returns_to_the_chosen_one(av: Availability) -> None:
    av.set_status("Off work", T0)
    av.set_status("Busy", T0, duration=mins(60))
    av.set_status("Do not disturb", T0 + mins(10), duration=mins(30))
    av.tick(T0 + mins(41))
    assert av.current.shown == "Off work"


def test_same_status_again_for_a_while_returns_to_the_one_before(av: Availability) -> None:
    av.set_status("Busy", T0)
    av.set_status("Do not disturb", T0 + mins(1))
    av.set_status("Do not disturb", T0 + mins(2), duration=mins(30))
    av.tick(T0 + mins(40))
    assert av.current.shown == "Busy"


def test_until_changed_clears_the_timer(av: Availability) -> None:
    av.set_status("Do not disturb", T0, duration=mins(30))
    av.set_status("Busy", T0 + mins(5))
    assert av.tick(T0 + mins(120)) == []
    assert av.current.shown == "Busy"


# --- schedule ---------------------------------------------------------------------------------

def test_schedule_switches_and_returns_by_itself(av: Availability) -> None:
    av.set_status("Busy", T0)
    item = av.schedule(T0 + mins(60), "Lunch", T0 + mins(90), T0)
    assert av.upcoming == [item]
    changes = av.tick(T0 + mins(95))
    assert [(c.shown, c.by, c.at) for c in changes] == [
        ("Lunch", Actor.SCHEDULE, T0 + mins(60)),
        ("Busy", Actor.TIMER, T0 + mins(90)),
    ]
    assert av.upcoming == []


def test_schedule_without_end_stays(av: Availability) -> None:
    av.schedule(T0 + mins(10), "Off work", None, T0)
    av.tick(T0 + mins(500))
    assert av.current.shown == "Off work"


def test_removed_schedule_does_nothing(av: Availability) -> None:
    item = av.schedule(T0 + mins(10), "Meeting", T0 + mins(20), T0)
    assert av.unschedule(item.id)
    assert av.tick(T0 + mins(15)) == []


def test_schedule_window_passed_while_asleep_ends_where_it_began(av: Availability) -> None:
    av.schedule(T0 + mins(10), "Meeting", T0 + mins(20), T0)
    assert [c.shown for c in av.tick(T0 + mins(30))] == ["Meeting", "Available"]
    assert av.current.shown == "Available"


def test_schedule_rejects_end_before_start(av: Availability) -> None:
    with pytest.raises(ValueError):
        av.schedule(T0 + mins(10), "Meeting", T0 + mins(5), T0)


# --- calls and wrap-up ----------------------------------------------------------------------

def test_answered_call_wraps_up_then_returns(av: Availability) -> None:
    av.set_status("Busy", T0)
    av.call_started(1, T0 + mins(1))
    assert av.current.shown == IN_A_CALL and av.current.phase is Phase.IN_CALL
    av.call_answered(1, T0 + mins(1))
    av.call_ended(1, T0 + mins(5))
    assert av.current.shown == WRAP_UP
    assert av.remaining(T0 + mins(5)) == timedelta(seconds=30)
    changes = av.tick(T0 + mins(6))
    assert [(c.shown, c.by) for c in changes] == [("Busy", Actor.WRAP_UP)]


def test_unanswered_call_has_no_wrap_up(av: Availability) -> None:
    av.call_started(1, T0)
    av.call_ended(1, T0 + mins(1))
    assert av.current.shown == "Available"
    assert av.current.by is Actor.CALL


def test_wrap_up_off_when_zero_seconds() -> None:
    av = Availability.from_settings(AvailabilitySettings(wrap_up_seconds=0), T0)
    av.call_started(1, T0)
    av.call_answered(1, T0)
    av.call_ended(1, T0 + mins(1))
    assert av.current.shown == "Available"


def test_agent_ends_wrap_up_early(av: Availability) -> None:
    av.call_started(1, T0)
    av.call_answered(1, T0)
    av.call_ended(1, T0 + mins(1))
    change = av.end_wrap_up(T0 + mins(1) + timedelta(seconds=5))
    assert change is not None and change.shown == "Available" and change.by is Actor.AGENT
    assert av.ring_policy(offer("Sales")).ring


def test_two_calls_wrap_up_after_the_last(av: Availability) -> None:
    av.call_started(1, T0)
    av.call_answered(1, T0)
    av.call_started(2, T0 + mins(1))
    av.call_ended(2, T0 + mins(2))
    assert av.current.shown == IN_A_CALL
    av.call_ended(1, T0 + mins(3))
    assert av.current.shown == WRAP_UP


def test_duration_running_out_during_a_call_shows_after_it(av: Availability) -> None:
    av.set_status("Do not disturb", T0, duration=mins(10))
    av.call_started(1, T0 + mins(5))  # an outbound call: DND may call out
    av.tick(T0 + mins(11))
    assert av.current.shown == IN_A_CALL and av.current.status.name == "Available"
    av.call_ended(1, T0 + mins(12))
    assert av.current.shown == "Available"


def test_status_chosen_during_wrap_up_ends_it(av: Availability) -> None:
    av.call_started(1, T0)
    av.call_answered(1, T0)
    av.call_ended(1, T0 + mins(1))
    av.set_status("Lunch", T0 + mins(1))
    assert av.current.phase is Phase.IDLE and av.current.shown == "Lunch"


# --- history ------------------------------------------------------------------------------------

def test_history_says_who_and_when(av: Availability) -> None:
    av.set_status("Busy", T0 + mins(1), duration=mins(5))
    av.set_pool_calls(False, T0 + mins(2))
    av.set_status("Do not disturb", T0 + mins(3), by=Actor.BACKEND, note="admin")
    av.tick(T0 + mins(10))
    assert [(c.by, c.at, c.shown) for c in av.history[1:]] == [
        (Actor.AGENT, T0 + mins(1), "Busy"),
        (Actor.AGENT, T0 + mins(2), "Busy"),
        (Actor.BACKEND, T0 + mins(3), "Do not disturb"),  # until changed: no timer left
    ]
    assert av.history[2].pool_calls is False


def test_unknown_status_is_an_error(av: Availability) -> None:
    with pytest.raises(KeyError):
        av.set_status("Asleep", T0)


# --- keeping the phone system in step (app.core.availability_sync) --------------------------------

class RecordingBackend:
    def __init__(self) -> None:
        self.sent: list[tuple[StatusType, str, str]] = []

    def set_availability(self, type: StatusType, name: str, reason: str = "") -> None:
        self.sent.append((type, name, reason))


def test_sync_sends_each_meaningful_change_once(av: Availability) -> None:
    from app.core.availability_sync import AvailabilitySync

    backend = RecordingBackend()
    sync = AvailabilitySync(backend)  # type: ignore[arg-type]
    for change in (av.set_status("Do not disturb", T0), av.set_pool_calls(False, T0),
                   av.set_status("Available", T0 + mins(1)), av.call_started(1, T0 + mins(2))):
        assert change is not None
        sync.push(change)
    av.call_answered(1, T0 + mins(2))
    wrap = av.call_ended(1, T0 + mins(3))
    assert wrap is not None
    sync.push(wrap)
    (back,) = av.tick(T0 + mins(4))
    sync.push(back)
    assert backend.sent == [
        (StatusType.DND, "Do not disturb", ""),
        (StatusType.AVAILABLE, "Available", ""),
        (StatusType.OFFWORK, WRAP_UP, "then Available"),
        (StatusType.AVAILABLE, "Available", ""),
    ]


def test_remote_change_is_applied_by_backend_and_not_echoed(av: Availability) -> None:
    from app.core.availability_sync import AvailabilitySync
    from app.core.contactcenter import RemoteAvailabilityChanged

    backend = RecordingBackend()
    sync = AvailabilitySync(backend)  # type: ignore[arg-type]
    change = sync.apply_remote(RemoteAvailabilityChanged(StatusType.OFFWORK, "Supervisor",
                                                         "Supervisor: coaching"), av, T0)
    assert change is not None and change.by is Actor.BACKEND
    assert change.shown == "Off work" and change.note == "Supervisor: coaching"
    assert not sync.push(change) and backend.sent == []
    named = sync.apply_remote(RemoteAvailabilityChanged(StatusType.OFFWORK, "Lunch"), av, T0)
    assert named is not None and named.shown == "Lunch"
