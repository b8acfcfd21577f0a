"""Versioned SQLite schemas: numbered migration scripts applied under PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence


class NewerSchema(Exception):
    """The file was written by a newer Switchboard; we must not touch it."""


def migrate(conn: sqlite3.Connection, migrations: Sequence[str],
            on_step: Callable[[int], None] | None = None) -> None:
    """Bring `conn` to version len(migrations), each step in its own transaction.

    `conn` must be in autocommit mode (isolation_level=None). `on_step(version)` is
    called after each step that this call applied.
    """
    latest = len(migrations)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > latest:
        raise NewerSchema(f"schema version {version}, this Switchboard knows {latest}")
    for step in range(version, latest):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] > step:
                conn.execute("COMMIT")
                continue
            for statement in migrations[step].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if on_step is not None:
            on_step(step + 1)
