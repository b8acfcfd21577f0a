"""The built-in CRM: a SQLite file (WAL) that implements the CrmBackend protocol.

Each thread gets its own connection (WAL lets readers run beside a writer), so the
identify lookup on a worker thread never waits for the page renderer or an import.
Every sqlite3 failure is turned into CrmUnavailable / CrmError with a sentence the
agent can act on; no sqlite3 type leaves this module.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.core import numbers
from app.core.crm import (
    ACTIVITY_UPDATABLE,
    MAX_MATCHES,
    Account,
    CallActivity,
    Case,
    Contact,
    CrmError,
    CrmUnavailable,
    IdentifyResult,
    Lead,
    NewAccount,
    NewCase,
    NewContact,
    NewLead,
    NewTask,
    RecordKind,
    RecordNotFound,
    RecordRef,
    Task,
)
from app.crm.local import queries
from app.crm.local.schema import NewerSchema, migrate

EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_TEXT = 10_000  # longest value one field may hold; longer is a mistake, not data
_PHONE_KINDS = (RecordKind.CONTACT, RecordKind.ACCOUNT, RecordKind.LEAD)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def check_email(email: str) -> str:
    email = (email or "").strip()
    if email and not EMAIL.match(email):
        raise CrmError(f"{email!r} is not an email address")
    return email


def check_text(name: str, value: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise CrmError(f"the {name} is too long ({len(value)} characters, at most {MAX_TEXT})")
    return value


class LocalStore:
    """The built-in CRM in one SQLite file. Thread-safe; close() when done."""

    def __init__(self, path: Path | str, *, region: str = "FI", create: bool = True,
                 busy_timeout_ms: int = 2000) -> None:
        self.path = Path(path)
        self.region = region
        self._create = create
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._migrated = False

    # -- connections and errors ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = "rwc" if self._create else "rw"
        uri = f"{self.path.resolve().as_uri()}?mode={mode}"
        try:
            timeout_ms = getattr(self._local, "busy_timeout_ms", self._busy_timeout_ms)
            conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=timeout_ms / 1000)
        except sqlite3.OperationalError as exc:
            if not self.path.exists():
                raise CrmUnavailable(f"The built-in CRM database {self.path} is missing. "
                                     "Check the profile directory, or import contacts "
                                     "with `switchboard crm import`.") from exc
            raise
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at checkpoint
        with self._lock:
            if not self._migrated:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                migrate(conn)
                self._migrated = True
            self._connections.append(conn)
        return conn

    def wait_briefly_on_this_thread(self, busy_timeout_ms: int) -> None:
        """This thread's connection waits at most `busy_timeout_ms` for a lock.

        For the page renderer, which runs on the GUI thread: it must never wait long for
        a writer, while the workers keep the store's longer wait.
        """
        self._local.busy_timeout_ms = busy_timeout_ms
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading; sqlite3 errors become our exceptions."""
        try:
            yield self._conn()
        except NewerSchema as exc:
            raise CrmError(f"The built-in CRM database was written by a newer Switchboard "
                           f"({exc}); update Switchboard to open it.") from exc
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise CrmUnavailable("The built-in CRM database is locked by another "
                                     "program; try again in a moment.") from exc
            raise CrmUnavailable(f"The built-in CRM database cannot be used ({exc}).") from exc
        except sqlite3.IntegrityError as exc:
            raise CrmError(f"The CRM refused the change ({exc}).") from exc
        except sqlite3.DatabaseError as exc:
            raise CrmUnavailable(f"The built-in CRM database {self.path} is damaged or is "
                                 f"not a database ({exc}).") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one (used by CSV import)."""
        with self._db() as conn:
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @classmethod
    def create_if_missing(cls, path: Path, region: str) -> None:
        """First run: an empty built-in CRM file. Raises CrmError when it cannot be made.

        The running app opens the CRM with `create=False`, so a file that vanishes later
        is reported rather than silently replaced by an empty one.
        """
        if path.exists():
            return
        with cls(path, region=region) as first:
            first.counts()

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------

    def identify(self, number: str) -> IdentifyResult:
        key = numbers.match_key(number, self.region)
        if key is None:
            return IdentifyResult(number)
        with self._db() as conn:
            ids: dict[RecordKind, list[int]] = {}
            truncated = False
            for kind in _PHONE_KINDS:
                rows = conn.execute("SELECT record_id FROM phones WHERE key = ? AND kind = ? "
                                    "LIMIT ?", (key, kind.value, MAX_MATCHES + 1)).fetchall()
                truncated |= len(rows) > MAX_MATCHES
                ids[kind] = [r[0] for r in rows[:MAX_MATCHES]]
            return IdentifyResult(
                number,
                contacts=queries.contacts(conn, ids[RecordKind.CONTACT]),
                accounts=queries.accounts(conn, ids[RecordKind.ACCOUNT]),
                leads=queries.leads(conn, ids[RecordKind.LEAD]),
                truncated=truncated,
            )

    def search(self, text: str) -> queries.SearchResult:
        text = (text or "").strip()[:100]
        if not text:
            return queries.SearchResult()
        with self._db() as conn:
            return queries.search(conn, text, self.identify)

    def record_url(self, ref: RecordRef) -> str:
        return f"switchboard://crm/{ref.kind.value}/{ref.id}"

    def get(self, ref: RecordRef) -> Contact | Account | Lead | Case:
        if ref.kind not in _GETTERS or not ref.id.isdigit():
            raise RecordNotFound(f"there is no {ref.kind.value} {ref.id!r} in the CRM")
        with self._db() as conn:
            found: tuple[Contact | Account | Lead | Case, ...] = _GETTERS[ref.kind](
                conn, [int(ref.id)])
        if not found:
            raise RecordNotFound(f"the {ref.kind.value} {ref.id} is not in the CRM "
                                 "(it may have been deleted)")
        return found[0]

    def recent_cases(self, contact_id: str, limit: int = 5) -> tuple[Case, ...]:
        with self._db() as conn:
            return queries.cases_where(conn, "contact_id = ?", (_int_id(contact_id),), limit)

    def open_tasks(self, contact_id: str, limit: int = 5) -> tuple[Task, ...]:
        """The contact's open tasks, soonest due first."""
        with self._db() as conn:
            return queries.tasks_where(conn, "contact_id = ? AND status = 'open'",
                                       (_int_id(contact_id),), limit)

    def account_cases(self, account_id: str, limit: int = 10) -> tuple[Case, ...]:
        with self._db() as conn:
            return queries.cases_where(conn, "account_id = ?", (_int_id(account_id),), limit)

    def account_contacts(self, account_id: str, limit: int = 50) -> tuple[Contact, ...]:
        with self._db() as conn:
            rows = conn.execute("SELECT id FROM contacts WHERE account_id = ? ORDER BY "
                                "last_name, first_name LIMIT ?",
                                (_int_id(account_id), limit)).fetchall()
            return queries.contacts(conn, [r[0] for r in rows])

    def case_calls(self, case_id: str) -> tuple[tuple[str, str], ...]:
        """(created_at, text) of calls written onto the case, newest first."""
        with self._db() as conn:
            rows = conn.execute("SELECT created_at, text FROM case_calls WHERE case_id = ? "
                                "ORDER BY created_at DESC", (_int_id(case_id),)).fetchall()
        return tuple((r[0], r[1]) for r in rows)

    def activities_for(self, ref: RecordRef, limit: int = 10) -> tuple[CallActivity, ...]:
        with self._db() as conn:
            return queries.activities_for(conn, ref, limit)

    def find_activity(self, call_id: str) -> str | None:
        with self._db() as conn:
            row = conn.execute("SELECT id FROM activities WHERE call_id = ?",
                               (call_id,)).fetchone()
        return None if row is None else str(row[0])

    def get_activity(self, activity_id: str) -> CallActivity:
        with self._db() as conn:
            found = queries.activities(conn, [_int_id(activity_id)])
        if not found:
            raise RecordNotFound(f"the call activity {activity_id} is not in the CRM")
        return found[0]

    def counts(self) -> dict[str, int]:
        with self._db() as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("contacts", "accounts", "leads", "cases", "activities")}

    # -- writing ------------------------------------------------------------------------

    def _phone_rows(self, phones: tuple[str, ...]) -> list[tuple[str, str]]:
        rows = []
        for raw in phones:
            if not (raw or "").strip():
                continue
            if re.search(r"[A-Za-z]", raw):
                raise CrmError(f"{raw!r} is not a phone number (it has letters in it)")
            # numbers.match_key, inlined so each number is parsed once (import speed)
            e164 = numbers.try_normalise(raw, self.region)
            key = e164 or re.sub(r"\D", "", raw)
            if not key:
                raise CrmError(f"{raw!r} is not a phone number")
            rows.append((key, e164 or raw.strip()))
        return rows

    @staticmethod
    def _add_phones(conn: sqlite3.Connection, kind: RecordKind, record_id: int,
                    rows: list[tuple[str, str]]) -> None:
        conn.executemany("INSERT OR IGNORE INTO phones (key, kind, record_id, number) "
                         "VALUES (?, ?, ?, ?)",
                         [(k, kind.value, record_id, n) for k, n in rows])

    def create_contact(self, new: NewContact) -> Contact:
        first, last = check_text("first name", new.first_name), check_text("last name",
                                                                           new.last_name)
        if not (first or last):
            raise CrmError("a contact needs a first or a last name")
        email, title = check_email(new.email), check_text("title", new.title)
        phones = self._phone_rows(new.phones)  # refuse bad numbers before writing anything
        ts = now_iso()
        with self.transaction() as conn:
            account_id = _int_id(new.account_id) if new.account_id else None
            cur = conn.execute("INSERT INTO contacts (first_name, last_name, email, title, "
                               "account_id, created_at, modified_at) VALUES (?,?,?,?,?,?,?)",
                               (first, last, email, title, account_id, ts, ts))
            rid = int(cur.lastrowid or 0)
            self._add_phones(conn, RecordKind.CONTACT, rid, phones)
            return queries.contacts(conn, [rid])[0]

    def create_account(self, new: NewAccount) -> Account:
        name = check_text("account name", new.name)
        if not name:
            raise CrmError("an account needs a name")
        email, website = check_email(new.email), check_text("website", new.website)
        phones = self._phone_rows(new.phones)
        ts = now_iso()
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO accounts (name, email, website, created_at, "
                               "modified_at) VALUES (?,?,?,?,?)", (name, email, website, ts, ts))
            rid = int(cur.lastrowid or 0)
            self._add_phones(conn, RecordKind.ACCOUNT, rid, phones)
            return queries.accounts(conn, [rid])[0]

    def update_account(self, account_id: str, *, email: str = "", website: str = "",
                       phones: tuple[str, ...] = ()) -> None:
        """Fill in an account's email/website (when given) and add phone numbers."""
        email, website = check_email(email), check_text("website", website)
        rows = self._phone_rows(phones)
        with self.transaction() as conn:
            conn.execute("UPDATE accounts SET email = CASE WHEN ? = '' THEN email ELSE ? END, "
                         "website = CASE WHEN ? = '' THEN website ELSE ? END, "
                         "modified_at = ? WHERE id = ?",
                         (email, email, website, website, now_iso(), _int_id(account_id)))
            self._add_phones(conn, RecordKind.ACCOUNT, _int_id(account_id), rows)

    def create_lead(self, new: NewLead) -> Lead:
        first, last = check_text("first name", new.first_name), check_text("last name",
                                                                           new.last_name)
        company = check_text("company", new.company)
        if not (first or last or company):
            raise CrmError("a lead needs a name or a company")
        email = check_email(new.email)
        phones = self._phone_rows(new.phones)
        ts = now_iso()
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO leads (first_name, last_name, company, email, "
                               "created_at, modified_at) VALUES (?,?,?,?,?,?)",
                               (first, last, company, email, ts, ts))
            rid = int(cur.lastrowid or 0)
            self._add_phones(conn, RecordKind.LEAD, rid, phones)
            return queries.leads(conn, [rid])[0]

    def create_case(self, new: NewCase) -> Case:
        subject = check_text("subject", new.subject) or "Phone call"
        description = check_text("description", new.description)
        ts = now_iso()
        with self.transaction() as conn:
            contact_id = _int_id(new.contact_id) if new.contact_id else None
            account_id = _int_id(new.account_id) if new.account_id else None
            if contact_id is not None and account_id is None:
                row = conn.execute("SELECT account_id FROM contacts WHERE id = ?",
                                   (contact_id,)).fetchone()
                if row is None:
                    raise RecordNotFound(f"the contact {contact_id} is not in the CRM")
                account_id = row[0]
            cur = conn.execute(
                "INSERT INTO cases (number, subject, status, description, contact_id, "
                "account_id, created_at, modified_at) VALUES ("
                "printf('CS-%06d', (SELECT coalesce(max(id), 0) + 1 FROM cases)),"
                "?,?,?,?,?,?,?)",
                (subject, check_text("status", new.status) or "open", description, contact_id,
                 account_id, ts, ts))
            return queries.cases(conn, [int(cur.lastrowid or 0)])[0]

    def create_task(self, new: NewTask) -> Task:
        subject = check_text("subject", new.subject) or "Task"
        description = check_text("description", new.description)
        contact_id = _int_id(new.contact_id) if new.contact_id else None
        account_id = _int_id(new.account_id) if new.account_id else None
        with self.transaction() as conn:
            return queries.insert_task(conn, subject, description, new.due_at, contact_id,
                                       account_id, now_iso())

    def attach_number(self, ref: RecordRef, number: str) -> None:
        if ref.kind not in _PHONE_KINDS:
            raise CrmError(f"a {ref.kind.value} has no phone numbers to update")
        rows = self._phone_rows((number,))
        if not rows:
            raise CrmError("the number is empty")
        self.get(ref)  # RecordNotFound with a clear message
        with self.transaction() as conn:
            self._add_phones(conn, ref.kind, int(ref.id), rows)
            conn.execute(f"UPDATE {ref.kind.value}s SET modified_at = ? WHERE id = ?",
                         (now_iso(), int(ref.id)))

    def create_activity(self, activity: CallActivity) -> str:
        """Log a call; the same SIP Call-ID logged again returns the first activity's id."""
        ts = now_iso()
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM activities WHERE call_id = ?",
                               (activity.call_id,)).fetchone()
            if row is not None:
                return str(row[0])
            cur = conn.execute(
                "INSERT INTO activities (call_id, subject, direction, result, started_at, "
                "ended_at, duration_seconds, caller_number, display_number, queue, "
                "queue_wait_seconds, notes, recording_url, transferred_to, transfer_kind, "
                "transferred_at, created_at, modified_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (activity.call_id, check_text("subject", activity.subject),
                 activity.direction, activity.result, activity.started_at.isoformat(),
                 activity.ended_at.isoformat(), int(activity.duration_seconds),
                 activity.caller_number, activity.display_number, activity.queue,
                 int(activity.queue_wait_seconds), check_text("notes", activity.notes),
                 activity.recording_url, check_text("transferred_to", activity.transferred_to),
                 activity.transfer_kind,
                 activity.transferred_at or None,
                 ts, ts))
            aid = int(cur.lastrowid or 0)
            conn.executemany("INSERT OR IGNORE INTO activity_links VALUES (?, ?, ?)",
                             [(aid, r.kind.value, r.id) for r in activity.regarding])
            return str(aid)

    def update_activity(self, activity_id: str, fields: Mapping[str, object]) -> None:
        unknown = set(fields) - ACTIVITY_UPDATABLE
        if unknown:
            raise CrmError(f"a call activity has no field {', '.join(sorted(unknown))}")
        if not fields:
            return
        values: dict[str, Any] = {k: (v.isoformat() if isinstance(v, datetime) else v)
                                  for k, v in fields.items()}
        sets = ", ".join(f"{k} = :{k}" for k in sorted(values))
        with self.transaction() as conn:
            cur = conn.execute(f"UPDATE activities SET {sets}, modified_at = :_ts "
                               "WHERE id = :_id",
                               {**values, "_ts": now_iso(), "_id": _int_id(activity_id)})
            if cur.rowcount == 0:
                raise RecordNotFound(f"the call activity {activity_id} is not in the CRM")

    def log_call_on_case(self, case_id: str, activity: CallActivity) -> None:
        from app.core.activity import case_note  # pure text; no cycle at import time

        ts = now_iso()
        with self.transaction() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO case_calls VALUES (?, ?, ?, ?)",
                               (_int_id(case_id), activity.call_id, case_note(activity), ts))
            if cur.rowcount:
                conn.execute("UPDATE cases SET modified_at = ? WHERE id = ?",
                             (ts, _int_id(case_id)))


_GETTERS: dict[RecordKind, Callable[[sqlite3.Connection, list[int]],
                                    tuple[Contact | Account | Lead | Case, ...]]] = {
    RecordKind.CONTACT: queries.contacts, RecordKind.ACCOUNT: queries.accounts,
    RecordKind.LEAD: queries.leads, RecordKind.CASE: queries.cases}


def _int_id(ident: str | None) -> int:
    if ident is None or not str(ident).isdigit():
        raise RecordNotFound(f"{ident!r} is not a record id of the built-in CRM")
    return int(ident)
