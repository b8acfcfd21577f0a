"""Durable queue of CRM writes: on disk before the UI says "logged", applied exactly once.

Each item is keyed by (SIP Call-ID, kind), so logging the same call twice is one item.
`enqueue_*` commits (WAL, synchronous=FULL) before returning: a crash or a power cut
after that loses nothing. `process(backend)` applies the items that are due; while the
CRM is unreachable (CrmUnavailable) it backs off exponentially, and a write the CRM
refuses (CrmError) is marked failed with the CRM's message for the agent to see.

Exactly once: before creating an activity we ask the backend whether one already exists
for the Call-ID (the previous attempt may have landed and only its answer got lost).
Updates (recording link, queue wait) wait until the activity exists, then change it.

A CrmUnavailable may carry `retry_after` (seconds): the CRM itself said how long to leave
it alone (Salesforce's used-up daily quota: half an hour; a 503 with Retry-After). Then
the round stops and every pending item waits at least that long: the CRM is what is
away, not one item, and asking it again for each queued call would only spend the quota
it has run out of.

Two refusals are about the agent's sign-in or rights, not about one item:
- CrmSignInRequired (the CRM refused our sign-in even after a silent refresh): the round
  stops at once and every pending item waits (`retry_max`) without counting an attempt;
  nothing is sent again until the agent has signed in and the app calls `resume()`.
  Trying each queued call would only ask the authority again and again in vain.
- CrmAccessDenied (a 403: a missing privilege or a tenant policy): retrying does not help
  until IT acts, so the item is parked as failed with the CRM's words for IT; the agent
  sees it and retries it (`retry`) once IT has fixed the access.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.activity import CallLog
from app.core.crm import (
    CallActivity,
    CrmAccessDenied,
    CrmBackend,
    CrmError,
    CrmSignInRequired,
    CrmUnavailable,
    RecordRef,
)

ACTIVITY = "activity"  # create a call activity
CASE_NOTE = "case_note"  # save the call info on a case instead
UPDATE = "update"  # kinds "update:<field>,<field>" change an activity created earlier

PENDING, DONE, FAILED = "pending", "done", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (call_id, kind)
);
CREATE INDEX IF NOT EXISTS items_due ON items(state, next_at);
"""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    call_id: str
    kind: str
    state: str
    attempts: int
    next_at: float
    last_error: str
    result: str


@dataclass
class ProcessReport:
    applied: int = 0
    retrying: int = 0  # CRM unreachable, will retry
    failed: int = 0  # refused by the CRM; shown to the agent
    waiting: int = 0  # updates whose activity is not created yet
    # (call_id, kind, result) of each item applied in this round: the app logs them.
    landed: list[tuple[str, str, str]] = field(default_factory=list)
    paused_for: float | None = None  # the CRM asked to be left alone this long (seconds)
    sign_in_required: bool = False  # the round stopped: the agent must sign in again


def retry_hint(error: BaseException) -> float | None:
    """The `retry_after` seconds a CrmUnavailable carries, if it carries a usable one."""
    hint = getattr(error, "retry_after", None)
    if isinstance(hint, (int, float)) and not isinstance(hint, bool) and hint > 0:
        return float(hint)
    return None


def activity_to_json(activity: CallActivity) -> dict[str, Any]:
    data = asdict(activity)
    data["started_at"] = activity.started_at.isoformat()
    data["ended_at"] = activity.ended_at.isoformat()
    data["regarding"] = [str(r) for r in activity.regarding]
    return data


def activity_from_json(data: Mapping[str, Any]) -> CallActivity:
    values = dict(data)
    values["started_at"] = datetime.fromisoformat(values["started_at"])
    values["ended_at"] = datetime.fromisoformat(values["ended_at"])
    values["regarding"] = tuple(RecordRef.parse(r) for r in values["regarding"])
    return CallActivity(**values)


class Outbox:
    """The queue in one SQLite file (`outbox.sqlite3` in the profile). Thread-safe."""

    def __init__(self, path: Path | str, *, retry_min: float = 5.0, retry_max: float = 600.0,
                 max_attempts: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self._clock = clock
        self._lock = threading.Lock()  # guards the connection
        self._processing = threading.Lock()  # one process() at a time
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=10)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")  # fsync each commit
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- adding -------------------------------------------------------------------------

    def enqueue(self, call_id: str, kind: str, payload: Mapping[str, Any]) -> bool:
        """Store one write; False when (call_id, kind) is already queued (or done)."""
        now = self._clock()
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO items (call_id, kind, payload, next_at, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (call_id, kind, json.dumps(payload, sort_keys=True), now, now, now))
            return cur.rowcount == 1

    def enqueue_log(self, log: CallLog) -> bool:
        """Queue the finished call's activity (or its note on the chosen case)."""
        payload = {"activity": activity_to_json(log.activity)}
        if log.case_id is not None:
            return self.enqueue(log.activity.call_id, CASE_NOTE,
                                {**payload, "case_id": log.case_id})
        return self.enqueue(log.activity.call_id, ACTIVITY, payload)

    def enqueue_update(self, call_id: str, fields: Mapping[str, object], *,
                       replace: bool = False) -> bool:
        """Queue a later change of the call's activity, e.g. {"recording_url": …}.

        `replace`: the newest value wins (notes typed after the call): an update of the
        same fields still queued takes the new value, and one already applied is queued
        again with it. Without it a second update of the same fields is ignored.
        """
        values = {k: (v.isoformat() if isinstance(v, datetime) else v)
                  for k, v in fields.items()}
        kind = f"{UPDATE}:{','.join(sorted(values))}"
        if not replace:
            return self.enqueue(call_id, kind, {"fields": values})
        now = self._clock()
        with self._lock:
            self._conn.execute(
                "INSERT INTO items (call_id, kind, payload, next_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, kind) DO UPDATE SET "
                "payload = excluded.payload, state = 'pending', attempts = 0, "
                "next_at = excluded.next_at, last_error = '', updated_at = excluded.updated_at",
                (call_id, kind, json.dumps({"fields": values}, sort_keys=True), now, now, now))
        return True

    # -- looking ------------------------------------------------------------------------

    def _items(self, where: str, args: tuple = ()) -> list[OutboxItem]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, call_id, kind, state, attempts, next_at, last_error, result "
                f"FROM items WHERE {where} ORDER BY id", args).fetchall()
        return [OutboxItem(*r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM items WHERE state = ?",
                                          (PENDING,)).fetchone()[0])

    def failed(self) -> list[OutboxItem]:
        """Writes the CRM refused; the UI lists them with `last_error`."""
        return self._items("state = ?", (FAILED,))

    def item(self, call_id: str, kind: str) -> OutboxItem | None:
        found = self._items("call_id = ? AND kind = ?", (call_id, kind))
        return found[0] if found else None

    def retry(self, item_id: int) -> None:
        """The agent asked to try a failed write again."""
        self._set(item_id, state=PENDING, attempts=0, next_at=self._clock(), last_error="")

    def purge_done(self, older_than: float) -> int:
        """Forget applied items older than `older_than` seconds (keeps the file small)."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM items WHERE state = ? AND updated_at < ?",
                                     (DONE, self._clock() - older_than))
            return cur.rowcount

    # -- applying -----------------------------------------------------------------------

    def _set(self, item_id: int, *, payload: str | None = None, **values: Any) -> None:
        """Change an item; with `payload`, only if it still holds that payload (an update
        replaced while it was being applied stays pending with its new value)."""
        values["updated_at"] = self._clock()
        sets = ", ".join(f"{k} = :{k}" for k in values)
        where = "id = :id" + (" AND payload = :old_payload" if payload is not None else "")
        with self._lock:
            self._conn.execute(f"UPDATE items SET {sets} WHERE {where}",
                               {**values, "id": item_id, "old_payload": payload})

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_max, self.retry_min * 2 ** max(0, attempts - 1)))

    def process(self, backend: CrmBackend, limit: int = 200) -> ProcessReport:
        """Apply due items (oldest first). Blocks on the CRM: call it off the GUI thread."""
        report = ProcessReport()
        with self._processing:
            now = self._clock()
            with self._lock:
                rows = self._conn.execute(
                    "SELECT id, call_id, kind, payload, attempts FROM items "
                    "WHERE state = ? AND next_at <= ? ORDER BY id LIMIT ?",
                    (PENDING, now, limit)).fetchall()
            for item_id, call_id, kind, payload, attempts in rows:
                pause = self._apply_one(backend, item_id, call_id, kind, payload, attempts,
                                        report)
                if pause is not None:
                    self._pause_all(pause)
                    report.paused_for = pause
                    break
                if report.sign_in_required:
                    self._pause_all(self.retry_max)  # until resume() after the sign-in
                    break
        return report

    def resume(self) -> int:
        """Make every pending item due now (the agent signed in again); returns how many."""
        now = self._clock()
        with self._lock:
            cur = self._conn.execute("UPDATE items SET next_at = ?, updated_at = ? "
                                     "WHERE state = ? AND next_at > ?",
                                     (now, now, PENDING, now))
            return cur.rowcount

    def _pause_all(self, seconds: float) -> None:
        """No pending item is tried again for `seconds` (the CRM asked to be left alone)."""
        until = self._clock() + seconds
        with self._lock:
            self._conn.execute("UPDATE items SET next_at = max(next_at, ?), updated_at = ? "
                               "WHERE state = ?", (until, self._clock(), PENDING))

    def _apply_one(self, backend: CrmBackend, item_id: int, call_id: str, kind: str,
                   raw: str, attempts: int, report: ProcessReport) -> float | None:
        """Apply one item; returns the CRM's `retry_after` hint when it gave one."""
        def mark(**values: Any) -> None:
            self._set(item_id, payload=raw, **values)
        try:
            result = self._apply(backend, call_id, kind, json.loads(raw))
        except CrmSignInRequired as exc:
            # Not this item's fault: no attempt counted; the round stops (see the docstring).
            mark(last_error=str(exc))
            report.retrying += 1
            report.sign_in_required = True
            return None
        except CrmAccessDenied as exc:
            mark(state=FAILED, attempts=attempts + 1, last_error=str(exc))
            report.failed += 1
            return None
        except CrmUnavailable as exc:
            attempts += 1
            hint = retry_hint(exc)
            if self.max_attempts and attempts >= self.max_attempts:
                mark(state=FAILED, attempts=attempts,
                     last_error=f"gave up after {attempts} attempts: {exc}")
                report.failed += 1
            else:
                delay = hint if hint is not None else self.backoff(attempts)
                mark(attempts=attempts, last_error=str(exc), next_at=self._clock() + delay)
                report.retrying += 1
            return hint
        except _NotYet as exc:
            mark(next_at=self._clock() + self.retry_min, last_error=str(exc))
            report.waiting += 1
        except CrmError as exc:
            mark(state=FAILED, attempts=attempts + 1, last_error=str(exc))
            report.failed += 1
        except Exception as exc:  # a bug in a backend must not stop the queue
            mark(state=FAILED, attempts=attempts + 1, last_error=f"unexpected error: {exc!r}")
            report.failed += 1
        else:
            mark(state=DONE, attempts=attempts + 1, result=result, last_error="")
            report.applied += 1
            report.landed.append((call_id, kind, result))
        return None

    def _apply(self, backend: CrmBackend, call_id: str, kind: str,
               payload: dict[str, Any]) -> str:
        if kind == ACTIVITY:
            # The last attempt may have landed with its answer lost: look before creating.
            existing = backend.find_activity(call_id)
            if existing is not None:
                return existing
            return backend.create_activity(activity_from_json(payload["activity"]))
        if kind == CASE_NOTE:
            backend.log_call_on_case(str(payload["case_id"]),
                                     activity_from_json(payload["activity"]))
            return str(payload["case_id"])
        if kind.startswith(UPDATE + ":"):
            activity_id = self._activity_id(backend, call_id)
            backend.update_activity(activity_id, payload["fields"])
            return activity_id
        raise CrmError(f"unknown outbox item kind {kind!r}")

    def _activity_id(self, backend: CrmBackend, call_id: str) -> str:
        created = self.item(call_id, ACTIVITY)
        if created is not None and created.state == DONE and created.result:
            return created.result
        found = backend.find_activity(call_id)
        if found is not None:
            return found
        if created is not None and created.state == PENDING:
            raise _NotYet("waiting for the call activity to be created first")
        raise CrmError("there is no call activity to update for this call")


class _NotYet(Exception):
    """An update whose activity is still queued: try again later, without counting."""
