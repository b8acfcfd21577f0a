"""Call history in a real SQLite file: idempotent add, filters, search, locks, damage."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.calls import CallRecord, CallResult, Direction, HangupSide
from app.core.history import (
    MEMORY,
    SCHEMA_VERSION,
    History,
    HistoryCorrupt,
    HistoryError,
    HistoryLocked,
)

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)


def rec(n: int, *, result: CallResult = CallResult.ANSWERED,
        direction: Direction = Direction.INBOUND, number: str = "+358401234567",
        name: str = "Maija Meikäläinen") -> CallRecord:
    arrived = T0 + timedelta(minutes=n)
    answered = arrived + timedelta(seconds=5) if result is CallResult.ANSWERED else None
    return CallRecord(
        call_id=f"call-{n}@pbx", direction=direction, local_number="201",
        remote_number=number, display_name=name, queue="Sales" if n % 2 else None,
        arrived_at=arrived, answered_at=answered, ended_at=arrived + timedelta(seconds=65),
        result=result, hangup_side=HangupSide.REMOTE, sip_code=200, sip_reason="OK")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def history(db_path: Path) -> History:
    h = History(db_path)
    yield h
    h.close()


def test_round_trip_keeps_every_field(history: History) -> None:
    r = rec(1)
    assert history.add(r) is True
    assert history.get(r.call_id) == r
    assert history.recent() == [r]


def test_add_is_idempotent_by_call_id(history: History) -> None:
    r = rec(1)
    assert history.add(r)
    assert history.add(r) is False
    assert history.add(replace(r, display_name="someone else")) is False
    assert history.count() == 1


def test_recent_is_newest_first_with_limit_and_filters(history: History) -> None:
    history.add(rec(1))
    history.add(rec(2, result=CallResult.MISSED))
    history.add(rec(3, direction=Direction.OUTBOUND, result=CallResult.BUSY))
    history.add(rec(4, result=CallResult.MISSED))
    assert [r.call_id for r in history.recent()] == [
        "call-4@pbx", "call-3@pbx", "call-2@pbx", "call-1@pbx"]
    assert len(history.recent(2)) == 2
    assert [r.call_id for r in history.recent(result=CallResult.MISSED)] == [
        "call-4@pbx", "call-2@pbx"]
    assert [r.call_id for r in history.recent(direction=Direction.OUTBOUND)] == ["call-3@pbx"]
    assert history.recent(direction=Direction.OUTBOUND, result=CallResult.MISSED) == []


def test_search_by_number_however_written(history: History) -> None:
    history.add(rec(1, number="+358401234567"))
    history.add(rec(2, number="+46812345678", name="Sven"))
    history.add(rec(3, number="201", name="Reception"))
    for text in ("040 123 4567", "+358 40 1234567", "00358401234567", "401234"):
        assert [r.call_id for r in history.search(text)] == ["call-1@pbx"], text
    assert [r.call_id for r in history.search("sven")] == ["call-2@pbx"]
    assert [r.call_id for r in history.search("201")] == ["call-3@pbx"]
    assert history.search("100%_") == []  # LIKE wildcards are literal
    assert len(history.search("")) == 3


def test_persists_and_schema_is_versioned(db_path: Path) -> None:
    h = History(db_path)
    h.add(rec(1))
    h.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = History(db_path)
    assert [r.call_id for r in again.recent()] == ["call-1@pbx"]
    again.close()


def test_newer_schema_is_refused_clearly(db_path: Path) -> None:
    History(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryCorrupt, match="newer Switchboard"):
        History(db_path)


def test_garbage_file_is_corrupt_not_a_crash(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(HistoryCorrupt, match="damaged") as info:
        History(db_path)
    assert isinstance(info.value, HistoryError)


def test_locked_database_keeps_the_record_and_writes_it_later(db_path: Path) -> None:
    h = History(db_path, timeout=0.05)
    h.add(rec(1))
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryLocked, match="locked"):
            h.add(rec(2))
        assert [p.call_id for p in h.pending] == ["call-2@pbx"]
        with pytest.raises(HistoryLocked):
            h.add(rec(2))  # retried, still only once in memory
        assert len(h.pending) == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert h.add(rec(3)) is True  # writes the kept one too
    assert h.pending == []
    assert [r.call_id for r in h.recent()] == ["call-3@pbx", "call-2@pbx", "call-1@pbx"]
    h.close()


def test_pending_records_are_shown_by_recent_and_search(history: History) -> None:
    history.add(rec(1))
    history.pending.append(rec(2, number="+46812345678"))  # as after a failed write
    assert [r.call_id for r in history.recent()] == ["call-2@pbx", "call-1@pbx"]
    assert [r.call_id for r in history.search("+46 8 123 456 78")] == ["call-2@pbx"]
    assert history.get("call-2@pbx") is not None


def test_damage_after_opening_is_reported_as_corrupt(db_path: Path) -> None:
    h = History(db_path)
    h.add(rec(1))
    h._db.execute("DROP TABLE calls")  # stands in for a file damaged under us
    with pytest.raises(HistoryCorrupt):
        h.add(rec(2))
    assert [p.call_id for p in h.pending] == ["call-2@pbx"]
    h.close()


def test_naive_times_are_taken_as_utc() -> None:
    h = History(MEMORY)
    r = rec(1)
    naive = replace(r, arrived_at=r.arrived_at.replace(tzinfo=None))
    h.add(naive)
    assert h.get(r.call_id).arrived_at == r.arrived_at
    h.close()
