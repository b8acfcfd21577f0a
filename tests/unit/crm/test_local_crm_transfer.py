"""The built-in CRM keeps a call activity's transfer: to whom, how and when (schema 3)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.core.crm import CallActivity, CrmError
from app.crm.local.schema import MIGRATIONS
from app.crm.local.store import LocalStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def activity(call_id: str, **extra: str) -> CallActivity:
    return CallActivity(call_id=call_id, subject="Call from Aino", direction="inbound",
                        result="answered", started_at=T0, ended_at=T0,
                        duration_seconds=30, caller_number="+358401234567", **extra)


def test_a_transfer_is_stored_on_the_activity(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "crm.sqlite3") as store:
        moved = store.create_activity(activity(
            "a", transferred_to="sip:carol@pbx", transfer_kind="consulted",
            transferred_at="2026-12-01T09:00:30+00:00"))
        plain = store.create_activity(activity("b"))
        got = store.get_activity(moved)
        assert (got.transferred_to, got.transfer_kind, got.transferred_at) == (
            "sip:carol@pbx", "consulted", "2026-12-01T09:00:30+00:00")
        other = store.get_activity(plain)
        assert (other.transferred_to, other.transfer_kind, other.transferred_at) == \
            ("", "", "")
        with pytest.raises((CrmError, sqlite3.IntegrityError)):
            store.create_activity(activity("c", transfer_kind="warm"))


def test_version_2_activities_migrate_as_not_transferred(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    old = sqlite3.connect(path)
    for step in MIGRATIONS[:2]:
        old.executescript(step)
    old.execute("INSERT INTO activities (call_id, subject, direction, result, started_at, "
                "ended_at, duration_seconds, caller_number, created_at, modified_at) VALUES "
                "('x', 'Call', 'inbound', 'answered', ?, ?, 5, '+358401234567', ?, ?)",
                (T0.isoformat(),) * 4)
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.close()
    with LocalStore(path) as store:
        aid = store.find_activity("x")
        assert aid is not None
        got = store.get_activity(aid)
        assert (got.subject, got.transferred_to, got.transfer_kind) == ("Call", "", "")
