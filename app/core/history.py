"""Call history: finished CallRecords in SQLite (stdlib sqlite3, WAL, versioned schema).

`add` is idempotent by SIP Call-ID, so a record replayed after a crash or sent twice is
stored once. A locked or damaged database raises `HistoryLocked` / `HistoryCorrupt`
(both `HistoryError`) with words for the agent; the record that could not be written is
kept in memory (`pending`) and written by the next successful `add` or `flush`, and
`recent` still shows it. Nothing here knows Qt.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from app.core.calls import CallRecord, CallResult, Direction, HangupSide
from app.core.numbers import try_normalise
from app.core.quality import QualitySummary
from app.core.sqlite_schema import NewerSchema, migrate

log = logging.getLogger(__name__)

MEMORY = ":memory:"

# Each entry moves the schema from version i to i+1; never edit one that has shipped.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calls (
        call_id       TEXT PRIMARY KEY,
        direction     TEXT NOT NULL,
        local_number  TEXT NOT NULL,
        remote_number TEXT NOT NULL,
        remote_digits TEXT NOT NULL,   -- digits only, for search by partial number
        display_name  TEXT NOT NULL,
        queue         TEXT,
        arrived_at    TEXT NOT NULL,   -- ISO 8601, UTC
        answered_at   TEXT,
        ended_at      TEXT NOT NULL,
        result        TEXT NOT NULL,
        hangup_side   TEXT NOT NULL,
        sip_code      INTEGER NOT NULL,
        sip_reason    TEXT NOT NULL
    );
    CREATE INDEX calls_by_end ON calls (ended_at DESC);
    CREATE INDEX calls_by_digits ON calls (remote_digits);
    """,
    # Issue 11: the call's recording and its quality figures (JSON of QualitySummary).
    """
    ALTER TABLE calls ADD COLUMN recording_path TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN quality TEXT;
    """,
    # Issue 10: who the CRM said the caller was, which CRM, and why a call was refused
    # before it rang (wrap-up, do not disturb; "" for any other call).
    """
    ALTER TABLE calls ADD COLUMN crm_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN crm TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN refused_reason TEXT NOT NULL DEFAULT '';
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_COLUMNS = ("call_id, direction, local_number, remote_number, display_name, queue, "
            "arrived_at, answered_at, ended_at, result, hangup_side, sip_code, sip_reason, "
            "recording_path, quality, crm_name, crm, refused_reason")
_INSERT_COLUMNS = _COLUMNS.replace("remote_number,", "remote_number, remote_digits,")
_PLACES = ",".join("?" * (_INSERT_COLUMNS.count(",") + 1))


class HistoryError(Exception):
    """The history database cannot be used; the message says why in the agent's words."""


class HistoryLocked(HistoryError):
    """Another program holds a lock on the database longer than we wait."""


class HistoryCorrupt(HistoryError):
    """The file is not a (readable) history database, or is from a newer Switchboard."""


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:  # a naive time is taken as UTC, never as local time
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _row(record: CallRecord) -> tuple[object, ...]:
    return (
        record.call_id, record.direction.value, record.local_number, record.remote_number,
        _digits(record.remote_number), record.display_name, record.queue,
        _iso(record.arrived_at),
        _iso(record.answered_at) if record.answered_at else None,
        _iso(record.ended_at), record.result.value, record.hangup_side.value,
        record.sip_code, record.sip_reason, record.recording_path,
        json.dumps(asdict(record.quality)) if record.quality is not None else None,
        record.crm_name, record.crm, record.refused_reason,
    )


def _quality(text: object) -> QualitySummary | None:
    if not isinstance(text, str):
        return None
    try:
        return QualitySummary(**json.loads(text))
    except (ValueError, TypeError):  # written by another version: not worth failing for
        log.warning("unreadable call quality %r ignored", text[:80])
        return None


def _record(row: Sequence[object]) -> CallRecord:
    (call_id, direction, local, remote, name, queue, arrived, answered, ended, result,
     side, code, reason, recording, quality, crm_name, crm, refused) = row
    return CallRecord(
        call_id=str(call_id), direction=Direction(direction), local_number=str(local),
        remote_number=str(remote), display_name=str(name),
        queue=None if queue is None else str(queue),
        arrived_at=_dt(str(arrived)),  # type: ignore[arg-type]
        answered_at=_dt(answered),  # type: ignore[arg-type]
        ended_at=_dt(str(ended)),  # type: ignore[arg-type]
        result=CallResult(result), hangup_side=HangupSide(side), sip_code=int(code),  # type: ignore[call-overload]
        sip_reason=str(reason), recording_path=str(recording or ""),
        quality=_quality(quality), crm_name=str(crm_name or ""), crm=str(crm or ""),
        refused_reason=str(refused or ""),
    )


@contextmanager
def _translated(path: str) -> Iterator[None]:
    """Turn sqlite3's errors into HistoryLocked / HistoryCorrupt with a useful message."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise HistoryLocked(
                f"Call history is locked by another program ({path}); "
                "the call is kept and will be saved when the lock is released.") from exc
        raise HistoryCorrupt(f"Call history cannot be read ({path}): {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise HistoryCorrupt(
            f"Call history file is damaged ({path}): {exc}. Move it aside and restart "
            "Switchboard to start a new history.") from exc


class History:
    """Finished calls, newest first. One connection, used from the thread that made it."""

    def __init__(self, path: Path | str, *, timeout: float = 2.0) -> None:
        self.path = str(path)
        self.pending: list[CallRecord] = []  # records not yet on disk (lock, damage)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with _translated(self.path):
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            try:
                self._migrate()
            except BaseException:
                self._db.close()
                raise

    def _migrate(self) -> None:
        db = self._db
        try:
            migrate(db, _MIGRATIONS, on_step=lambda v: log.info(
                "call history %s migrated to schema %d", self.path, v))
        except NewerSchema as exc:  # checked before anything writes to the file
            raise HistoryCorrupt(f"Call history {self.path} was written by a newer "
                                 f"Switchboard ({exc}); update Switchboard.") from None
        if self.path != MEMORY:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses the
            # last commit at most, never corrupts

    # -- writing ---------------------------------------------------------------------

    def add(self, record: CallRecord) -> bool:
        """Store `record`; False when a record with its Call-ID is already there.

        On HistoryError the record stays in `pending` and is retried by the next call.
        """
        if all(p.call_id != record.call_id for p in self.pending):
            self.pending.append(record)
        new = self.flush(count_for=record.call_id)
        return new

    def flush(self, *, count_for: str | None = None) -> bool:
        """Write every pending record; True when `count_for` was newly inserted."""
        inserted_wanted = False
        with _translated(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for record in self.pending:
                    cur = self._db.execute(
                        f"INSERT INTO calls ({_INSERT_COLUMNS}) "
                        f"VALUES ({_PLACES}) ON CONFLICT(call_id) DO NOTHING",
                        _row(record))
                    if record.call_id == count_for:
                        inserted_wanted = cur.rowcount == 1
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        self.pending.clear()
        return inserted_wanted

    # -- reading ---------------------------------------------------------------------

    def recent(self, limit: int = 100, *, result: CallResult | None = None,
               direction: Direction | None = None) -> list[CallRecord]:
        """Newest first, optionally only one result and/or one direction."""
        where: list[str] = []
        args: list[object] = []
        if result is not None:
            where.append("result = ?")
            args.append(result.value)
        if direction is not None:
            where.append("direction = ?")
            args.append(direction.value)
        rows = self._select(" AND ".join(where), args, limit)
        keep = [p for p in self.pending
                if (result is None or p.result is result)
                and (direction is None or p.direction is direction)]
        return self._merge(keep, rows, limit)

    def search(self, text: str, limit: int = 100, *, region: str = "FI") -> list[CallRecord]:
        """Calls with this number (however written), or whose digits/name contain `text`."""
        text = (text or "").strip()
        if not text:
            return self.recent(limit)
        e164 = try_normalise(text, region)
        digits = _digits(text).lstrip("0")
        clauses = ["display_name LIKE ? ESCAPE '\\'"]
        args: list[object] = [f"%{_like(text)}%"]
        if e164:
            clauses.append("remote_number = ?")
            args.append(e164)
        if digits:
            clauses.append("remote_digits LIKE ?")
            args.append(f"%{digits}%")
        rows = self._select("(" + " OR ".join(clauses) + ")", args, limit)
        keep = [p for p in self.pending
                if (e164 and p.remote_number == e164)
                or (digits and digits in _digits(p.remote_number))
                or text.lower() in p.display_name.lower()]
        return self._merge(keep, rows, limit)

    def get(self, call_id: str) -> CallRecord | None:
        rows = self._select("call_id = ?", [call_id], 1)
        if rows:
            return rows[0]
        return next((p for p in self.pending if p.call_id == call_id), None)

    def count(self) -> int:
        with _translated(self.path):
            return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:  # closing a broken database must not stop a shutdown
            log.exception("closing call history")

    # -- helpers ---------------------------------------------------------------------

    def _select(self, where: str, args: list[object], limit: int) -> list[CallRecord]:
        sql = f"SELECT {_COLUMNS} FROM calls"
        if where:
            sql += f" WHERE {where}"
        sql += " ORDER BY ended_at DESC, rowid DESC LIMIT ?"
        with _translated(self.path):
            rows = self._db.execute(sql, [*args, max(0, int(limit))]).fetchall()
        return [_record(r) for r in rows]

    @staticmethod
    def _merge(pending: list[CallRecord], rows: list[CallRecord],
               limit: int) -> list[CallRecord]:
        ids = {r.call_id for r in rows}
        merged = rows + [p for p in pending if p.call_id not in ids]
        merged.sort(key=lambda r: r.ended_at, reverse=True)
        return merged[:limit]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
