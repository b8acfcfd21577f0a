"""Versioned SQLite migrations: step by step, all-or-nothing per step, newer files refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.sqlite_schema import NewerSchema, migrate

STEPS = ("CREATE TABLE a (x INTEGER);", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1)")


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_applies_only_the_missing_steps(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db")
    seen: list[int] = []
    migrate(conn, STEPS[:1], on_step=seen.append)
    migrate(conn, STEPS, on_step=seen.append)
    migrate(conn, STEPS, on_step=seen.append)  # nothing left to do
    assert seen == [1, 2]
    assert version(conn) == 2
    assert conn.execute("SELECT y FROM b").fetchall() == [(1,)]


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db")
    migrate(conn, STEPS[:1])
    broken = (STEPS[0], "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1)")
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert version(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"a"}  # table c of the failed step was rolled back


def test_a_newer_file_is_refused_untouched(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db")
    migrate(conn, STEPS)
    with pytest.raises(NewerSchema, match="schema version 2, this Switchboard knows 1"):
        migrate(conn, STEPS[:1])
    assert version(conn) == 2
