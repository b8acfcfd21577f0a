"""The agent's availability survives a restart: dump_state/load_state/restore, and the file.

Every time is injected: the "first session" runs at T0, the next one starts later.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.config import AvailabilitySettings
from app.core.availability import Actor, Availability, Phase
from app.core.availability_state import SavedStateError, dump_state, load_state
from app.core.availability_store import AvailabilityStore
from app.core.calls import CallOffer

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def mins(n: float) -> timedelta:
    return timedelta(minutes=n)


def fresh(now: datetime = T0) -> Availability:
    return Availability.from_settings(AvailabilitySettings(wrap_up_seconds=30), now)


def restart(before: Availability, saved_at: datetime, now: datetime) -> Availability:
    """Save `before` at `saved_at`, start a new session at `now` and restore into it."""
    after = fresh(now)
    assert after.restore(load_state(dump_state(before, saved_at)), now) == []
    return after


def test_status_until_changed_and_pool_calls_come_back() -> None:
    a = fresh()
    a.set_status("Lunch", T0)
    a.set_pool_calls(False, T0)
    b = restart(a, T0, T0 + timedelta(days=1))
    assert (b.status.name, b.until, b.pool_calls) == ("Lunch", None, False)
    assert [(c.by, c.status.name, c.at) for c in b.history] == [(Actor.RESTORE, "Lunch", T0)]


def test_running_duration_keeps_its_end_and_what_returns() -> None:
    a = fresh()
    a.set_status("Off work", T0)
    a.set_status("Do not disturb", T0, duration=mins(30))
    b = restart(a, T0, T0 + mins(5))
    assert b.status.name == "Do not disturb" and b.until == T0 + mins(30)
    assert b.remaining(T0 + mins(5)) == mins(25)
    assert b.returns_to is not None and b.returns_to.name == "Off work"
    assert b.ring_policy(CallOffer("+358401234567", "", None, 0)).sip_code == 486
    b.tick(T0 + mins(31))
    assert (b.status.name, b.current.by) == ("Off work", Actor.TIMER)


def test_duration_that_ran_out_while_closed_resolves_to_what_returns() -> None:
    a = fresh()
    a.set_status("Meeting", T0)
    a.set_status("Do not disturb", T0, duration=mins(30))
    b = restart(a, T0, T0 + mins(90))
    assert (b.status.name, b.until) == ("Meeting", None)
    assert [(c.by, c.status.name, c.at) for c in b.history] == [
        (Actor.RESTORE, "Do not disturb", T0), (Actor.TIMER, "Meeting", T0 + mins(30))]
    assert b.ring_policy(CallOffer("+358401234567", "", None, 0)).ring


def test_schedule_entries_over_are_dropped_running_applies_future_waits() -> None:
    a = fresh()
    a.schedule(T0 + mins(60), "Lunch", T0 + mins(90), T0)  # over by the restart
    a.schedule(T0 + mins(100), "Meeting", T0 + mins(160), T0)  # running at the restart
    a.schedule(T0 + mins(300), "Off work", None, T0)  # still to come
    now = T0 + mins(120)
    b = restart(a, T0, now)
    assert b.status.name == "Meeting" and b.until == T0 + mins(160)
    assert b.current.by is Actor.SCHEDULE
    assert "Lunch" not in [c.status.name for c in b.history]
    assert [(s.start, s.status.name, s.end) for s in b.upcoming] == [
        (T0 + mins(300), "Off work", None)]
    b.tick(T0 + mins(161))
    assert b.status.name == "Available"  # the running entry still ends by itself


def test_schedule_entry_without_an_end_that_began_while_closed_applies() -> None:
    a = fresh()
    a.schedule(T0 + mins(60), "Off work", None, T0)
    b = restart(a, T0, T0 + mins(61))
    assert (b.status.name, b.until, b.upcoming) == ("Off work", None, [])


def test_calls_and_wrap_up_are_never_restored() -> None:
    a = fresh()
    a.set_status("Busy", T0)
    a.call_started(1, T0)
    a.call_answered(1, T0)
    saved_in_call = dump_state(a, T0)
    a.call_ended(1, T0 + mins(1))
    assert a.phase is Phase.WRAP_UP
    for text in (saved_in_call, dump_state(a, T0 + mins(1))):
        b = fresh(T0 + mins(2))
        b.restore(load_state(text), T0 + mins(2))
        assert (b.phase, b.status.name, b.current.shown) == (Phase.IDLE, "Busy", "Busy")
        assert "In a Call" not in text and "Wrap Up" not in text


def test_names_no_longer_configured_are_skipped() -> None:
    a = fresh()
    a.set_status("Lunch", T0)
    a.schedule(T0 + mins(60), "Meeting", None, T0)
    data = json.loads(dump_state(a, T0))
    data["status"], data["schedule"][0]["status"] = "Coffee", "Gone"
    b = fresh()
    skipped = b.restore(load_state(json.dumps(data)), T0)
    assert len(skipped) == 2 and "'Coffee'" in skipped[0]
    assert (b.status.name, b.upcoming) == ("Available", [])


@pytest.mark.parametrize("text", [
    "", "{not json", "[]", '{"version": 99}',
    '{"version": 1, "saved_at": "2026-03-02T08:00:00+00:00", "status": "Busy", '
    '"pool_calls": "yes"}',
    '{"version": 1, "saved_at": "2026-03-02T08:00:00", "status": "Busy", "pool_calls": true}',
    '{"version": 1, "saved_at": "2026-03-02T08:00:00+00:00", "status": "Busy", '
    '"until": "tomorrow", "pool_calls": true}',
    '{"version": 1, "saved_at": "2026-03-02T08:00:00+00:00", "status": "Busy", '
    '"pool_calls": true, "schedule": [{"start": "2026-03-02T09:00:00+00:00", '
    '"end": "2026-03-02T08:00:00+00:00", "status": "Lunch"}]}',
])
def test_corrupt_data_is_refused(text: str) -> None:
    with pytest.raises(SavedStateError):
        load_state(text)


# -- the file ---------------------------------------------------------------------------------


def test_store_writes_atomically_and_reads_back(tmp_path: Path) -> None:
    store = AvailabilityStore(tmp_path / "data" / "availability.json")
    assert store.load() is None  # first start: nothing saved
    a = fresh()
    a.set_status("Lunch", T0, duration=mins(15))
    assert store.save(dump_state(a, T0))
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["availability.json"]
    saved = AvailabilityStore(store.path).load()
    assert saved is not None and (saved.status, saved.until) == ("Lunch", T0 + mins(15))


def test_broken_file_is_set_aside_with_a_warning(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "availability.json"
    path.write_bytes(b"\xff\xfe garbage")
    store = AvailabilityStore(path)
    with caplog.at_level(logging.WARNING):
        assert store.load() is None
    assert not path.exists()
    assert (tmp_path / "availability.json.broken").read_bytes() == b"\xff\xfe garbage"
    assert "starting at the default status" in caplog.text
    assert "availability.json.broken" in caplog.text
    path.write_text('{"version": 1}')
    assert store.load() is None  # a second broken file replaces the first one set aside
    assert (tmp_path / "availability.json.broken").read_text() == '{"version": 1}'
